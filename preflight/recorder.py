"""A MockMonitor that records every RegisterResource the way the engine sees it.

`RecordingMonitor` wraps the shared `RecordingMocks` (preflight/mocks.py). For each request it
keeps the type, name, URN, parent, dependencies, propertyDependencies, options (protect,
ignoreChanges, deleteBeforeReplace, additionalSecretOutputs, aliases, customTimeouts, the names
of the resource hooks bound per hook type), the provider reference and the exact property
Struct the SDK sent, plus the outputs.

Preview (the default, like `pulumi preview`): a new resource's id and every output the provider
computes are unknown, its inputs are known. So the monitor answers with the inputs plus the
unknown sentinel for each output the mocks would compute, and an empty id (the SDK turns both
into unknowns). With ``preview=False`` it answers with the mocked AWS values (like `pulumi up`).

Default providers: a custom resource registered without a provider gets the engine's default
provider ``pulumi:providers:<pkg>::default_<version>`` whose inputs are the stack config of
that package's namespace (``aws:region`` -> ``region``) plus ``version``; it is recorded once.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

from .analyzer import Resource

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Registration:
    """One registered resource, as recorded from its RegisterResource request."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str = ""
    inputs: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    outputs: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    id: str = ""
    provider: str = ""  # provider URN ("" for components and the stack)
    dependencies: list = field(default_factory=list)
    property_dependencies: dict = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list = field(default_factory=list)
    replace_on_changes: list = field(default_factory=list)
    delete_before_replace: Optional[bool] = None
    additional_secret_outputs: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    custom_timeouts: tuple = ("", "", "")
    hooks: dict = field(default_factory=dict)  # hook type (before_delete, ...) -> hook names
    synthetic: bool = False  # a default provider the engine would create

    def as_resource(self, phase: str, providers: dict) -> Resource:
        """The analyzer view: ``phase`` "analyze" sends inputs, "stack" sends outputs."""
        prov = providers.get(self.provider)
        return Resource(
            urn=self.urn, type=self.type, name=self.name,
            properties=self.inputs if phase == "analyze" else self.outputs,
            parent=self.parent, protect=self.protect, ignore_changes=self.ignore_changes,
            delete_before_replace=self.delete_before_replace,
            additional_secret_outputs=self.additional_secret_outputs, aliases=self.aliases,
            custom_timeouts=self.custom_timeouts, dependencies=self.dependencies,
            property_dependencies=self.property_dependencies,
            provider=Resource(urn=prov.urn, type=prov.type, name=prov.name, properties=prov.inputs)
            if prov is not None else None)


def _preview_outputs(inputs: struct_pb2.Struct, mocked: dict) -> struct_pb2.Struct:
    """Inputs stay known; every output the provider computes is unknown during a preview."""
    out = struct_pb2.Struct()
    out.CopyFrom(inputs)
    for key in mocked:
        if key not in inputs.fields:
            out.fields[key].string_value = UNKNOWN
    return out


def _spec_urn(spec, request, urn: str) -> str:
    """The URN an alias spec (new name/type/parent of the same resource) stands for, as the
    engine computes it: the resource's stack, project, parent type chain, name and type unless
    the spec changes them."""
    head, project, _qualified, name = urn.split("::", 3)
    stack = head.removeprefix("urn:pulumi:")
    parent = "" if spec.noParent else (spec.parentUrn or request.parent)
    chain = parent.split("::")[2] if parent else ""
    chain = "" if chain.endswith(STACK_TYPE) else chain + "$"
    return (f"urn:pulumi:{spec.stack or stack}::{spec.project or project}::"
            f"{chain}{spec.type or request.type}::{spec.name or name}")


def _hook_names(binding) -> dict:
    """{hook type: [hook names]} of a RegisterResourceRequest.ResourceHooksBinding (non-empty types)."""
    return {f.name: list(getattr(binding, f.name)) for f in binding.DESCRIPTOR.fields if getattr(binding, f.name)}


