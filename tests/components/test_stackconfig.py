"""load_stack_config: the engine's flat config map from Pulumi.yaml + Pulumi.<stack>.yaml."""
import pytest

from preflight.stackconfig import (SECRET_PLACEHOLDER, StackConfigError, load_stack_config,
                                   with_overrides)


def _write(tmp_path, stack_text, project_text="name: aurorakit\nruntime: python\n"):
    (tmp_path / "Pulumi.yaml").write_text(project_text)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)
    return tmp_path


def test_flat_map_with_namespaces_and_json_encoding(tmp_path):
    _write(tmp_path, "config:\n  aws:region: eu-west-1\n  aurorakit:readers: 2\n"
                     "  protect: true\n  azs: [eu-west-1a, eu-west-1b]\n  aurorakit:name: x\n")
    cfg = load_stack_config("dev", tmp_path)
    assert dict(cfg) == {"aws:region": "eu-west-1", "aurorakit:readers": "2",
                         "aurorakit:protect": "true", "aurorakit:name": "x",
                         "aurorakit:azs": '["eu-west-1a","eu-west-1b"]'}
    assert cfg.project == "aurorakit" and cfg.stack == "dev" and not cfg.secret_keys


def test_secure_values_are_placeholders_and_reported(tmp_path):
    _write(tmp_path, "config:\n  aurorakit:token:\n    secure: v1:abc\n")
    cfg = load_stack_config("dev", tmp_path)
    assert cfg["aurorakit:token"] == SECRET_PLACEHOLDER
    assert cfg.secret_keys == {"aurorakit:token"}


def test_project_defaults_then_stack_values(tmp_path):
    _write(tmp_path, "config:\n  a: stack\n",
           "name: p\nconfig:\n  a: {default: proj}\n  b: {type: string, default: 1}\n  c: {type: string}\n")
    assert dict(load_stack_config("dev", tmp_path)) == {"p:a": "stack", "p:b": "1"}


def test_overrides_replace_and_remove(tmp_path):
    _write(tmp_path, "config:\n  a: 1\n  b: 2\n  s: {secure: v1:x}\n")
    cfg = load_stack_config("dev", tmp_path)
    out = cfg.with_overrides({"a": False, "aurorakit:b": None, "s": "plain"})
    assert dict(out) == {"aurorakit:a": "false", "aurorakit:s": "plain"}
    assert not out.secret_keys and cfg["aurorakit:b"] == "2"   # original untouched
    assert with_overrides(cfg, {"x:y": [1]})["x:y"] == "[1]"


@pytest.mark.parametrize("stack_text,message", [
    (None, "Pulumi.dev.yaml: file not found"),
    ("config: [a, b]\n", "'config' must be a mapping"),
    ("config:\n  a: [\n", "not valid YAML"),
    ("config:\n  a:b:c: 1\n", "invalid config key 'a:b:c'"),
    ("config:\n  a:\n", "config key 'aurorakit:a' has no value"),
    ("- 1\n", "expected a mapping at the top level"),
])
def test_invalid_files_raise_clear_errors(tmp_path, stack_text, message):
    (tmp_path / "Pulumi.yaml").write_text("name: aurorakit\n")
    if stack_text is not None:
        (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)
    with pytest.raises(StackConfigError, match=message.replace("[", r"\[")):
        load_stack_config("dev", tmp_path)


def test_missing_project_name(tmp_path):
    _write(tmp_path, "config: {}\n", "runtime: python\n")
    with pytest.raises(StackConfigError, match="missing project 'name'"):
        load_stack_config("dev", tmp_path)


# --- read as the Pulumi CLI reads (yaml.v3 + config.Value), not as YAML 1.1 -------------------

