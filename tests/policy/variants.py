"""Deliberately broken variants of the prod stack: the real program, one defect each.

A defect is a stack-config override of prod, a stack transformation that changes one input of
one resource the components register, and/or one extra resource added after the program ran
(resources captured by the transformation give it ids to use). `variant_program.py` applies the
ACTIVE variant around the project's own __main__.py.
"""
from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
import pulumi_aws as aws
import yaml

from app import cloud_init

ACTIVE: Optional["Variant"] = None
CAPTURED: dict[str, Any] = {}
WORLD_SSH_CIDR = "0.0.0.0/0"


@dataclass(frozen=True)
class Variant:
    name: str
    expected_rule: str
    expected_resource: str            # logical name of the resource the violation is on
    overrides: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)   # resource name -> {input: value}
    opts: dict = field(default_factory=dict)      # resource name -> {option: value}
    extra: Optional[Callable[[], None]] = None
    also: tuple = ()                              # other mandatory rules this defect trips
    hits: tuple = ()                              # more (rule, resource) that must be reported
    shared: bool = False                          # run together with the other shared ones


def merged(variants: list) -> Variant:
    """One program run carrying every defect of `variants` (they touch disjoint inputs)."""
    overrides: dict = {}
    changes: dict = {}
    extras = [v.extra for v in variants if v.extra is not None]
    for v in variants:
        for key, value in v.overrides.items():
            assert overrides.setdefault(key, value) == value, f"conflicting override {key}"
        for resource, inputs in v.changes.items():
            for key, value in inputs.items():
                assert key not in changes.get(resource, {}), f"{resource}.{key} changed twice"
                changes.setdefault(resource, {})[key] = value
    return Variant("+".join(v.name for v in variants), "", "", overrides=overrides,
                   changes=changes, extra=(lambda: [e() for e in extras]) if extras else None,
                   also=tuple(sorted({r for v in variants for r in (v.expected_rule, *v.also)})))


_CAPTURE = {"network-igw", "app-sg", "network-nat-0", "network-public-0", "network-public-1",
            "network-public-2", "network-private-0", "app-alb-sg", "db-sg", "db-cluster", "db-key",
            "app-template", "app-role", "network-isolated-0", "db-monitoring-role"}
_UNSET = object()


@dataclass(frozen=True)
class _Lazy:
    """A change computed when the transformation runs (e.g. from a captured resource)."""

    make: Callable[[], Any]

    def __call__(self) -> Any:
        return self.make()


@dataclass(frozen=True)
class _Edit:
    """A change made to the value the component passed (e.g. its real user data)."""

    edit: Callable[[Any], Any]


def transformation(args: pulumi.ResourceTransformationArgs):
    """Capture resources extras need; apply the active variant's input/option changes."""
    if args.name in _CAPTURE:
        CAPTURED[args.name] = args.resource
    variant = ACTIVE
    if variant is None or (args.name not in variant.changes and args.name not in variant.opts):
        return None
    props = dict(args.props)
    for key, value in variant.changes.get(args.name, {}).items():
        if isinstance(value, _Edit):
            value = pulumi.Output.from_input(props.get(key)).apply(value.edit)
        value = value() if isinstance(value, _Lazy) else value
        if value is _UNSET:
            props.pop(key, None)
        else:
            props[key] = value
    opts = args.opts
    if args.name in variant.opts:
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(
            **variant.opts[args.name]))
    return pulumi.ResourceTransformationResult(props, opts)


def _route_to(target: str, key: str) -> Callable[[], None]:
    def extra() -> None:
        rt = CAPTURED["program"]["stack"].network.isolated_route_table_id
        aws.ec2.Route(f"bad-db-route-{key}", route_table_id=rt, destination_cidr_block="0.0.0.0/0",
                      **{key: CAPTURED[target].id})
    return extra


def _world_ssh() -> None:
    aws.vpc.SecurityGroupIngressRule(
        "bad-world-ssh", security_group_id=CAPTURED["app-sg"].id, ip_protocol="tcp",
        from_port=22, to_port=22, cidr_ipv4=WORLD_SSH_CIDR, description="ssh from anywhere")


STAR_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
ANYONE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}]})
PASSROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ec2:RunInstances", "iam:PassRole"], "Resource": "*"}]})
CLUSTER_ONLY_CONNECT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["rds-db:connect"],
     "Resource": ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app"]}]})
