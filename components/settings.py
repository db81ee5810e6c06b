"""Stack settings, derived from the component Args: `load_settings()` reads `aurorakit:*` and
`aws:region`.

Every Args field declared with `knob(..., key="<configKey>")` (components/knobs.py) is a stack
setting: its type, default, description and checks are the field's. `load_settings()` converts
each key of the stack file to the field's type, runs the fields' checks and rules and the
stack-wide rules below, and raises ONE `SettingsError` (a `pulumi.RunError`: `pulumi up` shows
it without a traceback) listing every invalid key, one line each, naming the key, the value and
what is allowed — before the program registers any resource. Adding a setting is one `key=` on
an Args field; `components/stack.py::compose` passes the stack file's values through.
"""
from __future__ import annotations

import difflib
import enum
import importlib.util
import ipaddress
import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env, get_config_secret_keys_env, is_config_secret

from .app_fleet import AppFleetArgs, Placement, is_graviton
from .cidrs import DOCUMENTATION, whole_internet
from .database import AuroraClusterArgs
from .domain import PLACEHOLDER_ZONE_ID, is_placeholder
from .dynamodb import Capacity, DynamoTablesArgs
from .engines import BACKTRACK_UNAVAILABLE_REGIONS
from .knobs import Problem, base_type, default_of, field_docs, hint_of, knob_fields, validate
from .network import NatMode, NetworkArgs
from .stack import StackArgs, wired

NAMESPACE = "aurorakit"
# Where the stack's settings come from, in the order they are documented and reported.
SPECS: tuple[tuple[str, type], ...] = (("stack", StackArgs), ("network", NetworkArgs),
                                       ("database", AuroraClusterArgs), ("host", AppFleetArgs),
                                       ("forum", DynamoTablesArgs), ("forum_capacity", Capacity))
FORUM_SPECS = ("forum", "forum_capacity")


@dataclass(frozen=True)
class Setting:
    """One stack config key: the Args field it sets."""

    key: str
    spec: str
    cls: type
    field: str

    @property
    def default(self) -> Any:
        return default_of(self.cls, self.field)

    @property
    def hint(self) -> Any:
        return hint_of(self.cls, self.field)

    @property
    def description(self) -> str:
        return field_docs(self.cls).get(self.field, "")


def _settings() -> dict[str, Setting]:
    found: dict[str, Setting] = {}
    for spec, cls in SPECS:
        for f, k in knob_fields(cls):
            if k.key:
                if k.key in found:
                    raise TypeError(f"stack setting {k.key} is declared twice")
                found[k.key] = Setting(k.key, spec, cls, f.name)
    return found


SETTINGS: dict[str, Setting] = _settings()


class SettingsError(pulumi.RunError, ValueError):
    """Every invalid stack config value, one line each: the key, the value, what is allowed.
    The value of a secret config key is never shown: the line says `[secret]` instead."""

    def __init__(self, lines: Sequence[tuple[str, Any, str]]):
        self.lines = [(key if ":" in key else f"{NAMESPACE}:{key}", value, text) for key, value, text in lines]
        self.lines = [(full, _SECRET if _is_secret(full) else value, text) for full, value, text in self.lines]
        self.key, self.value, self.allowed = self.lines[0]
        super().__init__("\n".join(f"invalid stack config {k} = {_show(v)}: {t}" for k, v, t in self.lines))


class _Secret:
    def __repr__(self) -> str:
        return "[secret]"


_SECRET = _Secret()


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    return repr(value)


def _is_secret(full_key: str) -> bool:
    """Secret per the engine's list (set_all_config) or PULUMI_CONFIG_SECRET_KEYS."""
    return is_config_secret(full_key) or full_key in get_config_secret_keys_env()


