"""Issue 12's evasion classes: for each class, unsafe variants the pack used to let through
(each is reported now, by the named rule) and safe look-alikes that must stay clean.

Ids read `c<class>-<variant>`; the broken-prod variants through the real program are in
variants.py with the same prefixes. Rules are called as the SDK calls them (proxied props,
a compliant stack from stack_factory with one change)."""
from __future__ import annotations

import base64
import gzip
import json
import random
from collections.abc import Callable
from typing import Any, Optional

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.rules.cidrs import internet_reach
from policy.rules.userdata import findings

from . import factories as f
from .cases import Case, resource, stack
from .stack_factory import T, good_stack, policy_doc
from .support import check_resource

ISOLATED = {"forbidNatRoute": True}





def _sg(**ingress: Any) -> dict:
    return {"description": "app", "ingress": [{"protocol": "tcp", "description": "x", **ingress}]}


def _rule(s, name: str, sg: str, port: float, deps: Optional[dict] = None, **props: Any) -> None:
    s.add(T["ingress"], name, {"ipProtocol": "tcp", "fromPort": port, "toPort": port, **props},
          {"securityGroupId": [s.find(sg)], **(deps or {})})


def _route(s, name: str, props: dict, deps: dict) -> None:
    s.add(T["route"], name, props, {"routeTableId": [s.find("net-isolated-rt")], **deps})


def _prefix_list(s, name: str, cidrs: list, standalone: bool = False):
    if not standalone:
        return s.add(T["pl"], name, {"addressFamily": "IPv4", "entries": [
            {"cidr": c} for c in cidrs]})
    plist = s.add(T["pl"], name, {"addressFamily": "IPv4", "entries": []})
    for i, c in enumerate(cidrs):
        s.add(T["plentry"], f"{name}-{i}", {"cidr": c, "prefixListId": UNKNOWN_STRING_VALUE},
              {"prefixListId": [plist]})
    return plist


# Class 1: "the internet" is any set of addresses that covers it ----------------------------
def _halves_on_one_inline_entry():
    return _sg(fromPort=22.0, toPort=22.0, cidrBlocks=["0.0.0.0/1", "128.0.0.0/1"])


def _db_routes_in_halves(s):
    for i, half in enumerate(("0.0.0.0/1", "128.0.0.0/1")):
        _route(s, f"half-{i}", {"destinationCidrBlock": half, "gatewayId": "igw-0a1b"},
               {"gatewayId": [s.find("net-igw")]})


def _alb_port_in_halves(s):
    for i, half in enumerate(("0.0.0.0/1", "128.0.0.0/1")):
        _rule(s, f"alb-half-{i}", "alb-sg", 8080.0, cidrIpv4=half)


def _ssh_slices(s):
    for i, block in enumerate(("52.0.0.0/16", "52.1.0.0/16")):
        _rule(s, f"ssh-slice-{i}", "app-sg", 22.0, cidrIpv4=block)


CLASS_1 = [
    Case("c1-inline-halves-ssh", "sg-no-world-ingress-to-sensitive-ports",
         resource("sg-no-world-ingress-to-sensitive-ports", f.SG, _halves_on_one_inline_entry()),
         "the whole IPv4 internet (0.0.0.0/0)"),
    Case("c1-inline-halves-in-two-entries", "sg-no-world-ingress-to-sensitive-ports",
         resource("sg-no-world-ingress-to-sensitive-ports", f.SG, {"ingress": [
             {"protocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0, "cidrBlocks": [c]}
             for c in ("0.0.0.0/1", "128.0.0.0/1")]}, {"widestPublicPrefixV4": 0}),
         "`ingress[0]`, `ingress[1]` allows CIDRs that together make on port(s) 3306: the whole "
         "IPv4 internet"),
    Case("c1-ipv6-halves", "sg-no-world-ingress-to-sensitive-ports",
         resource("sg-no-world-ingress-to-sensitive-ports", f.SG_RULE, {
             **f.sg_rule(), "sourceSecurityGroupId": None, "ipv6CidrBlocks": ["::/1", "8000::/1"]}),
         "the whole IPv6 internet (::/0)"),
    Case("c1-public-block-wider-than-16", "sg-no-world-ingress-to-sensitive-ports",
         resource("sg-no-world-ingress-to-sensitive-ports", f.VPC_INGRESS, {
             **f.vpc_ingress(), "referencedSecurityGroupId": None, "cidrIpv4": "52.0.0.0/8",
             "fromPort": 22.0, "toPort": 22.0}), "more than a /16"),
    Case("c1-slices-across-rules", "sg-no-world-ingress-across-rules",
         stack("sg-no-world-ingress-across-rules", _ssh_slices), "131,072 public IPv4"),
    Case("c1-db-routes-in-halves", "db-subnets-no-internet-route",
         stack("db-subnets-no-internet-route", _db_routes_in_halves), "internet gateway"),
    Case("c1-alb-port-in-halves", "lb-world-ingress-only-listener-ports",
         stack("lb-world-ingress-only-listener-ports", _alb_port_in_halves), "ports 8080-8080"),
]
CLASS_1_CLEAN = [
    ("c1-private-block-on-ssh", resource("sg-no-world-ingress-to-sensitive-ports", f.SG,
                                         _sg(fromPort=22.0, toPort=22.0,
                                             cidrBlocks=["10.0.0.0/8", "172.16.0.0/12"]))),
    ("c1-one-office-on-ssh", resource("sg-no-world-ingress-to-sensitive-ports", f.SG,
                                      _sg(fromPort=22.0, toPort=22.0,
                                          cidrBlocks=["198.51.100.0/24", "52.94.0.0/16"]))),
    ("c1-db-route-to-a-private-range", stack("db-subnets-no-internet-route", lambda s: _route(
        s, "to-vpn", {"destinationCidrBlock": "10.0.0.0/8", "transitGatewayId": "tgw-1"}, {}),
        ISOLATED)),
]


def test_c1_threshold_is_configurable_and_shared_with_settings():
    """The function the lead imports from components/settings.py (hostAdminCidr & co)."""
    assert internet_reach(["0.0.0.0/1", "128.0.0.0/1"]) == "the whole IPv4 internet (0.0.0.0/0)"
    assert internet_reach(["52.0.0.0/15"]) is not None
    assert internet_reach(["52.0.0.0/15"], widest_v4=14) is None
    assert internet_reach(["2600::/28"]) is not None and internet_reach(["2600::/48"]) is None
    assert internet_reach(["10.0.0.0/8", "fd00::/8", "not a cidr", ""]) is None
    out = check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG,
                         _sg(fromPort=22.0, toPort=22.0, cidrBlocks=["52.0.0.0/15"]),
                         {"widestPublicPrefixV4": 14})
    assert out.ok