PUBLIC_KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]})
CERT_ARN = ("arn:aws:acm:eu-west-1:123456789012:certificate/"
            "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
NO_DOMAIN = {"appDomainName": None, "appHostedZoneId": None, "albAllowHttp": None}
WITH_CERT = {**NO_DOMAIN, "albCertificateArn": CERT_ARN}  # an existing certificate instead of the domain
PUBLIC_SUBNETS = _Lazy(lambda: [CAPTURED[f"network-public-{i}"].id for i in range(3)])


def _user_with_policy() -> None:
    user = aws.iam.User("bad-user", name="ops-alice")
    aws.iam.UserPolicyAttachment("bad-user-policy", user=user.name,
                                 policy_arn="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")


def _alb_admin_port() -> None:
    aws.vpc.SecurityGroupIngressRule(
        "bad-alb-8080", security_group_id=CAPTURED["app-alb-sg"].id, ip_protocol="tcp",
        from_port=8080, to_port=8080, cidr_ipv4="0.0.0.0/0", description="debug port")


def _plain_http() -> list:
    return [aws.lb.ListenerDefaultActionArgs(
        type="fixed-response", fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", status_code="200", message_body="ok"))]


SECRET_USER_DATA = "#cloud-config\nruncmd:\n  - echo DB_PASSWORD=hunter2hunter2 > /etc/app.env\n"


def _secret_in_env_file(encoded: str) -> str:
    """The fleet's real user data (base64 of gzip of the cloud-config) with a password added
    to the env file it writes, encoded again as the component encodes it."""
    text = gzip.decompress(base64.b64decode(encoded)).decode()
    config = yaml.safe_load(text)
    env = [f for f in config["write_files"] if f["path"] == cloud_init.ENV_FILE]
    assert len(env) == 1, "the user data no longer writes the env file: update this variant"
    env[0]["content"] += "DB_PASSWORD=hunter2hunter2\n"
    return cloud_init.encode_user_data("#cloud-config\n" + yaml.safe_dump(config, sort_keys=False))


def _interface(public: Optional[bool]) -> _Lazy:
    """The template's network interface, asking for a public IP (True), not (False) or leaving
    it to the subnet (None)."""
    def make() -> list:
        nic = {"device_index": 0, "security_groups": [CAPTURED["app-sg"].id],
               "delete_on_termination": "true"}
        if public is not None:
            nic["associate_public_ip_address"] = str(public).lower()
        return [nic]
    return _Lazy(make)


def _app_policy_reads_master_secret(policy: str) -> Any:
    """The host role's own policy plus GetSecretValue on the cluster's master secret."""
    def add(secrets: list) -> str:
        doc = json.loads(policy)
        doc["Statement"].append({"Sid": "ReadMasterSecret", "Effect": "Allow",
                                 "Action": "secretsmanager:GetSecretValue",
                                 "Resource": secrets[0]["secret_arn"]})
        return json.dumps(doc)
    return CAPTURED["db-cluster"].master_user_secrets.apply(add)


# Issue 12's evasion classes, one defect each (the names start with the class: c1- ... c9-).
def _isolated_route(name: str, **target: Any) -> None:
    rt = CAPTURED["program"]["stack"].network.isolated_route_table_id
    aws.ec2.Route(name, route_table_id=rt, **target)


def _ssh_halves() -> None:  # class 1: two /1 halves are the internet
    for i, half in enumerate(("0.0.0.0/1", "128.0.0.0/1")):
        aws.vpc.SecurityGroupIngressRule(
            f"bad-ssh-half-{i}", security_group_id=CAPTURED["app-sg"].id, ip_protocol="tcp",
            from_port=22, to_port=22, cidr_ipv4=half, description="ssh, half the internet")


def _ssh_slices() -> None:  # class 1: blocks below the threshold, together above it
    for i, block in enumerate(("52.0.0.0/16", "52.1.0.0/16")):
        aws.vpc.SecurityGroupIngressRule(
            f"bad-ssh-slice-{i}", security_group_id=CAPTURED["app-sg"].id, ip_protocol="tcp",
            from_port=22, to_port=22, cidr_ipv4=block, description="ssh from a provider")


def _db_route_halves() -> None:  # classes 1 and 5
    for i, half in enumerate(("0.0.0.0/1", "128.0.0.0/1")):
        _isolated_route(f"bad-db-half-route-{i}", destination_cidr_block=half,
                        gateway_id=CAPTURED["network-igw"].id)


def _alb_port_slices() -> None:  # class 1 on a load balancer
    for i, block in enumerate(("52.0.0.0/16", "52.1.0.0/16")):
        aws.vpc.SecurityGroupIngressRule(
            f"bad-alb-slice-{i}", security_group_id=CAPTURED["app-alb-sg"].id,
            ip_protocol="tcp", from_port=9000, to_port=9000, cidr_ipv4=block,
            description="debug port")


def _world_prefix_list(name: str) -> aws.ec2.ManagedPrefixList:
    return aws.ec2.ManagedPrefixList(name, address_family="IPv4", max_entries=2, entries=[
        {"cidr": "0.0.0.0/1", "description": "half"}, {"cidr": "128.0.0.0/1",
                                                       "description": "other half"}])


def _ssh_from_prefix_list() -> None:  # class 2
    plist = _world_prefix_list("bad-world-list")
    aws.vpc.SecurityGroupIngressRule(
        "bad-pl-ssh", security_group_id=CAPTURED["app-sg"].id, ip_protocol="tcp", from_port=22,
        to_port=22, prefix_list_id=plist.id, description="ssh from a list")


def _db_route_to_prefix_list() -> None:  # classes 2 and 5
    plist = _world_prefix_list("bad-route-list")
    _isolated_route("bad-db-pl-route", destination_prefix_list_id=plist.id,
                    nat_gateway_id=CAPTURED["network-nat-0"].id)


def _host_from_template(name: str) -> aws.ec2.Instance:
    """One more host launched from the fleet's own launch template, in a private subnet: it
    carries the app's security group (through the template's interface) and its hardening."""
    template = CAPTURED["app-template"]
    return aws.ec2.Instance(name, subnet_id=CAPTURED["network-private-0"].id,
                            launch_template={"id": template.id,
                                             "version": template.latest_version.apply(str)})


def _eip_on_host() -> None:  # class 4: a private host of the fleet's template given an EIP
    host = _host_from_template("bad-debug-host")
    aws.ec2.Eip("bad-host-eip", domain="vpc", instance=host.id)


def _asg_in_public_subnets() -> None:  # class 4 (and issue 9: the fleet judged like a host)
    template = aws.ec2.LaunchTemplate(
        "bad-fleet-template", image_id="ami-0a1b2c3d4e5f60718", instance_type="t3.small",
        vpc_security_group_ids=[CAPTURED["app-sg"].id],
        iam_instance_profile={"name": "app-profile"},
        metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
            "encrypted": "true", "kms_key_id": CAPTURED["db-key"].arn, "volume_type": "gp3"}}])
    aws.autoscaling.Group(
        "bad-fleet", min_size=2, max_size=4,
        vpc_zone_identifiers=[CAPTURED["network-public-0"].id, CAPTURED["network-public-1"].id],
        launch_template={"id": template.id, "version": "$Latest"})