@dataclass(frozen=True)
class Settings:
    """The validated stack settings: per Args class, the values the stack file sets (`given`,
    passed through by compose) and every field with defaults filled (`resolved`)."""

    project: str
    stack: str
    region: str
    given: dict[str, dict[str, Any]]
    resolved: dict[str, Any]
    availability_zones: tuple[str, ...]
    tags: dict[str, str]

    def args(self, spec: str) -> dict[str, Any]:
        """Keyword arguments for that spec's Args class: what the stack file set."""
        return dict(self.given[spec])

    def __getattr__(self, spec: str) -> Any:  # settings.network.nat_mode, settings.host.placement …
        resolved = self.__dict__.get("resolved", {})
        if spec in resolved:
            return resolved[spec]
        raise AttributeError(spec)


class _ConvertError(ValueError):
    pass


_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def convert(hint: Any, raw: str) -> Any:
    """A stack file's text (as the engine passes it) -> the field's type."""
    base = base_type(hint)
    origin = typing.get_origin(base) or base
    if base is bool:
        if raw.strip() not in _BOOLS:  # YAML 1.2 booleans only (yaml.v3): yes/no/on/off are strings
            raise _ConvertError("allowed values are true or false")
        return _BOOLS[raw.strip()]
    if base is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise _ConvertError("must be an integer") from None
    if base is float:
        try:
            return float(raw.strip())
        except ValueError:
            raise _ConvertError("must be a number") from None
    if isinstance(base, type) and issubclass(base, enum.Enum):
        try:
            return base(raw.strip())
        except ValueError:
            raise _ConvertError("allowed values are " + ", ".join(str(m.value) for m in base)) from None
    if isinstance(origin, type) and issubclass(origin, Mapping):
        value = _json(raw, dict, "object")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise _ConvertError("must be an object of string -> string")
        return value
    if isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str:
        value = _json(raw, list, "list")
        if not all(isinstance(v, str) for v in value):
            raise _ConvertError("must be a YAML/JSON list of strings")
        return tuple(value)
    return raw.strip()


def _json(raw: str, kind: type, name: str) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise _ConvertError(f"must be a YAML/JSON {name}") from None
    if not isinstance(value, kind):
        raise _ConvertError(f"must be a YAML/JSON {name}")
    return value


# --- stack-wide rules: across Args classes or depending on aws:region -------------------------

Line = tuple[str, Any, str]  # (key, value, what is allowed)
StackRule = Callable[["_Resolved", str], Iterable[Line]]


def _azs_in_region(r: _Resolved, region: str) -> Iterable[Line]:
    azs = r.stack.availability_zones
    if azs and not all(re.fullmatch(re.escape(region) + r"[a-z]", az) for az in azs):
        yield "availabilityZones", azs, f"every AZ must be in aws:region {region} (e.g. {region}a)"


def _private_host_needs_egress(r: _Resolved, region: str) -> Iterable[Line]:
    """Without NAT a private host still boots and serves (artifacts, packages and DynamoDB through
    the gateway endpoints; IAM credentials from IMDS, database tokens signed locally), but Session
    Manager, the only way onto it, needs the ssm, ssmmessages and ec2messages endpoints."""
    if r.host.placement == Placement.PRIVATE and r.network.nat_mode == NatMode.NONE \
            and not r.network.interface_endpoints:
        yield ("interfaceEndpoints", r.network.interface_endpoints,
               "a private host with natMode none needs true: Session Manager reaches it only through the "
               "ssm, ssmmessages and ec2messages endpoints (or set natMode single or per-az)")


def _certificate_in_region(r: _Resolved, region: str) -> Iterable[Line]:
    arn = r.host.certificate_arn
    if arn and arn.split(":")[3] != region:
        yield ("albCertificateArn", arn, f"must be a certificate in aws:region {region}: an ALB serves only "
               "certificates of its own region (request or import it there)")


def _key_in_region(r: _Resolved, region: str) -> Iterable[Line]:
    arn = r.database.kms_key_arn
    if arn and arn.split(":")[3] != region:
        yield ("dbKmsKeyArn", arn, f"must be a key in aws:region {region}: the cluster, its snapshots, log groups and "
               "hosts' volumes use the key of their own region (for a multi-Region key, its replica there)")


def _forum_keys_need_the_forum(r: _Resolved, region: str) -> Iterable[Line]:
    if not r.stack.forum:
        for key, setting in SETTINGS.items():
            if setting.spec in FORUM_SPECS and r.raw.get(key) is not None:
                yield key, r.raw[key], "only with forum: true (there are no forum tables); remove it"


