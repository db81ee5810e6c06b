"""Connections + SecurityGroupLink: both sides of each link, port resolution, clear errors."""
import pytest

from components import Connections, SecurityGroupLink

from .conftest import settle

ING = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGR = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
HOST = Connections(["sg-0host000000000000"], 80, label="host")
DB = Connections(["sg-0db00000000000000"], 5432, label="db")


def test_link_writes_ingress_on_target_and_egress_on_source(mocks):
    link = settle(lambda: SecurityGroupLink("host-to-db", source=HOST, target=DB))
    ingress, egress = mocks.only(ING).inputs, mocks.only(EGR).inputs
    assert ingress == {"securityGroupId": "sg-0db00000000000000", "referencedSecurityGroupId": "sg-0host000000000000",
                       "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
                       "description": "db tcp/5432 from host"}
    assert egress == {"securityGroupId": "sg-0host000000000000", "referencedSecurityGroupId": "sg-0db00000000000000",
                      "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
                      "description": "host to db tcp/5432"}
    assert link.port == 5432
    assert "cidrIpv4" not in ingress and "cidrIpv4" not in egress
    assert [r.name for r in mocks.resources if r.custom] == ["host-to-db-ingress", "host-to-db-egress"]


def test_explicit_port_wins_and_allow_from_is_the_same_link(mocks):
    settle(lambda: DB.allow_from("admin", HOST, port=6432))
    assert mocks.only(ING).inputs["fromPort"] == 6432 and mocks.only(EGR).inputs["toPort"] == 6432


def test_allow_default_port_from(mocks):
    settle(lambda: DB.allow_default_port_from("h2db", HOST))
    assert mocks.only(ING).inputs["securityGroupId"] == "sg-0db00000000000000"


def test_every_pair_of_groups_is_linked(mocks):
    two = Connections(["sg-0a", "sg-0b"], label="two")
    settle(lambda: SecurityGroupLink("l", source=two, target=DB))
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in mocks.resources_of(ING)) == ["sg-0a", "sg-0b"]
    assert sorted(r.inputs["securityGroupId"] for r in mocks.resources_of(EGR)) == ["sg-0a", "sg-0b"]


def test_no_port_is_a_clear_error(mocks):
    with pytest.raises(ValueError, match=r"no port: pass port=… or give the target \(bastion\) Connections a default_port"):
        SecurityGroupLink("x", source=HOST, target=Connections(["sg-0c"], label="bastion"))
    assert mocks.resources == []


@pytest.mark.parametrize("port", [0, 70000, "80"])
def test_bad_port(mocks, port):
    with pytest.raises(ValueError, match="port must be an int 1..65535"):
        SecurityGroupLink("x", source=HOST, target=DB, port=port)