# Class 2: managed prefix lists are resolved and judged like CIDRs --------------------------
def _ssh_from_list(standalone: bool, cidrs: list):
    def change(s):
        plist = _prefix_list(s, "office-list", cidrs, standalone)
        _rule(s, "ssh-from-list", "app-sg", 22.0, {"prefixListId": [plist]},
              prefixListId=UNKNOWN_STRING_VALUE)
    return change


def _alb_port_from_list(s):
    plist = _prefix_list(s, "world-list", ["0.0.0.0/0"])
    _rule(s, "alb-from-list", "alb-sg", 9000.0, {"prefixListId": [plist]},
          prefixListId="pl-0a1b2c3d4e5f60718")
    s.set("world-list", "arn", "arn:aws:ec2:eu-west-1:123456789012:prefix-list/pl-0a1b2c3d4e5f60718")


def _db_route_to_list(s):
    plist = _prefix_list(s, "world-list", ["0.0.0.0/0"])
    _route(s, "to-list", {"destinationPrefixListId": UNKNOWN_STRING_VALUE,
                          "natGatewayId": "nat-0a1b"},
           {"destinationPrefixListId": [plist], "natGatewayId": [s.find("net-nat")]})


def _db_from_list(s):
    plist = _prefix_list(s, "vpc-list", ["10.0.0.0/16"])
    _rule(s, "db-from-list", "db-sg", 3306.0, {"prefixListId": [plist]},
          prefixListId=UNKNOWN_STRING_VALUE)


def _external_list_on_ssh(s):
    _rule(s, "ssh-from-foreign-list", "app-sg", 22.0, prefixListId="pl-0fedcba987654321")


CLASS_2 = [
    Case("c2-inline-entries-world-on-ssh", "sg-no-world-ingress-across-rules",
         stack("sg-no-world-ingress-across-rules", _ssh_from_list(False, ["0.0.0.0/0"])),
         "through the prefix list(s)"),
    Case("c2-entry-resources-halves-on-ssh", "sg-no-world-ingress-across-rules",
         stack("sg-no-world-ingress-across-rules",
               _ssh_from_list(True, ["0.0.0.0/1", "128.0.0.0/1"])), "the whole IPv4 internet"),
    Case("c2-alb-extra-port-from-list", "lb-world-ingress-only-listener-ports",
         stack("lb-world-ingress-only-listener-ports", _alb_port_from_list), "ports 9000-9000"),
    Case("c2-db-route-to-list", "db-subnets-no-internet-route",
         stack("db-subnets-no-internet-route", _db_route_to_list, ISOLATED), "NAT gateway"),
    Case("c2-db-ingress-from-list", "db-ingress-only-from-app-hosts",
         stack("db-ingress-only-from-app-hosts", _db_from_list), "a prefix list (CIDR sources)"),
    Case("c2-foreign-list-on-ssh", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _external_list_on_ssh), "pl-0fedcba987654321"),
]
CLASS_2_CLEAN = [
    ("c2-private-list-on-ssh", stack("sg-no-world-ingress-across-rules",
                                     _ssh_from_list(True, ["10.0.0.0/8"]))),
]


# Class 3: literal ids are not "fine because unknown" -------------------------------------
def _extra_cluster_sg(s):
    s.set("db-cluster", "vpcSecurityGroupIds", ["sg-0db", "sg-0123456789abcdef0"])


def _extra_db_subnet(s):
    s.set("db-subnets", "subnetIds", ["subnet-i0", "subnet-i1", "subnet-0123456789abcdef0"])


def _alb_only_literal_sg(s):
    s.set("app-alb", "securityGroups", ["sg-0fedcba9876543210"])
    s.find("app-alb").property_dependencies["securityGroups"] = []