def _backtrack_in_region(r: _Resolved, region: str) -> Iterable[Line]:
    if r.database.backtrack_hours and region in BACKTRACK_UNAVAILABLE_REGIONS:
        yield ("dbBacktrackHours", r.database.backtrack_hours, f"Backtrack is not available in {region} "
               "(RDS would refuse the cluster at creation); use 0")


def _ami_matches_the_instance_type(r: _Resolved, region: str) -> Iterable[Line]:
    """A pinned AMI must be built for the instance type's architecture (the SSM parameter path
    picks it from the type; a pinned id cannot): an x86_64 image does not boot on Graviton."""
    ami = r.host.ami_id
    if not ami:
        return
    import pulumi_aws as aws
    found = aws.ec2.get_ami(filters=[aws.ec2.GetAmiFilterArgs(name="image-id", values=[ami])],
                            include_deprecated=True)
    wanted = "arm64" if is_graviton(r.host.instance_type) else "x86_64"
    if not found.architecture:  # AWS always says; preflight's mocks cannot know a pinned image
        pulumi.log.warn(f"hostAmiId {ami}: its architecture could not be looked up here, so whether it "
                        f"runs on {r.host.instance_type} ({wanted}) is not checked")
        return
    if found.architecture != wanted:
        yield ("hostAmiId", ami, f"is a {found.architecture} image; hostInstanceType {r.host.instance_type} "
               f"runs {wanted}: choose a {wanted} AMI or another instance type")


# (the keys a rule reads: it runs only when they are valid, the rule)
STACK_RULES: tuple[tuple[tuple[str, ...], StackRule], ...] = (
    (("forum",), _forum_keys_need_the_forum),
    (("availabilityZones",), _azs_in_region),
    (("hostPlacement", "natMode", "interfaceEndpoints"), _private_host_needs_egress),
    (("albCertificateArn",), _certificate_in_region),
    (("dbKmsKeyArn",), _key_in_region),
    (("dbBacktrackHours",), _backtrack_in_region),
    (("hostAmiId", "hostInstanceType"), _ami_matches_the_instance_type))

# Settings that are valid but most likely a mistake: reported as warnings (pulumi shows them in
# preview and up; preflight lists them), never silently accepted.
_CIDR_KEYS = ("hostIngressCidrs", "albIngressCidrs", "hostAdminCidr")


def _cidr_values(r: _Resolved, key: str) -> list[str]:
    value = getattr(getattr(r, SETTINGS[key].spec), SETTINGS[key].field)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _placeholder_ranges(r: _Resolved, region: str) -> Iterable[Line]:
    for key in _CIDR_KEYS:
        if r.raw.get(key) is None:
            continue
        for cidr in _cidr_values(r, key):
            net = ipaddress.IPv4Network(cidr, strict=False)  # the keys are IPv4 (checked before)
            doc = next((d for d in DOCUMENTATION if net.subnet_of(d)), None)
            if doc is not None:
                yield (key, cidr, f"is in the documentation range {doc} (RFC 5737/3849): no client has that "
                       "address, so nobody can connect; replace it with your own address")


def _world_open_public_host(r: _Resolved, region: str) -> Iterable[Line]:
    if r.host.placement != Placement.PUBLIC:
        return
    if whole_internet(r.host.ingress_cidrs):
        yield ("hostIngressCidrs", list(r.host.ingress_cidrs), "opens the public host's app port to the whole "
               "internet (plain HTTP, no load balancer in front); list the addresses that need it")


def _plain_http_opt_in(r: _Resolved, region: str) -> Iterable[Line]:
    if r.host.placement == Placement.PRIVATE and r.host.load_balancer_allow_http:
        yield ("albAllowHttp", True, "the internet-facing load balancer serves plain HTTP (the explicit opt-in): "
               "form data crosses the internet in clear text and browsers get no HSTS; set appDomainName with "
               "appHostedZoneId, or albCertificateArn, and remove albAllowHttp")


