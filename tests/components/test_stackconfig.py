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
