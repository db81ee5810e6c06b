"""The policy-config reconciliation matches the engine's ReconcilePolicyPackConfig, case by case."""
import pytest

from preflight.policyconfig import (PolicyConfig, PolicyConfigError, PolicyInfo, check_names,
                                    configure_entries, load_policy_config, parse_policy_config,
                                    reconcile)

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


def test_a_config_file_naming_an_unknown_rule_is_an_error_naming_close_matches():
    """Stricter than the engine (which ignores the entry, so a misspelt rule silently keeps
    its default level): every unknown name, one line each, with close matches or the list."""
    names = ["rds-storage-encrypted", "rds-deletion-protection", "ec2-imds-hop-limit"]
    file_config = parse_policy_config('{"all": "mandatory", "rds-storage-encrpyted": "advisory", '
                                      '"rds-deletion-protection": "advisory", "zzz": {"x": 1}}')
    with pytest.raises(PolicyConfigError) as err:
        check_names(file_config, names)
    lines = str(err.value).splitlines()
    assert lines == [
        "policy config: 'rds-storage-encrpyted' is not a policy of this pack; did you mean "
        "'rds-storage-encrypted'?",
        "policy config: 'zzz' is not a policy of this pack; policies: all, ec2-imds-hop-limit, "
        "rds-deletion-protection, rds-storage-encrypted"]
    check_names(parse_policy_config('{"all": "advisory", "ec2-imds-hop-limit": "mandatory"}'), names)
    check_names(None, names)


def test_the_loaded_file_names_itself_in_the_error(tmp_path):
    path = tmp_path / "prod.json"
    path.write_text('{"rds-storage-encrypt": "advisory"}')
    with pytest.raises(PolicyConfigError, match=f"^{path}: 'rds-storage-encrypt' is not a policy"):
        check_names(load_policy_config(str(path)), ["rds-storage-encrypted"])


def test_required_property_missing():
    policies = [PolicyInfo("needs", "mandatory", {"properties": {"k": {"type": "string"}}, "required": ["k"]})]
    with pytest.raises(PolicyConfigError, match="needs: 'k' is a required property"):
        reconcile(policies, None, None)
