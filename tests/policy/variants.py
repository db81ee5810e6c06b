"""Deliberately broken variants of the prod stack: the real program, one defect each.

A defect is a stack-config override of prod, a stack transformation that changes one input of
one resource the components register, and/or one extra resource added after the program ran
(resources captured by the transformation give it ids to use). `variant_program.py` applies the
ACTIVE variant around the project's own __main__.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
import pulumi_aws as aws

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


_CAPTURE = {"network-igw", "app-sg", "network-nat-0", "network-public-0", "app-alb-sg"}
_UNSET = object()


@dataclass(frozen=True)
class _Lazy:
    """A change computed when the transformation runs (e.g. from a captured resource)."""

    make: Callable[[], Any]

    def __call__(self) -> Any:
        return self.make()


def transformation(args: pulumi.ResourceTransformationArgs):
    """Capture resources extras need; apply the active variant's input/option changes."""
    if args.name in _CAPTURE:
        CAPTURED[args.name] = args.resource
    variant = ACTIVE
    if variant is None or (args.name not in variant.changes and args.name not in variant.opts):
        return None
    props = dict(args.props)
    for key, value in variant.changes.get(args.name, {}).items():
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
PUBLIC_KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]})
CERT_ARN = ("arn:aws:acm:eu-west-1:123456789012:certificate/"
            "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
NO_DOMAIN = {"appDomainName": None, "appHostedZoneId": None, "albAllowHttp": None}
WITH_CERT = {**NO_DOMAIN, "albCertificateArn": CERT_ARN}  # an existing certificate instead of the domain
PUBLIC_SUBNET = _Lazy(lambda: CAPTURED["network-public-0"].id)


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
                                    "master_user_secret_kms_key_id": _UNSET}},
            also=("app-role-least-privilege",)),  # the role now points at no stack secret
    Variant("tls-off", "rds-tls-enforced", "db-params",
            changes={"db-params": {"parameters": [{"name": "require_secure_transport",
                                                   "value": "OFF"}]}}),
    Variant("public-db-instance", "rds-not-publicly-accessible", "db-writer",
            changes={"db-writer": {"publicly_accessible": True}}),
    Variant("single-az", "rds-multi-az", "db-cluster", overrides={"dbReaders": 0}),
    Variant("unprotected", "stack-deletion-safety", "db-cluster", overrides={"protect": False},
            also=("alb-deletion-protection",)),  # the ALB follows the stack's protect flag
    Variant("imdsv1", "ec2-imdsv2-required", "app-instance",
            changes={"app-instance": {"metadata_options": {"http_tokens": "optional"}}}),
    Variant("unencrypted-root", "ec2-volumes-encrypted", "app-instance",
            changes={"app-instance": {"root_block_device": {"encrypted": False,
                                                            "volume_size": 20}}},
            also=("encryption-uses-stack-cmk",)),
    Variant("secret-in-user-data", "ec2-no-secrets-in-user-data", "app-instance",
            changes={"app-instance": {"user_data": SECRET_USER_DATA}}),
    Variant("public-host", "ec2-no-public-ip", "app-instance",
            overrides={"hostPlacement": "public", "hostIngressCidrs": ["203.0.113.10/32"], **NO_DOMAIN},
            also=("ec2-no-public-ip-from-subnet",)),
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
            also=("app-role-least-privilege",)),
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
    Variant("http-beside-https", "alb-http-redirects-to-https", "app-http-redirect",
            overrides=WITH_CERT,
            changes={"app-http-redirect": {"default_actions": _Lazy(_plain_http)}}, shared=True),
    Variant("proxy-without-tls", "rds-proxy-require-tls", "db-proxy",
            overrides={"dbProxy": True}, changes={"db-proxy": {"require_tls": False}}, shared=True),
    Variant("passrole-anywhere", "iam-no-passrole-wildcard", "app-db-access",
            changes={"app-db-access": {"policy": PASSROLE_POLICY}}, shared=True),
    Variant("poweruser-monitoring", "iam-no-admin-managed-policy", "db-monitoring-policy",
            changes={"db-monitoring-policy": {
                "policy_arn": "arn:aws:iam::aws:policy/PowerUserAccess"}}, shared=True),
    Variant("user-with-policy", "iam-no-user-policies", "bad-user-policy",
            extra=_user_with_policy, shared=True),
    Variant("host-in-public-subnet", "ec2-no-public-ip-from-subnet", "app-instance",
            changes={"app-instance": {"subnet_id": PUBLIC_SUBNET,
                                      "associate_public_ip_address": _UNSET}}, shared=True),
    Variant("alb-extra-world-port", "lb-world-ingress-only-listener-ports", "bad-alb-8080",
            extra=_alb_admin_port, shared=True),
    Variant("public-key-policy", "resource-policy-no-public-principal", "db-key",
            changes={"db-key": {"policy": PUBLIC_KEY_POLICY}}, shared=True),
    Variant("flow-log-elsewhere", "vpc-flow-logs-enabled", "network-vpc",
            changes={"network-flow-log": {"vpc_id": "vpc-0fedcba9876543210"}}),
]
