"""The pack's own files: registry, PulumiPolicy.yaml, the per-stack configs, the rule table."""
from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from policy import ruletable
from policy.rules import REGISTRY, DuplicateRuleError, Registry
from preflight.run import REPO

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
PACK = REPO / "policy"


def test_registry_refuses_duplicate_names():
    rule = next(iter(REGISTRY))
    registry = Registry([rule])
    with pytest.raises(DuplicateRuleError, match=rule.name):
        registry.add(rule)


def test_pulumipolicy_yaml_runs_python_in_its_own_virtualenv():
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert project["version"] and project["description"]
    requirements = (PACK / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements and "pulumi==" in requirements


def test_main_only_builds_the_pack_from_the_registry():
    source = (PACK / "__main__.py").read_text()
    assert "from rules import REGISTRY" in source and "REGISTRY.policies()" in source
    assert "def " not in source


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_config_is_valid_for_the_pack(stack):
    config = json.loads((PACK / "config" / f"{stack}.json").read_text())
    assert config["all"] == "mandatory"
    names = set(REGISTRY.names())
    for key, value in config.items():
        if key == "all":
            continue
        assert key in names, f"{key} is not a rule of the pack"
        if isinstance(value, str):
            assert value in LEVELS
            continue
        assert value.get("enforcementLevel", "mandatory") in LEVELS
        properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
        schema = {"type": "object", "properties": REGISTRY[key].config_schema,
                  "additionalProperties": False}
        jsonschema.validate(properties, schema)


def test_rule_table_lists_every_rule_with_its_levels():
    table = ruletable.render()
    rows = [ln for ln in table.splitlines()[2:]]
    assert [r.split("`")[1] for r in rows] == REGISTRY.names()
    assert "| `ec2-no-public-ip` |" in table
    row = next(r for r in rows if r.startswith("| `stack-deletion-safety`"))
    assert "| advisory | mandatory |" in row

