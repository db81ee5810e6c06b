"""Stack rules over a compliant stack, then one broken relationship per case."""
from __future__ import annotations

import pytest
from pulumi_policy import StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from policy.rules import REGISTRY

from . import factories as f
from .stack_factory import T, good_stack, policy_doc

STACK_RULES = [r.name for r in REGISTRY if isinstance(r.policy, StackValidationPolicy)]
ISOLATED = {"forbidNatRoute": True}


def test_compliant_stack_passes_every_stack_rule():
    s = good_stack()
    for name in STACK_RULES:
        out = s.check(name, ISOLATED if name == "db-subnets-no-internet-route" else None)
        assert out.ok and out.not_checked is None, (name, out)


def _route(s, table, dest, target, key="destinationCidrBlock", gateway="gatewayId"):
    s.add(T["route"], f"extra-route-{len(s.resources)}", {key: dest, gateway: "x"},
          {"routeTableId": [s.find(table)], gateway: [s.find(target)]})


def _igw_route(s):
    _route(s, "net-isolated-rt", "0.0.0.0/0", "net-igw")


def _igw6_route(s):
    _route(s, "net-isolated-rt", "::/0", "net-igw", key="destinationIpv6CidrBlock")


def _nat_route(s):
    _route(s, "net-isolated-rt", "0.0.0.0/0", "net-nat", gateway="natGatewayId")


def _inline_igw(s):
    s.set("net-isolated-rt", "routes", [{"cidrBlock": "0.0.0.0/0",
                                          "gatewayId": UNKNOWN_STRING_VALUE}])
    s.find("net-isolated-rt").property_dependencies["routes"] = [s.find("net-igw")]


def _unknown_routes_from_igw(s):
    s.set("net-isolated-rt", "routes", UNKNOWN_ARRAY_VALUE)
    s.find("net-isolated-rt").property_dependencies["routes"] = [s.find("net-igw")]


def _literal_subnet_group(s):
    s.find("db-cluster").property_dependencies["dbSubnetGroupName"] = []


def _no_subnet_group(s):
    _literal_subnet_group(s)
    s.set("db-cluster", "dbSubnetGroupName", None)


def _db_in_private(s):
    s.find("db-subnets").property_dependencies["subnetIds"] = [s.find("net-private-0")]


def _ingress(s, name, props, deps):
    s.add(T["ingress"], name, props, {"securityGroupId": [s.find("db-sg")], **deps})


def _cidr_ingress(s):
    _ingress(s, "bad-cidr", {"ipProtocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0,
                             "cidrIpv4": "10.0.0.0/8", "description": "vpc"}, {})


def _foreign_sg(s):
    other = s.add(T["sg"], "bastion-sg", {"description": "bastion"})
    _ingress(s, "bad-source", {"ipProtocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0,
                               "referencedSecurityGroupId": "sg-x", "description": "b"},
             {"referencedSecurityGroupId": [other]})


def _wide_ports(s):
    _ingress(s, "bad-ports", {"ipProtocol": "-1", "referencedSecurityGroupId": "sg-app",
                              "description": "all"},
             {"referencedSecurityGroupId": [s.find("app-sg")]})


def _legacy_rule(s):
    s.add(T["sgrule"], "legacy", {"type": "ingress", "protocol": "tcp", "fromPort": 3306.0,
                                  "toPort": 3306.0, "cidrBlocks": ["0.0.0.0/0"]},
          {"securityGroupId": [s.find("db-sg")]})


def _inline_ingress(s):
    s.set("db-sg", "ingress", [{"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0,
                                "ipv6CidrBlocks": ["::/0"]}])


def _no_db_sg(s):
    s.find("db-cluster").property_dependencies["vpcSecurityGroupIds"] = []


def _foreign_key(s):
    s.find("db-cluster").property_dependencies["kmsKeyId"] = []


def _unencrypted_logs(s):
    s.set("net-flow-logs", "kmsKeyId", None)
    s.find("net-flow-logs").property_dependencies["kmsKeyId"] = []


def _root_volume_default_key(s):
    s.find("app-host").property_dependencies["rootBlockDevice"] = []


def _unprotected(s):
    s.find("db-cluster").opts.protect = False


def _unprotected_key(s):
    s.find("db-key").opts.protect = False


