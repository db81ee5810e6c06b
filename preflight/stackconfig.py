"""Read a stack's config the way the Pulumi engine hands it to the program (no CLI needed).

`load_stack_config("prod")` reads Pulumi.yaml (project name, project-level `config:` defaults)
and Pulumi.prod.yaml (`config:`) into the flat map the engine passes to a program:
``{"aurorakit:engine": "aurora-mysql", "aws:region": "eu-west-1", ...}``; keys without a
namespace get the project's. `secure:` values are never decrypted: the value becomes a
placeholder and the key is listed in ``.secret_keys``. `with_overrides` builds variants (e.g. a
broken prod) for tests and policies.

The files are read as the Pulumi CLI reads them (Go yaml.v3 + config.Value.UnmarshalYAML), not
as YAML 1.1 (PyYAML's default):
- A scalar config value reaches the program as its source text: `protect: yes` is the string
  "yes" (rejected by the settings), `True` is "True", `16.10` is "16.10", `0755` is "0755".
- A list/object value is JSON (Go encoding/json: sorted keys, compact) of its yaml.v3 types:
  only true/True/TRUE/false/False/FALSE are booleans (yes/no/on/off/y/n are strings); `0755`
  and `0o755` are the integer 493, `0x1f` is 31; `1:20` is a string (no base 60); `16.10` is
  the number 16.1 (quote versions); unquoted timestamps are rejected here (quote them).
- A duplicate mapping key is an error, as in the CLI (PyYAML would silently keep the last).
"""
from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import yaml

SECRET_PLACEHOLDER = "[secret value not decrypted by preflight]"


class StackConfigError(Exception):
    """A missing or invalid Pulumi.yaml / Pulumi.<stack>.yaml."""


class StackConfig(dict):
    """The flat config map (``"ns:key" -> str``) plus the project name and secret keys.

    ``path`` is the stack file and ``lines`` maps each key set there to its 1-based line (for
    reports that point at the setting: SARIF locations, advice)."""

    def __init__(self, values: Mapping[str, str], *, project: str, stack: str,
                 secret_keys: frozenset[str] = frozenset(), path: Optional[Path] = None,
                 lines: Optional[Mapping[str, int]] = None):
        super().__init__(values)
        self.project = project
        self.stack = stack
        self.secret_keys = frozenset(secret_keys)
        self.path = path
        self.lines = dict(lines or {})

    def with_overrides(self, overrides: Mapping[str, Any]) -> StackConfig:
        """A copy with keys replaced (None removes a key); same rules as the stack file."""
        return with_overrides(self, overrides)


_PLAIN = "!aurorakit/plain"   # tag of an untagged plain scalar: resolved below as yaml.v3 does
_STR = "tag:yaml.org,2002:str"


class _Composer(yaml.SafeLoader):
    """Builds the node tree only (no PyYAML YAML 1.1 typing of plain scalars)."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


class _Unsupported(Exception):
    pass


# yaml.v3 resolve.go: the only plain scalars looked up by name.
_NAMED = {**dict.fromkeys(("true", "True", "TRUE"), True), **dict.fromkeys(("false", "False", "FALSE"), False),
          **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
          **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
          **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
          **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf)}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Go strconv.ParseInt(s, 0, 64): 0x / 0o / 0b prefixes, and a bare leading 0 means octal.
_GO_INT = re.compile(r"([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))")
_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}.*)?")


def _go_int(text: str) -> Optional[int]:
    m = _GO_INT.fullmatch(text)
    if not m:
        return None
    sign, hexa, octo, binary, octal0, dec = m.groups()
    if hexa is not None:
        n = int(hexa, 16)
    elif octo is not None:
        n = int(octo, 8)
    elif binary is not None:
        n = int(binary, 2)
    elif octal0 is not None:
        n = int(octal0 or "0", 8)
    else:
        n = int(dec)
    n = -n if sign == "-" else n
    if -2**63 <= n < 2**63 or (not sign and n < 2**64):   # ParseInt, then ParseUint (no sign)
        return n
    return None


def _plain(text: str) -> Any:
    """A plain scalar's value as yaml.v3's resolve() types it (YAML 1.2 core, plus 0777 octals)."""
    if text in _NAMED:
        return _NAMED[text]
    first = text[0]
    if first == ".":
        return float(text) if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text) else text
    if first not in "+-0123456789":
        return text                     # yes/no/on/off/y/n and every other word: strings
    m = _TIMESTAMP.fullmatch(text)
    if m:
        try:
            datetime.date(*map(int, m.groups()))
        except ValueError:
            pass
        else:
            raise _Unsupported(f"unquoted timestamp {text!r} (quote it)")
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.fullmatch(plain):
        return float(plain)
    return text                         # e.g. 1:20 (no base-60 numbers), 8.0.mysql_aurora.3.08.2


def _typed(node: yaml.Node) -> Any:
    """A node as the Go value yaml.v3 decodes into interface{} (for lists and objects)."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _PLAIN:
            return _plain(node.value)
        if node.tag == _STR:
            return node.value
        raise _Unsupported(f"explicit tag {node.tag} (remove it)")
    if isinstance(node, yaml.SequenceNode):
        return [_typed(item) for item in node.value]
    return {_go_text(_typed(k)): _typed(v) for k, v in node.value}


