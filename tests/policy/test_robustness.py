"""No rule may raise on any input: a raising policy fails the RPC and aborts a real preview.

Hypothesis feeds every rule random props (missing keys, wrong types, nested garbage, the SDK's
unknown sentinels) and random stacks (random types, props and property dependencies). The only
exception allowed out of a rule is the SDK's UnknownValueError, which the SDK itself turns into
an advisory "can't run policy during preview" diagnostic (support.check_* catch only that).
"""
from __future__ import annotations

import base64
import copy
import gzip
import json
import time

import pytest
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

from policy.rules import REGISTRY, userdata
from policy.rules.base import ANY_TYPE
from policy.rules.userdata import findings

from . import factories as f
from .support import Stack, check_resource, options

RESOURCE_RULES = [r for r in REGISTRY if isinstance(r.policy, ResourceValidationPolicy)]
STACK_RULES = [r for r in REGISTRY if isinstance(r.policy, StackValidationPolicy)]
TYPES = sorted({t for r in REGISTRY for t in r.types if t != ANY_TYPE} | set(f.HAPPY) | {
    "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route", "aws:ec2/subnet:Subnet",
    "aws:rds/subnetGroup:SubnetGroup", "aws:ec2/internetGateway:InternetGateway",
    "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/vpc:Vpc",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:lb/listenerRule:ListenerRule",
    "aws:secretsmanager/secretRotation:SecretRotation", "aws:autoscaling/group:Group",
    "aws:ec2/eip:Eip", "aws:ec2/eipAssociation:EipAssociation",
    "aws:ec2/networkInterface:NetworkInterface",
    "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
    "aws:ec2/managedPrefixList:ManagedPrefixList",
    "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
    "aws:wafv2/webAclAssociation:WebAclAssociation", "aws:backup/selection:Selection",
    "aws:rds/clusterRoleAssociation:ClusterRoleAssociation",
    "aws:secretsmanager/secretVersion:SecretVersion", "random:index/randomPassword:RandomPassword",
    "aws:iam/policyAttachment:PolicyAttachment", "aws:kms/alias:Alias"})
# every key any rule reads, so random props hit the interesting paths
KEYS = sorted({k for factory in f.HAPPY.values() for k in factory()} | {
    "routes", "subnetIds", "mapPublicIpOnLaunch", "parameters", "destinationCidrBlock",
    "destinationIpv6CidrBlock", "gatewayId", "natGatewayId", "cidrIpv4", "cidrIpv6", "type",
    "ipv6CidrBlocks", "cidrBlocks", "masterPassword", "masterUserSecrets", "blockDeviceMappings",
    "userDataBase64", "keySpec", "customerMasterKeySpec", "subnetId", "routeTableId", "vpcId",
    "securityGroupId", "role", "policyArn", "availabilityZone", "clusterIdentifier",
    "networkInterfaces", "publicIp", "associatePublicIpAddress", "managedPolicyArns", "users",
    "defaultActions", "actions", "listenerArn", "loadBalancerArn", "secretId", "logGroupClass",
    "retentionInDays", "kmsMasterKeyId", "requireTls", "sslPolicy", "loadBalancerType",
    "vpcZoneIdentifiers", "launchTemplate", "mixedInstancesPolicy", "launchConfiguration",
    "entries", "cidr", "prefixListId", "prefixListIds", "destinationPrefixListId",
    "transitGatewayId", "instanceId", "networkInterfaceId", "vpcPeeringConnectionId",
    "resourceArn", "resources", "notResources", "roleArn", "roles", "sharedAccounts", "auths",
    "defaultAuthScheme", "iamDatabaseAuthenticationEnabled", "internal", "tags",
    "assumeRolePolicy", "instance", "networkInterface", "secretString",
    "arn", "id", "name", "iamRoles", "dbClusterIdentifier", "vpcSecurityGroupIds",
    "securityGroups", "dbSubnetGroupName", "egressOnlyGatewayId", "allocationId",
    "launchSpecifications", "launchTemplateConfigs", "accessPolicies", "policyDocument",
    "resourcePolicy", "principalOrgId", "organizationId", "rootBlockDevices"})
NESTED = ["protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks", "description",
          "httpPutResponseHopLimit", "overrides", "launchTemplateSpecification", "subnetId",
          "associatePublicIpAddress", "userData", "NotAction", "NotResource", "Condition",
          "encrypted", "enabled", "httpTokens", "Statement", "Effect", "Action", "Resource",
          "Principal", "cidrBlock", "ipv6CidrBlock", "gatewayId", "natGatewayId", "name",
          "value", "policy", "ebs", "secretArn", "securityGroups", "self", "type", "redirect",
          "associatePublicIpAddress", "virtualName", "noDevice", "httpEndpoint", "bucket",
          "Condition", "NotPrincipal", "NotResource", "NotAction", "StringEquals", "iamAuth",
          "launchTemplateSpecification", "launchTemplateId", "subnetId", "cidr", "secretArn",
          "aws:PrincipalAccount", "associateCarrierIpAddress", "aurorakit:allow-plain-http"]
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
                                     "postgres", "ON", "not/a/cidr", "0.0.0.0/1",
                                     "128.0.0.0/1", "pl-0a1b", "REQUIRED", "IAM_AUTH", "all",
                                     "true", "false", "sg-0a1b", "subnet-0a1b",
                                     "arn:aws:rds:eu-west-1:1:db-proxy:prx-0a1b", float("inf"),
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


