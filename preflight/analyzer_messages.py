"""The analyzer protocol's messages as the engine builds and reads them (used by analyzer.py).

`Resource` -> `analyze_request` / `stack_resource` (the engine's `MarshalProperties`,
`marshalResourceOptions`, `marshalProvider`); replies -> `Diagnostic` (`convertDiagnostics`).
Which engine behaviour each conversion mirrors is noted where it happens (pulumi/pulumi
`sdk/go/common/resource/plugin/analyzer_plugin.go`, `pkg/resource/deploy/step_generator.go`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

_LEVEL_NAMES = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
                analyzer_pb2.REMEDIATE: "remediate", analyzer_pb2.DISABLED: "disabled"}
_LEVEL_ENUM = {v: k for k, v in _LEVEL_NAMES.items()}
_SEVERITY_NAMES = {analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "", analyzer_pb2.POLICY_SEVERITY_LOW: "low",
                   analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium", analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
                   analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}
_RESOURCE_SIG = ("4dabf18193072939515e22adb298388d", "5cf8f73096256a8f31e491e813e4eb8e")


VIOLATION = "violation"
NOT_CHECKED = "not-checked"


@dataclass
class Diagnostic:
    """One policy diagnostic as the engine reports it (`plugin.AnalyzeDiagnostic`), classified
    once, where it is read: `kind` is VIOLATION, or NOT_CHECKED for the SDK's "can't run policy
    ... during preview" advisory (the policy could not decide because a value was unknown)."""

    policy_name: str
    enforcement_level: str  # advisory | mandatory | remediate | disabled
    urn: str
    message: str
    description: str = ""
    severity: str = ""  # "", low, medium, high, critical
    policy_pack_name: str = ""
    policy_pack_version: str = ""
    kind: str = VIOLATION


@dataclass
class Resource:
    """A resource as the analyzer sees it: `properties` are inputs (Analyze) or outputs
    (AnalyzeStack), a Struct or a plain dict; `provider` is the provider resource (its inputs)."""

    urn: str
    type: str
    name: str
    properties: Union[struct_pb2.Struct, Mapping[str, Any], None] = None
    parent: str = ""
    protect: bool = False
    ignore_changes: list = field(default_factory=list)
    delete_before_replace: Optional[bool] = None
    additional_secret_outputs: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    custom_timeouts: tuple = ("", "", "")  # create, update, delete
    dependencies: list = field(default_factory=list)
    property_dependencies: dict = field(default_factory=dict)
    provider: Optional[Resource] = None


@dataclass
class PackInfo:
    """GetAnalyzerInfo, converted like the engine does (policies sorted by name)."""

    name: str
    version: str
    supports_config: bool
    policies: list
    initial_config: dict


# ----- marshalling (engine: MarshalProperties{KeepUnknowns, KeepSecrets, SkipInternalKeys}) ---
def _downgrade_refs(value: struct_pb2.Value) -> Optional[struct_pb2.Value]:
    """Resource references become their id (custom) or URN (component): the engine marshals
    analyzer properties without KeepResources. Returns a replacement, or None if unchanged."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        sig = fields.get(_RESOURCE_SIG[0])
        if sig is not None and sig.string_value == _RESOURCE_SIG[1]:
            ref = fields["id"] if "id" in fields else fields.get("urn")
            out = struct_pb2.Value()
            out.CopyFrom(ref if ref is not None else struct_pb2.Value(string_value=""))
            return out
        changed = {k: r for k, v in fields.items() if (r := _downgrade_refs(v)) is not None}
        if not changed:
            return None
        out = struct_pb2.Value()
        out.CopyFrom(value)
        for k, r in changed.items():
            out.struct_value.fields[k].CopyFrom(r)
        return out
    if kind == "list_value":
        items = list(value.list_value.values)
        repl = [_downgrade_refs(v) for v in items]
        if all(r is None for r in repl):
            return None
        out = struct_pb2.Value()
        out.list_value.values.extend([r if r is not None else v for v, r in zip(items, repl, strict=True)])
        return out
    return None


def marshal_properties(props: Union[struct_pb2.Struct, Mapping[str, Any], None]) -> struct_pb2.Struct:
    """The Struct the engine would send: internal ``__`` keys dropped, resource refs downgraded."""
    if props is None:
        return struct_pb2.Struct()
    if not isinstance(props, struct_pb2.Struct):
        s = struct_pb2.Struct()
        s.update(dict(props))
        props = s
    out = None
    for key, val in props.fields.items():
        repl = None if key.startswith("__") else _downgrade_refs(val)
        if key.startswith("__") or repl is not None:
            if out is None:
                out = struct_pb2.Struct()
                out.CopyFrom(props)
            if key.startswith("__"):
                del out.fields[key]
            elif repl is not None:
                out.fields[key].CopyFrom(repl)
    return out if out is not None else props


def _options(r: Resource, with_parent: bool) -> analyzer_pb2.AnalyzerResourceOptions:
    """`marshalResourceOptions`. Analyze sets options.parent; AnalyzeStack leaves it empty
    (step_generator.AnalyzeResources passes the parent on the resource instead)."""
    create, update, delete = (_seconds(t) for t in r.custom_timeouts)
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect, ignoreChanges=list(r.ignore_changes),
        deleteBeforeReplace=bool(r.delete_before_replace),
        deleteBeforeReplaceDefined=r.delete_before_replace is not None,
        additionalSecretOutputs=list(r.additional_secret_outputs), aliases=list(r.aliases),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=create, update=update, delete=delete),
        parent=r.parent if with_parent else "")


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(duration: Any) -> float:
    """A Go duration string ("5m", "1h30m") in seconds, as the engine parses custom timeouts."""
    if isinstance(duration, (int, float)):
        return float(duration)
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", duration or ""):
        total += float(num) * _UNITS[unit]
    return total


def _provider(r: Resource) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    """`marshalProvider`: the provider's URN, type, name and inputs."""
    p = r.provider
    if p is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        urn=p.urn, type=p.type, name=p.name, properties=marshal_properties(p.properties))