def _placeholder_domain(r: _Resolved, region: str) -> Iterable[Line]:
    if is_placeholder(r.host.domain_name, r.host.hosted_zone_id):
        yield ("appDomainName", r.host.domain_name, f"with appHostedZoneId {PLACEHOLDER_ZONE_ID} is the shipped "
               "placeholder: set your domain and the id of its Route 53 hosted zone before `pulumi up` (Route 53 "
               "rejects this zone id)")


STACK_WARNINGS: tuple[StackRule, ...] = (_placeholder_ranges, _world_open_public_host, _plain_http_opt_in,
                                         _placeholder_domain)


class _Resolved:
    """The stack file's valid values per spec (`r.host.placement`) and its raw config text."""

    # one per SPECS entry, set in __init__ (annotations only: what the stack rules may read)
    stack: _Namespace
    network: _Namespace
    database: _Namespace
    host: _Namespace
    forum: _Namespace
    forum_capacity: _Namespace

    def __init__(self, values: dict[str, dict[str, Any]], raw: Mapping[str, Optional[str]]):
        for spec, fields in values.items():
            setattr(self, spec, _Namespace(fields))
        self.raw = raw


class _Namespace:
    def __init__(self, values: Mapping[str, Any]):
        self.__dict__.update(values)

    if TYPE_CHECKING:  # its attributes are the spec's Args fields, set above
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        return f"Namespace({self.__dict__})"


# --- loading --------------------------------------------------------------------------------

def _config() -> dict[str, Optional[str]]:
    """aurorakit:* keys of the engine's config map (and PULUMI_CONFIG), without the namespace."""
    keys = set(CONFIG.get()) | set(get_config_env() or {})
    cfg = pulumi.Config(NAMESPACE)
    return {full.partition(":")[2]: cfg.get(full.partition(":")[2])
            for full in sorted(keys) if full.partition(":")[0] == NAMESPACE}


def _region_problem(region: Optional[str]) -> Optional[str]:
    """aws:region must be a region the AWS provider knows (it refuses others unless
    aws:skipRegionValidation is true, the opt-in for a region newer than the provider)."""
    import pulumi_aws as aws
    known = sorted(r.value for r in aws.Region if r.value)
    if not region:
        return "must be set to an AWS region like eu-west-1"
    if region in known:
        return None
    shape = bool(region) and re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-\d", region or "") is not None
    if shape and pulumi.Config("aws").get_bool("skipRegionValidation"):
        return None
    close = difflib.get_close_matches(region or "", known, n=1, cutoff=0.8)
    hint = f"did you mean {close[0]}? " if close else ""
    return (f"must be an AWS region: {hint}regions are " + ", ".join(known) +
            " (a newer one with aws:skipRegionValidation true)")


_ENGINE_NAMESPACES = ("pulumi", "config")


def _misspelled_namespaces() -> list[tuple[str, Any, str]]:
    """Keys whose namespace reads like aurorakit but is not (`AuroraKit:dbReaders`,
    `aurorakti:tags`): Pulumi accepts any namespace, so the setting would be silently ignored."""
    keys = set(CONFIG.get()) | set(get_config_env() or {})
    lines = []
    for full in sorted(keys):
        namespace, _, name = full.partition(":")
        if namespace == NAMESPACE or namespace in _ENGINE_NAMESPACES or not name or _provider(namespace):
            continue
        if namespace.lower().replace("-", "").replace("_", "") == NAMESPACE or difflib.get_close_matches(
                namespace.lower(), [NAMESPACE], n=1, cutoff=0.75):
            lines.append((full, "(set)", f"namespace {namespace!r} is not {NAMESPACE!r}, so nothing reads it; "
                                         f"did you mean {NAMESPACE}:{name}?"))
    return lines


def _provider(namespace: str) -> bool:
    """A provider package's config namespace (aws, random, ...): its SDK is importable."""
    try:
        return importlib.util.find_spec("pulumi_" + namespace.replace("-", "_")) is not None
    except (ImportError, ValueError):
        return False