def _db_route_transit_gateway() -> None:  # class 5
    tgw = aws.ec2transitgateway.TransitGateway("bad-tgw", description="shared egress")
    _isolated_route("bad-db-tgw-route", destination_cidr_block="0.0.0.0/0",
                    transit_gateway_id=tgw.id)


def _db_route_nat_instance() -> None:  # class 5: a host's interface as the NAT
    host = _host_from_template("bad-nat-host")
    _isolated_route("bad-db-eni-route", destination_cidr_block="0.0.0.0/0",
                    network_interface_id=host.primary_network_interface_id)


def _s3_full_access_for_app() -> None:  # class 6
    aws.iam.PolicyAttachment("bad-app-s3", roles=[CAPTURED["app-role"].name],
                             policy_arn="arn:aws:iam::aws:policy/AmazonS3FullAccess")


def _escalation_on_monitoring_role() -> None:  # class 6: any role, not only the app's
    aws.iam.RolePolicy("bad-monitoring-escalation", role=CAPTURED["db-monitoring-role"].id,
                       policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                           "Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*"}]}))


def _cluster_role_reads_every_secret() -> None:  # class 6: roles associated with the cluster
    role = aws.iam.Role("bad-cluster-role", assume_role_policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "rds.amazonaws.com"}}]}))
    aws.iam.RolePolicy("bad-cluster-role-secrets", role=role.id, policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
                                                "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    aws.rds.ClusterRoleAssociation("bad-cluster-role-link", feature_name="s3Import",
                                   db_cluster_identifier=CAPTURED["db-cluster"].id,
                                   role_arn=role.arn)