def _go_text(value: Any) -> str:
    """fmt.Sprintf("%v") of a map key (interfaceMapToStringMap)."""
    return value if isinstance(value, str) else _go_json(value)


def _go_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise _Unsupported(f"{value} (JSON has no NaN/Inf)")
    if value != 0 and not 1e-6 <= abs(value) < 1e21:
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _go_json(value: Any) -> str:
    """Go encoding/json.Marshal: compact, sorted keys, <>& escaped, 16.1 not 16.10, 1000 not 1000.0."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                              ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(char, escaped)
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_json(str(k))}:{_go_json(v)}" for k, v in sorted(value.items())) + "}"
    raise _Unsupported(f"value of type {type(value).__name__}")


def _check_keys(node: yaml.Node, path: Path) -> None:
    """yaml.v3 rejects duplicate mapping keys (same kind and text) at any depth; no merge keys."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_keys(item, path)
    elif isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value == "<<" and key.tag in (_PLAIN, "tag:yaml.org,2002:merge"):
                    raise StackConfigError(f"{path.name}: line {key.start_mark.line + 1}: "
                                           "merge keys (<<) are not supported; write the keys out")
                first = seen.setdefault(key.value, key)
                if first is not key:
                    raise StackConfigError(
                        f"{path.name}: duplicate key {key.value!r} at line {key.start_mark.line + 1} "
                        f"(first at line {first.start_mark.line + 1}); the Pulumi CLI rejects duplicate keys")
            _check_keys(key, path)
            _check_keys(value, path)


class _Raw:
    """A top-level config value as the engine sees it, before `_put` encodes it."""

    def __init__(self, node: yaml.Node, path: Path):
        self.node, self.path = node, path


def _read_yaml(path: Path) -> dict:
    """The file's top-level mapping: {key text: node}."""
    if not path.is_file():
        raise StackConfigError(f"{path}: file not found")
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Composer)
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: not valid YAML: {exc}") from None
    if root is None:
        return {}
    _check_keys(root, path)
    if not isinstance(root, yaml.MappingNode):
        kind = "list" if isinstance(root, yaml.SequenceNode) else "scalar"
        raise StackConfigError(f"{path}: expected a mapping at the top level, got a {kind}")
    return {_key(k, path): v for k, v in root.value}


def _key(node: yaml.Node, path: Path) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else _value(node, path)


def _value(node: yaml.Node, path: Path) -> Any:
    try:
        return _typed(node)
    except _Unsupported as exc:
        raise StackConfigError(f"{path.name}: line {node.start_mark.line + 1}: {exc}") from None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _PLAIN and _plain(node.value) is None


def _engine_value(node: yaml.Node, path: Path) -> Any:
    """config.Value.UnmarshalYAML: a scalar is its source text (null: no value); else typed."""
    if isinstance(node, yaml.ScalarNode):
        return None if _is_null(node) else node.value
    return _value(node, path)


def _full_key(key: Any, project: str, source: str) -> str:
    if not isinstance(key, str) or not key or key.count(":") > 1 or key.startswith(":") \
            or key.endswith(":"):
        raise StackConfigError(f"{source}: invalid config key {key!r} "
                               "(expected 'key' or 'namespace:key')")
    return key if ":" in key else f"{project}:{key}"


# Namespaces that are always legitimate besides the project's own: the engine's own settings.
_ENGINE_NAMESPACES = ("pulumi",)


def _provider_installed(namespace: str) -> bool:
    """A provider package's config namespace (aws, random, ...): its SDK is importable."""
    import importlib.util
    try:
        return importlib.util.find_spec("pulumi_" + namespace.replace("-", "_")) is not None
    except (ImportError, ValueError):
        return False


COMPONENTS_NAMESPACE = "aurorakit"  # what the components' stack settings read, whatever the project