def _alb_without_sg(s):
    _alb_only_literal_sg(s)
    s.set("app-alb", "securityGroups", None)


def _db_subnet_on_foreign_table(s):
    assoc = s.find("net-isolated-rta-0")
    assoc.property_dependencies["routeTableId"] = []
    s.set("net-isolated-rta-0", "routeTableId", "rtb-0123456789abcdef0")


def _host_in_literal_subnet(s):
    s.set("app-host", "subnetId", "subnet-0123456789abcdef0")
    s.find("app-host").property_dependencies["subnetId"] = []


CLASS_3 = [
    Case("c3-cluster-sg-next-to-own", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _extra_cluster_sg), "sg-0123456789abcdef0"),
    Case("c3-subnet-in-db-subnet-group", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _extra_db_subnet), "subnet-0123456789abcdef0"),
    Case("c3-alb-only-sg-by-literal-id", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _alb_only_literal_sg), "sg-0fedcba9876543210"),
    Case("c3-alb-without-sg", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _alb_without_sg), "VPC's default group"),
    Case("c3-db-subnet-on-foreign-route-table", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _db_subnet_on_foreign_table), "rtb-0123456789"),
    Case("c3-host-in-literal-subnet", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _host_in_literal_subnet), "subnet-0123456789"),
]
CLASS_3_CLEAN = [
    ("c3-allow-listed-ids", stack("exposure-inputs-verifiable", lambda s: (
        _extra_cluster_sg(s), _extra_db_subnet(s)), {"allowedExternalIds": [
            "sg-0123456789abcdef0", "subnet-0123456789abcdef0"]})),
]


def test_c3_foreign_route_table_is_not_replaced_by_the_main_one():
    s = good_stack()
    _db_subnet_on_foreign_table(s)
    from policy.rules.routes import route_tables
    from policy.rules.stackview import StackView
    assert route_tables(StackView(s.resources), s.find("net-isolated-0")) == []


# Class 4: a public address by any route ---------------------------------------------------
def _fleet(s, subnets: list, interfaces: Optional[list] = None, name: str = "fleet"):
    lt_props = {**f.launch_template(), "vpcSecurityGroupIds": ["sg-0app"]}
    lt_props.pop("networkInterfaces")
    if interfaces is not None:
        lt_props["networkInterfaces"] = interfaces
    lt = s.add(T["lt"], f"{name}-lt", lt_props, {
        "vpcSecurityGroupIds": [s.find("app-sg")], "blockDeviceMappings": [s.find("db-key")]})
    s.add(T["asg"], name, {"vpcZoneIdentifiers": ["subnet-x"] * len(subnets), "launchTemplate": {
        "id": "lt-0a1b", "version": "$Latest"}, "minSize": 2.0, "maxSize": 4.0},
        {"vpcZoneIdentifiers": [s.find(n) for n in subnets], "launchTemplate": [lt]})
    return lt


def _mixed_fleet_in_public_subnets(s):
    lt = _fleet(s, ["net-private-0"], name="plain")
    s.add(T["asg"], "mixed-fleet", {"vpcZoneIdentifiers": ["subnet-p"], "mixedInstancesPolicy": {
        "launchTemplate": {"launchTemplateSpecification": {"launchTemplateId": "lt-0a1b"}}}},
        {"vpcZoneIdentifiers": [s.find("net-public-1")], "mixedInstancesPolicy": [lt]})


def _eip_on_host(s):
    s.add(T["eip"], "host-eip", {"domain": "vpc", "instance": "i-0a1b"},
          {"instance": [s.find("app-host")]})


def _eip_association(s):
    eip = s.add(T["eip"], "spare-eip", {"domain": "vpc"})
    s.add(T["eipassoc"], "spare-eip-assoc", {"allocationId": "eipalloc-1", "instanceId": "i-1"},
          {"allocationId": [eip], "instanceId": [s.find("app-host")]})


def _eip_on_attached_interface(s):
    eni = s.add("aws:ec2/networkInterface:NetworkInterface", "extra-eni",
                {"subnetId": "subnet-x"}, {"subnetId": [s.find("net-private-0")]})
    s.add("aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment", "extra-eni-attach",
          {"deviceIndex": 1.0, "instanceId": "i-1", "networkInterfaceId": "eni-1"},
          {"instanceId": [s.find("app-host")], "networkInterfaceId": [eni]})
    s.add(T["eip"], "eni-eip", {"domain": "vpc", "networkInterface": "eni-1"},
          {"networkInterface": [eni]})


def _instance_from_template_in_public_subnet(s):
    lt = s.add(T["lt"], "host-lt", {**f.launch_template(), "networkInterfaces": [
        {"deviceIndex": 0.0, "subnetId": "subnet-p"}]},
        {"networkInterfaces": [s.find("net-public-0")]})
    s.set("app-host", "associatePublicIpAddress", None)
    s.set("app-host", "launchTemplate", {"id": "lt-1"})
    s.find("app-host").property_dependencies["subnetId"] = []
    s.find("app-host").property_dependencies["launchTemplate"] = [lt]


