"""The existing DynamoDB rules on the tables DynamoTables builds: every resource rule passes on the
component's resources, one variant per DynamoDB rule fails it; then the whole project with the
forum (setting `forum: true` in both stack files) through the real pack: dev and prod pass, a
broken prod fails exactly the broken rule on exactly the broken table."""
from __future__ import annotations

import time

import pulumi
import pytest
from pulumi_policy import ResourceValidationPolicy

from components.dynamodb import Capacity, DynamoTables, DynamoTablesArgs, forum_table_specs
from policy.rules import REGISTRY
from preflight.mocks import install_mocks
from preflight.policyconfig import load_policy_config
from preflight.run import REPO, run_with_pack
from preflight.stackconfig import load_stack_config
from tests.components.conftest import settle

from . import variants
from .support import check_resource
from .test_project_stacks import VARIANT_PROGRAM

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
TABLE = "aws:dynamodb/table:Table"
DYNAMO_RULES = sorted(r.name for r in REGISTRY if TABLE in r.types)
RESOURCE_RULES = [r for r in REGISTRY if isinstance(r.policy, ResourceValidationPolicy)]
PROGRAM = REPO / "__main__.py"
PROD = dict(capacity=Capacity("PROVISIONED", read=5, write=5, autoscaling_max=50), deletion_protection=True)


def recorded(opts=None, **kw) -> list:
    mocks = install_mocks({"aws:region": "eu-west-1"}, stack="prod")
    settle(lambda: DynamoTables("forum", DynamoTablesArgs(tables=forum_table_specs(), kms_key_arn=KEY_ARN, **kw),
                                opts=opts))
    return [r for r in mocks.resources if r.custom]


def test_the_rules_under_test_are_the_three_dynamodb_rules():
    assert DYNAMO_RULES == ["dynamodb-deletion-protection", "dynamodb-point-in-time-recovery",
                            "dynamodb-table-encryption-enabled"]


def test_every_resource_rule_passes_on_prod_like_tables_and_their_scaling():
    resources = recorded(**PROD, protect=True)
    assert {r.type for r in resources} == {TABLE, "aws:appautoscaling/target:Target",
                                           "aws:appautoscaling/policy:Policy"}
    for r in resources:
        for rule in RESOURCE_RULES:
            out = check_resource(rule.name, r.type, r.inputs, name=r.name)
            assert out.ok and out.not_checked is None, (rule.name, r.name, out)


def _sse_off(args: pulumi.ResourceTransformationArgs):
    if args.type_ == TABLE:
        return pulumi.ResourceTransformationResult({**args.props, "server_side_encryption": {"enabled": False}},
                                                   args.opts)
    return None


VARIANTS = [  # rule, component arguments (an explicit opt-out) or a transformation, message
    ("dynamodb-point-in-time-recovery", {"point_in_time_recovery": False}, "enable point-in-time recovery"),
    ("dynamodb-deletion-protection", {"deletion_protection": False}, "must have deletion protection"),
    ("dynamodb-table-encryption-enabled", {"opts": pulumi.ResourceOptions(transformations=[_sse_off])},
     "use KMS server-side encryption"),  # no opt-out exists: a transformation breaks it
]


@pytest.mark.parametrize("rule,kwargs,message", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_one_variant_per_rule_fails_that_rule_on_every_table(rule, kwargs, message):
    tables = [r for r in recorded(**kwargs) if r.type == TABLE]
    assert len(tables) == 3
    for t in tables:
        for other in DYNAMO_RULES:
            out = check_resource(other, TABLE, t.inputs, name=t.name)
            if other == rule:
                assert len(out.messages) == 1 and message in out.messages[0], (t.name, out)
            else:
                assert out.ok, (other, t.name, out)


# ----- the whole project with the forum wired in, through the real pack -----------------------
def _run(pack, stack: str, preview: bool = False, defect: dict | None = None):
    """The project's program; with `defect`, the broken-variant program changing those inputs."""
    variants.ACTIVE = variants.Variant("forum-defect", "", "", changes=defect) if defect else None
    try:
        cfg = load_stack_config(stack, REPO)
        config = load_policy_config(str(REPO / "policy" / "config" / f"{stack}.json"))
        return run_with_pack(pack, cfg, VARIANT_PROGRAM if defect else PROGRAM, REPO, config, preview,
                             time.perf_counter())
    finally:
        variants.ACTIVE = None


def _summary(diags) -> list[str]:
    return [f"{d.enforcement_level} {d.policy_name} {d.urn.rsplit('::', 1)[-1]}: {d.message}" for d in diags]


@pytest.mark.parametrize("stack,preview", [("dev", False), ("prod", True)])  # prod update: the next test
def test_the_project_with_the_forum_passes_its_policy_config(packs, stack, preview):
    result = _run(packs[stack], stack, preview)
    assert result.mandatory == [], _summary(result.mandatory)
    tables = [r for r in result.registrations if r.type == TABLE]
    assert len(tables) == 3 and all(result.analyzed.get(t.urn) == 1 for t in tables)
    dynamo = sorted((d.policy_name, d.urn.rsplit("::", 1)[-1]) for d in result.diagnostics
                    if d.policy_name in DYNAMO_RULES)
    if stack == "dev":  # the dev opt-out is visible as advisory, never silent
        assert dynamo == [("dynamodb-deletion-protection", f"forum-{t}") for t in ("Comment", "Forum", "Thread")]
    else:
        assert dynamo == []
        assert all(t.protect for t in tables)


def test_a_broken_prod_fails_exactly_the_broken_rules_and_nothing_else(packs):
    result = _run(packs["prod"], "prod", defect={
        "forum-Forum": {"point_in_time_recovery": {"enabled": False}},
        "forum-Thread": {"deletion_protection_enabled": False},
        "forum-Comment": {"server_side_encryption": {"enabled": False}}})
    got = sorted((d.policy_name, d.urn.rsplit("::", 1)[-1]) for d in result.mandatory)
    assert got == [("dynamodb-deletion-protection", "forum-Thread"), ("dynamodb-point-in-time-recovery", "forum-Forum"),
                   ("dynamodb-table-encryption-enabled", "forum-Comment")], _summary(result.mandatory)
