"""Network under mocks: tiers, routes, NAT modes, default SG, flow logs, endpoints."""
import ipaddress
import json

import pytest
from hypothesis import given, strategies as st

from components import Network, NetworkArgs
from components.network import subnet_cidrs

from .conftest import resolve, settle

AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
T = "aws:ec2/"


def build(name="net", azs=AZS, **kw):
    return settle(lambda: Network(name, NetworkArgs(availability_zones=azs, **kw)))


def tier(mocks, tier_name, name="net"):
    return [r for r in mocks.resources_of(T + "subnet:Subnet") if r.name.startswith(f"{name}-{tier_name}-")]


def tables_of(mocks, subnets):
    ids = {s.id for s in subnets}
    return {a.inputs["routeTableId"] for a in mocks.resources_of(T + "routeTableAssociation:RouteTableAssociation")
            if a.inputs["subnetId"] in ids}


@pytest.mark.parametrize("nat_mode", ["none", "single", "per-az"])
def test_isolated_tier_has_no_route_at_all(mocks, nat_mode):
    net = build(nat_mode=nat_mode)
    isolated = tier(mocks, "isolated")
    assert len(isolated) == 3
    tables = tables_of(mocks, isolated)
    assert tables == {resolve(net.isolated_route_table_id)}
    assert not [r for r in mocks.resources_of(T + "route:Route") if r.inputs["routeTableId"] in tables]
    for endpoint in mocks.resources_of(T + "vpcEndpoint:VpcEndpoint"):
        assert not tables & set(endpoint.inputs.get("routeTableIds", [])), endpoint.name


@pytest.mark.parametrize("nat_mode,nats", [("none", 0), ("single", 1), ("per-az", 3)])
def test_nat_modes_route_private_tier_only(mocks, nat_mode, nats):
    build(nat_mode=nat_mode)
    assert len(mocks.resources_of(T + "natGateway:NatGateway")) == nats
    assert len(mocks.resources_of(T + "eip:Eip")) == nats
    routes = mocks.resources_of(T + "route:Route")
    nat_routes = [r for r in routes if "natGatewayId" in r.inputs]
    assert len(nat_routes) == (3 if nats else 0)          # one per private route table
    assert len({r.inputs["natGatewayId"] for r in nat_routes}) == nats
    assert {r.inputs["routeTableId"] for r in nat_routes} <= tables_of(mocks, tier(mocks, "private"))
    igw_routes = [r for r in routes if "gatewayId" in r.inputs]
    assert len(igw_routes) == 1 and igw_routes[0].inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert igw_routes[0].inputs["routeTableId"] in tables_of(mocks, tier(mocks, "public"))
    public_ids = {s.id for s in tier(mocks, "public")}
    assert all(n.inputs["subnetId"] in public_ids for n in mocks.resources_of(T + "natGateway:NatGateway"))


def test_subnets_carved_in_order_and_public_ip_only_on_public(mocks):
    build(cidr_block="10.20.0.0/16")
    for name, third in (("public", 0), ("private", 3), ("isolated", 6)):
        subnets = tier(mocks, name)
        assert [s.inputs["cidrBlock"] for s in subnets] == [f"10.20.{third + i}.0/24" for i in range(3)]
        assert [s.inputs["availabilityZone"] for s in subnets] == list(AZS)
        assert all(s.inputs.get("mapPublicIpOnLaunch", False) is (name == "public") for s in subnets)


def test_default_security_group_has_no_rules_and_vpc_has_dns(mocks):
    net = build()
    sg = mocks.only(T + "defaultSecurityGroup:DefaultSecurityGroup")
    assert sg.inputs["vpcId"] == resolve(net.vpc_id)
    assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")
    vpc = mocks.only(T + "vpc:Vpc").inputs
    assert vpc["enableDnsHostnames"] and vpc["enableDnsSupport"]


