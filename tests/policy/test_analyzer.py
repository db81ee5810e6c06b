"""The pack through the real analyzer protocol, started exactly as the engine starts it
(`python -m pulumi.policy <addr> .` in policy/, PULUMI_PROJECT/STACK/DRY_RUN set) by
preflight.analyzer: GetAnalyzerInfo, Configure with each stack's reconciled config, Analyze,
AnalyzeStack and Remediate verdicts over gRPC. One pack process for the module."""
from __future__ import annotations

import re

import pytest
from pulumi_policy import StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE

from policy.rules import REGISTRY
from preflight.analyzer import PolicyPack, Resource
from preflight.policyconfig import load_policy_config, parse_policy_config
from preflight.run import REPO

from . import factories as f
from .stack_factory import good_stack
from .support import urn

CONFIG = {s: load_policy_config(str(REPO / "policy" / "config" / f"{s}.json"))
          for s in ("dev", "prod")}


@pytest.fixture(scope="module")
def pack():
    with PolicyPack(str(REPO / "policy"), project="aurorakit", stack="prod", dry_run=True) as p:
        yield p


def res(type_: str, props: dict, name: str = "r", **kw) -> Resource:
    return Resource(urn=urn(type_, name), type=type_, name=name, properties=props, **kw)


def test_info_lists_every_rule_with_level_schema_and_severity(pack):
    info = pack.get_info()
    assert (info.name, info.version, info.supports_config) == ("aurorakit", "0.1.0", True)
    listed = {p.name: p for p in info.policies}
    assert sorted(listed) == sorted(REGISTRY.names())
    for rule in REGISTRY:
        p = listed[rule.name]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", p.name)
        assert p.description.startswith("Checks whether ")
        assert p.enforcement_level == rule.level.value
        assert p.severity == rule.severity.value
        assert p.policy_type == ("stack" if isinstance(rule.policy, StackValidationPolicy)
                                 else "resource")
        assert p.config_schema["properties"] == rule.config_schema
        for prop in rule.config_schema.values():
            assert "default" in prop and prop.get("description")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_configure_with_each_stacks_reconciled_config(pack, stack):
    config = pack.configure(CONFIG[stack])
    assert set(REGISTRY.names()) <= set(config)
    for rule in REGISTRY:  # every rule gets a level; schema defaults are filled in
        entry = config[rule.name]
        assert entry.enforcement_level in ("advisory", "mandatory")
        assert set(rule.config_schema) <= set(entry.properties or {})
    prod = stack == "prod"
    assert config["rds-backup-retention"].properties["minimumRetentionDays"] == (14 if prod else 7)
    assert config["stack-deletion-safety"].enforcement_level == ("mandatory" if prod else
                                                                 "advisory")
    assert config["vpc-flow-logs-enabled"].enforcement_level == ("mandatory" if prod else
                                                                 "advisory")
    assert config["rds-storage-encrypted"].enforcement_level == "mandatory"
    assert config["rds-iam-authentication"].enforcement_level == "advisory"


def test_analyze_verdicts(pack):
    pack.configure(CONFIG["prod"])
    assert pack.analyze(res(f.CLUSTER, f.cluster())) == []
    bad = {**f.cluster(), "storageEncrypted": False, "copyTagsToSnapshot": False}
    diags = {d.policy_name: d for d in pack.analyze(res(f.CLUSTER, bad, "db-cluster"))}
    assert set(diags) == {"rds-storage-encrypted", "rds-copy-tags-to-snapshot"}
    assert diags["rds-storage-encrypted"].enforcement_level == "mandatory"
    assert "set `storageEncrypted: true`" in diags["rds-storage-encrypted"].message
    assert diags["rds-storage-encrypted"].urn.endswith("::db-cluster")
    assert diags["rds-copy-tags-to-snapshot"].enforcement_level == "advisory"


def test_public_host_is_mandatory_in_prod_and_allowed_in_dev(pack):
    host = res(f.EC2, {**f.ec2(), "associatePublicIpAddress": True})
    pack.configure(CONFIG["prod"])
    assert [d.policy_name for d in pack.analyze(host)] == ["ec2-no-public-ip"]
    pack.configure(CONFIG["dev"])
    assert pack.analyze(host) == []


def test_unknown_input_is_advisory_not_checked_in_preview(pack):
    pack.configure(CONFIG["prod"])
    diags = pack.analyze(res(f.CLUSTER, {**f.cluster(), "storageEncrypted": UNKNOWN_BOOLEAN_VALUE}))
    assert [(d.policy_name, d.enforcement_level) for d in diags] == [
        ("rds-storage-encrypted", "advisory")]
    assert "not checked while unknown: storageEncrypted" in diags[0].message


def _stack_resources(stack) -> list[Resource]:
    out = []
    for r in stack.resources:
        deps = {k: [d.urn for d in v] for k, v in r.property_dependencies.items()}
        out.append(Resource(urn=r.urn, type=r.resource_type, name=r.name,
                            properties=stack.raw[r.urn], protect=r.opts.protect,
                            dependencies=[d.urn for d in r.dependencies],
                            property_dependencies=deps))
    return out


def test_analyze_stack_verdicts(pack):
    pack.configure(CONFIG["prod"])
    stack = good_stack()
    assert pack.analyze_stack(_stack_resources(stack)) == []
    stack.find("db-cluster").opts.protect = False
    stack.remove("db-instance-1")
    diags = pack.analyze_stack(_stack_resources(stack))
    assert sorted((d.policy_name, d.enforcement_level, d.urn.rsplit("::", 1)[-1])
                  for d in diags) == [("rds-multi-az", "mandatory", "db-cluster"),
                                      ("stack-deletion-safety", "mandatory", "db-cluster")]


def test_remediations_are_off_unless_configured(pack):
    host = res(f.EC2, {**f.ec2(), "metadataOptions": {"httpTokens": "optional"}})
    pack.configure(CONFIG["prod"])
    assert not pack.remediates
    config = dict(CONFIG["prod"])
    config.update(parse_policy_config('{"ec2-imdsv2-required": "remediate", '
                                          '"rds-copy-tags-to-snapshot": "remediate"}'))
    pack.configure(config)
    fixed, diags = pack.remediate(host)
    assert diags == []
    assert dict(fixed.properties)["metadataOptions"]["httpTokens"] == "required"
    assert pack.analyze(fixed) == []
    cluster, _ = pack.remediate(res(f.CLUSTER, {**f.cluster(), "copyTagsToSnapshot": False}))
    assert dict(cluster.properties)["copyTagsToSnapshot"] is True
