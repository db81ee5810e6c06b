"""Shared building blocks: safe prop reading, config with schema defaults, rule wrappers.

Every rule is a pure check over plain camelCase props (or a `StackView` for stack rules) that
yields messages. `resource_rule` (here) / `stackview.stack_rule` wrap a check into a policy:

* props arrive as the SDK's unknown-checking proxies; `plain()` turns them into dicts/lists in
  which preview unknowns are the `UNKNOWN` marker instead of raising on access;
* a check never indexes blindly (wrong types and missing keys read as None);
* when the value that decides a check is unknown (preview), the check skips that item and notes
  it; after all known violations are reported the wrapper raises `CannotCheck`, which the SDK
  turns into an ADVISORY "can't run policy ... during preview: <what>" diagnostic. The value is
  known again at `pulumi up`, where the rule runs in full.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, Severity
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)
from pulumi_policy.secret import Secret, _DictSecretsProxy, _ListSecretsProxy

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

_SENTINELS = frozenset({UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE,
                        UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE,
                        UNKNOWN_OBJECT_VALUE})
_PROXIES = (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)


class _Unknown:
    """The marker `plain()` puts where the engine sent a preview unknown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class CannotCheck(UnknownValueError):
    """Raised after a check reported everything it could: the SDK reports it as advisory."""

    def __init__(self, what: Iterable[str]):
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = "not checked while unknown: " + "; ".join(what)


def target(obj: Any) -> Any:
    """The raw object behind an SDK proxy (the object itself otherwise)."""
    return obj["__target"] if isinstance(obj, _PROXIES) else obj


def plain(obj: Any, _depth: int = 0) -> Any:
    """Deep copy into dicts/lists; unknowns become UNKNOWN, secrets their value."""
    obj = target(obj)
    if isinstance(obj, Secret):
        return plain(obj.value, _depth)
    if isinstance(obj, str):
        return UNKNOWN if obj in _SENTINELS else obj
    if _depth > 64:
        return None
    if isinstance(obj, Mapping):
        return {k: plain(_raw_item(obj, k), _depth + 1) for k in obj}
    if isinstance(obj, (list, tuple)):
        return [plain(v, _depth + 1) for v in obj]
    return obj


def _raw_item(mapping: Mapping, key: Any) -> Any:
    try:
        return mapping[key]
    except UnknownValueError as exc:  # an unknown-checking proxy that was not unwrapped
        return exc.unknown_type_sentinel


def dig(obj: Any, *path: Any) -> Any:
    """obj[p0][p1]...; None when a step is missing or of the wrong type, UNKNOWN if unknown."""
    for step in path:
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, Mapping):
            obj = obj.get(step)
        elif isinstance(obj, list) and isinstance(step, int) and -len(obj) <= step < len(obj):
            obj = obj[step]
        else:
            return None
    return obj


def items(value: Any) -> list:
    """A list value as a list (None, UNKNOWN and other types give [])."""
    return value if isinstance(value, list) else []


def number(value: Any) -> Optional[float]:
    """A finite JSON number (or numeric string) as float; None otherwise (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)):
        try:
            out = float(value)
        except OverflowError:
            return None
        return out if math.isfinite(out) else None
    return None


def text(value: Any) -> Optional[str]:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value != "" else None


def is_set(value: Any) -> bool:
    """True for an unknown (it will be set to something) or any non-empty value."""
    return value is UNKNOWN or value not in (None, "", [], {})


def true(value: Any) -> bool:
    """True, or the string "true" (launch templates and tags carry booleans as strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def false(value: Any) -> bool:
    """False, or the string "false"."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


class Ctx:
    """What a resource check sees: plain props, merged config and the unknowns it skipped."""

    def __init__(self, props: Any, config: Mapping[str, Any], resource_type: str = "",
                 name: str = ""):
        self.props = plain(props)
        if not isinstance(self.props, dict):
            self.props = {}
        self.config = config
        self.type = resource_type
        self.name = name
        self.unknown: list[str] = []
        self.problems: list[str] = []  # inputs that cannot be read (reported as violations)

    def get(self, *path: Any) -> Any:
        return dig(self.props, *path)

    def known(self, value: Any, label: str) -> bool:
        """False (and noted) when `value` is unknown."""
        if value is UNKNOWN:
            self.unknown.append(label)
            return False
        return True


Check = Callable[[Ctx], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    """A rule's metadata (for the pack, the docs table and the tests) and its policy."""

    name: str
    description: str
    types: tuple[str, ...]
    level: EnforcementLevel
    severity: Severity
    anchors: tuple[str, ...]
    unknown: str
    policy: Any = field(compare=False, repr=False)
    config_schema: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def defaults(self) -> dict:
        return {k: v["default"] for k, v in self.config_schema.items() if "default" in v}


def merged_config(schema: Mapping[str, dict], given: Optional[Mapping[str, Any]]) -> dict:
    """Schema defaults overlaid with the configured values (the engine sends both anyway)."""
    out = {k: v["default"] for k, v in schema.items() if "default" in v}
    for key, value in (given or {}).items():
        if key in out and value is not None:
            out[key] = value
    return out


def schema(config: Optional[dict]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties=config) if config else None


ANY_TYPE = "*"  # a rule's `types` entry: every resource type (narrowed by `applies`)


def resource_rule(*, name: str, description: str, types: Iterable[str], check: Check,
                  level: EnforcementLevel, severity: Severity, anchors: Iterable[str] = (),
                  unknown: str = "unknown value: advisory 'not checked', checked at update",
                  config: Optional[dict] = None,
                  remediate: Optional[Callable[[str, Any], Optional[dict]]] = None,
                  applies: Optional[Callable[[str, Any], bool]] = None) -> Rule:
    """Wrap a pure resource check (and an optional remediation) into a Rule. `types` may be
    (ANY_TYPE,); `applies(type, raw props)` is a cheap filter run before the props are copied."""
    types = tuple(types)
    config = config or {}
    every = ANY_TYPE in types

    def validate(args, report_violation) -> None:
        if not every and args.resource_type not in types:
            return
        if applies is not None and not applies(args.resource_type, target(args.props)):
            return
        ctx = Ctx(args.props, merged_config(config, args.get_config()), args.resource_type,
                  args.name)
        for message in check(ctx):
            report_violation(message, None)
        if ctx.unknown:
            raise CannotCheck(ctx.unknown)

    def fix(args):
        if args.resource_type not in types or remediate is None:
            return None
        return remediate(args.resource_type, args.props)

    policy = ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level,
        config_schema=schema(config), severity=severity,
        remediate=fix if remediate else None)
    return Rule(name, description, types, level, severity, tuple(anchors), unknown, policy, config)