def _public_snapshot() -> None:  # class 7
    aws.rds.ClusterSnapshot("bad-public-snapshot", db_cluster_snapshot_identifier="db-snap-1",
                            db_cluster_identifier=CAPTURED["db-cluster"].id,
                            shared_accounts=["all"])


def _template_with_gzipped_secret() -> None:  # class 9: cloud-init gz+b64 write_files
    payload = base64.b64encode(gzip.compress(b"DB_PASSWORD=hunter2hunter2\n", mtime=0)).decode()
    user_data = ("#cloud-config\nwrite_files:\n  - path: /etc/app.env\n    encoding: gz+b64\n"
                 f"    content: {payload}\n")
    aws.ec2.LaunchTemplate(
        "bad-secret-template", image_id="ami-0a1b2c3d4e5f60718", instance_type="t3.small",
        iam_instance_profile={"name": "app-profile"},
        metadata_options={"http_tokens": "required"},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
            "encrypted": "true", "kms_key_id": CAPTURED["db-key"].arn}}],
        user_data=base64.b64encode(user_data.encode()).decode())


# The attacker review (tests/policy/test_review_classes.py), one defect each: r<item>-...
REVIEW_SECRET = "Sup3r!Secret-9x"
PUBLIC_DOC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def _role_policy(name: str, role: str, action: str, resource: str) -> None:
    aws.iam.RolePolicy(name, role=CAPTURED[role].id, policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource}]}))


def _plain_template(name: str, **more: Any) -> aws.ec2.LaunchTemplate:
    """A compliant launch template carrying the app's security group, no interface (the
    subnet decides the public IP)."""
    return aws.ec2.LaunchTemplate(
        name, image_id="ami-0a1b2c3d4e5f60718", instance_type="t3.small",
        vpc_security_group_ids=[CAPTURED["app-sg"].id],
        iam_instance_profile={"name": "app-profile"},
        metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
            "encrypted": "true", "kms_key_id": CAPTURED["db-key"].arn, "volume_type": "gp3"}}],
        **more)


def _spot_fleet_in_public_subnets() -> None:  # r3
    template = _plain_template("bad-spot-template")
    aws.ec2.SpotFleetRequest(
        "bad-spot-fleet", target_capacity=2,
        iam_fleet_role="arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role",
        launch_template_configs=[{
            "launch_template_specification": {"id": template.id,
                                              "version": template.latest_version.apply(str)},
            "overrides": [{"subnet_id": CAPTURED["network-public-0"].id}]}])


def _ec2_fleet_in_public_subnets() -> None:  # r3
    template = _plain_template("bad-ec2-fleet-template")
    aws.ec2.Fleet(
        "bad-ec2-fleet", target_capacity_specification={
            "default_target_capacity_type": "spot", "total_target_capacity": 2},
        launch_template_configs=[{
            "launch_template_specification": {"launch_template_id": template.id,
                                              "version": template.latest_version.apply(str)},
            "overrides": [{"subnet_id": CAPTURED["network-public-1"].id}]}])


def _spot_instance_imdsv1() -> None:  # r3
    aws.ec2.SpotInstanceRequest(
        "bad-spot-host", ami="ami-0a1b2c3d4e5f60718", instance_type="t3.small",
        subnet_id=CAPTURED["network-private-0"].id, iam_instance_profile="app-profile",
        vpc_security_group_ids=[CAPTURED["app-sg"].id],
        metadata_options={"http_tokens": "optional", "http_endpoint": "enabled"},
        root_block_device={"encrypted": True, "kms_key_id": CAPTURED["db-key"].arn})


def _template_with_chpasswd() -> None:  # r7
    _plain_template("bad-chpasswd-template", user_data=base64.b64encode(
        f"#!/bin/bash\necho 'root:{REVIEW_SECRET}' | chpasswd\n".encode()).decode())


SECURE_TRANSPORT_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
EXTERNAL_SG = "sg-0123456789abcdef0"
EXTERNAL_SUBNET = "subnet-0123456789abcdef0"