CLASS_4 = [
    Case("c4-eip-on-instance", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _eip_on_host), 'Elastic IP "host-eip"'),
    Case("c4-eip-reaches-the-database", "db-ingress-only-from-app-hosts",
         stack("db-ingress-only-from-app-hosts", _eip_on_host), "must have no public address"),
    Case("c4-eip-association", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _eip_association), "spare-eip-assoc"),
    Case("c4-eip-on-attached-interface", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _eip_on_attached_interface), "eni-eip"),
    Case("c4-asg-in-public-subnets", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", lambda s: _fleet(s, ["net-public-0"])),
         'Auto Scaling group "fleet" launches instances that get a public IP'),
    Case("c4-asg-hosts-reach-the-database", "db-ingress-only-from-app-hosts",
         stack("db-ingress-only-from-app-hosts", lambda s: _fleet(s, ["net-public-0"])),
         'launch template "fleet-lt"'),
    Case("c4-asg-template-interface-asks", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", lambda s: _fleet(
             s, ["net-private-0"], [{"deviceIndex": 0.0, "associatePublicIpAddress": "true"}])),
         "asks for one"),
    Case("c4-mixed-instances-asg-in-public-subnets", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _mixed_fleet_in_public_subnets),
         'Auto Scaling group "mixed-fleet"'),
    Case("c4-asg-in-the-default-vpc", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", lambda s: _fleet(s, [])), "default VPC"),
    Case("c4-instance-from-template-in-public-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _instance_from_template_in_public_subnet),
         'via launch template "host-lt"'),
    Case("c4-launch-configuration-asks", "ec2-no-public-ip",
         resource("ec2-no-public-ip", f.LAUNCH_CONFIGURATION, {
             **f.launch_configuration(), "associatePublicIpAddress": True}), "public IP"),
]
CLASS_4_CLEAN = [
    ("c4-asg-in-private-subnets-reaches-db", stack("db-ingress-only-from-app-hosts", lambda s: (
        _fleet(s, ["net-private-0", "net-private-1"])))),
    ("c4-template-interface-says-no", stack("ec2-no-public-ip-from-subnet", lambda s: _fleet(
        s, ["net-public-0"], [{"deviceIndex": 0.0, "associatePublicIpAddress": "false"}]))),
    ("c4-dev-allows-its-public-host", stack("db-ingress-only-from-app-hosts", _eip_on_host,
                                            {"allowPublicHost": True})),
]


def test_c4_template_security_groups_in_interfaces_count_as_app_hosts():
    """A template that attaches its groups on the network interface (as ASGs need) is an app
    host for the database rule (before: a false mandatory)."""
    s = good_stack()
    s.remove("app-host")
    lt = s.add(T["lt"], "fleet-lt", {**f.launch_template(), "networkInterfaces": [
        {"deviceIndex": 0.0, "securityGroups": ["sg-0app"], "associatePublicIpAddress": "false"}]},
        {"networkInterfaces": [s.find("app-sg")]})
    assert lt and s.check("db-ingress-only-from-app-hosts").ok


# Class 5: isolated subnets have no default route of any kind ------------------------------
def _default_route(key: str, value: str, dest: str = "destinationCidrBlock",
                   to: str = "0.0.0.0/0"):
    return lambda s: _route(s, f"via-{key}", {dest: to, key: value}, {})


CLASS_5 = [
    Case(f"c5-default-route-via-{key}", "db-subnets-no-internet-route",
         stack("db-subnets-no-internet-route", _default_route(key, value), ISOLATED), kind)
    for key, value, kind in (
        ("transitGatewayId", "tgw-0a1b2c3d4e5f60718", "transit gateway"),
        ("vpcPeeringConnectionId", "pcx-0a1b2c3d4e5f60718", "VPC peering"),
        ("networkInterfaceId", "eni-0a1b2c3d4e5f60718", "NAT instance"),
        ("instanceId", "i-0a1b2c3d4e5f60718", "NAT instance"),
        ("gatewayId", "vgw-0a1b2c3d4e5f60718", "VPN gateway"),
        ("vpcEndpointId", "vpce-0a1b2c3d4e5f60718", "VPC endpoint"),
        ("carrierGatewayId", "cagw-0a1b2c3d4e5f60718", "carrier gateway"))] + [
    Case("c5-ipv6-default-route-via-egress-only", "db-subnets-no-internet-route",
         stack("db-subnets-no-internet-route", _default_route(
             "egressOnlyGatewayId", "eigw-1", "destinationIpv6CidrBlock", "::/0"), ISOLATED),
         "egress-only gateway"),
    Case("c5-inline-routes-that-cover-it-via-nat", "db-subnets-no-internet-route",
         stack("db-subnets-no-internet-route", lambda s: s.set("net-isolated-rt", "routes", [
             {"cidrBlock": c, "natGatewayId": "nat-0a1b"} for c in (
                 "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2")]), ISOLATED),
         "the whole IPv4 internet"),
]


# Class 6: a role's effective permissions -----------------------------------------------------
def _attach(s, type_: str, props: dict, deps: dict) -> None:
    s.add(type_, "extra-attachment", props, deps)


def _policy_attachment(arn: str):
    return lambda s: _attach(s, T["polatt"], {"roles": ["app-role"], "policyArn": arn},
                             {"roles": [s.find("app-role")]})


def _customer_policy_via_policy_attachment(s):
    policy = s.add(T["policy"], "read-all-secrets", {"policy": policy_doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})})
    _attach(s, T["polatt"], {"roles": ["app-role"], "policyArn": UNKNOWN_STRING_VALUE},
            {"roles": [s.find("app-role")], "policyArn": [policy]})