def _one_instance(s):
    s.remove("db-instance-1")


def _same_az(s):
    s.set("db-instance-1", "availabilityZone", "eu-west-1a")


def _star_resource(s):
    s.set("app-read-secret", "policy", policy_doc({"Effect": "Allow",
                                                   "Action": "secretsmanager:GetSecretValue",
                                                   "Resource": "*"}))


def _other_secret(s):
    s.set("app-read-secret", "policy", policy_doc({"Effect": "Allow", "Action": "secretsmanager:*",
                                                   "Resource": f.SECRET_ARN + "-other"}))


def _admin_policy(s):
    s.add(T["att"], "app-admin", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
          {"role": [s.find("app-role")]})


def _literal_password(s):
    s.set("db-cluster", "manageMasterUserPassword", None)
    s.set("db-cluster", "masterPassword", "Sup3r-Secret-Pw")


def _tls_off(s):
    s.set("db-params", "parameters", [{"name": "require_secure_transport", "value": "OFF"}])


def _default_params(s):
    s.find("db-cluster").property_dependencies["dbClusterParameterGroupName"] = []
    s.set("db-cluster", "dbClusterParameterGroupName", None)


def _foreign_params(s):
    s.find("db-cluster").property_dependencies["dbClusterParameterGroupName"] = []


def _private_public_ip(s):
    s.set("net-private-1", "mapPublicIpOnLaunch", True)


def _db_subnet_public_ip(s):
    s.set("net-isolated-0", "mapPublicIpOnLaunch", True)


def _no_flow_log(s):
    s.remove("net-flow")


def _no_default_sg(s):
    s.remove("net-default-sg")


def _open_default_sg(s):
    s.set("net-default-sg", "egress", [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}])


def _http_forwards(s):
    s.set("app-http-redirect", "defaultActions", [{"type": "forward", "targetGroupArn": "tg"}])


def _redirect_keeps_http(s):
    s.set("app-http-redirect", "defaultActions", [{"type": "redirect", "redirect": {
        "protocol": "#{protocol}", "port": "80"}}])


def _http_rule_forwards(s):
    s.add(T["lrule"], "app-http-api", {"listenerArn": "arn:listener", "actions": [
        {"type": "forward", "targetGroupArn": "tg"}]},
        {"listenerArn": [s.find("app-http-redirect")]})


def _secret_without_rotation(s):
    s.remove("app-api-secret-rotation")


def _host_in_public_subnet(s):
    s.set("app-host", "associatePublicIpAddress", None)
    s.find("app-host").property_dependencies["subnetId"] = [s.find("net-public-0")]


def _host_in_default_vpc(s):
    s.set("app-host", "associatePublicIpAddress", None)
    s.find("app-host").property_dependencies["subnetId"] = []


def _host_got_public_ip(s):
    s.set("app-host", "associatePublicIpAddress", None)
    s.set("app-host", "publicIp", "203.0.113.44")


def _alb_world_ssh(s):
    s.add(T["ingress"], "alb-ssh", {"ipProtocol": "tcp", "fromPort": 22.0, "toPort": 22.0,
                                    "cidrIpv6": "::/0"},
          {"securityGroupId": [s.find("alb-sg")]})


def _http_only_without_opt_in(s):
    s.remove("app-https")
    _http_forwards(s)


def _no_waf(s):
    s.remove("app-waf")


def _no_backup(s):
    s.remove("db-backup")


def _app_reads_master_secret(s):
    s.set("app-read-secret", "policy", policy_doc(f.READ_SECRET))


def _wide_ssh_in_slices(s):
    for i, half in enumerate(("52.0.0.0/16", "52.1.0.0/16")):
        s.add(T["ingress"], f"ssh-half-{i}", {"ipProtocol": "tcp", "fromPort": 22.0,
                                              "toPort": 22.0, "cidrIpv4": half},
              {"securityGroupId": [s.find("app-sg")]})


def _alb_all_traffic(s):
    s.set("alb-sg", "ingress", [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0,
                                 "cidrBlocks": ["0.0.0.0/0"]}])