VARIANTS = [
    Variant("storage-unencrypted", "rds-storage-encrypted", "db-cluster",
            changes={"db-cluster": {"storage_encrypted": False}}),
    Variant("no-deletion-protection", "rds-deletion-protection", "db-cluster",
            overrides={"dbDeletionProtection": False}),
    Variant("skip-final-snapshot", "rds-final-snapshot", "db-cluster",
            changes={"db-cluster": {"skip_final_snapshot": True}}),
    Variant("short-backups", "rds-backup-retention", "db-cluster",
            overrides={"dbBackupRetentionDays": 7}),
    Variant("no-audit-log", "rds-log-exports", "db-cluster",
            changes={"db-cluster": {"enabled_cloudwatch_logs_exports": ["error", "slowquery"]}}),
    Variant("literal-password", "rds-no-literal-master-password", "db-cluster",
            changes={"db-cluster": {"master_password": "correct-horse-battery-staple",
                                    "manage_master_user_password": _UNSET,
                                    "master_user_secret_kms_key_id": _UNSET}}),
    Variant("tls-off", "rds-tls-enforced", "db-params",
            changes={"db-params": {"parameters": [{"name": "require_secure_transport",
                                                   "value": "OFF"}]}}),
    Variant("public-db-instance", "rds-not-publicly-accessible", "db-writer",
            changes={"db-writer": {"publicly_accessible": True}}),
    Variant("single-az", "rds-multi-az", "db-cluster", overrides={"dbReaders": 0}),
    Variant("unprotected", "stack-deletion-safety", "db-cluster", overrides={"protect": False},
            also=("alb-deletion-protection",)),  # the ALB follows the stack's protect flag
    # the fleet's launch template (issue 9: every host of the Auto Scaling group is made of it)
    Variant("imdsv1", "ec2-imdsv2-required", "app-template",
            changes={"app-template": {"metadata_options": {
                "http_tokens": "optional", "http_endpoint": "enabled",
                "http_put_response_hop_limit": 1}}}),
    Variant("unencrypted-root", "ec2-volumes-encrypted", "app-template",
            changes={"app-template": {"block_device_mappings": [{
                "device_name": "/dev/xvda", "ebs": {"encrypted": "false", "volume_type": "gp3",
                                                    "volume_size": 16}}]}},
            also=("encryption-uses-stack-cmk",)),
    Variant("secret-in-user-data", "ec2-no-secrets-in-user-data", "app-template",
            changes={"app-template": {"user_data": base64.b64encode(
                SECRET_USER_DATA.encode()).decode()}}),
    # dev's shape in prod: one instance from the template, whose interface asks for a public IP
    # dev's shape in prod: the host's public IP comes from its public subnet's auto-assign
    Variant("public-host", "ec2-no-public-ip-from-subnet", "app-instance",
            overrides={"hostPlacement": "public", "hostIngressCidrs": ["203.0.113.10/32"], **NO_DOMAIN},
            hits=(("db-ingress-only-from-app-hosts", "app-to-db-ingress"),),
            also=("db-ingress-only-from-app-hosts",)),
    Variant("world-ssh", "sg-no-world-ingress-to-sensitive-ports", "bad-world-ssh",
            extra=_world_ssh),
    Variant("db-ingress-from-cidr", "db-ingress-only-from-app-hosts", "app-to-db-ingress",
            changes={"app-to-db-ingress": {"cidr_ipv4": "10.20.0.0/16",
                                           "referenced_security_group_id": _UNSET}}),
    Variant("db-route-to-igw", "db-subnets-no-internet-route", "bad-db-route-gateway_id",
            extra=_route_to("network-igw", "gateway_id")),
    Variant("db-route-to-nat", "db-subnets-no-internet-route", "bad-db-route-nat_gateway_id",
            extra=_route_to("network-nat-0", "nat_gateway_id")),
    Variant("isolated-public-ip", "subnet-no-public-ip-on-launch", "network-isolated-0",
            changes={"network-isolated-0": {"map_public_ip_on_launch": True}}),
    Variant("key-without-rotation", "kms-key-rotation-enabled", "db-key",
            changes={"db-key": {"enable_key_rotation": False}}),
    Variant("wildcard-policy", "iam-no-wildcard-actions", "app-db-access",
            changes={"app-db-access": {"policy": STAR_POLICY}},
            also=("app-role-least-privilege", "iam-no-privilege-escalation",
                  "db-iam-auth-guardrails")),  # Action * reads the master secret too
    Variant("trust-anyone", "iam-trust-only-services", "app-role",
            changes={"app-role": {"assume_role_policy": ANYONE_TRUST}}),
    Variant("admin-managed-policy", "app-role-least-privilege", "app-ssm-core",
            changes={"app-ssm-core": {"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
            also=("iam-no-admin-managed-policy",)),
    Variant("external-kms-key", "encryption-uses-stack-cmk", "db-cluster",
            overrides={"dbKmsKeyArn": "arn:aws:kms:eu-west-1:210987654321:key/"
                                      "11111111-2222-3333-4444-555555555555"},
            also=("app-role-least-privilege",)),  # the role may decrypt with a foreign key
    Variant("secret-without-cmk", "secret-customer-managed-key", "db-master-secret",
            overrides={"dbManagedPassword": False},
            changes={"db-master-secret": {"kms_key_id": _UNSET}},
            also=("encryption-uses-stack-cmk",)),
    Variant("topic-unencrypted", "sns-topic-encrypted", "db-alarms",
            changes={"db-alarms": {"kms_master_key_id": _UNSET}}, shared=True),
    Variant("log-group-unencrypted", "cloudwatch-log-group-encrypted", "db-log-audit",
            changes={"db-log-audit": {"kms_key_id": _UNSET}},
            also=("encryption-uses-stack-cmk",), shared=True),
    Variant("log-group-short-retention", "cloudwatch-log-group-retention", "network-flow-logs",
            changes={"network-flow-logs": {"retention_in_days": 7}}, shared=True),
    Variant("alb-keeps-invalid-headers", "alb-drop-invalid-header-fields", "app-alb",
            changes={"app-alb": {"drop_invalid_header_fields": False}}, shared=True),
    Variant("alb-deletable", "alb-deletion-protection", "app-alb",
            changes={"app-alb": {"enable_deletion_protection": False}}, shared=True),
    Variant("alb-desync-monitor", "alb-desync-mitigation", "app-alb",
            changes={"app-alb": {"desync_mitigation_mode": "monitor"}}, shared=True),
    Variant("https-tls10", "lb-listener-modern-tls", "app-https",
            overrides=WITH_CERT,
            changes={"app-https": {"ssl_policy": "ELBSecurityPolicy-2016-08"}}, shared=True),
    Variant("http-beside-https", "alb-http-redirects-to-https", "app-http",
            overrides=WITH_CERT,
            changes={"app-http": {"default_actions": _Lazy(_plain_http)}}, shared=True),
    Variant("proxy-without-tls", "rds-proxy-require-tls", "db-proxy",
            overrides={"dbProxy": True}, changes={"db-proxy": {"require_tls": False}}, shared=True),
    Variant("passrole-anywhere", "iam-no-privilege-escalation", "app-db-access",
            changes={"app-db-access": {"policy": PASSROLE_POLICY}}, shared=True),
    # with dbProxy (proxy-without-tls, same run) the app's proxy policy names the cluster instead:
    # no role may connect to the proxy (the cluster grant, app-db-access, is its own policy)
    Variant("proxy-grant-names-the-cluster", "db-iam-auth-guardrails", "db-proxy",
            changes={"app-proxy-access": {"policy": CLUSTER_ONLY_CONNECT}}, shared=True),
    Variant("poweruser-monitoring", "iam-no-admin-managed-policy", "db-monitoring-policy",
            changes={"db-monitoring-policy": {
                "policy_arn": "arn:aws:iam::aws:policy/PowerUserAccess"}}, shared=True),
    Variant("user-with-policy", "iam-no-user-policies", "bad-user-policy",
            extra=_user_with_policy, shared=True),
    # the fleet in the public subnets, its template leaving the public IP to the subnet
    Variant("fleet-in-public-subnets", "ec2-no-public-ip-from-subnet", "app-fleet",
            changes={"app-fleet": {"vpc_zone_identifiers": PUBLIC_SUBNETS},
                     "app-template": {"network_interfaces": _interface(None)}},
            hits=(("db-ingress-only-from-app-hosts", "app-to-db-ingress"),),
            also=("db-ingress-only-from-app-hosts",), shared=True),
    Variant("alb-extra-world-port", "lb-world-ingress-only-listener-ports", "bad-alb-8080",
            extra=_alb_admin_port, shared=True),
    Variant("public-key-policy", "resource-policy-no-public-principal", "db-key",
            changes={"db-key": {"policy": PUBLIC_KEY_POLICY}}, shared=True),
    Variant("flow-log-elsewhere", "vpc-flow-logs-enabled", "network-vpc",
            changes={"network-flow-log": {"vpc_id": "vpc-0fedcba9876543210"}}),
    # issue 12, by class
    Variant("c1-ssh-from-two-halves", "sg-no-world-ingress-to-sensitive-ports", "bad-ssh-half-0",
            extra=_ssh_halves, shared=True),
    Variant("c1-ssh-from-slices-across-rules", "sg-no-world-ingress-across-rules", "app-sg",
            extra=_ssh_slices, shared=True),
    Variant("c1-db-routes-two-halves-to-igw", "db-subnets-no-internet-route",
            "bad-db-half-route-0", extra=_db_route_halves, shared=True),
    Variant("c1-alb-port-from-slices", "lb-world-ingress-only-listener-ports", "bad-alb-slice-0",
            extra=_alb_port_slices, shared=True),
    Variant("c2-ssh-from-prefix-list", "sg-no-world-ingress-across-rules", "bad-pl-ssh",
            extra=_ssh_from_prefix_list, shared=True),
    Variant("c2-db-route-to-prefix-list", "db-subnets-no-internet-route", "bad-db-pl-route",
            extra=_db_route_to_prefix_list, shared=True),
    Variant("c3-cluster-sg-by-literal-id", "exposure-inputs-verifiable", "db-cluster",
            changes={"db-cluster": {"vpc_security_group_ids": _Lazy(
                lambda: [CAPTURED["db-sg"].id, EXTERNAL_SG])}}, shared=True),
    Variant("c3-db-subnet-by-literal-id", "exposure-inputs-verifiable", "db-subnets",
            changes={"db-subnets": {"subnet_ids": _Lazy(
                lambda: [CAPTURED["network-isolated-0"].id, EXTERNAL_SUBNET])}}, shared=True),
    Variant("c3-alb-sg-by-literal-id", "exposure-inputs-verifiable", "app-alb",
            changes={"app-alb": {"security_groups": ["sg-0fedcba9876543210"]}}),
    Variant("c4-eip-on-app-host", "ec2-no-public-ip-from-subnet", "bad-host-eip",
            extra=_eip_on_host, also=("db-ingress-only-from-app-hosts",), shared=True),
    Variant("c4-template-interface-asks-public-ip", "ec2-no-public-ip", "app-template",
            changes={"app-template": {"network_interfaces": _interface(True)}},
            hits=(("ec2-no-public-ip-from-subnet", "app-fleet"),
                  ("db-ingress-only-from-app-hosts", "app-to-db-ingress")),
            also=("ec2-no-public-ip-from-subnet", "db-ingress-only-from-app-hosts")),
    Variant("c4-asg-in-public-subnets", "ec2-no-public-ip-from-subnet", "bad-fleet",
            extra=_asg_in_public_subnets, also=("db-ingress-only-from-app-hosts",),
            shared=True),
    Variant("c5-db-route-to-transit-gateway", "db-subnets-no-internet-route", "bad-db-tgw-route",
            extra=_db_route_transit_gateway, shared=True),
    Variant("c5-db-route-to-nat-instance", "db-subnets-no-internet-route", "bad-db-eni-route",
            extra=_db_route_nat_instance, shared=True),
    Variant("c6-app-role-s3-full-access", "app-role-least-privilege", "bad-app-s3",
            extra=_s3_full_access_for_app, also=("iam-no-admin-managed-policy",), shared=True),
    Variant("c6-escalation-on-another-role", "iam-no-privilege-escalation",
            "bad-monitoring-escalation", extra=_escalation_on_monitoring_role, shared=True),
    Variant("c6-cluster-role-reads-every-secret", "app-role-least-privilege",
            "bad-cluster-role-secrets", extra=_cluster_role_reads_every_secret, shared=True),
    Variant("c7-cluster-snapshot-shared-with-all", "rds-not-publicly-accessible",
            "bad-public-snapshot", extra=_public_snapshot, shared=True),
    Variant("c8-topic-policy-secure-transport-only", "resource-policy-no-public-principal",
            "db-alarms", changes={"db-alarms": {"policy": SECURE_TRANSPORT_ONLY}}, shared=True),
    Variant("c9-secret-in-the-fleets-gzipped-user-data", "ec2-no-secrets-in-user-data",
            "app-template", changes={"app-template": {"user_data": _Edit(_secret_in_env_file)}},
            shared=True),
    Variant("c9-template-gzip-write-files", "ec2-no-secrets-in-user-data", "bad-secret-template",
            extra=_template_with_gzipped_secret, shared=True),
    # the attacker review (tests/policy/test_review_classes.py), by item
    Variant("r1-app-policy-s3-star-question-on-every-object", "iam-no-wildcard-actions",
            "bad-app-s3-spelled", extra=lambda: _role_policy(
                "bad-app-s3-spelled", "app-role", "s3:*?", "arn:aws:s3:::*/*"), shared=True),
    Variant("r1-passrole-on-role-star", "iam-no-privilege-escalation", "bad-passrole-role-star",
            extra=lambda: _role_policy("bad-passrole-role-star", "db-monitoring-role",
                                       "iam:PassRole", "arn:aws:iam::123456789012:role*"),
            shared=True),
    Variant("r2-public-bucket-inline-policy", "resource-policy-no-public-principal",
            "bad-public-bucket", extra=lambda: aws.s3.Bucket(
                "bad-public-bucket", bucket="aurorakit-public-site", policy=PUBLIC_DOC),
            shared=True),
    Variant("r2-public-dynamodb-resource-policy", "resource-policy-no-public-principal",
            "bad-table-policy", extra=lambda: aws.dynamodb.ResourcePolicy(
                "bad-table-policy", policy=PUBLIC_DOC,
                resource_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/forum-posts"),
            shared=True),
    Variant("r2-public-backup-vault-policy", "resource-policy-no-public-principal",
            "bad-vault-policy", extra=lambda: aws.backup.VaultPolicy(
                "bad-vault-policy", backup_vault_name="aurorakit-db", policy=PUBLIC_DOC),
            shared=True),
    Variant("r2-lambda-invokable-by-anyone", "resource-policy-no-public-principal",
            "bad-invoke-anyone", extra=lambda: aws.lambda_.Permission(
                "bad-invoke-anyone", action="lambda:InvokeFunction",
                function="aurorakit-bootstrap", principal="*"), shared=True),
    Variant("r2-function-url-without-auth", "resource-policy-no-public-principal",
            "bad-open-url", extra=lambda: aws.lambda_.FunctionUrl(
                "bad-open-url", function_name="aurorakit-bootstrap", authorization_type="NONE"),
            shared=True),
    Variant("r3-spot-fleet-in-public-subnets", "ec2-no-public-ip-from-subnet", "bad-spot-fleet",
            extra=_spot_fleet_in_public_subnets,
            hits=(("db-ingress-only-from-app-hosts", "app-to-db-ingress"),),
            also=("db-ingress-only-from-app-hosts",), shared=True),
    Variant("r3-ec2-fleet-in-public-subnets", "ec2-no-public-ip-from-subnet", "bad-ec2-fleet",
            extra=_ec2_fleet_in_public_subnets,
            hits=(("db-ingress-only-from-app-hosts", "app-to-db-ingress"),),
            also=("db-ingress-only-from-app-hosts",), shared=True),
    Variant("r3-spot-instance-imdsv1", "ec2-imdsv2-required", "bad-spot-host",
            extra=_spot_instance_imdsv1, shared=True),
    Variant("r7-chpasswd-in-user-data", "ec2-no-secrets-in-user-data", "bad-chpasswd-template",
            extra=_template_with_chpasswd, shared=True),
    Variant("r8-user-data-rewrite-on-every-instance", "iam-no-privilege-escalation",
            "bad-modify-instances", extra=lambda: _role_policy(
                "bad-modify-instances", "db-monitoring-role", "ec2:ModifyInstanceAttribute",
                "*"), shared=True),
    # issue 10: with IAM database auth the app role reads no password
    Variant("i10-app-role-reads-master-secret", "db-iam-auth-guardrails", "app-db-access",
            changes={"app-db-access": {"policy": _Edit(_app_policy_reads_master_secret)}}),
    # issue 15: an internet-facing ALB serves plain HTTP without the explicit opt-in
    Variant("i15-plain-http-without-opt-in", "alb-listener-https", "app-http",
            overrides={**NO_DOMAIN, "albAllowHttp": True},  # the opted-in plain-HTTP listener
            changes={"app-http": {"tags": {}}}),              # ... without its opt-in tag
]