def _cluster_role(s):
    role = s.add(T["role"], "db-s3-role", {"assumeRolePolicy": f.trust("rds.amazonaws.com"),
                                           "inlinePolicies": [{"policy": policy_doc(
                                               {"Effect": "Allow", "Action": "kms:Decrypt",
                                                "Resource": "*"})}]})
    s.add(T["cra"], "db-s3-role-link", {"featureName": "s3Import"},
          {"roleArn": [role], "dbClusterIdentifier": [s.find("db-cluster")]})


def _escalation(action: str, resource_: str = "*"):
    return resource("iam-no-privilege-escalation", f.ROLE_POLICY, {
        "role": "ci", "policy": f.doc({"Effect": "Allow", "Action": action,
                                        "Resource": resource_})})


CLASS_6 = [
    Case("c6-managed-policy-arns-on-app-role", "app-role-least-privilege",
         stack("app-role-least-privilege", lambda s: s.set("app-role", "managedPolicyArns", [
             "arn:aws:iam::aws:policy/SecretsManagerReadWrite"])), "SecretsManagerReadWrite"),
    Case("c6-policy-attachment-roles", "app-role-least-privilege",
         stack("app-role-least-privilege", _policy_attachment(
             "arn:aws:iam::aws:policy/AmazonS3FullAccess")), "AmazonS3FullAccess"),
    Case("c6-customer-policy-via-policy-attachment", "app-role-least-privilege",
         stack("app-role-least-privilege", _customer_policy_via_policy_attachment), "on *"),
    Case("c6-cluster-associated-role", "app-role-least-privilege",
         stack("app-role-least-privilege", _cluster_role), 'Database role "db-s3-role"'),
    Case("c6-full-access-managed-policy", "iam-no-admin-managed-policy",
         resource("iam-no-admin-managed-policy", f.ROLE_ATTACHMENT, {
             "role": "ci", "policyArn": "arn:aws:iam::aws:policy/AmazonEC2FullAccess"}),
         "AmazonEC2FullAccess"),
    Case("c6-service-wildcard-on-star", "iam-no-wildcard-actions",
         resource("iam-no-wildcard-actions", f.MANAGED_POLICY, {"policy": f.doc(
             {"Effect": "Allow", "Action": ["s3:*", "s3:GetObject"], "Resource": "*"})}),
         "(s3:*)"),
] + [
    Case(f"c6-escalation-{action.replace(':', '-')}", "iam-no-privilege-escalation",
         _escalation(action, res), action)
    for action, res in (("iam:PutRolePolicy", "*"), ("iam:AttachRolePolicy", "*"),
                        ("iam:CreateAccessKey", f"arn:aws:iam::{f.ACCOUNT}:user/*"),
                        ("sts:AssumeRole", "*"), ("ssm:SendCommand", "*"),
                        ("iam:CreatePolicyVersion", "*"))] + [
    Case("c6-escalation-by-wildcard-action", "iam-no-privilege-escalation",
         _escalation("iam:Put*", "*"), "iam:PutRolePolicy"),
]
CLASS_6_CLEAN = [
    ("c6-assume-a-named-role", _escalation("sts:AssumeRole",
                                           f"arn:aws:iam::{f.ACCOUNT}:role/deployer")),
    ("c6-s3-star-on-one-bucket", resource("iam-no-wildcard-actions", f.MANAGED_POLICY, {
        "policy": f.doc({"Effect": "Allow", "Action": "s3:*",
                         "Resource": "arn:aws:s3:::aurorakit-alb-logs/*"})})),
    ("c6-allowed-managed-policy-arn", stack("app-role-least-privilege", lambda s: s.set(
        "app-role", "managedPolicyArns",
        ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]))),
]


# Class 7: public sharing of snapshots -------------------------------------------------------
CLASS_7 = [
    Case(f"c7-{type_.rsplit(':', 1)[-1]}-shared-with-{who}", "rds-not-publicly-accessible",
         resource("rds-not-publicly-accessible", type_, {**factory(), "sharedAccounts": [who]}),
         "must not be public")
    for type_, factory in ((f.CLUSTER_SNAPSHOT, f.cluster_snapshot),
                           (f.SNAPSHOT_COPY, f.snapshot_copy),
                           ("aws:rds/snapshot:Snapshot", f.cluster_snapshot),
                           ("aws:rds/snapshotCopy:SnapshotCopy", f.snapshot_copy))
    for who in ("all", "ALL")]


# Class 8: a condition restricts `*` only when it pins who the caller is ---------------------
def _public_statement(condition: Any, type_: str = f.KMS_KEY, principal: Any = None):
    st = {"Effect": "Allow", "Principal": principal or {"AWS": "*"}, "Action": "kms:Decrypt",
          "Resource": "*"}
    if condition is not None:
        st["Condition"] = condition
    return resource("resource-policy-no-public-principal", type_, {"policy": f.doc(st)})


