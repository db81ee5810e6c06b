"""Policy-pack config exactly as the Pulumi engine builds it (no CLI needed).

Mirrors pulumi/pulumi `pkg/resource/analyzer/config.go`:

- `parse_policy_config(text)` = `parsePolicyPackConfig` (what `--policy-pack-config FILE` reads):
  a value is an enforcement level string or an object whose optional ``enforcementLevel`` is
  pulled out; anything else is an error; empty entries are dropped.
- `reconcile(policies, initial_config, file_config)` = `ReconcilePolicyPackConfig`: start from each
  policy's own level plus its schema's top-level ``default`` values (`createConfigWithDefaults`),
  apply the pack's initial config, then the file (`applyConfig`: ``all`` sets every level first,
  then each key; a key without a level keeps the level it had; properties merge), then validate
  every policy's properties against its config schema (`validatePolicyPackConfig`).
- `configure_entries(config)` = the check `analyzer.Configure` does before the RPC (every entry
  needs a valid level; nothing is sent for an empty map).

Stricter than the engine in one place: `check_names(file_config, policies)` rejects a config
file that names a policy the pack does not have (the engine passes such an entry through and
ignores it, so a misspelt rule name silently keeps the rule at its default level). Every
unknown name is reported, with the close matches (or, when none is close, the policies).
"""
from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyConfigError(Exception):
    """Invalid policy-pack config: names the policy, the key and the allowed values."""


@dataclass(frozen=True)
class PolicyInfo:
    """What GetAnalyzerInfo says about one policy (engine: `plugin.AnalyzerPolicyInfo`)."""

    name: str
    enforcement_level: str
    config_schema: Optional[dict] = None  # {"properties": {...}, "required": [...]}, or None
    description: str = ""
    policy_type: str = "resource"  # "resource" | "stack" | "unknown"
    severity: str = ""


@dataclass
class PolicyConfig:
    """One entry of the engine's config map (`plugin.AnalyzerPolicyConfig`); level "" = unset."""

    enforcement_level: str = ""
    properties: Optional[dict] = field(default=None)


