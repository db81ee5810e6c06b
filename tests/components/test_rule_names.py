"""Security-group rules built from a CIDR list are named by their CIDR (inserting one CIDR does
not move every later rule to another CIDR, a replacement each), and carry their old index-based
names as aliases (a stack created before keeps its rules)."""
import pytest

from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor

from .conftest import settle
from .test_app_fleet import ING, build

URN = "urn:pulumi:test::aurorakit::aurorakit:index:AppFleet$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::"


def recorded(**kw):
    """A fresh recording run of the fleet (URNs are unique per run): its RecordingMonitor."""
    mocks = RecordingMocks(region="eu-west-1")
    monitor = RecordingMonitor(mocks, preview=False, config={"aws:region": "eu-west-1"})
    install_mocks({"aws:region": "eu-west-1"}, stack="test", mocks=mocks, monitor=monitor)
    build(**kw)
    return monitor


def rules(monitor, prefix):
    """logical name -> (CIDR, port, alias URNs) of the recorded ingress rules named `prefix`…"""
    return {r.name: (r.inputs["cidrIpv4"], r.inputs["fromPort"], r.aliases)
            for r in monitor.registrations if r.type == ING and r.name.startswith(prefix)}


@pytest.mark.parametrize("placement,prefix,key", [
    ("public", "app-app-ingress", "ingress_cidrs"),
    ("private", "app-alb-ingress-80", "load_balancer_ingress_cidrs")])
def test_inserting_a_cidr_keeps_the_other_rules(placement, prefix, key):
    monitor = recorded(placement=placement, **{key: ["198.51.100.0/24", "203.0.113.10/32"]})
    before = {n: v[0] for n, v in rules(monitor, prefix).items()}
    assert before == {f"{prefix}-198.51.100.0-24": "198.51.100.0/24", f"{prefix}-203.0.113.10-32": "203.0.113.10/32"}
    monitor = recorded(placement=placement, **{key: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.10/32"]})
    after = {n: v[0] for n, v in rules(monitor, prefix).items()}
    assert set(after) - set(before) == {f"{prefix}-192.0.2.0-24"}
    assert {n: after[n] for n in before} == before   # same name, same CIDR: nothing replaced


def test_each_rule_is_aliased_from_its_old_index_name():
    monitor = recorded(placement="public", ingress_cidrs=["198.51.100.0/24", "203.0.113.10/32", "198.51.100.0/24"])
    found = rules(monitor, "app-app-ingress")
    assert {n: (c, a) for n, (c, _, a) in found.items()} == {   # a repeated CIDR: one rule
        "app-app-ingress-198.51.100.0-24": ("198.51.100.0/24", [URN + "app-app-ingress-0"]),
        "app-app-ingress-203.0.113.10-32": ("203.0.113.10/32", [URN + "app-app-ingress-1"])}
    monitor = recorded(load_balancer_ingress_cidrs=["0.0.0.0/0"], certificate_arn=(
        "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"))
    alb = rules(monitor, "app-alb-ingress")
    assert {n: (p, a) for n, (_, p, a) in alb.items()} == {
        "app-alb-ingress-80-0.0.0.0-0": (80, [URN + "app-alb-ingress-80-0"]),
        "app-alb-ingress-443-0.0.0.0-0": (443, [URN + "app-alb-ingress-443-0"])}


def test_names_do_not_depend_on_spelling():
    from components.rule_names import cidr_rules

    assert [(n, c) for n, c, _ in settle(lambda: cidr_rules("x", ["10.0.0.0/16", "10.0.0.0/16"]))] == [
        ("x-10.0.0.0-16", "10.0.0.0/16")]