# Never crash, never stall -----------------------------------------------------------------
DEEP = "[" * 50_000 + "]" * 50_000
LIMIT = 16 * 1024  # EC2's user data limit: the largest string a rule is asked to read
STALL_S = 0.5      # CPU seconds per rule per input: "well under a second"
ADVERSARIAL = st.text(alphabet="pasword_PASSWORD=:- \n\t\"'$({[<>]})-p/+AKIA019aA.@",
                      min_size=1, max_size=24)


def _fill(unit: str) -> str:
    """A repeated unit up to EC2's limit: the shape that makes backtracking regexes explode."""
    return (unit * (LIMIT // len(unit) + 1))[:LIMIT]


def _timed(fn, *args) -> float:
    userdata._decoded.cache_clear()  # time the decoding itself, never a cached earlier call
    start = time.process_time()  # CPU time: other load on the machine does not count
    fn(*args)
    return time.process_time() - start


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=ADVERSARIAL, wrap=st.sampled_from(["raw", "base64", "gzip+base64", "write_files"]))
def test_user_data_detector_is_linear_on_adversarial_16kb_inputs(unit, wrap):
    data = _fill(unit)
    if wrap != "raw":
        raw = data.encode()[: LIMIT * 3 // 4 - 64]
        payload = base64.b64encode(gzip.compress(raw) if wrap.startswith("gzip") else raw).decode()
        data = ("#cloud-config\nwrite_files:\n- encoding: b64\n  content: " + payload
                if wrap == "write_files" else payload)[:LIMIT]
    assert _timed(findings, data) < STALL_S, (wrap, unit)


@pytest.mark.parametrize("unit", ["password", "password=", "a", "a=", "--password", "mysql -p",
                                  "s://u:", "${", "DB_PASSWORD=x\n", "-----BEGIN ",
                                  "\\\n  \\ ", '\\n\\"mysql -p'],
                         ids=lambda u: repr(u))
def test_user_data_patterns_that_were_cubic_take_milliseconds(unit):
    """Before the fix, 'password' * 128 (1 KB) took 3.7 s and 2 KB 22.6 s (cubic)."""
    assert _timed(findings, _fill(unit)) < STALL_S


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=ADVERSARIAL)
def test_every_rule_reads_16kb_of_anything_in_well_under_a_second(unit):
    data = _fill(unit)
    doc = json.dumps({"Statement": [{"Effect": "Allow", "Action": [data[:64]] * 200,
                                     "Resource": data, "Condition": {"StringLike": {
                                         "aws:PrincipalArn": data}}}]})[:LIMIT]
    props = {k: data for k in KEYS}
    props.update(policy=doc, assumeRolePolicy=doc, inlinePolicies=[{"policy": doc}],
                 ingress=[{"protocol": "tcp", "fromPort": 0.0, "toPort": 65535.0,
                           "cidrBlocks": [data] + [f"52.{i}.0.0/16" for i in range(200)]}])
    for type_ in TYPES:
        for rule in RESOURCE_RULES:
            if type_ in rule.types or ANY_TYPE in rule.types:
                assert _timed(check_resource, rule.name, type_, props) < STALL_S, (rule.name,
                                                                                   type_)
    stack = Stack()
    built = [stack.add(t, f"r{i}", props) for i, t in enumerate(TYPES)]
    for r in built:  # every resource depends on every other through every key: the worst case
        for key in ("securityGroupId", "vpcSecurityGroupIds", "subnetIds", "routeTableId",
                    "role", "resources", "resourceArn", "loadBalancerArn", "instance"):
            r.property_dependencies[key] = built
    for rule in STACK_RULES:
        assert _timed(stack.check, rule.name) < STALL_S, rule.name


def test_deeply_nested_documents_never_raise():
    props = {"policy": DEEP, "assumeRolePolicy": DEEP, "inlinePolicies": [{"policy": DEEP}],
             "userData": DEEP[:LIMIT]}
    for type_ in TYPES:
        for rule in RESOURCE_RULES:
            check_resource(rule.name, type_, props)
    stack = Stack()
    for i, t in enumerate(TYPES):
        stack.add(t, f"r{i}", props)
    for rule in STACK_RULES:
        stack.check(rule.name)


def test_user_data_is_decoded_once_for_the_rules_that_read_it():
    """The secrets rule and the IMDS hop-limit rule read the same user data of a host: its
    layers are decoded once (a per-value cache), and both answers come from them."""
    data = base64.b64encode(gzip.compress(b"#!/bin/bash\nsystemctl start docker\n")).decode()
    userdata._decoded.cache_clear()
    assert findings(data) == [] and userdata.runs_containers(data)
    info = userdata._decoded.cache_info()
    assert (info.misses, info.hits) == (1, 1)