CASES = [
    ("alb-listener-https", _http_only_without_opt_in, 'HTTP listener "app-http-redirect"'),
    ("alb-waf-enabled", _no_waf, 'load balancer "app-alb" has no web ACL'),
    ("rds-backup-plan-coverage", _no_backup, 'Aurora cluster "db-cluster" is not in an AWS Backup'),
    ("db-iam-auth-guardrails", _app_reads_master_secret, "may read the master secret"),
    ("sg-no-world-ingress-across-rules", _wide_ssh_in_slices, "131,072 public IPv4 addresses"),
    ("lb-world-ingress-only-listener-ports", _alb_world_ssh, "ports 22-22"),
    ("lb-world-ingress-only-listener-ports", _alb_all_traffic, "ports 0-65535"),
    ("alb-http-redirects-to-https", _http_forwards, 'HTTP listener "app-http-redirect"'),
    ("alb-http-redirects-to-https", _redirect_keeps_http, 'protocol: "HTTPS"'),
    ("alb-http-redirects-to-https", _http_rule_forwards, 'Listener rule "app-http-api"'),
    ("secret-rotation-configured", _secret_without_rotation, 'secret "app-api-secret"'),
    ("ec2-no-public-ip-from-subnet", _host_in_public_subnet, 'from subnet "net-public-0"'),
    ("ec2-no-public-ip-from-subnet", _host_in_default_vpc, "default VPC"),
    ("ec2-no-public-ip-from-subnet", _host_got_public_ip, "has a public IP"),
    ("db-subnets-no-internet-route", _igw_route, "internet gateway"),
    ("db-subnets-no-internet-route", _igw6_route, "internet gateway"),
    ("db-subnets-no-internet-route", _nat_route, "NAT gateway"),
    ("db-subnets-no-internet-route", _inline_igw, "internet gateway"),
    ("db-subnets-no-internet-route", _unknown_routes_from_igw, "internet gateway"),
    ("exposure-inputs-verifiable", _literal_subnet_group, "DB subnet group db-subnets-1a2b"),
    ("db-subnets-no-internet-route", _no_subnet_group, "no DB subnet group"),
    ("db-subnets-no-internet-route", _db_in_private, "NAT gateway"),
    ("db-ingress-only-from-app-hosts", _cidr_ingress, "CIDR sources"),
    ("db-ingress-only-from-app-hosts", _foreign_sg, 'security group "bastion-sg"'),
    ("db-ingress-only-from-app-hosts", _wide_ports, "opens ports 0-65535"),
    ("db-ingress-only-from-app-hosts", _legacy_rule, "CIDR sources"),
    ("db-ingress-only-from-app-hosts", _inline_ingress, "opens ports 5432-5432"),
    ("db-ingress-only-from-app-hosts", _no_db_sg, "vpcSecurityGroupIds"),
    ("encryption-uses-stack-cmk", _foreign_key, "not created by this stack"),
    ("encryption-uses-stack-cmk", _unencrypted_logs, "log group is not encrypted"),
    ("encryption-uses-stack-cmk", _root_volume_default_key, "rootBlockDevice.kmsKeyId"),
    ("stack-deletion-safety", _unprotected, 'Aurora cluster "db-cluster" must be registered'),
    ("stack-deletion-safety", _unprotected_key, 'KMS key "db-key"'),
    ("rds-multi-az", _one_instance, "1 instance(s)"),
    ("rds-multi-az", _same_az, "in 1 pinned"),
    ("app-role-least-privilege", _star_resource, "on *"),
    ("app-role-least-privilege", _other_secret, "secretsmanager:GetSecretValue"),
    ("app-role-least-privilege", _admin_policy, "AdministratorAccess"),
    ("rds-no-literal-master-password", _literal_password, "`masterPassword` is a literal"),
    ("rds-tls-enforced", _tls_off, "require_secure_transport=ON"),
    ("rds-tls-enforced", _default_params, "default parameter group"),
    ("rds-tls-enforced", _foreign_params, "cannot be verified"),
    ("subnet-no-public-ip-on-launch", _private_public_ip, 'subnet "net-private-1" is private'),
    ("subnet-no-public-ip-on-launch", _db_subnet_public_ip, "holds databases"),
    ("vpc-flow-logs-enabled", _no_flow_log, "no flow log"),
    ("vpc-default-security-group-closed", _no_default_sg, "unmanaged"),
    ("vpc-default-security-group-closed", _open_default_sg, "no egress rules"),
]