def analyze_request(r: Resource) -> analyzer_pb2.AnalyzeRequest:
    """The AnalyzeRequest `analyzer.Analyze` builds for one resource (inputs + options)."""
    return analyzer_pb2.AnalyzeRequest(
        urn=r.urn, type=r.type, name=r.name, properties=marshal_properties(r.properties),
        options=_options(r, with_parent=True), provider=_provider(r))


def stack_resource(r: Resource) -> analyzer_pb2.AnalyzerResource:
    """One entry of `AnalyzeStack`: outputs, options, parent, dependencies, property deps."""
    return analyzer_pb2.AnalyzerResource(
        urn=r.urn, type=r.type, name=r.name, properties=marshal_properties(r.properties),
        options=_options(r, with_parent=False), provider=_provider(r), parent=r.parent,
        dependencies=list(r.dependencies),
        propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                              for k, v in r.property_dependencies.items() if v})


# pulumi_policy/policy.py reports an UnknownValueError raised by a policy (or remediation) as
# an ADVISORY diagnostic with exactly this text. It names the pack with the version the Python
# SDK hard-codes ("0.0.1": the CLI takes the real one from PulumiPolicy.yaml and never shows
# the SDK's), so the reference is rewritten with the version the engine reports.
_NOT_CHECKED = re.compile(r"can't run (?P<what>policy|remediation) '(?P<policy>[^']*)' from policy pack "
                          r"'(?P<pack>[^'@]*)@v(?P<version>[^']*)' during preview: ")


def classify(message: str, pack_version: str) -> tuple[str, str]:
    """(kind, message): NOT_CHECKED with the pack version corrected, else VIOLATION unchanged."""
    m = _NOT_CHECKED.match(message)
    if not m:
        return VIOLATION, message
    version = pack_version or m["version"]
    return NOT_CHECKED, (f"can't run {m['what']} '{m['policy']}' from policy pack "
                         f"'{m['pack']}@v{version}' during preview: {message[m.end():]}")


def _diagnostic(d, version: str) -> Diagnostic:
    version = version or d.policyPackVersion
    kind, message = classify(d.message, version)
    return Diagnostic(policy_name=d.policyName, enforcement_level=_LEVEL_NAMES.get(d.enforcementLevel, "?"),
                      urn=d.urn, message=message, description=d.description,
                      severity=_SEVERITY_NAMES.get(d.severity, ""), policy_pack_name=d.policyPackName,
                      policy_pack_version=version, kind=kind)


def _diagnostics(resp, version: str) -> list[Diagnostic]:
    """`convertDiagnostics`: PulumiPolicy.yaml's version wins over the pack's own."""
    return [_diagnostic(d, version) for d in resp.diagnostics]


def _attribute(diags: list[Diagnostic], urn: str) -> list[Diagnostic]:
    for d in diags:
        d.urn = urn
    return diags