def check_namespace(key: str, project: str, source: str) -> None:
    """A key under a namespace that reads like a known one but is not (`aurorakt:dbReaders`,
    `awz:region`, the project's name misspelt) is ignored by every reader and silently keeps the
    default: raise, naming the key and the namespace meant. Any other namespace may be the
    program's own (`pulumi.Config("platform")`), so it passes."""
    namespace, _, name = key.partition(":")
    known = [project, COMPONENTS_NAMESPACE, *_ENGINE_NAMESPACES, "aws"]
    if namespace in known or _provider_installed(namespace):
        return
    close = [k for k in known if _misspelt(namespace, k)]
    if close:
        raise StackConfigError(f"{source}: config key {key!r} has namespace {namespace!r}, which no "
                               f"reader uses (not the project {project!r}, not {COMPONENTS_NAMESPACE}, not "
                               f"pulumi, not an installed provider): did you mean {close[0]}:{name}?")


def _misspelt(namespace: str, known: str) -> bool:
    """`namespace` is `known` with a typo: the same but for case and separators, `known` plus a
    -suffix (aurorakit-dev), or one edit away (two for names of 6+ characters): `aurorakt`,
    `Aurorakit`, `pulumii`, `awz` — not `aurora` or `as`, which may be a program's own."""
    a, b = namespace.lower(), known.lower()
    if a.replace("-", "").replace("_", "") == b.replace("-", "").replace("_", "") or a.startswith(b + "-"):
        return True
    if min(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 2 or len(a) > 64:
        return False
    return _edits(a, b) <= (2 if min(len(a), len(b)) >= 6 else 1)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance with adjacent swaps (short names only)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return _go_json(value)
    except _Unsupported as exc:
        raise StackConfigError(f"config value not representable: {exc}") from None


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


_STACK_NAME = re.compile(r"(?!\.+$)[A-Za-z0-9_.-]+")  # not "." or ".." (a path, not a name)


def plain_stack_name(stack: str, program_dir: str | Path = ".") -> str:
    """The stack name of `stack` as the CLI accepts it (`dev`, `org/dev`, `org/project/dev`):
    the last part, whose `Pulumi.<stack>.yaml` holds the config; a project part must be this
    program's."""
    parts = stack.split("/")
    if len(parts) > 3 or not all(_STACK_NAME.fullmatch(p) for p in parts):
        raise StackConfigError(f"--stack {stack!r}: a stack name is letters, digits, '-', '_' and '.', "
                               "optionally qualified as org/stack or org/project/stack")
    if len(parts) == 3:
        project = _read_yaml(Path(program_dir) / "Pulumi.yaml").get("name")
        project = getattr(project, "value", project)
        if project != parts[1]:
            raise StackConfigError(f"--stack {stack!r}: project {parts[1]!r} is not this program's ({project!r})")
    return parts[-1]


def load_stack_config(stack: str, program_dir: str | Path = ".") -> StackConfig:
    """The engine's config map for `stack` of the program in `program_dir`."""
    root = Path(program_dir)
    project_path = root / "Pulumi.yaml"
    project_file = _read_yaml(project_path)
    project = project_file.get("name")
    project = _value(project, project_path) if isinstance(project, yaml.Node) else project
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{root / 'Pulumi.yaml'}: missing project 'name'")
    stack_path = root / f"Pulumi.{stack}.yaml"
    stack_file = _read_yaml(stack_path)

    values: dict[str, str] = {}
    secrets: set[str] = set()
    lines: dict[str, int] = {}
    project_config = project_file.get("config")
    project_config = _value(project_config, project_path) if project_config is not None else {}
    if not isinstance(project_config, dict):
        raise StackConfigError(f"{root / 'Pulumi.yaml'}: 'config' must be a mapping")
    for key, spec in project_config.items():
        full = _full_key(key, project, "Pulumi.yaml")
        check_namespace(full, project, "Pulumi.yaml")
        if isinstance(spec, dict) and not _is_secure(spec):
            if "value" in spec or "default" in spec:
                _put(values, secrets, full, spec.get("value", spec.get("default")), "Pulumi.yaml")
        else:
            _put(values, secrets, full, spec, "Pulumi.yaml")

    stack_config = stack_file.get("config")
    if stack_config is not None and not _is_null(stack_config):
        if not isinstance(stack_config, yaml.MappingNode):
            raise StackConfigError(f"{stack_path}: 'config' must be a mapping")
        for key_node, node in stack_config.value:
            key = _key(key_node, stack_path)
            full = _full_key(key, project, stack_path.name)
            check_namespace(full, project, f"{stack_path.name}: line {key_node.start_mark.line + 1}")
            _put(values, secrets, full, _engine_value(node, stack_path), stack_path.name)
            lines[full] = key_node.start_mark.line + 1
    return StackConfig(values, project=project, stack=stack, secret_keys=frozenset(secrets),
                       path=stack_path, lines=lines)


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
    lines = {k: v for k, v in config.lines.items() if k in values}
    return StackConfig(values, project=project, stack=config.stack, secret_keys=frozenset(secrets),
                       path=config.path, lines=lines)
