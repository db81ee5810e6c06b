"""No rule may raise on any input: a raising policy fails the RPC and aborts a real preview.

Hypothesis feeds every rule random props (missing keys, wrong types, nested garbage, the SDK's
unknown sentinels) and random stacks (random types, props and property dependencies). The only
exception allowed out of a rule is the SDK's UnknownValueError, which the SDK itself turns into
an advisory "can't run policy during preview" diagnostic (support.check_* catch only that).
"""
from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from policy.rules import REGISTRY

from . import factories as f
from .support import Stack, check_resource, options

RESOURCE_RULES = [r for r in REGISTRY if isinstance(r.policy, ResourceValidationPolicy)]
STACK_RULES = [r for r in REGISTRY if isinstance(r.policy, StackValidationPolicy)]
TYPES = sorted({t for r in REGISTRY for t in r.types} | set(f.HAPPY) | {
    "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route", "aws:ec2/subnet:Subnet",
    "aws:rds/subnetGroup:SubnetGroup", "aws:ec2/internetGateway:InternetGateway",
    "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/vpc:Vpc",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:lb/listenerRule:ListenerRule",
    "aws:secretsmanager/secretRotation:SecretRotation"})
# every key any rule reads, so random props hit the interesting paths
KEYS = sorted({k for factory in f.HAPPY.values() for k in factory()} | {
    "routes", "subnetIds", "mapPublicIpOnLaunch", "parameters", "destinationCidrBlock",
    "destinationIpv6CidrBlock", "gatewayId", "natGatewayId", "cidrIpv4", "cidrIpv6", "type",
    "ipv6CidrBlocks", "cidrBlocks", "masterPassword", "masterUserSecrets", "blockDeviceMappings",
    "userDataBase64", "keySpec", "customerMasterKeySpec", "subnetId", "routeTableId", "vpcId",
    "securityGroupId", "role", "policyArn", "availabilityZone", "clusterIdentifier",
    "networkInterfaces", "publicIp", "associatePublicIpAddress", "managedPolicyArns", "users",
    "defaultActions", "actions", "listenerArn", "loadBalancerArn", "secretId", "logGroupClass",
    "retentionInDays", "kmsMasterKeyId", "requireTls", "sslPolicy", "loadBalancerType"})
NESTED = ["protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks", "description",
          "encrypted", "enabled", "httpTokens", "Statement", "Effect", "Action", "Resource",
          "Principal", "cidrBlock", "ipv6CidrBlock", "gatewayId", "natGatewayId", "name",
          "value", "policy", "ebs", "secretArn", "securityGroups", "self", "type", "redirect",
          "associatePublicIpAddress", "virtualName", "noDevice", "httpEndpoint", "bucket"]
UNKNOWNS = st.sampled_from([UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE,
                            UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE])
EDGE_NUMBERS = st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -1.0, 0.0,
                                65535.0, 70000.0, "22", "inf"])
SCALARS = st.one_of(EDGE_NUMBERS, st.none(), st.booleans(), st.integers(-70000, 70000),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["0.0.0.0/0", "::/0", "-1", "tcp", "required", "igw-1",
                                     "HTTP", "HTTPS", "redirect", "disabled", "application",
                                     "iam:PassRole", "arn:aws:iam::aws:policy/AdministratorAccess",
                                     "{\"Statement\": [{\"Action\": \"*\"}]}", "aurora-mysql",
                                     "postgres", "ON", "not/a/cidr", float("inf"),
                                     float("-inf"), float("nan"), 1e308, -1.0, 65535.0]),
                    UNKNOWNS)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.lists(st.fixed_dictionaries({}, optional={k: inner for k in NESTED}), max_size=2),
    st.dictionaries(st.sampled_from(KEYS + ["enabled", "encrypted", "httpTokens", "name",
                                            "value", "fromPort", "toPort", "protocol"]),
                    inner, max_size=4)), max_leaves=8)
PROPS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(type_=st.sampled_from(TYPES), props=PROPS, config=st.one_of(st.none(), PROPS))
def test_no_resource_rule_raises(type_, props, config):
    for rule in RESOURCE_RULES:
        out = check_resource(rule.name, type_, props, config)
        assert all(isinstance(m, str) and m for m in out.messages)


@FAST
@given(type_=st.sampled_from(sorted(f.HAPPY)), key=st.sampled_from(KEYS), value=VALUES)
def test_no_resource_rule_raises_on_one_bad_field_of_a_happy_resource(type_, key, value):
    props = {**f.HAPPY[type_](), key: value}
    for rule in RESOURCE_RULES:
        check_resource(rule.name, type_, props)


@st.composite
def perturbed(draw, value):
    """The happy value with random leaves replaced, keys dropped or added, types swapped."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(SCALARS)
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if draw(st.integers(0, 4)):
                out[key] = draw(perturbed(inner))
        if choice == 1:
            out[draw(st.sampled_from(KEYS))] = draw(VALUES)
        return out
    if isinstance(value, list):
        items = [draw(perturbed(v)) for v in value]
        return items + ([draw(VALUES)] if choice == 1 else [])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and choice < 4:
        return draw(EDGE_NUMBERS)
    return value if choice > 2 else draw(SCALARS)


@FAST
@given(data=st.data(), type_=st.sampled_from(sorted(f.HAPPY)))
def test_no_resource_rule_raises_on_perturbed_happy_props(data, type_):
    props = data.draw(perturbed(f.HAPPY[type_]()))
    props = props if isinstance(props, dict) else {}
    for rule in RESOURCE_RULES:
        check_resource(rule.name, type_, props)


def test_non_finite_numbers_are_not_ports():
    sg = {"ingress": [{"protocol": "tcp", "fromPort": float("inf"), "toPort": float("nan"),
                       "cidrBlocks": ["0.0.0.0/0"]}]}
    out = check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG, sg)
    assert "all ports" in out.messages[0]


STACKS = st.lists(st.tuples(st.sampled_from(TYPES), PROPS, st.booleans(),
                            st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 9)),
                                     max_size=4)),
                  min_size=1, max_size=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=STACKS, config=st.one_of(st.none(), PROPS))
def test_no_stack_rule_raises(spec, config):
    stack = Stack()
    built = [stack.add(t, f"r{i}", props, protect=protect) for i, (t, props, protect, _) in
             enumerate(spec)]
    for r, (_, _, _, deps) in zip(built, spec):
        for key, target in deps:
            r.property_dependencies.setdefault(key, []).append(built[target % len(built)])
    for rule in STACK_RULES:
        out = stack.check(rule.name, config)
        assert all(isinstance(m, str) and m for m in out.messages)


REMEDIABLE = [r for r in RESOURCE_RULES if r.policy.has_remediation()]


def test_remediations_exist_for_imdsv2_and_copy_tags():
    assert {r.name for r in REMEDIABLE} == {"ec2-imdsv2-required", "rds-copy-tags-to-snapshot"}


@FAST
@given(type_=st.sampled_from(TYPES), props=PROPS)
def test_no_remediation_raises(type_, props):
    """Remediate gets secrets-preserving proxies (no unknown checks): fixes must cope."""
    for rule in REMEDIABLE:
        args = ResourceValidationArgs(type_, deserialize_properties(copy.deepcopy(props), True),
                                      "urn:x", "x", options(), None, None, {})
        fixed = rule.policy.remediate(args)
        assert fixed is None or isinstance(fixed, dict)
