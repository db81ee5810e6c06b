"""One knob, one place: a component Args field declares its default, its stack config key and
its checks where it is typed and documented.

    @args_class
    class AuroraClusterArgs:
        readers: int = knob(default=0, key="dbReaders", check=between(0, 15))
        \"\"\"Reader instances, 0..15. Default: 0.\"\"\"
        _rules = (Rule("serverless_min_acu", lambda a: ..., requires=("serverless_max_acu",)),)

`args_class` makes a frozen dataclass that validates on construction and raises ONE `ArgsError`
listing every problem (CDK's `validateAllProps`), each naming `Class.field`, the value and what
is allowed. `components.settings` derives the stack settings from the same fields (`key=`): the
config keys, their types (from the annotations), defaults, descriptions (the field docstrings)
and checks; it reports every invalid key of a stack file at once, named by its config key.

A rule's text may name other fields as `{field}`: it is rendered as `Class.field` for library
users and as `aurorakit:key` for stack files.

`args_class` is a `typing.dataclass_transform` with `knob` as a field specifier, so type checkers
see each Args class's generated `__init__` (its keywords, their types, which are required); they
read a field's default only from the keyword `default=` (PEP 681), which is why `knob` takes
nothing positionally.
"""
from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import ipaddress
import itertools
import re
import textwrap
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

import pulumi

KNOB = "aurorakit.knob"
C = TypeVar("C", bound=type[Any])  # an Args or schema class: its attributes are set here
Check = Callable[[Any], Optional[str]]


@dataclass(frozen=True)
class Knob:
    """What a field declares besides its type and default."""

    key: Optional[str] = None
    """Stack config key (`aurorakit:<key>`); None = a component argument only."""
    check: Optional[Check] = None
    """value -> what is wrong with it (None = fine)."""
    only: Optional[Callable[[Any], bool]] = None
    """args -> whether the field has any effect; setting it when it has none is an error."""
    only_text: str = ""
    """When it has an effect, e.g. "with {mode} provisioned"."""


