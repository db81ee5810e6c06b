"""Advice in the user's terms: every rule that fires on the project's stacks and on the broken
prod variants (tests/policy/variants.py) has advice naming the stack setting (project) or the
component argument (library users); the table names only real settings and arguments."""
import dataclasses
import datetime

import pytest

from components.app_fleet import AppFleetArgs
from components.database import AuroraClusterArgs
from components.dynamodb import DynamoTablesArgs
from components.network import NetworkArgs
from components.settings import SETTINGS
from policy.rules import REGISTRY
from preflight.advice import FIXES, NO_COMPONENT_RULES, advise, component_of, fix_for
from preflight.check import check
from tests.policy import variants

ARGS = {"Network": NetworkArgs, "AuroraCluster": AuroraClusterArgs, "AppFleet": AppFleetArgs,
        "DynamoTables": DynamoTablesArgs, "SecurityGroupLink": None}


def test_every_rule_of_the_pack_has_advice_and_no_entry_is_stale():
    """A renamed or new rule (iam-no-passrole-wildcard -> iam-no-privilege-escalation) needs its
    advice entry: every rule of the registry has one, unless no component creates what it judges."""
    rules = {r.name for r in REGISTRY}
    assert set(FIXES) <= rules, set(FIXES) - rules
    assert set(NO_COMPONENT_RULES) <= rules - set(FIXES)
    assert rules - set(FIXES) - set(NO_COMPONENT_RULES) == set()


def test_the_table_names_only_real_settings_and_arguments():
    for rule, fixes in FIXES.items():
        assert fixes, rule
        for fix in fixes:
            assert fix.component in ARGS, (rule, fix.component)
            assert fix.setting is None or fix.setting in SETTINGS, (rule, fix.setting)
            if fix.setting and fix.argument and SETTINGS[fix.setting].cls is ARGS[fix.component]:
                assert SETTINGS[fix.setting].field == fix.argument, (rule, fix.setting, fix.argument)
            if fix.argument is not None:
                args = ARGS[fix.component]
                assert args is not None and fix.argument in {f.name for f in dataclasses.fields(args)}, \
                    (rule, fix.argument_path)


def _components(chk) -> dict:
    """Component resource name -> class name, from a project run (e.g. db -> AuroraCluster)."""
    return {r.name: r.type.rsplit(":", 1)[-1] for r in chk.registrations
            if r.type.startswith("aurorakit:index:")}


def _component_by_name(name: str, components: dict):
    """Children are named `<component>-<suffix>` (STYLE.md): the longest matching prefix."""
    owners = [c for c in components if name.startswith(c + "-")]
    return components[max(owners, key=len)] if owners else None


def test_every_rule_firing_on_the_project_stacks_has_settings_advice(project_checks):
    seen = set()
    for chk in project_checks.values():
        for phase, result in chk.runs.items():
            by_urn = {r.urn: r for r in result.registrations}
            for d in result.diagnostics:
                if d.kind != "violation":
                    continue
                reg = by_urn[d.urn]
                component = component_of(d.urn, by_urn)
                assert fix_for(d.policy_name, reg.type, component) is not None, (d.policy_name, reg.type, component)
                seen.add(d.policy_name)
        for f in chk.findings:
            if f.kind == "violation":
                assert f.advice is not None and f.advice.kind in ("setting", "component"), f.policy
                assert f.advice.setting is None or f.advice.setting.startswith("aurorakit:")
    # What fires today on dev (before waivers) and prod: all named by their settings (prod serves
    # HTTPS on its domain: alb-listener-https no longer fires).
    assert {"rds-aurora-mysql-backtrack", "rds-deletion-protection", "rds-multi-az",
            "stack-deletion-safety", "alb-access-logs"} <= seen