CLASS_8 = [
    Case(f"c8-{name}", "resource-policy-no-public-principal", _public_statement(cond),
         "does not pin the caller")
    for name, cond in (
        ("secure-transport-only", {"Bool": {"aws:SecureTransport": "true"}}),
        ("source-ip-only", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        ("via-service-only", {"StringEquals": {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}}),
        ("if-exists", {"StringEqualsIfExists": {"aws:PrincipalAccount": f.ACCOUNT}}),
        ("for-all-values", {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        ("wildcard-account", {"StringLike": {"aws:PrincipalAccount": "*"}}),
        ("arn-with-any-account", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}}),
        ("not-equals", {"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}}),
        ("policy-variable", {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}))
] + [
    Case("c8-not-principal", "resource-policy-no-public-principal", resource(
        "resource-policy-no-public-principal", f.SECRET, {**f.secret(), "policy": f.doc(
            {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{f.ACCOUNT}:root"},
             "Action": "secretsmanager:GetSecretValue", "Resource": "*"})}), "NotPrincipal"),
    Case("c8-public-bucket-policy", "resource-policy-no-public-principal",
         _public_statement({"Bool": {"aws:SecureTransport": "true"}}, f.BUCKET_POLICY, "*"),
         "statement 0"),
]
CLASS_8_CLEAN = [
    (f"c8-{name}", _public_statement(cond)) for name, cond in (
        ("principal-account", {"StringEquals": {"aws:PrincipalAccount": f.ACCOUNT}}),
        ("org-id", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}),
        ("source-account", {"StringEquals": {"aws:SourceAccount": f.ACCOUNT}}),
        ("caller-account-via-service", {"StringEquals": {
            "kms:CallerAccount": f.ACCOUNT, "kms:ViaService": "rds.eu-west-1.amazonaws.com"}}),
        ("principal-arn", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{f.ACCOUNT}:role/*"}}),
        ("source-vpce", {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}),
        ("for-any-value", {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": "o-a/r-b/ou-c"}}))]


# Class 9: secrets in user data in any encoding a host decodes -----------------------------
SECRET_SCRIPT = "#!/bin/bash\necho DB_PASSWORD=hunter2hunter2 >> /etc/app.env\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _gz_b64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def _user_data(value: str, key: str = "userData", type_: str = f.EC2):
    props = {**f.HAPPY[type_]()}
    props.pop("userData", None)
    props[key] = value
    return resource("ec2-no-secrets-in-user-data", type_, props)


MIME = ('Content-Type: multipart/mixed; boundary="==B=="\nMIME-Version: 1.0\n\n--==B==\n'
        'Content-Type: text/x-shellscript; charset="us-ascii"\n'
        "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(
            SECRET_SCRIPT.encode()).decode() + "\n--==B==--\n")
CLASS_9 = [
    Case("c9-base64-in-user-data", "ec2-no-secrets-in-user-data", _user_data(_b64(SECRET_SCRIPT)),
         "`DB_PASSWORD` (in base64 content)"),
    Case("c9-gzip-base64-in-user-data-base64", "ec2-no-secrets-in-user-data",
         _user_data(_gz_b64(SECRET_SCRIPT), "userDataBase64"), "gzip"),
    Case("c9-write-files-b64", "ec2-no-secrets-in-user-data", _user_data(
        "#cloud-config\nwrite_files:\n  - path: /etc/app.env\n    encoding: b64\n    content: "
        + _b64("API_TOKEN=tok_9f8e7d6c5b4a\n") + "\n"), "`API_TOKEN`"),
    Case("c9-write-files-gz-b64-in-template", "ec2-no-secrets-in-user-data", _user_data(_b64(
        "#cloud-config\nwrite_files:\n  - path: /root/.my.cnf\n    encoding: gz+b64\n"
        "    content: " + _gz_b64("[client]\npassword = S3cr3t-Value\n") + "\n"),
        type_=f.LAUNCH_TEMPLATE), "`password`"),
    Case("c9-mime-part-base64", "ec2-no-secrets-in-user-data", _user_data(MIME), "DB_PASSWORD"),
    Case("c9-second-gzip-member", "ec2-no-secrets-in-user-data", _user_data(base64.b64encode(
        gzip.compress(b"#!/bin/bash\n", mtime=0) + gzip.compress(SECRET_SCRIPT.encode(), mtime=0)
    ).decode(), "userDataBase64"), "DB_PASSWORD"),
    Case("c9-mysql-dash-p", "ec2-no-secrets-in-user-data", _user_data(
        "#!/bin/bash\nmysql -h db -u admin -pS3cr3tPass app < schema.sql\n"), "MySQL command line"),
    Case("c9-long-option", "ec2-no-secrets-in-user-data", _user_data(
        "#!/bin/bash\napp-migrate --db-password=S3cr3tPass\n"), "`--db-password`"),
    Case("c9-pass-key", "ec2-no-secrets-in-user-data", _user_data("DB_PASS=S3cr3tPass\n"),
         "`DB_PASS`"),
    Case("c9-pwd-key", "ec2-no-secrets-in-user-data", _user_data("export MYSQL_PWD=S3cr3t\n"),
         "`MYSQL_PWD`"),
    Case("c9-random-password-specials", "ec2-no-secrets-in-user-data", _user_data(
        "DB_PASSWORD=Xy7$kQ(9]{<m>:?!#%^&*-_=+[}\n"), "`DB_PASSWORD`"),
    Case("c9-url-credentials", "ec2-no-secrets-in-user-data", _user_data(
        "DATABASE_URL=mysql://app:S3cr3tPass@db.internal:3306/app\n"), "in a URL"),
    Case("c9-launch-configuration", "ec2-no-secrets-in-user-data", _user_data(
        SECRET_SCRIPT, type_=f.LAUNCH_CONFIGURATION), "`DB_PASSWORD`"),
    # YAML double-quoted strings (what yaml.safe_dump writes for a script): escaped newlines
    # glue the next command to `n`, and long lines fold with `\` + newline + `\ `
    Case("c9-yaml-double-quoted-script", "ec2-no-secrets-in-user-data", _user_data(
        '#cloud-config\nwrite_files:\n- path: /opt/setup.sh\n  content: "#!/bin/bash\\nset -e\\nmysql'
        ' -h db -u admin -pS3cr3tPass\\\n    \\ app < schema.sql\\n"\n'), "MySQL command line"),
    Case("c9-yaml-double-quoted-folded-base64", "ec2-no-secrets-in-user-data", _user_data(
        '#cloud-config\nwrite_files:\n- path: /etc/app.env\n  encoding: b64\n  content: "'
        + "\\\n    ".join(_b64(SECRET_SCRIPT)[i:i + 24] for i in range(0, 96, 24)) + '"\n'),
        "`DB_PASSWORD`"),
]
CLASS_9_CLEAN = [
    (f"c9-{name}", _user_data(data)) for name, data in (
        ("env-reference", "DB_PASSWORD=${DB_PASSWORD}\n"),
        ("command-substitution", "PW=$(aws secretsmanager get-secret-value --secret-id x)\n"),
        ("template", 'password: "{{ lookup(\'secret\') }}"\n'),
        ("mysql-prompt", "mysql -u admin -p -h db\n"),
        ("docker-port", "docker run -p8080:80 app\n"),
        ("secret-arn", f"DB_SECRET_ARN={f.SECRET_ARN}\n"),
        ("token-settings", "TOKEN_TTL=900\nDB_TOKEN_REFRESH_SECONDS=600\nAPI_TOKEN_FILE=/run/t\n"),
        ("systemd-credential", "[Service]\nLoadCredential=db:/run/aurorakit/db\n"),
        ("code-in-archive", _b64("#cloud-config\n") + "\n"),
        ("yaml-double-quoted-reference", '#cloud-config\nruncmd:\n- "export DB_PASSWORD=$(cat'
         ' /run/pw)\\nmysql -u admin -p -h db\\n"\n'))]

ALL = CLASS_1 + CLASS_2 + CLASS_3 + CLASS_4 + CLASS_5 + CLASS_6 + CLASS_7 + CLASS_8 + CLASS_9
CLEAN = (CLASS_1_CLEAN + CLASS_2_CLEAN + CLASS_3_CLEAN + CLASS_4_CLEAN + CLASS_6_CLEAN
         + CLASS_8_CLEAN + CLASS_9_CLEAN)


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_unsafe_variant_is_reported(case):
    out = case.run()
    assert out.messages, (case.rule, out)
    assert any(case.fragment in m for m in out.messages), out.messages
    for m in out.messages:  # never the secret a variant plants
        assert "hunter2" not in m and "S3cr3t" not in m and "tok_9f8e" not in m


@pytest.mark.parametrize("run", [r for _, r in CLEAN], ids=[n for n, _ in CLEAN])
def test_safe_look_alike_is_clean(run):
    out = run()
    assert out.ok, out.messages


def test_every_class_has_variants():
    assert {c.id.split("-", 1)[0] for c in ALL} == {f"c{i}" for i in range(1, 10)}


def test_c9_random_passwords_are_found_whatever_their_characters():
    """The alphabet components/database.py gives random.RandomPassword, uniform like the
    provider draws: every value is found (the detector has no `$`/`(` escape hatch)."""
    alphabet = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                "!#$%^&*()-_=+[]{}<>:?")
    rng = random.Random(12)
    for _ in range(500):
        value = "".join(rng.choice(alphabet) for _ in range(32))
        for line in (f"DB_PASSWORD={value}", f"password: {value}", f'"password": "{value}"',
                     f"DB_PASSWORD='{value}'"):
            assert findings(line), line


def _plant(user_data: str, change: Callable[[dict], None]) -> str:
    """The project's cloud-config with one change, encoded as the fleet's launch template
    carries it (base64 of gzip: app.cloud_init.encode_user_data)."""
    import yaml

    from app.cloud_init import encode_user_data
    config = yaml.safe_load(user_data)
    change(config)
    return encode_user_data("#cloud-config\n" + yaml.safe_dump(config, sort_keys=False))


def _file(config: dict, path: str) -> dict:
    found = [x for x in config["write_files"] if x["path"] == path]
    assert len(found) == 1, f"the user data no longer writes {path}: update this test"
    return found[0]


def test_c9_the_project_user_data_is_clean_and_checked_in_every_layer():
    """The fleet's launch template carries base64(gzip(#cloud-config)); the cloud-config writes
    the env file, the systemd unit, install.sh and artifacts.txt (the app itself and its wheels
    are S3 objects pinned there by SHA-256). Clean as rendered; a secret planted in any file it
    writes (plain or cloud-init gz+b64) or in its commands is found through every layer."""
    from app import cloud_init as ci
    from app.boot_artifacts import manifest
    ARTIFACTS_FILE, ENV_FILE = ci.ARTIFACTS_FILE, ci.ENV_FILE
    data = ci.render_user_data(region="eu-west-1", db_user="app", port=3306, db_name="app",
                            writer_endpoint="db.cluster-x.eu-west-1.rds.amazonaws.com",
                            reader_endpoint="db.cluster-ro-x.eu-west-1.rds.amazonaws.com",
                            engine="aurora-mysql", bucket="app-artifacts-20260101",
                            artifacts=manifest("x86_64"))
    assert findings(data) == [] and findings(ci.encode_user_data(data)) == []
    assert "app.tar" in data and "SELECT" not in data  # the app's code is no longer inline
    install = f"{ci.INSTALL_DIR}/install.sh"
    planted = {
        "env file": (lambda c: _file(c, ENV_FILE).__setitem__(
            "content", _file(c, ENV_FILE)["content"] + "DB_PASSWORD=hunter2hunter2\n"), "`DB_PASSWORD`"),
        "install.sh": (lambda c: _file(c, install).__setitem__("content", _file(c, install)["content"].replace(
            "systemctl daemon-reload", "mysql -h db -u admin -phunter2hunter2 -e 'SELECT 1'\nsystemctl daemon-reload")),
            "-p"),
        "gz+b64 file": (lambda c: c["write_files"].append(
            {"path": "/root/.my.cnf", "encoding": "gz+b64",
             "content": _gz_b64("[client]\npassword = hunter2hunter2\n")}), "`password`"),
        "runcmd": (lambda c: c["runcmd"].insert(0, ["bash", "-c", "export API_TOKEN=tok_9f8e7d6c5b4a"]),
                   "`API_TOKEN`"),
        "artifacts.txt": (lambda c: _file(c, ARTIFACTS_FILE).__setitem__(
            "content", _file(c, ARTIFACTS_FILE)["content"] + "DB_PASSWORD=hunter2hunter2\n"), "`DB_PASSWORD`"),
    }
    for where, (change, fragment) in planted.items():
        out = findings(_plant(data, change))
        assert any(fragment in x and "in gzip in base64" in x for x in out), (where, out)
        assert not any("hunter2" in x or "tok_9f8e" in x for x in out), (where, out)


def test_issue_9_launch_template_is_judged_like_an_instance():
    lt = f.launch_template()
    for rule, change, fragment in (
            ("ec2-volumes-encrypted", {"blockDeviceMappings": []}, "root device"),
            ("ec2-instance-profile", {"iamInstanceProfile": None}, "instance profile"),
            ("ec2-imdsv2-required", {"metadataOptions": {"httpTokens": "optional"}}, "IMDSv2"),
            ("ec2-no-public-ip", {"networkInterfaces": [
                {"associateCarrierIpAddress": "true"}]}, "associateCarrierIpAddress")):
        props = {k: v for k, v in {**lt, **change}.items() if v is not None}
        out = check_resource(rule, f.LAUNCH_TEMPLATE, props)
        assert any(fragment in m for m in out.messages), (rule, out)
    s = good_stack()
    _fleet(s, ["net-private-0"])
    s.find("fleet-lt").property_dependencies["blockDeviceMappings"] = []
    out = s.check("encryption-uses-stack-cmk")
    assert any('launch template "fleet-lt"' in m for m in out.messages), out.messages


def test_precision_an_unrelated_secret_needs_no_protect_but_the_master_password_does():
    s = good_stack()
    s.find("app-api-secret").opts.protect = False
    assert s.check("stack-deletion-safety").ok
    assert not s.check("stack-deletion-safety", {"scope": "all"}).ok
    rnd = s.add(T["random"], "db-password", {"length": 32.0})
    secret = s.add(T["secret"], "db-master", {**f.secret()}, {"kmsKeyId": [s.find("db-key")]})
    s.add(T["sv"], "db-master-value", {"secretString": UNKNOWN_STRING_VALUE},
          {"secretId": [secret], "secretString": [rnd]})
    s.find("db-cluster").property_dependencies["masterPassword"] = [rnd]
    out = s.check("stack-deletion-safety")
    assert [u.rsplit("::", 1)[-1] for u in out.urns] == ["db-master"], out.messages
    secret.opts.protect = True
    assert s.check("stack-deletion-safety").ok


def test_deeply_nested_policy_documents_are_violations_naming_the_resource():
    deep = "[" * 100_000 + "]" * 100_000
    for rule in ("iam-no-wildcard-actions", "iam-no-privilege-escalation"):
        out = check_resource(rule, f.ROLE_POLICY, {"role": "r", "policy": deep}, name="deep-one")
        assert any('"deep-one"' in m and "nested too deeply" in m for m in out.messages), out
    out = check_resource("resource-policy-no-public-principal", f.KMS_KEY, {"policy": deep},
                         name="deep-key")
    assert any('"deep-key"' in m for m in out.messages), out
    out = check_resource("iam-trust-only-services", f.ROLE, {"assumeRolePolicy": deep})
    assert out.messages
    s = good_stack()
    s.set("app-read-secret", "policy", json.dumps({"Statement": [{"Condition": {}}]})[:-2]
          + "[" * 50_000)
    assert s.check("app-role-least-privilege").messages