def _level(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyConfigError(f"{where}: enforcementLevel must be a string, one of "
                                f"{', '.join(LEVELS)}; got {value!r}")
    if value not in LEVELS:
        raise PolicyConfigError(f"{where}: {value!r} is not a valid enforcement level "
                                f"(allowed: {', '.join(LEVELS)})")
    return value


def parse_policy_config(text: str, source: str = "policy config") -> Optional[dict[str, PolicyConfig]]:
    """`parsePolicyPackConfig`: the file's JSON -> {policy: PolicyConfig} (None when empty)."""
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{source}: expected a JSON object of policy names")
    result: dict[str, PolicyConfig] = {}
    for name, value in data.items():
        where = f"{source}: {name!r}"
        if isinstance(value, str):
            level, props = _level(value, where), None
        elif isinstance(value, dict):
            props = dict(value)
            level = _level(props.pop("enforcementLevel"), where) if "enforcementLevel" in props else ""
            props = props or None
        else:
            raise PolicyConfigError(f"{where}: {value!r} is not a valid value; must be an "
                                    f"enforcement level ({', '.join(LEVELS)}) or an object")
        if level or props:  # "Don't bother including empty configs."
            result[name] = PolicyConfig(level, props)
    return result


class FileConfig(dict):
    """A parsed policy config file: {policy: PolicyConfig}, plus the file it came from."""

    source: str = "policy config"


def load_policy_config(path: str) -> Optional[dict[str, PolicyConfig]]:
    """`LoadPolicyPackConfigFromFile`."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise PolicyConfigError(f"policy config {path}: {exc.strerror}") from None
    parsed = parse_policy_config(text, source=path)
    if parsed is None:
        return None
    out = FileConfig(parsed)
    out.source = path
    return out


def _with_defaults(policies: list[PolicyInfo]) -> dict[str, PolicyConfig]:
    """`createConfigWithDefaults`: each policy's level + its schema's top-level defaults."""
    result = {}
    for p in policies:
        props = None
        for key, schema in ((p.config_schema or {}).get("properties") or {}).items():
            if isinstance(schema, dict) and "default" in schema:
                props = props or {}
                props[key] = schema["default"]
        result[p.name] = PolicyConfig(p.enforcement_level, props)
    return result


def _apply(result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """`applyConfig`: ``all`` first (levels only), then every given key (including ``all``)."""
    all_cfg = given.get("all")
    if all_cfg is not None and all_cfg.enforcement_level in LEVELS:
        for name, was in list(result.items()):
            result[name] = PolicyConfig(all_cfg.enforcement_level, was.properties)
    for name, cfg in given.items():
        cur = result.get(name)
        level = cur.enforcement_level if cur else ""
        props = dict(cur.properties) if cur and cur.properties is not None else None
        if cfg.enforcement_level in LEVELS:
            level = cfg.enforcement_level
        if cfg.properties:
            props = props or {}
            props.update(cfg.properties)
        result[name] = PolicyConfig(level, props)
    return result


def _schema_for(p: PolicyInfo) -> dict:
    """`convertSchema` plus the ``enforcementLevel`` property GetAnalyzerInfo injects."""
    props = dict((p.config_schema or {}).get("properties") or {})
    props["enforcementLevel"] = {"type": "string", "enum": list(LEVELS)}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    required = (p.config_schema or {}).get("required")
    if required:
        schema["required"] = list(required)
    return schema


def _describe(err) -> str:
    path = ".".join(str(x) for x in err.absolute_path)
    allowed = ""
    if err.validator == "enum":
        allowed = f" (allowed: {', '.join(map(str, err.validator_value))})"
    return f"{path + ': ' if path else ''}{err.message}{allowed}"


def validate(policies: list[PolicyInfo], config: Mapping[str, PolicyConfig]) -> list[str]:
    """`validatePolicyPackConfig`: one message per schema violation, "<policy>: <key>: <why>"."""
    import jsonschema  # imported on use: it is slow to import and most runs validate little

    errors = []
    for p in policies:
        if p.config_schema is None:
            continue
        cfg = config.get(p.name)
        doc = (cfg.properties if cfg and cfg.properties is not None else {})
        validator = jsonschema.Draft7Validator(_schema_for(p))
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            errors.append(f"{p.name}: {_describe(err)}")
    return sorted(errors)


def reconcile(policies: list[PolicyInfo], initial_config: Optional[Mapping[str, PolicyConfig]],
              file_config: Optional[Mapping[str, PolicyConfig]]) -> dict[str, PolicyConfig]:
    """`ReconcilePolicyPackConfig`; raises PolicyConfigError listing every validation error."""
    result = _with_defaults(sorted(policies, key=lambda p: p.name))
    if initial_config:
        result = _apply(result, initial_config)
    if file_config:
        result = _apply(result, file_config)
    errors = validate(policies, result)
    if errors:
        raise PolicyConfigError("invalid policy config: " + "; ".join(errors))
    return result


def check_names(file_config: Optional[Mapping[str, PolicyConfig]], policy_names: list[str]
                ) -> None:
    """Every key of a policy config file must be a policy of the pack (or `all`): one line per
    unknown name, naming its close matches, else every policy."""
    source = getattr(file_config, "source", "policy config")
    known = sorted(policy_names)
    errors = []
    for name in file_config or {}:
        if name == "all" or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.8)
        hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                else f"policies: all, {', '.join(known)}")
        errors.append(f"{source}: {name!r} is not a policy of this pack; {hint}")
    if errors:
        raise PolicyConfigError("\n".join(errors))


def configure_entries(config: Mapping[str, PolicyConfig], policy_names: list[str]) -> dict[str, PolicyConfig]:
    """The check `analyzer.Configure` makes before sending: every entry needs a valid level.

    The engine's own error here is ``invalid enforcement level ""``; ours names the key (a
    policy-config key that is not a policy of the pack and has no level of its own).
    """
    for name, cfg in config.items():
        if cfg.enforcement_level not in LEVELS:
            known = ", ".join(sorted(policy_names))
            raise PolicyConfigError(f"policy config key {name!r} is not a policy of this pack and "
                                    f"sets no enforcementLevel (policies: {known})")
    return dict(config)