@pytest.mark.parametrize("variant", variants.VARIANTS, ids=[v.name for v in variants.VARIANTS])
def test_every_rule_firing_on_a_broken_prod_variant_has_advice(project_checks, variant):
    prod = project_checks["prod"]
    components = _components(prod)
    types = {r.name: r.type for r in prod.registrations}
    component = _component_by_name(variant.expected_resource, components)
    rtype = types.get(variant.expected_resource, "")
    advice = advise(variant.expected_rule, rtype, component, own_program=True, stack_file="Pulumi.prod.yaml")
    if component is None:   # an extra resource the variant adds outside the components
        assert variant.extra is not None and advice.kind == "code"
    else:
        assert fix_for(variant.expected_rule, rtype, component) is not None, (variant.expected_rule, component)
        assert advice.kind in ("setting", "component")
    for rule, resource in variant.hits:
        component = _component_by_name(resource, components)
        assert component is None or fix_for(rule, types.get(resource, ""), component) is not None, \
            (rule, resource, component)
    for also in variant.also:
        assert also in FIXES, also


def test_project_advice_names_the_setting_and_library_advice_the_argument():
    project = advise("rds-aurora-mysql-backtrack", "aws:rds/cluster:Cluster", "AuroraCluster", True,
                     "Pulumi.prod.yaml")
    assert project.kind == "setting" and project.setting == "aurorakit:dbBacktrackHours"
    assert project.text.startswith("set `dbBacktrackHours` in Pulumi.prod.yaml: 1..72")
    library = advise("rds-aurora-mysql-backtrack", "aws:rds/cluster:Cluster", "AuroraCluster", False)
    assert library.kind == "argument" and library.text.startswith("set `AuroraClusterArgs.backtrack_hours`")
    alb = advise("alb-deletion-protection", "aws:lb/loadBalancer:LoadBalancer", "AppFleet", False)
    assert alb.text == "set `AppFleetArgs.load_balancer_deletion_protection`: True"


def test_a_setting_that_already_complies_points_outside_the_components():
    advice = advise("ec2-no-public-ip-from-subnet", "aws:ec2/instance:Instance", "AppFleet", True,
                    "Pulumi.prod.yaml", config={"aurorakit:hostPlacement": "private"})
    assert advice.kind == "component" and "`hostPlacement` is already private" in advice.text
    assert "outside the component" in advice.text
    public = advise("ec2-no-public-ip", "aws:ec2/instance:Instance", "AppFleet", True,
                    "Pulumi.dev.yaml", config={"aurorakit:hostPlacement": "public"})
    assert public.kind == "setting" and "private" in public.text


def test_library_program_gets_component_arguments(tmp_path):
    """A program that is not this repository, built from the components: advice in Args terms."""
    (tmp_path / "Pulumi.yaml").write_text("name: libuser\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "from components import AuroraCluster, AuroraClusterArgs, Network, NetworkArgs\n"
        "AZS = ('eu-west-1a', 'eu-west-1b')\n"
        "net = Network('net', NetworkArgs(availability_zones=AZS, nat_mode='none',\n"
        "              flow_log_retention_days=3))\n"
        "AuroraCluster('db', AuroraClusterArgs(vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,\n"
        "              availability_zones=AZS, deletion_protection=False))\n")
    chk = check("dev", mode="preview", program_dir=tmp_path, policy_config=None, waivers=None,
                today=datetime.date(2026, 11, 30), with_cost=False)
    assert not chk.own_program
    advice = {f.policy: f.advice for f in chk.findings if f.kind == "violation"}
    assert advice["rds-aurora-mysql-backtrack"].kind == "argument"
    assert advice["rds-aurora-mysql-backtrack"].argument == "AuroraClusterArgs.backtrack_hours"
    assert advice["rds-deletion-protection"].text == "set `AuroraClusterArgs.deletion_protection`: True"
    assert advice["stack-deletion-safety"].argument == "AuroraClusterArgs.protect"
    # the Network's flow-log group keeps 3 days, below the pack's default 7: NetworkArgs' field
    assert advice["cloudwatch-log-group-retention"].argument == "NetworkArgs.flow_log_retention_days"


def test_a_copy_of_this_project_is_this_project(tmp_path):
    """A clone in another directory (CI checkouts, forks) gets settings advice, by project name."""
    from preflight.check import _own_program

    (tmp_path / "Pulumi.yaml").write_text("name: aurorakit\nruntime: python\n")
    assert _own_program(tmp_path, "aurorakit")
    assert not _own_program(tmp_path, "libuser")