@pytest.mark.parametrize("rule,breakage,fragment", CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
def test_one_broken_relationship_is_reported(rule, breakage, fragment):
    s = good_stack()
    breakage(s)
    out = s.check(rule, ISOLATED)
    assert any(fragment in m for m in out.messages), out.messages
    assert all(u and u.startswith("urn:pulumi:") for u in out.urns)


def test_every_stack_rule_has_a_failing_case():
    assert set(STACK_RULES) == {c[0] for c in CASES}


def test_nat_route_allowed_unless_configured():
    s = good_stack()
    _nat_route(s)
    assert s.check("db-subnets-no-internet-route").ok
    assert not s.check("db-subnets-no-internet-route", ISOLATED).ok


def test_password_from_random_resource_is_fine_and_never_echoed():
    s = good_stack()
    _literal_password(s)
    out = s.check("rds-no-literal-master-password")
    assert out.messages and not any("Sup3r-Secret-Pw" in m for m in out.messages)
    rnd = s.add(T["random"], "db-password", {"length": 32.0})
    s.find("db-cluster").property_dependencies["masterPassword"] = [rnd]
    assert s.check("rds-no-literal-master-password").ok


def test_unknowns_are_reported_as_not_checked_not_as_violations():
    s = good_stack()
    s.set("db-instance-1", "availabilityZone", UNKNOWN_STRING_VALUE)
    s.set("app-read-secret", "policy", UNKNOWN_STRING_VALUE)
    s.set("db-cluster", "port", UNKNOWN_NUMBER_VALUE)
    for rule, what in (("rds-multi-az", "availabilityZone"), ("app-role-least-privilege",
                                                              "policy")):
        out = s.check(rule)
        assert out.ok and what in out.not_checked, (rule, out)
    out = s.check("db-ingress-only-from-app-hosts")
    assert out.ok and "port" in out.not_checked


def test_known_violation_is_reported_even_when_something_else_is_unknown():
    s = good_stack()
    _one_instance(s)
    s.add(T["cluster"], "db-cluster-2", {**f.cluster()}, protect=True)
    s.add(T["ci"], "db2-0", {"availabilityZone": UNKNOWN_STRING_VALUE},
          {"clusterIdentifier": [s.find("db-cluster-2")]})
    out = s.check("rds-multi-az")
    assert len(out.messages) == 1 and "db-cluster" in out.messages[0]
    assert "db2-0" in out.not_checked


def _rds_mysql_stack():
    """Seed 004's shape: a plain RDS MySQL instance in the isolated subnets."""
    s = good_stack()
    s.remove("db-instance-0")
    s.remove("db-instance-1")
    s.remove("db-cluster")
    pg = s.add(T["pg"], "db-mysql-params", {"family": "mysql8.0", "parameters": [
        {"name": "require_secure_transport", "value": "1"}]})
    s.add(T["dbi"], "db-mysql", {**f.db_instance(), "dbSubnetGroupName": "db-subnets-1a2b",
                                 "parameterGroupName": "db-mysql-params"}, {
        "kmsKeyId": [s.find("db-key")], "performanceInsightsKmsKeyId": [s.find("db-key")],
        "masterUserSecretKmsKeyId": [s.find("db-key")],
        "dbSubnetGroupName": [s.find("db-subnets")], "parameterGroupName": [pg],
        "vpcSecurityGroupIds": [s.find("db-sg")]}, protect=True)
    s.add(T["backup"], "db-mysql-backup", {"resources": ["arn:aws:rds:eu-west-1:1:db:db-mysql"]},
          {"resources": [s.find("db-mysql")]})
    return s


def test_plain_rds_instance_goes_through_the_same_stack_rules():
    s = _rds_mysql_stack()
    for name in STACK_RULES:
        if name != "app-role-least-privilege":  # the role points at the removed cluster secret
            assert s.check(name, ISOLATED).ok, name
    s.set("db-mysql", "multiAz", False)
    s.set("db-mysql-params", "parameters", [])
    _igw_route(s)
    assert "multiAz" in s.check("rds-multi-az").messages[0]
    assert "require_secure_transport=ON" in s.check("rds-tls-enforced").messages[0]
    assert 'RDS instance "db-mysql"' in s.check("db-subnets-no-internet-route").messages[0]


def test_unknown_computed_routes_without_gateway_inputs_are_fine():
    s = good_stack()
    for table in ("net-isolated-rt", "net-public-rt"):
        s.set(table, "routes", UNKNOWN_ARRAY_VALUE)
    out = s.check("db-subnets-no-internet-route", ISOLATED)
    assert out.ok and out.not_checked is None


def test_refreshed_sg_ingress_mirroring_the_link_rule_is_fine():
    """After `pulumi refresh` a SecurityGroup's `ingress` output lists standalone rules too."""
    s = good_stack()
    s.set("app-sg", "arn", "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0app0000000000001")
    s.set("link-db-ingress", "referencedSecurityGroupId", "sg-0app0000000000001")
    s.set("db-sg", "ingress", [{"protocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0,
                                "securityGroups": ["sg-0app0000000000001"]}])
    assert s.check("db-ingress-only-from-app-hosts").ok
    assert s.check("exposure-inputs-verifiable").ok
    s.set("db-sg", "ingress", [{"protocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0,
                                "securityGroups": ["sg-0elsewhere00000001"]}])
    assert s.check("db-ingress-only-from-app-hosts").ok  # what it names is judged below
    out = s.check("exposure-inputs-verifiable")
    assert "source security group sg-0elsewhere00000001" in out.messages[0]
    assert s.check("exposure-inputs-verifiable",
                   {"allowedExternalIds": ["sg-0elsewhere00000001"]}).ok


def test_explicit_false_wins_over_a_public_subnet_and_dev_may_allow_it():
    s = good_stack()
    s.find("app-host").property_dependencies["subnetId"] = [s.find("net-public-0")]
    assert s.check("ec2-no-public-ip-from-subnet").ok  # associatePublicIpAddress: false
    _host_in_public_subnet(s)
    assert s.check("ec2-no-public-ip-from-subnet", {"allowPublicHost": True}).ok


def test_http_only_load_balancer_is_left_to_the_plain_http_rule():
    s = good_stack()
    _http_only_without_opt_in(s)
    assert s.check("alb-http-redirects-to-https").ok
    assert not s.check("alb-listener-https").ok
    s.set("app-http-redirect", "tags", {"aurorakit:allow-plain-http": "true"})  # the opt-in
    assert s.check("alb-listener-https").ok
    s.set("app-http-redirect", "tags", {"aurorakit:allow-plain-http": "false"})
    assert not s.check("alb-listener-https").ok


def test_plain_http_is_fine_when_it_redirects_or_the_balancer_is_internal():
    s = good_stack()
    s.remove("app-https")  # the HTTP listener still redirects to HTTPS
    assert s.check("alb-listener-https").ok
    _http_forwards(s)
    s.set("app-alb", "internal", True)
    assert s.check("alb-listener-https").ok


def test_unknown_listener_actions_are_not_checked():
    s = good_stack()
    s.set("app-http-redirect", "defaultActions", UNKNOWN_ARRAY_VALUE)
    out = s.check("alb-http-redirects-to-https")
    assert out.ok and "defaultActions" in out.not_checked


def test_internal_load_balancer_may_open_other_ports():
    s = good_stack()
    _alb_world_ssh(s)
    s.set("app-alb", "internal", True)
    assert s.check("lb-world-ingress-only-listener-ports").ok


def test_instance_from_launch_template_takes_its_network_from_the_template():
    s = good_stack()
    _host_in_default_vpc(s)
    s.set("app-host", "launchTemplate", {"id": "lt-0a1b2c3d4e5f60718"})
    assert s.check("ec2-no-public-ip-from-subnet").ok


def test_managed_policy_allow_list_holds_in_every_partition():
    s = good_stack()
    s.set("app-ssm", "policyArn", "arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore")
    assert s.check("app-role-least-privilege").ok
    s.set("app-ssm", "policyArn", "arn:aws-us-gov:iam::aws:policy/AdministratorAccess")
    assert "AdministratorAccess" in s.check("app-role-least-privilege").messages[0]


def test_icmp_from_the_internet_to_a_load_balancer_is_not_a_port():
    s = good_stack()
    s.set("alb-sg", "ingress", [{"protocol": "icmp", "fromPort": 3.0, "toPort": 4.0,
                                 "cidrBlocks": ["0.0.0.0/0"], "description": "path MTU"}])
    assert s.check("lb-world-ingress-only-listener-ports").ok