def test_scalar_values_reach_the_program_as_their_source_text(tmp_path):
    _write(tmp_path, "config:\n  a: yes\n  b: True\n  c: 16.10\n  d: 0755\n  e: 1:20\n  f: off\n"
                     "  g: '16.10'\n  h: 0.5\n  i: FALSE\n  j: 1_000\n")
    assert dict(load_stack_config("dev", tmp_path)) == {
        "aurorakit:a": "yes", "aurorakit:b": "True", "aurorakit:c": "16.10", "aurorakit:d": "0755",
        "aurorakit:e": "1:20", "aurorakit:f": "off", "aurorakit:g": "16.10", "aurorakit:h": "0.5",
        "aurorakit:i": "FALSE", "aurorakit:j": "1_000"}


def test_lists_and_objects_are_go_json_of_yaml_1_2_types(tmp_path):
    _write(tmp_path, "config:\n  l: [yes, no, on, y, True, FALSE, 0755, 0o755, 0x1f, 08, 1:20, 16.10,"
                     " '16.10', 1e3, .5, ~, 8.0.mysql_aurora.3.08.2]\n"
                     "  o: {zeta: off, alpha: 2, 'a<b': 'x&y'}\n")
    cfg = load_stack_config("dev", tmp_path)
    assert cfg["aurorakit:l"] == ('["yes","no","on","y",true,false,493,493,31,8,"1:20",16.1,'
                                  '"16.10",1000,0.5,null,"8.0.mysql_aurora.3.08.2"]')
    assert cfg["aurorakit:o"] == '{"a\\u003cb":"x\\u0026y","alpha":2,"zeta":"off"}'


@pytest.mark.parametrize("text,key,lines", [
    ("config:\n  aurorakit:protect: true\n  aurorakit:protect: false\n", "aurorakit:protect", (3, 2)),
    ("config:\n  a: {x: 1, x: 2}\n", "x", (2, 2)),
    ("config:\n  a: 1\nconfig:\n  b: 2\n", "config", (3, 1)),
    ("config:\n  tags: {Team: a, 'Team': b}\n", "Team", (2, 2)),
])
def test_duplicate_keys_are_an_error_naming_key_and_file(tmp_path, text, key, lines):
    _write(tmp_path, text)
    with pytest.raises(StackConfigError) as info:
        load_stack_config("dev", tmp_path)
    message = str(info.value)
    assert message.startswith(f"Pulumi.dev.yaml: duplicate key {key!r} at line {lines[0]} "
                              f"(first at line {lines[1]})"), message


def test_duplicate_key_in_the_project_file(tmp_path):
    _write(tmp_path, "config: {}\n", "name: p\nname: q\n")
    with pytest.raises(StackConfigError, match="Pulumi.yaml: duplicate key 'name'"):
        load_stack_config("dev", tmp_path)


@pytest.mark.parametrize("text,message", [
    ("config:\n  a: [2024-01-05]\n", "line 2: unquoted timestamp '2024-01-05' (quote it)"),
    ("config:\n  a: [!!int '3']\n", "line 2: explicit tag tag:yaml.org,2002:int"),
    ("config:\n  a: [.nan]\n", "JSON has no NaN"),
    ("base: &b {x: 1}\nconfig:\n  a: {<<: *b, y: 2}\n", "merge keys (<<) are not supported"),
])
def test_what_preflight_cannot_mirror_is_a_clear_error(tmp_path, text, message):
    _write(tmp_path, text)
    with pytest.raises(StackConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_stack_config("dev", tmp_path)


def test_yes_is_rejected_by_the_settings_as_the_cli_would_pass_it(tmp_path):
    from components.settings import SettingsError, load_settings
    from preflight.mocks import install_mocks
    from .conftest import ROOT
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = (ROOT / "Pulumi.dev.yaml").read_text().replace("aurorakit:protect: false", "aurorakit:protect: yes")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack)
    config = load_stack_config("dev", tmp_path)
    assert config["aurorakit:protect"] == "yes"
    install_mocks(config, stack="dev")
    with pytest.raises(SettingsError, match="aurorakit:protect = 'yes': allowed values are true or false"):
        load_settings()