def _unknown(key: str) -> tuple[str, Any, str]:
    close = difflib.get_close_matches(key, list(SETTINGS), n=1, cutoff=0.6) or \
        [k for k in SETTINGS if k.lower() == key.lower()]
    if close:
        return key, "(set)", f"unknown key; did you mean {close[0]}?"
    return key, "(set)", "unknown key; known keys are " + ", ".join(sorted(SETTINGS))


def load_settings() -> Settings:
    """Read and validate the whole stack config; raise one SettingsError listing every problem."""
    region = pulumi.Config("aws").get("region")
    problem = _region_problem(region)
    if problem:
        raise SettingsError([("aws:region", region, problem)])
    assert region is not None
    raw = _config()
    lines: list[tuple[str, Any, str]] = [_unknown(k) for k in raw if k not in SETTINGS]
    lines += _misspelled_namespaces()
    given: dict[str, dict[str, Any]] = {spec: {} for spec, _ in SPECS}
    failed: dict[str, set[str]] = {spec: set() for spec, _ in SPECS}
    for key, setting in SETTINGS.items():
        text = raw.get(key)
        if text is not None:
            try:
                given[setting.spec][setting.field] = convert(setting.hint, text)
            except _ConvertError as exc:
                lines.append((key, text, str(exc)))
                failed[setting.spec].add(setting.field)
    keyed = {spec: {f.name: k.key for f, k in knob_fields(cls) if k.key} for spec, cls in SPECS}
    resolved = {spec: {name: given[spec].get(name, default_of(cls, name)) for name in keyed[spec]}
                for spec, cls in SPECS}
    lines += [_line(p, keyed["stack"]) for p in
              validate(StackArgs, resolved["stack"], given=given["stack"], failed=failed["stack"])]
    azs: tuple[str, ...] = ()
    if not any(line[0] in ("availabilityZones", "azCount") for line in lines):
        azs = tuple(resolved["stack"]["availability_zones"] or
                    _region_azs(region)[:resolved["stack"]["az_count"]])
    for spec, cls in SPECS[1:]:
        plain = wired(spec, resolved, azs)
        values = {**resolved[spec], **plain}
        lines += [_line(p, keyed[spec]) for p in validate(cls, values, given=given[spec], failed=failed[spec])
                  if p.field not in plain]  # a wired copy's problem is its source key's
    bad = {line[0] for line in lines}
    view = _Resolved(resolved, raw)
    lines += [line for reads, rule in STACK_RULES if not bad & set(reads) for line in rule(view, region)]
    if lines:
        raise SettingsError(sorted(lines, key=_order))
    for key, value, text in sorted((w for rule in STACK_WARNINGS for w in rule(view, region)), key=_order):
        shown = _SECRET if _is_secret(f"{NAMESPACE}:{key}") else value
        pulumi.log.warn(f"stack config {NAMESPACE}:{key} = {_show(shown)}: {text}")
    base = {"Project": pulumi.get_project(), "Stack": pulumi.get_stack(), "ManagedBy": "pulumi"}
    return Settings(pulumi.get_project(), pulumi.get_stack(), region, given,
                    {spec: _Namespace(values) for spec, values in resolved.items()},
                    azs, {**base, **resolved["stack"]["tags"]})


def _line(p: Problem, keyed: Mapping[str, str]) -> tuple[str, Any, str]:
    return keyed.get(p.field, p.field), p.value, p.render(lambda f: keyed.get(f, f))


_ORDER = {key: i for i, key in enumerate(SETTINGS)}


def _order(line: tuple[str, Any, str]) -> int:
    return _ORDER.get(line[0], len(_ORDER))  # unknown keys last


def _region_azs(region: str) -> list[str]:
    """Fallback when availabilityZones is not configured (needs an AWS call at preview).
    Only the region's own AZs: opted-in Local/Wavelength Zones lack Aurora and NAT gateways."""
    import pulumi_aws as aws
    found = aws.get_availability_zones(state="available", filters=[aws.GetAvailabilityZonesFilterArgs(
        name="opt-in-status", values=["opt-in-not-required"])])
    return sorted(n for n in found.names if re.fullmatch(re.escape(region) + r"[a-z]", n))