def test_flow_logs_to_kms_encrypted_group_with_logs_service_in_key_policy(mocks):
    build(flow_log_retention_days=90)
    key = mocks.only("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] and key.inputs["deletionWindowInDays"] >= 14
    statements = json.loads(key.inputs["policy"])["Statement"]
    logs = [s for s in statements if s["Principal"].get("Service") == "logs.eu-west-1.amazonaws.com"]
    assert logs[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc-flow-logs/aurorakit-test-net"
    group = mocks.only("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"] and group.inputs["retentionInDays"] == 90
    assert group.inputs["name"] == "/vpc-flow-logs/aurorakit-test-net"
    flow = mocks.only(T + "flowLog:FlowLog").inputs
    assert flow["logDestination"] == group.outputs["arn"] and flow["trafficType"] == "ALL"
    role = mocks.only("aws:iam/role:Role")
    assert flow["iamRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    statement = json.loads(mocks.only("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"][0]
    assert all(a.startswith("logs:") and "*" not in a for a in statement["Action"])
    assert statement["Resource"] == [group.outputs["arn"], group.outputs["arn"] + ":*"]


def test_interface_endpoints_with_private_dns_and_https_sg(mocks):
    build(interface_endpoints=True, cidr_block="10.1.0.0/16")
    endpoints = mocks.resources_of(T + "vpcEndpoint:VpcEndpoint")
    interface = [e.inputs for e in endpoints if e.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(e["serviceName"].rsplit(".", 1)[1] for e in interface) == \
        ["ec2messages", "kms", "monitoring", "secretsmanager", "ssm", "ssmmessages"]
    private_ids = {s.id for s in tier(mocks, "private")}
    assert all(e["privateDnsEnabled"] and set(e["subnetIds"]) == private_ids for e in interface)
    rule = mocks.only("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert (rule["cidrIpv4"], rule["fromPort"], rule["toPort"]) == ("10.1.0.0/16", 443, 443)
    assert rule["description"] and mocks.only(T + "securityGroup:SecurityGroup").inputs["description"]
    gateways = {e["serviceName"] for e in (e.inputs for e in endpoints) if e["vpcEndpointType"] == "Gateway"}
    assert gateways == {"com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb"}


@pytest.mark.parametrize("azs,nat_mode", [(AZS, "none"), (AZS, "per-az"), (AZS[:2], "single")])
def test_s3_and_dynamodb_gateways_on_the_private_route_tables_and_s3_on_the_public_one(mocks, azs, nat_mode):
    net = build(azs=azs, nat_mode=nat_mode)
    private = tables_of(mocks, tier(mocks, "private"))
    all_private = {r.id for r in mocks.resources_of(T + "routeTable:RouteTable") if "-private-rt-" in r.name}
    assert len(private) == len(azs) and private == all_private
    public, isolated = tables_of(mocks, tier(mocks, "public")), tables_of(mocks, tier(mocks, "isolated"))
    assert len(public) == 1
    gateways = {e.inputs["serviceName"]: e for e in mocks.resources_of(T + "vpcEndpoint:VpcEndpoint")}
    assert set(gateways) == {"com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb"}
    # S3 also from the public tier: a public host fetches its boot artifacts through the endpoint
    # too (the artifact bucket accepts reads only through it); the isolated tier reaches nothing
    expected = {"com.amazonaws.eu-west-1.s3": private | public, "com.amazonaws.eu-west-1.dynamodb": private}
    for service, endpoint in gateways.items():
        inputs = endpoint.inputs
        assert inputs["vpcEndpointType"] == "Gateway", service
        assert sorted(inputs["routeTableIds"]) == sorted(expected[service]), service  # each once
        assert not isolated & set(inputs["routeTableIds"]), service
        assert "policy" not in inputs, service  # access is governed by the callers' IAM policies
    assert resolve(net.s3_endpoint_id) == gateways["com.amazonaws.eu-west-1.s3"].id


def test_no_interface_endpoints_by_default(mocks):
    build()
    assert [e.inputs["vpcEndpointType"] for e in mocks.resources_of(T + "vpcEndpoint:VpcEndpoint")] == \
        ["Gateway", "Gateway"]
    assert mocks.resources_of(T + "securityGroup:SecurityGroup") == []


def test_two_networks_do_not_collide_and_children_are_prefixed(mocks):
    settle(lambda: (Network("a", NetworkArgs(availability_zones=AZS)),
                    Network("b", NetworkArgs(availability_zones=AZS[:2]))))
    custom = [r for r in mocks.resources if r.custom]
    names = [(r.type, r.name) for r in custom]
    assert len(names) == len(set(names)) and len(custom) > 40
    assert all(r.name.startswith(("a-", "b-")) for r in custom)


def test_outputs_resolve(mocks):
    net = build(nat_mode="per-az")
    assert resolve(net.vpc_id).startswith("vpc-0")
    assert all(resolve(i).startswith("subnet-0") for i in net.isolated_subnet_ids)
    assert [resolve(i)[:5] for i in net.nat_gateway_ids] == ["nat-0"] * 3
    assert resolve(net.flow_log_id).startswith("fl-0")


@pytest.mark.parametrize("kw,message", [
    ({"nat_mode": "some"}, "NetworkArgs.nat_mode = 'some': allowed values are none, single, per-az"),
    ({"availability_zones": ("eu-west-1a",)}, "NetworkArgs.availability_zones = .*2 or 3 distinct AZ names"),
    ({"subnet_prefix_length": 17}, "NetworkArgs.subnet_prefix_length = 17: 9 subnets .* do not fit in 10.0.0.0/16"),
    ({"cidr_block": "8.8.0.0/16"}, "NetworkArgs.cidr_block = '8.8.0.0/16': must be a private"),
])
def test_args_validation(kw, message):
    kw.setdefault("availability_zones", AZS)
    with pytest.raises(ValueError, match=message):
        NetworkArgs(**kw)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValueError) as info:
        NetworkArgs(availability_zones=AZS, nat_mode="some", cidr_block="10.0.0.0/12",
                    flow_log_retention_days=10)
    lines = str(info.value).splitlines()
    assert [line.split(" = ")[0] for line in lines] == [
        "NetworkArgs.cidr_block", "NetworkArgs.nat_mode", "NetworkArgs.flow_log_retention_days"], lines


def test_subnet_cidrs_fit_two_azs_in_a_small_vpc():
    assert subnet_cidrs("10.0.0.0/24", 27, 2) == {
        "public": ["10.0.0.0/27", "10.0.0.32/27"], "private": ["10.0.0.64/27", "10.0.0.96/27"],
        "isolated": ["10.0.0.128/27", "10.0.0.160/27"]}


@given(vpc_prefix=st.integers(16, 24), extra=st.integers(2, 6), azs=st.integers(2, 3))
def test_carved_subnets_are_disjoint_and_inside_the_vpc(vpc_prefix, extra, azs):
    prefix = min(vpc_prefix + extra, 28)
    cidr = f"10.0.0.0/{vpc_prefix}"
    if 3 * azs > 2 ** (prefix - vpc_prefix):
        with pytest.raises(ValueError, match="do not fit"):
            subnet_cidrs(cidr, prefix, azs)
        return
    nets = [ipaddress.ip_network(c) for cs in subnet_cidrs(cidr, prefix, azs).values() for c in cs]
    assert len(nets) == 3 * azs
    assert all(n.subnet_of(ipaddress.ip_network(cidr)) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
