"""Realistic, deterministic AWS mocks for Pulumi programs (shared by tests and preflight).

`RecordingMocks` answers every resource registration with the inputs plus the outputs AWS
would compute (camelCase schema names, ids such as ``vpc-0a1b2c3d4e5f60718``, ARNs, Aurora
endpoints), answers the invokes the program uses, and records everything for assertions.
Every generated value is derived from a hash of (type, name), so reports are reproducible.

`install_mocks(...)` sets the config map and the mocks (plus an optional custom monitor).
Call it before importing/running the program; use ``preview=False`` for value assertions
(with ``preview=True`` the SDK treats unset outputs as unknown).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from .awsids import _hex, _uuid
from .mock_invokes import _INVOKES, AL2023_AMI_PARAMETER_PREFIX, UnknownInvokeError
from .mock_outputs import _COMPUTE

__all__ = ["AL2023_AMI_PARAMETER_PREFIX", "DEFAULT_ACCOUNT", "DEFAULT_REGION", "RecordedCall",
           "RecordedResource", "RecordingMocks", "UnknownInvokeError", "install_mocks"]

DEFAULT_REGION = "eu-west-1"
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class RecordedResource:
    """One registered resource: its type token, logical name, inputs, outputs and id."""

    type: str
    name: str
    inputs: dict
    outputs: dict
    id: Optional[str]
    custom: bool = True


@dataclass(frozen=True)
class RecordedCall:
    """One invoke: its token, args and the mocked result."""

    token: str
    args: dict
    result: dict


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Pulumi mocks that look like AWS and record every resource and invoke."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    resources: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clusters_with_writer: set = field(default_factory=set, repr=False)
    _public_templates: set = field(default_factory=set, repr=False)  # launch template ids giving a public IP
    _public_subnets: set = field(default_factory=set, repr=False)  # subnet ids that auto-assign public IPs
    ami_architectures: dict = field(default_factory=dict)  # AMI id -> architecture getAmi answers (else "")

    # ----- query helpers -------------------------------------------------------------------
    def resources_of(self, type_token: str) -> list[RecordedResource]:
        """All recorded resources of one type token, in registration order."""
        with self._lock:
            return [r for r in self.resources if r.type == type_token]

    def only(self, type_token: str) -> RecordedResource:
        """The single recorded resource of a type; a clear error when there are 0 or >1."""
        found = self.resources_of(type_token)
        if len(found) != 1:
            names = [r.name for r in found]
            raise AssertionError(f"expected exactly one {type_token}, found {len(found)}: {names}")
        return found[0]

    def by_name(self, name: str) -> RecordedResource:
        """The recorded resource with this logical name (names are unique per type in a stack)."""
        with self._lock:
            found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected exactly one resource named {name!r}, found {len(found)}")
        return found[0]

    def by_id(self, resource_id: str) -> Optional[RecordedResource]:
        """The recorded resource whose physical id (or ARN) is `resource_id`, if any."""
        with self._lock:
            for r in self.resources:
                if resource_id in (r.id, r.outputs.get("arn")):
                    return r
        return None

    # ----- Mocks API -----------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs):
        inputs = dict(args.inputs)
        computed = self._computed(args.typ, args.name, inputs)
        resource_id = computed.pop("__id", None)
        if args.resource_id:
            resource_id = args.resource_id
        outputs = {**inputs, **computed}
        if resource_id is not None and args.custom is not False:
            outputs.setdefault("id", resource_id)
        record = RecordedResource(args.typ, args.name, inputs, outputs, resource_id,
                                  args.custom is not False)
        with self._lock:
            self.resources.append(record)
        return resource_id, outputs

    def call(self, args: MockCallArgs):
        handler = _INVOKES.get(args.token)
        if handler is None:
            raise UnknownInvokeError(
                f"RecordingMocks has no answer for invoke {args.token!r} "
                f"(known: {', '.join(sorted(_INVOKES))})")
        result = handler(self, dict(args.args or {}))
        with self._lock:
            self.calls.append(RecordedCall(args.token, dict(args.args or {}), result))
        return result, []

    # ----- computed outputs per type --------------------------------------------------------
    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        reg = self.region if region else ""
        return f"arn:aws:{service}:{reg}:{self.account_id}:{resource}"

    def _computed(self, typ: str, name: str, inputs: dict) -> dict[str, Any]:
        seed = f"{typ}|{name}"
        fn = _COMPUTE.get(typ)
        if fn is not None:
            return fn(self, seed, name, inputs)
        if typ.startswith("pulumi:providers:"):
            return {"__id": _uuid(seed)}
        # Unknown custom type: a stable opaque id, no invented attributes.
        return {"__id": f"{name}-{_hex(seed, 8)}"}


def install_mocks(config: Optional[Mapping[str, str]] = None, *, project: str = "aurorakit",
                  stack: str = "dev", preview: bool = False,
                  mocks: Optional[RecordingMocks] = None, monitor: Optional[MockMonitor] = None,
                  secret_keys: Optional[list[str]] = None,
                  logger: Optional[logging.Logger] = None) -> RecordingMocks:
    """Set the config map and the mocks (fresh root stack) and return the RecordingMocks.

    `config` is the flat engine map (``"aurorakit:key" -> str``); its ``aws:region`` (if any)
    becomes the mocks' region. Pass `monitor` (a MockMonitor built on the same mocks) to record
    RegisterResource requests; `preview=True` reproduces a preview (unset outputs are unknown).
    """
    config = dict(config or {})
    if mocks is None:
        mocks = RecordingMocks(region=config.get("aws:region", DEFAULT_REGION))
    if monitor is not None and getattr(monitor, "mocks", mocks) is not mocks:
        raise ValueError("install_mocks: monitor must be built on the same RecordingMocks")
    pulumi.runtime.set_all_config(config, secret_keys or [])
    # None resets it (the SDK's ROOT context variable is Optional; the setter is typed too narrowly)
    pulumi.runtime.settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview,
                             monitor=monitor, logger=logger)
    return mocks