def knob(*, default: Any = dataclasses.MISSING, key: Optional[str] = None, check: Optional[Check] = None,
         only: Optional[tuple[Callable[[Any], bool], str]] = None,
         default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with a `Knob` (see the module docstring)."""
    meta = {KNOB: Knob(key, check, *(only or (None, "")))}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


@dataclass(frozen=True)
class Rule:
    """A check across fields: `test(args) -> problem text | None`, reported on `field`. It runs
    only when `field` and every field in `requires` passed their own checks."""

    field: str
    test: Callable[[Any], Optional[str]]
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    field: str
    value: Any
    text: str

    def render(self, name: Callable[[str], str]) -> str:
        return self.text.format_map(_Names(name))


class _Names(dict):
    def __init__(self, name: Callable[[str], str]):
        super().__init__()
        self._name = name

    def __missing__(self, field: str) -> str:
        return self._name(field)


class ArgsError(ValueError):
    """Every problem of one Args value, one line each."""

    def __init__(self, cls: type, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(
            f"{cls.__name__}.{p.field} = {p.value!r}: {p.render(lambda f: f'{cls.__name__}.{f}')}"
            for p in problems))


# --- the decorator --------------------------------------------------------------------------

@typing.dataclass_transform(frozen_default=True, field_specifiers=(knob, dataclasses.field))
def args_class(cls: C) -> C:
    """A frozen dataclass whose construction converts (enums, nested Args from dicts) and
    validates every field and rule. Fields with a default are published as optional
    (`Optional[...]` in `__annotations__`) so Pulumi's component schema analyzer marks them
    optional for every language, while type checkers see the plain source annotation."""
    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            converted = _coerce(cls.__knob_hints__[f.name], value)
            if converted is not value:
                object.__setattr__(self, f.name, converted)
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        given = {f.name for f in dataclasses.fields(self) if values[f.name] != default_of(cls, f.name)}
        problems = validate(cls, values, given)
        if problems:
            raise ArgsError(cls, problems)

    cls.__post_init__ = __post_init__  # before dataclass(): it calls only what exists then
    cls = typing.cast(C, dataclass(frozen=True)(cls))  # the same class, made a dataclass
    cls.__knob_hints__ = {f.name: _hints(cls)[f.name] for f in dataclasses.fields(cls)}
    return published(cls)


def _hints(obj: Any) -> dict[str, Any]:
    """The evaluated annotations of a function, or of a class itself (not of its bases: the
    SDK's own base classes keep annotations that only resolve under TYPE_CHECKING)."""
    if isinstance(obj, type):
        own = inspect.get_annotations(obj)
        obj = type(obj.__name__, (), {"__annotations__": own, "__module__": obj.__module__})
    # pulumi.Input[T] is Union[T, Awaitable[T], "Output[T]"]: its forward reference needs these names
    return typing.get_type_hints(obj, localns={"Output": pulumi.Output, "T": pulumi.output.T})


def published(cls: C) -> C:
    """Publishes the class's own annotations evaluated, for Pulumi's component schema analyzer
    (pulumi.provider.experimental), which reads `__annotations__` as they are: under `from
    __future__ import annotations` they are strings it cannot follow. A field with a default
    becomes `Optional[...]`, so the schema marks it optional in every language. On a
    ComponentResource, `__init__`'s annotations are published too, its `args` as the Args class
    itself (`Optional[XArgs]` when the component also takes keywords). Type checkers keep
    reading the source annotations. Used by `args_class`; decorate other schema types with it
    (after `@dataclass`) and the components (their outputs)."""
    hints = _hints(cls)
    own = inspect.get_annotations(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    out = {}
    for name in own:
        hint, f = hints[name], fields.get(name)
        has_default = f is not None and (f.default is not dataclasses.MISSING
                                         or f.default_factory is not dataclasses.MISSING)
        out[name] = Optional[hint] if has_default and not _is_optional(hint) else hint
    cls.__annotations__ = out
    if isinstance(cls, type) and issubclass(cls, pulumi.ComponentResource):
        init = _hints(cls.__init__)
        if _is_optional(init.get("args")):
            init["args"] = base_type(init["args"])
        cls.__init__.__annotations__ = init
    return cls


def knob_fields(cls: type[Any]) -> list[tuple[dataclasses.Field, Knob]]:
    return [(f, f.metadata.get(KNOB, Knob())) for f in dataclasses.fields(cls)]


def default_of(cls: type[Any], name: str) -> Any:
    """A field's default (a fresh copy for default_factory); MISSING when required."""
    f = cls.__dataclass_fields__[name]
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def hint_of(cls: type[Any], name: str) -> Any:
    return cls.__knob_hints__[name]


def validate(cls: type, values: Mapping[str, Any], given: Iterable[str],
             failed: Iterable[str] = ()) -> list[Problem]:
    """Every problem of `values` (a subset of the fields, defaults filled by the caller):
    field checks, `only` (for fields in `given`), then rules. Fields in `failed` (already
    reported, e.g. unconvertible config text) are not checked again."""
    problems: list[Problem] = []
    bad = set(failed)
    for f, k in knob_fields(cls):
        if f.name not in values or f.name in bad:
            continue
        value = values[f.name]
        text = None
        if value is not None and _plain(value):
            text = _type_problem(hint_of(cls, f.name), value) or (k.check(value) if k.check else None)
        if text:
            problems.append(Problem(f.name, value, text))
            bad.add(f.name)
    given = set(given)
    view = _View({k: v for k, v in values.items() if k not in bad})
    for f, k in knob_fields(cls):
        if k.only and f.name in given and f.name not in bad and _applies(k, view) is False:
            problems.append(Problem(f.name, values[f.name], f"only {k.only_text}; remove it"))
            bad.add(f.name)
    for rule in getattr(cls, "_rules", ()):
        needed = (rule.field, *rule.requires)
        if any(n in bad or n not in values for n in needed):
            continue
        text = _safe(rule.test, view)
        if text:
            problems.append(Problem(rule.field, values[rule.field], text))
            bad.add(rule.field)
    return problems


class _View:
    """Attribute access to the values being validated. A field that is absent or failed its
    own check raises AttributeError, so an `only` or rule that reads it is not judged."""

    def __init__(self, values: Mapping[str, Any]):
        self.__dict__.update(values)


def _applies(k: Knob, view: _View) -> Optional[bool]:
    try:
        return bool(k.only(view)) if k.only else True
    except (TypeError, AttributeError):
        return None  # depends on a value that is not there (or not plain): not judged


def _safe(test: Callable[[Any], Optional[str]], view: _View) -> Optional[str]:
    try:
        return test(view)
    except (TypeError, AttributeError):
        return None  # a value it needs is an Output or missing: judged where it is known


def _plain(value: Any) -> bool:
    """Checks only judge plain values (an Output is known only at deploy time)."""
    if isinstance(value, pulumi.Output):
        return False
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return True


# --- types ----------------------------------------------------------------------------------

def _type_problem(hint: Any, value: Any) -> Optional[str]:
    """An enum field holding something that is not one of its values; an int field holding a
    fraction."""
    base = base_type(hint)
    if base is int and isinstance(value, float):
        return "must be a whole number"
    if isinstance(base, type) and issubclass(base, enum.Enum) and not isinstance(value, base):
        return "allowed values are " + ", ".join(str(m.value) for m in base)
    return None


def _is_optional(hint: Any) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def base_type(hint: Any) -> Any:
    """`Optional[pulumi.Input[T]]` -> T (the type a stack setting is converted to)."""
    while True:
        origin = typing.get_origin(hint)
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if origin is typing.Union:
            # pulumi.Input[T] is Union[T, Awaitable[T], Output[T]]: the plain member is first
            hint = args[0]
            continue
        return hint


def _coerce(hint: Any, value: Any) -> Any:
    """Library input conversions: enum values given as plain strings, nested types given as dicts
    and lists of dicts, whole numbers given as floats (what a component provider passes: the SDK
    maps schema names and enums but leaves integers as the wire's doubles)."""
    if value is None or isinstance(value, pulumi.Output):
        return value
    base = base_type(hint)
    if base is int and isinstance(value, float) and value.is_integer():
        return int(value)  # a component provider passes every number as a float
    if isinstance(base, type) and issubclass(base, enum.Enum) and not isinstance(value, base):
        try:
            return base(value)
        except ValueError:
            return value  # reported by the enum check below
    if isinstance(base, type) and dataclasses.is_dataclass(base) and isinstance(value, Mapping):
        hints = _hints(base)  # nested plain dataclasses (TableSpec -> Key) get converted too
        return base(**{k: _coerce(hints[k], v) if k in hints else v for k, v in value.items()})
    item = _item_type(base)
    if item is not None and isinstance(value, (list, tuple)):
        items = tuple(_coerce(item, v) for v in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _item_type(hint: Any) -> Any:
    """The item type of `Sequence[X]` when X is a dataclass (given as dicts by a provider), else None."""
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence) and not issubclass(origin, str):
        args = typing.get_args(hint)
        if args and dataclasses.is_dataclass(base_type(args[0])):
            return args[0]
    return None


def type_name(hint: Any) -> str:
    """bool | number | string | list | object, for the README table."""
    base = base_type(hint)
    origin = typing.get_origin(base) or base
    if isinstance(origin, type) and issubclass(origin, (str, enum.Enum)):
        return "string"
    if base is bool:
        return "bool"
    if base in (int, float):
        return "number"
    if isinstance(origin, type) and issubclass(origin, (Mapping, dict)):
        return "object"
    if isinstance(origin, type) and issubclass(origin, (list, tuple, Sequence)) and origin is not str:
        return "list"
    return "string"


# --- docstrings -----------------------------------------------------------------------------

def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its docstring (the string literal after the annotated assignment), as
    Pulumi's schema analyzer reads them."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, after in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                and isinstance(after.value.value, str):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


# --- reusable checks ------------------------------------------------------------------------

def between(low: float, high: float) -> Check:
    def check(v: Any) -> Optional[str]:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            return f"must be between {low} and {high}"
        return None
    return check


def one_of(*allowed: Any) -> Check:
    def check(v: Any) -> Optional[str]:
        return None if v in allowed else "allowed values are " + ", ".join(map(str, allowed))
    return check


def matches(pattern: str, text: str) -> Check:
    regex = re.compile(pattern)
    return lambda v: None if isinstance(v, str) and regex.fullmatch(v) else text


def each(check: Check, what: str) -> Check:
    """Every item of a list passes `check`; the text names the bad item."""
    def run(v: Any) -> Optional[str]:
        if isinstance(v, str) or not isinstance(v, (list, tuple)):
            return f"must be a list of {what}"
        for item in v:
            text = check(item)
            if text:
                return f"must be a list of {what} ({item!r}: {text})"
        return None
    return run


def ipv4_cidr(v: Any) -> Optional[str]:
    try:
        ipaddress.IPv4Network(str(v), strict=True)
    except ValueError:
        return "must be an IPv4 CIDR like 10.0.0.0/16 (host bits zero)"
    return None


def all_of(*checks: Check) -> Check:
    def run(v: Any) -> Optional[str]:
        for check in checks:
            text = check(v)
            if text:
                return text
        return None
    return run