class RecordingMonitor(MockMonitor):
    """MockMonitor subclass that records registrations (thread-safe) and reports each one."""

    def __init__(self, mocks, *, preview: bool, config: Optional[dict] = None,
                 on_register: Optional[Callable[[Registration], None]] = None):
        super().__init__(mocks)
        self.preview = preview
        self.config = dict(config or {})
        self.on_register = on_register
        self.registrations: list[Registration] = []
        self.by_urn: dict[str, Registration] = {}
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN (resource.NewURN): the parent's type qualifies the child's, except the
        root stack's (the SDK's MockMonitor writes `pulumi:pulumi:Stack$<type>` for top-level
        resources, which no real state contains)."""
        if parent:
            parent_type = parent.split("::")[2].split("$")[-1]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def named(self, name: str) -> Registration:
        """The one registration called `name` (a clear error if there is none or several)."""
        found = [r for r in self.registrations if r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} registrations named {name!r}; expected exactly one")
        return found[0]

    def _add(self, reg: Registration) -> None:
        with self._lock:
            if reg.urn in self.by_urn:  # the engine's step generator refuses the same URN twice
                raise ValueError(f"Duplicate resource URN '{reg.urn}'; try giving it a unique name")
            self.registrations.append(reg)
            self.by_urn[reg.urn] = reg
        if self.on_register is not None:
            self.on_register(reg)

    def _default_provider(self, type_: str, version: str) -> str:
        pkg = type_.split(":", 1)[0]
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        urn = self.make_urn("", f"pulumi:providers:{pkg}", name)
        # Check and add in one step: the SDK registers resources from several threads, and two
        # first resources of a package must not both create its default provider (the second
        # would be reported as a duplicate URN).
        with self._lock:
            if urn in self.by_urn:
                return urn
            inputs = struct_pb2.Struct()
            inputs.update({k.split(":", 1)[1]: v for k, v in self.config.items() if k.startswith(pkg + ":")})
            if version:
                inputs["version"] = version
            outputs = struct_pb2.Struct()
            outputs.CopyFrom(inputs)
            reg = Registration(urn, f"pulumi:providers:{pkg}", name, True, inputs=inputs, outputs=outputs,
                               id=UNKNOWN if self.preview else "default", synthetic=True)
            self.registrations.append(reg)
            self.by_urn[urn] = reg
        if self.on_register is not None:
            self.on_register(reg)
        return urn

    def RegisterResource(self, request):
        if request.type == STACK_TYPE:
            resp = super().RegisterResource(request)
            self._add(Registration(resp.urn, request.type, request.name, False, inputs=request.object))
            return resp
        if self.preview and request.custom:
            resp = self._preview_register(request)
        else:
            resp = super().RegisterResource(request)
        provider = request.provider.rsplit("::", 1)[0] if request.provider else ""
        if request.custom and not provider and not request.type.startswith("pulumi:providers:"):
            provider = self._default_provider(request.type, request.version)
        outputs, rid = resp.object, resp.id
        aliases = list(request.aliasURNs) + [a.urn or _spec_urn(a.spec, request, resp.urn)
                                             for a in request.aliases if a.urn or a.HasField("spec")]
        ct = request.customTimeouts
        self._add(Registration(
            urn=resp.urn, type=request.type, name=request.name, custom=request.custom,
            parent=request.parent, inputs=request.object, outputs=outputs,
            id=rid if rid else (UNKNOWN if request.custom else ""), provider=provider,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=request.protect, retain_on_delete=request.retainOnDelete,
            ignore_changes=list(request.ignoreChanges), replace_on_changes=list(request.replaceOnChanges),
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            additional_secret_outputs=list(request.additionalSecretOutputs), aliases=aliases,
            custom_timeouts=(ct.create, ct.update, ct.delete), hooks=_hook_names(request.hooks)))
        return resp

    def _preview_register(self, request):
        """A create during preview: the provider is not asked to create anything; the engine
        answers with the inputs and unknowns for what the provider computes. The mocks are still
        called (they record the resource and name its computed outputs); their id is not used."""
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        _id, state = self.mocks.new_resource(MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=True))
        urn = self.make_urn(request.parent, request.type, request.name)
        outputs = _preview_outputs(request.object, state)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, "", state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=outputs)

    def RegisterResourceOutputs(self, request):
        """Component (and stack) outputs: what `register_outputs` reports."""
        reg = self.by_urn.get(request.urn)
        if reg is not None and not reg.custom:
            reg.outputs = request.outputs
        return super().RegisterResourceOutputs(request)
