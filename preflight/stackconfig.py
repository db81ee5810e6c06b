"""Read a stack's config the way the Pulumi engine hands it to the program (no CLI needed).

`load_stack_config("prod")` reads Pulumi.yaml (project name, project-level `config:` defaults)
and Pulumi.prod.yaml (`config:`) into the flat map the engine passes to a program:
``{"aurorakit:engine": "aurora-mysql", "aws:region": "eu-west-1", ...}``. Non-string values are
JSON-encoded (``true``, ``3``, ``["a","b"]``); keys without a namespace get the project's.
`secure:` values are never decrypted: the value becomes a placeholder and the key is listed in
``.secret_keys``. `with_overrides` builds variants (e.g. a broken prod) for tests and policies.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

SECRET_PLACEHOLDER = "[secret value not decrypted by preflight]"


class StackConfigError(Exception):
    """A missing or invalid Pulumi.yaml / Pulumi.<stack>.yaml."""


class StackConfig(dict):
    """The flat config map (``"ns:key" -> str``) plus the project name and secret keys."""

    def __init__(self, values: Mapping[str, str], *, project: str, stack: str,
                 secret_keys: frozenset[str] = frozenset()):
        super().__init__(values)
        self.project = project
        self.stack = stack
        self.secret_keys = frozenset(secret_keys)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "StackConfig":
        """A copy with keys replaced (None removes a key); same rules as the stack file."""
        return with_overrides(self, overrides)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise StackConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _full_key(key: Any, project: str, source: str) -> str:
    if not isinstance(key, str) or not key or key.count(":") > 1 or key.startswith(":") \
            or key.endswith(":"):
        raise StackConfigError(f"{source}: invalid config key {key!r} "
                               "(expected 'key' or 'namespace:key')")
    return key if ":" in key else f"{project}:{key}"


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _put(values: dict, secrets: set, key: str, value: Any, source: str) -> None:
    if value is None:
        raise StackConfigError(f"{source}: config key {key!r} has no value")
    if _is_secure(value):
        values[key] = SECRET_PLACEHOLDER
        secrets.add(key)
        return
    values[key] = _encode(value)
    secrets.discard(key)


def load_stack_config(stack: str, program_dir: str | Path = ".") -> StackConfig:
    """The engine's config map for `stack` of the program in `program_dir`."""
    root = Path(program_dir)
    project_file = _read_yaml(root / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{root / 'Pulumi.yaml'}: missing project 'name'")
    stack_path = root / f"Pulumi.{stack}.yaml"
    stack_file = _read_yaml(stack_path)

    values: dict[str, str] = {}
    secrets: set[str] = set()
    project_config = project_file.get("config") or {}
    if not isinstance(project_config, dict):
        raise StackConfigError(f"{root / 'Pulumi.yaml'}: 'config' must be a mapping")
    for key, spec in project_config.items():
        full = _full_key(key, project, "Pulumi.yaml")
        if isinstance(spec, dict) and not _is_secure(spec):
            if "value" in spec or "default" in spec:
                _put(values, secrets, full, spec.get("value", spec.get("default")), "Pulumi.yaml")
        else:
            _put(values, secrets, full, spec, "Pulumi.yaml")

    stack_config = stack_file.get("config") or {}
    if not isinstance(stack_config, dict):
        raise StackConfigError(f"{stack_path}: 'config' must be a mapping")
    for key, value in stack_config.items():
        _put(values, secrets, _full_key(key, project, stack_path.name), value, stack_path.name)
    return StackConfig(values, project=project, stack=stack, secret_keys=frozenset(secrets))


def with_overrides(config: StackConfig, overrides: Mapping[str, Any],
                   project: Optional[str] = None) -> StackConfig:
    """A copy of `config` with `overrides` applied (None removes the key)."""
    project = project or config.project
    values = dict(config)
    secrets = set(config.secret_keys)
    for key, value in overrides.items():
        full = _full_key(key, project, "override")
        if value is None:
            values.pop(full, None)
            secrets.discard(full)
        else:
            _put(values, secrets, full, value, "override")
    return StackConfig(values, project=project, stack=config.stack, secret_keys=frozenset(secrets))
