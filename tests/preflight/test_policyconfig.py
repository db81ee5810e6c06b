"""The policy-config reconciliation matches the engine's ReconcilePolicyPackConfig, case by case."""
import pytest

from preflight.policyconfig import (PolicyConfig, PolicyConfigError, PolicyInfo, configure_entries,
                                    parse_policy_config, reconcile)

SCHEMA = {"properties": {"minDays": {"type": "integer", "minimum": 1, "default": 7},
                         "engines": {"type": "array", "items": {"type": "string"}}}}
POLICIES = [
    PolicyInfo("retention", "advisory", SCHEMA),
    PolicyInfo("encrypted", "mandatory", {"properties": {}}),
    PolicyInfo("public-ip", "mandatory", None),
]


def run(text, initial=None):
    return reconcile(POLICIES, initial, parse_policy_config(text))


def test_omitted_rule_keeps_its_own_level_and_schema_defaults():
    cfg = run('{"encrypted": "advisory"}')
    assert cfg["retention"] == PolicyConfig("advisory", {"minDays": 7})
    assert cfg["public-ip"] == PolicyConfig("mandatory", None)
    assert cfg["encrypted"] == PolicyConfig("advisory", None)


def test_no_file_is_the_packs_own_levels_with_defaults():
    cfg = reconcile(POLICIES, None, parse_policy_config("  \n"))
    assert {k: v.enforcement_level for k, v in cfg.items()} == {
        "retention": "advisory", "encrypted": "mandatory", "public-ip": "mandatory"}


def test_all_sets_every_level_then_named_rules_win():
    cfg = run('{"all": "disabled", "retention": "mandatory"}')
    assert cfg["encrypted"].enforcement_level == "disabled"
    assert cfg["public-ip"].enforcement_level == "disabled"
    assert cfg["retention"] == PolicyConfig("mandatory", {"minDays": 7})
    # applyConfig also copies the "all" key itself into the map it sends to Configure.
    assert cfg["all"] == PolicyConfig("disabled", None)


def test_all_keeps_properties():
    cfg = run('{"retention": {"minDays": 30}, "all": "mandatory"}')
    assert cfg["retention"] == PolicyConfig("mandatory", {"minDays": 30})


def test_rule_object_without_level_keeps_level_and_merges_properties():
    cfg = run('{"retention": {"minDays": 14}, "public-ip": {}}')
    assert cfg["retention"] == PolicyConfig("advisory", {"minDays": 14})
    assert cfg["public-ip"] == PolicyConfig("mandatory", None)


def test_rule_object_with_level():
    cfg = run('{"retention": {"enforcementLevel": "mandatory", "engines": ["aurora-mysql"]}}')
    assert cfg["retention"] == PolicyConfig("mandatory", {"minDays": 7, "engines": ["aurora-mysql"]})


def test_initial_config_then_file():
    initial = {"retention": PolicyConfig("mandatory", {"minDays": 10})}
    assert run("{}", initial)["retention"] == PolicyConfig("mandatory", {"minDays": 10})
    assert run('{"retention": {"minDays": 21}}', initial)["retention"] == PolicyConfig("mandatory", {"minDays": 21})


@pytest.mark.parametrize("text, expected", [
    ('{"retention": {"minDays": 0}}', "retention: minDays: 0 is less than the minimum of 1"),
    ('{"retention": {"minDays": "x"}}', "retention: minDays: 'x' is not of type 'integer'"),
    ('{"retention": {"engines": [3]}}', "retention: engines.0: 3 is not of type 'string'"),
])
def test_invalid_value_rejected_with_policy_and_key(text, expected):
    with pytest.raises(PolicyConfigError) as err:
        run(text)
    assert expected in str(err.value)


@pytest.mark.parametrize("text, expected", [
    ('{"retention": "strict"}', "'strict' is not a valid enforcement level (allowed: advisory, mandatory, remediate, disabled)"),
    ('{"retention": {"enforcementLevel": "loud"}}', "'loud' is not a valid enforcement level"),
    ('{"retention": {"enforcementLevel": 3}}', "enforcementLevel must be a string"),
    ('{"retention": 3}', "must be an enforcement level"),
    ('[1]', "expected a JSON object"),
    ('{"retention": ', "not valid JSON"),
])
def test_bad_file_rejected(text, expected):
    with pytest.raises(PolicyConfigError) as err:
        run(text)
    assert expected in str(err.value)


def test_unknown_rule_without_level_fails_like_configure():
    cfg = run('{"no-such-rule": {"x": 1}}')
    assert cfg["no-such-rule"] == PolicyConfig("", {"x": 1})
    with pytest.raises(PolicyConfigError, match="'no-such-rule' is not a policy of this pack"):
        configure_entries(cfg, [p.name for p in POLICIES])


def test_unknown_rule_with_level_is_passed_through_like_the_engine():
    cfg = run('{"no-such-rule": "mandatory"}')
    assert configure_entries(cfg, [p.name for p in POLICIES])["no-such-rule"].enforcement_level == "mandatory"


def test_required_property_missing():
    policies = [PolicyInfo("needs", "mandatory", {"properties": {"k": {"type": "string"}}, "required": ["k"]})]
    with pytest.raises(PolicyConfigError, match="needs: 'k' is a required property"):
        reconcile(policies, None, None)
