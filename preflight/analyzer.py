"""Drive a policy pack over the real analyzer gRPC protocol, the way `pulumi preview` does.

API (used by preflight and by the policy tests)::

    from preflight.analyzer import PolicyPack, Resource
    with PolicyPack("policy", project="aurorakit", stack="prod", config=stack_cfg,
                    secret_keys=stack_cfg.secret_keys) as pack:     # process starts here
        pack.configure(file_config)       # GetAnalyzerInfo, reconcile, Configure, ConfigureStack
        diags = pack.analyze(Resource(urn=..., type=..., name=..., properties={...}))
        future = pack.analyze_async(resource)        # -> concurrent.futures-like, .result()
        diags += pack.analyze_stack([Resource(..., properties=outputs, dependencies=[...])])
    # the pack process is stopped on exit, also on errors (pack.pid, pack.returncode)

`file_config` is what `--policy-pack-config FILE` holds (see `policyconfig.load_policy_config`),
``None`` for none. Every RPC is counted as it goes onto the channel (a client interceptor):
``pack.calls`` (RPC name -> count) and ``pack.analyzed`` (URN -> Analyze RPCs sent for it).
Diagnostics come back as `Diagnostic` (policy_name, enforcement_level, urn, message, ...).
Which engine behaviour each step mirrors is noted where it happens (pulumi/pulumi
`sdk/go/common/resource/plugin/analyzer_plugin.go`, `pkg/engine/plugins.go`,
`pkg/resource/deploy/step_generator.go`).
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from typing import IO, Optional

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from . import policyconfig
from .analyzer_messages import (
    _LEVEL_ENUM,
    _LEVEL_NAMES,
    _SEVERITY_NAMES,
    Diagnostic,
    PackInfo,
    Resource,
    _attribute,
    _diagnostics,
    analyze_request,
    classify,
    marshal_properties,
    stack_resource,
)
from .policyconfig import PolicyConfig, PolicyConfigError, PolicyInfo

__all__ = ["Diagnostic", "ENGINE_ADDRESS", "MAX_IN_FLIGHT", "PackInfo", "PolicyPack",
           "PolicyPackError", "Resource", "START_TIMEOUT_S", "analyze_request",
           "marshal_properties", "stack_resource"]

# The engine address handed to the pack. The Python policy host (pulumi/policy/__main__.py)
# parses it and does not connect, so no engine server is needed for a Python pack.
ENGINE_ADDRESS = "127.0.0.1:0"
START_TIMEOUT_S = 60.0
# Analyze RPCs outstanding at once. Thousands in flight on one channel (a 5,000-resource stack
# whose program outruns the pack) intermittently come back CANCELLED; a window keeps the pack
# busy without that (bench/run.py, docs/BENCHMARKS.md).
MAX_IN_FLIGHT = 32
_GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
                 ("grpc.max_send_message_length", 400 * 1024 * 1024)]


class PolicyPackError(Exception):
    """The pack failed to start, or an RPC failed (a policy raised, a bad reply...)."""


def _pack_project(pack_dir: str) -> dict:
    import yaml  # a dependency of the pulumi SDK
    path = os.path.join(pack_dir, "PulumiPolicy.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except OSError:
        raise PolicyPackError(f"policy pack {pack_dir}: PulumiPolicy.yaml not found") from None
    except yaml.YAMLError as exc:
        raise PolicyPackError(f"{path}: not valid YAML: {exc}") from None
    runtime = data.get("runtime")
    runtime = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime != "python":
        raise PolicyPackError(f"{path}: runtime is {runtime!r}; preflight runs Python packs only")
    return data


class PolicyPack:
    """One policy-pack process and its analyzer client (see the module docstring)."""

    def __init__(self, pack_dir: str, *, project: str, stack: str, dry_run: bool = True,
                 config: Optional[Mapping[str, str]] = None, secret_keys: Iterable[str] = (),
                 organization: str = "organization"):
        self.pack_dir = os.path.abspath(pack_dir)
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.organization = organization
        self.config = dict(config or {})
        self.secret_keys = sorted(secret_keys)
        self._wire = _WireLog()
        self.calls = self._wire.calls        # RPC name -> count, as sent on the channel
        self.analyzed = self._wire.analyzed  # URN -> number of Analyze RPCs sent for it
        self.info: Optional[PackInfo] = None
        self.policy_config: dict[str, PolicyConfig] = {}
        self.start_seconds = 0.0
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._channel: Optional[grpc.Channel] = None
        self._stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None
        self._stderr: Optional[IO[bytes]] = None
        self._lock = threading.Lock()
        self._window = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._yaml_version = str(_pack_project(self.pack_dir).get("version") or "")
        self._start()

    # ----- process lifecycle ------------------------------------------------------------------
    def _start(self) -> None:
        """`NewPolicyAnalyzer` (legacy path used for python): run `python -u -m pulumi.policy
        <engine> .` in the pack directory with PULUMI_CONFIG/ORGANIZATION/PROJECT/STACK/DRY_RUN
        (`constructEnv`). The pack's `virtualenv` option is resolved to this interpreter."""
        env = dict(os.environ)
        for key in ("PULUMI_CONFIG", "PULUMI_ORGANIZATION", "PULUMI_PROJECT", "PULUMI_STACK",
                    "PULUMI_DRY_RUN"):
            env.pop(key, None)
        if self.config:
            env["PULUMI_CONFIG"] = json.dumps(self.config)
        env.update(PULUMI_ORGANIZATION=self.organization, PULUMI_PROJECT=self.project,
                   PULUMI_STACK=self.stack, PULUMI_DRY_RUN="true" if self.dry_run else "false")
        self._stderr = tempfile.TemporaryFile()
        self._t0 = time.perf_counter()
        self._proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
                                      cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=self._stderr)

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> Optional[int]:
        return self._proc.poll() if self._proc else None

    def _stderr_tail(self) -> str:
        assert self._stderr is not None, "read before close()"
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1].strip() if lines else "no output"

    def connect(self, timeout: float = START_TIMEOUT_S) -> None:
        """Read the port the pack prints, dial it and Handshake (UNIMPLEMENTED is fine)."""
        with self._lock:
            if self._stub is not None:
                return
            assert self._proc is not None and self._proc.stdout is not None  # _start(): stdout=PIPE
            stdout = self._proc.stdout
            result: list = []
            reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout)
            line = result[0].decode().strip() if result else ""
            if not line.isdigit():
                self._proc.poll()
                why = self._stderr_tail() if self._proc.returncode is not None or not reader.is_alive() \
                    else f"no port after {timeout:.0f}s"
                raise PolicyPackError(f"policy pack {self.pack_dir} failed to start: {why}")
            # Keep draining stdout so a chatty pack never blocks on a full pipe.
            threading.Thread(target=self._drain, daemon=True).start()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{line}", options=_GRPC_OPTIONS)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(grpc.intercept_channel(self._channel, self._wire))
            self.start_seconds = time.perf_counter() - self._t0
            req = analyzer_pb2.AnalyzerHandshakeRequest(engine_address=ENGINE_ADDRESS,
                                                        root_directory=self.pack_dir,
                                                        program_directory=self.pack_dir)
            self._rpc("Handshake", req, tolerate_unimplemented=True)

    def _drain(self) -> None:
        if self._proc is None or self._proc.stdout is None:
            return
        try:
            for _ in self._proc.stdout:
                pass
        except (ValueError, OSError):
            pass

    def close(self) -> None:
        """`plugin.Close`: close the channel, stop the process (SIGTERM, then SIGKILL), reap it."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> PolicyPack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- RPCs -------------------------------------------------------------------------------
    def _connected(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            self.connect()
        assert self._stub is not None  # connect() sets it or raises
        return self._stub

    def _rpc(self, name: str, request, tolerate_unimplemented: bool = False):
        stub = self._connected()
        try:
            return getattr(stub, name)(request)
        except grpc.RpcError as exc:
            if tolerate_unimplemented and exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise self._rpc_error(name, exc) from None

    def _rpc_error(self, name: str, exc: grpc.RpcError) -> PolicyPackError:
        detail = (exc.details() or str(exc.code())).strip().splitlines()
        return PolicyPackError(f"policy pack {name} failed: {detail[-1] if detail else exc.code()}")

    def get_info(self) -> PackInfo:
        """GetAnalyzerInfo, converted like `analyzer.GetAnalyzerInfo` (levels, schemas, sorted)."""
        resp = self._rpc("GetAnalyzerInfo", empty_pb2.Empty())
        policies = []
        for p in resp.policies:
            if p.enforcementLevel not in _LEVEL_NAMES:
                raise PolicyPackError(f"policy {p.name}: invalid enforcement level {p.enforcementLevel}")
            schema = None
            if resp.supportsConfig:
                schema = {"properties": json_format.MessageToDict(p.configSchema.properties),
                          "required": list(p.configSchema.required)}
            ptype = {analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
                     analyzer_pb2.POLICY_TYPE_STACK: "stack"}.get(p.policy_type, "unknown")
            policies.append(PolicyInfo(p.name, _LEVEL_NAMES[p.enforcementLevel], schema,
                                       p.description, ptype, _SEVERITY_NAMES.get(p.severity, "")))
        policies.sort(key=lambda p: p.name)
        # An initial-config entry without a level arrives as 0 = ADVISORY, exactly as the engine
        # reads it (convertEnforcementLevel of the proto default).
        initial = {k: PolicyConfig(_LEVEL_NAMES.get(v.enforcementLevel, ""),
                                   json_format.MessageToDict(v.properties) or None)
                   for k, v in resp.initialConfig.items()}
        self.info = PackInfo(resp.name, self._yaml_version or resp.version, resp.supportsConfig,
                             policies, initial)
        return self.info

    def configure(self, file_config: Optional[Mapping[str, PolicyConfig]] = None) -> dict[str, PolicyConfig]:
        """`installAndLoadPolicyPlugins` for a local pack: GetAnalyzerInfo, ReconcilePolicyPackConfig
        (raises PolicyConfigError), Configure (skipped for an empty map), then ConfigureStack."""
        info = self.info or self.get_info()
        if not info.supports_config:
            if file_config:
                raise PolicyConfigError(f"policy pack {info.name!r} does not support config")
            config: dict[str, PolicyConfig] = {}
        else:
            policyconfig.check_names(file_config, [p.name for p in info.policies])
            config = policyconfig.reconcile(info.policies, info.initial_config, file_config)
            policyconfig.configure_entries(config, [p.name for p in info.policies])
        if config:
            req = analyzer_pb2.ConfigureAnalyzerRequest()
            for name, cfg in config.items():
                entry = req.policyConfig[name]
                entry.enforcementLevel = _LEVEL_ENUM[cfg.enforcement_level]
                if cfg.properties:
                    entry.properties.update(cfg.properties)
            self._rpc("Configure", req)
        self.policy_config = config
        self.configure_stack()
        return config

    def configure_stack(self) -> None:
        """ConfigureStack (NewPolicyAnalyzer sends it right after start; UNIMPLEMENTED is fine)."""
        req = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization=self.organization,
            dry_run=self.dry_run, config=self.config, config_secret_keys=self.secret_keys)
        self._rpc("ConfigureStack", req, tolerate_unimplemented=True)

    def level_of(self, policy: str) -> str:
        cfg = self.policy_config.get(policy)
        if cfg:
            return cfg.enforcement_level
        for p in (self.info.policies if self.info else []):
            if p.name == policy:
                return p.enforcement_level
        return ""

    @property
    def remediates(self) -> bool:
        """Whether any policy runs at level remediate (otherwise Remediate is a no-op)."""
        return any(c.enforcement_level == "remediate" for c in self.policy_config.values())

    def remediate(self, r: Resource) -> tuple[Resource, list[Diagnostic]]:
        """The step generator's first pass: Remediate, then analyze the remediated inputs."""
        resp = self._rpc("Remediate", analyze_request(r))
        diags = []
        for rem in resp.remediations:
            if rem.diagnostic:
                kind, message = classify(rem.diagnostic, self._version())
                diags.append(Diagnostic(rem.policyName, "advisory", r.urn, message, rem.description,
                                        "", rem.policyPackName, self._version(), kind))
            elif rem.HasField("properties"):
                r = Resource(**{**r.__dict__, "properties": rem.properties})
        return r, diags

    def _version(self) -> str:
        return self.info.version if self.info else self._yaml_version

    def analyze(self, r: Resource) -> list[Diagnostic]:
        """One Analyze RPC (inputs + options + provider) -> diagnostics, each attributed to the
        analyzed resource (the step generator reports them with `OnPolicyViolation(new.URN, d)`)."""
        return _attribute(_diagnostics(self._rpc("Analyze", analyze_request(r)), self._version()), r.urn)

    def analyze_async(self, r: Resource) -> _Pending:
        """Analyze without waiting: the RPC is in flight on return; `.result()` gives diagnostics.
        Blocks while MAX_IN_FLIGHT calls are outstanding."""
        stub = self._connected()
        request = analyze_request(r)
        self._window.acquire()
        try:
            future = stub.Analyze.future(request)
        except BaseException:
            self._window.release()
            raise
        future.add_done_callback(lambda _done: self._window.release())
        return _Pending(self, future, r.urn)

    def analyze_stack(self, resources: Iterable[Resource]) -> list[Diagnostic]:
        """AnalyzeStack once with every resource's outputs and relationships."""
        resources = list(resources)
        req = analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r) for r in resources])
        resp = self._rpc("AnalyzeStack", req, tolerate_unimplemented=True)
        if resp is None:
            return []
        # step_generator.AnalyzeResources: a diagnostic's URN is kept when it names a resource of
        # the stack, otherwise it is reported on the root stack.
        known = {r.urn for r in resources}
        root = f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"
        diags = _diagnostics(resp, self._version())
        for d in diags:
            d.urn = d.urn if d.urn in known else root
        return diags


class _WireLog(grpc.UnaryUnaryClientInterceptor):
    """Counts every RPC as it goes onto the channel (and the URN of every Analyze)."""

    def __init__(self):
        self.calls: collections.Counter = collections.Counter()
        self.analyzed: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def intercept_unary_unary(self, continuation, details, request):
        name = details.method.rsplit("/", 1)[-1]
        with self._lock:
            self.calls[name] += 1
            if name == "Analyze":
                self.analyzed[request.urn] += 1
        return continuation(details, request)


class _Pending:
    def __init__(self, pack: PolicyPack, future, urn: str):
        self._pack, self._future, self._urn = pack, future, urn

    def result(self) -> list[Diagnostic]:
        try:
            return _attribute(_diagnostics(self._future.result(), self._pack._version()), self._urn)
        except grpc.RpcError as exc:
            raise self._pack._rpc_error("Analyze", exc) from None
