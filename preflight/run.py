"""Run one stack through preflight: program under recording mocks -> policy pack -> Result.

Programmatic entry (the CLI and the policy tests use it)::

    from preflight.run import run
    result = run("prod", config_overrides={"aurorakit:publicHost": "true"})
    result.exit_code            # 0 ok, 1 mandatory violations
    result.diagnostics          # [analyzer.Diagnostic], Analyze + AnalyzeStack
    result.mandatory            # the mandatory ones

Bad input raises `PreflightError` (one clear line; the CLI exits 2). The pack process is started
before the program runs (as the engine loads policy packs before running the program), is
configured in the background, analyzes each resource as soon as it is registered (several
Analyze calls in flight) and is always stopped before `run` returns or raises.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import queue
import runpy
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from .analyzer import Diagnostic, PolicyPack, PolicyPackError
from .policyconfig import PolicyConfig, PolicyConfigError, load_policy_config
from .stackconfig import StackConfigError, load_stack_config

REPO = Path(__file__).resolve().parent.parent
_DONE = object()


class PreflightError(Exception):
    """Usage, config, pack or program error: the CLI prints it on one line and exits 2."""


@dataclass
class Result:
    """Everything one run produced (see `report.to_json` for the documented JSON form)."""

    project: str
    stack: str
    preview: bool
    registrations: list
    diagnostics: list
    policies: list
    policy_config: dict
    pack_name: str
    pack_version: str
    calls: dict        # RPC name -> count, counted on the gRPC channel
    analyzed: dict     # URN -> Analyze RPCs sent for it (the engine sends exactly one each)
    timings: dict = field(default_factory=dict)
    program_dir: Optional[Path] = None
    pack_dir: Optional[Path] = None
    warnings: list = field(default_factory=list)  # the program's warnings (pulumi.log.warn), in order

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.enforcement_level == "mandatory"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0


def _program_error(exc: BaseException, main: Path) -> PreflightError:
    """The program's error: a RunError (e.g. every invalid stack setting, one per line) whole,
    anything else by its last line."""
    import pulumi

    msg = str(exc).strip().splitlines()
    text = "\n".join(msg) if isinstance(exc, pulumi.RunError) else (msg[-1] if msg else "")
    return PreflightError(f"program {main} failed: {type(exc).__name__}: {text}".rstrip(": "))


class _Analyzer(threading.Thread):
    """Configures the pack, then analyzes registrations from a queue as they arrive."""

    def __init__(self, pack: PolicyPack, file_config, providers: dict):
        super().__init__(daemon=True, name="preflight-analyzer")
        self.pack, self.file_config, self.providers = pack, file_config, providers
        self.inbox: queue.Queue = queue.Queue()
        self.pending: list = []
        self.diagnostics: list[Diagnostic] = []
        self.error: Optional[BaseException] = None
        self.ready_at = 0.0

    def run(self) -> None:
        try:
            self.pack.configure(self.file_config)
            self.ready_at = time.perf_counter()
            while True:
                reg = self.inbox.get()
                if reg is _DONE:
                    return
                res = reg.as_resource("analyze", self.providers)
                # The engine calls Remediate before Analyze for every resource; the Python
                # server only remediates at level "remediate", so the call is skipped otherwise.
                if self.pack.remediates:
                    res, diags = self.pack.remediate(res)
                    self.diagnostics.extend(diags)
                self.pending.append(self.pack.analyze_async(res))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc


def _entry_point(program_dir: Path) -> Path:
    """The file the Python language host runs: Pulumi.yaml's `main` (a file, or a directory
    holding __main__.py), else <program>/__main__.py."""
    import yaml

    project = yaml.safe_load((program_dir / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    main = program_dir / str(project.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise PreflightError(f"program {main}: file not found")
    return main


def _run_program(main: Path, program_dir: Path) -> None:
    import pulumi.runtime.stack as pstack
    from pulumi.runtime.sync_await import _sync_await

    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(program_dir)
    sys.path.insert(0, str(main.parent))
    try:
        def program() -> None:
            runpy.run_path(str(main), run_name="__main__")

        _sync_await(pstack.run_pulumi_func(program))
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _drop_leftovers() -> None:
    """Cancel what a previous program left on the SDK's event loop (a failed run leaves
    registrations pending; they must not land in the next run's monitor). As
    `pulumi.runtime.test` does, also forget outstanding RPCs and outputs."""
    import asyncio

    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.sync_await import _ensure_event_loop

    loop = _ensure_event_loop()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()


def _stack_outputs(monitor) -> None:
    """The stack's exports become the Stack resource's outputs (SDK: Stack._finish)."""
    from pulumi.runtime import rpc, settings
    from pulumi.runtime.sync_await import _sync_await

    root = settings.get_root_resource()
    stack_reg = next((r for r in monitor.registrations if r.type == "pulumi:pulumi:Stack"), None)
    if root is None or stack_reg is None:
        return
    stack_reg.outputs = _sync_await(rpc.serialize_properties(dict(getattr(root, "outputs", {})), {}))


def run(stack: str, *, program_dir: Union[str, Path] = REPO, pack_dir: Union[str, Path, None] = None,
        policy_config: Union[str, Path, Mapping[str, PolicyConfig], None] = "default",
        config_overrides: Optional[Mapping[str, Any]] = None, preview: bool = True) -> Result:
    """Run `stack` of the program in `program_dir` against the pack in `pack_dir`.

    policy_config: a file path, an already-parsed map, None (pack defaults only) or "default"
    (``<pack>/config/<stack>.json`` when it exists). config_overrides: stack-config keys to
    replace (None removes a key), e.g. for broken variants of prod.
    """
    t0 = time.perf_counter()
    setup = prepare(stack, program_dir=program_dir, pack_dir=pack_dir, policy_config=policy_config,
                    config_overrides=config_overrides)
    with setup.start_pack(preview) as pack:
        return run_with_pack(pack, setup.config, setup.main, setup.program_dir, setup.file_config,
                             preview, t0)


@dataclass(frozen=True)
class Setup:
    """What a run needs before the pack starts: the stack config, the program's entry point,
    the pack directory and the parsed policy config (see `prepare`)."""

    config: Any          # stackconfig.StackConfig
    main: Path
    program_dir: Path
    pack_dir: Path
    file_config: Any     # parsed policy config or None

    def start_pack(self, preview: bool = True) -> PolicyPack:
        cfg = self.config
        try:
            return PolicyPack(str(self.pack_dir), project=cfg.project, stack=cfg.stack,
                              dry_run=preview, config=cfg, secret_keys=cfg.secret_keys)
        except PolicyPackError as exc:
            raise PreflightError(str(exc)) from None


def prepare(stack: str, *, program_dir: Union[str, Path] = REPO, pack_dir: Union[str, Path, None] = None,
            policy_config: Union[str, Path, Mapping[str, PolicyConfig], None] = "default",
            config_overrides: Optional[Mapping[str, Any]] = None) -> Setup:
    """Read the stack config and the policy config (PreflightError on bad input)."""
    program_dir = Path(program_dir).resolve()
    pack_dir = Path(pack_dir).resolve() if pack_dir else REPO / "policy"
    try:
        cfg = load_stack_config(stack, program_dir)
        if config_overrides:
            cfg = cfg.with_overrides(config_overrides)
    except StackConfigError as exc:
        raise PreflightError(str(exc)) from None
    main = _entry_point(program_dir)
    if isinstance(policy_config, str) and policy_config == "default":
        default = pack_dir / "config" / f"{stack}.json"
        policy_config = default if default.is_file() else None
    try:
        file_config = load_policy_config(str(policy_config)) if isinstance(policy_config, (str, Path)) \
            else policy_config
    except PolicyConfigError as exc:
        raise PreflightError(str(exc)) from None
    return Setup(cfg, main, program_dir, pack_dir, file_config)


@contextlib.contextmanager
def _gc_paused():
    """No cyclic GC while the program runs and is analyzed. A run keeps every Output, future and
    request alive to its end, so each generational collection rescans all of them and the run
    grows superlinearly (5,025 resources: program phase 22.9 s with the GC, 9.8 s without;
    docs/BENCHMARKS.md). A run makes little cyclic garbage; the GC resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Collect(logging.Handler):
    def __init__(self, into: list):
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.into:
            self.into.append(message)


def _program_log() -> tuple[list, logging.Logger]:
    """A fresh logger for the engine's Log RPC (what `pulumi.log.warn` sends): warnings and errors
    are collected for the report instead of going to stderr."""
    warnings: list = []
    logger = logging.Logger("preflight.program")  # not registered: no handlers shared between runs
    logger.addHandler(_Collect(warnings))
    logger.propagate = False
    return warnings, logger


def run_with_pack(pack: PolicyPack, cfg, main: Path, program_dir: Path, file_config=None,
                  preview: bool = True, t0: Optional[float] = None) -> Result:
    """One run on an already started pack (tests reuse one pack process for many runs).

    `cfg` is a StackConfig (`stackconfig.load_stack_config(...).with_overrides(...)`), `main` the
    program file, `file_config` a parsed policy config (or None). The pack is configured afresh
    (Configure + ConfigureStack with this run's config); `calls`/`analyzed` count this run only.
    The pack's process environment (PULUMI_CONFIG) keeps the config it was started with.
    """
    with _gc_paused():
        return _run_with_pack(pack, cfg, main, program_dir, file_config, preview, t0)


def _run_with_pack(pack, cfg, main, program_dir, file_config, preview, t0) -> Result:
    from .mocks import RecordingMocks, install_mocks
    from .recorder import RecordingMonitor

    t0 = time.perf_counter() if t0 is None else t0
    calls0, analyzed0 = collections.Counter(pack.calls), collections.Counter(pack.analyzed)
    pack.config, pack.secret_keys, pack.dry_run = dict(cfg), sorted(cfg.secret_keys), preview

    providers: dict = {}
    worker = _Analyzer(pack, file_config, providers)
    worker.start()

    def on_register(reg):
        if reg.type.startswith("pulumi:providers:"):
            providers[reg.urn] = reg
        worker.inbox.put(reg)

    mocks = RecordingMocks(region=cfg.get("aws:region", "eu-west-1"))
    monitor = RecordingMonitor(mocks, preview=preview, config=cfg, on_register=on_register)
    warnings, logger = _program_log()
    t_prog = time.perf_counter()
    try:
        _drop_leftovers()
        install_mocks(cfg, project=cfg.project, stack=cfg.stack, preview=preview, mocks=mocks,
                      monitor=monitor, secret_keys=sorted(cfg.secret_keys), logger=logger)
        _run_program(main, program_dir)
        _stack_outputs(monitor)
    except Exception as exc:  # noqa: BLE001 - any program failure is reported on one line
        worker.inbox.put(_DONE)
        _drop_leftovers()
        worker.join()  # nothing of this run may still be in flight when the pack is reused
        for pending in worker.pending:
            try:
                pending.result()
            except PolicyPackError:
                pass
        raise _program_error(exc, main) from exc
    finally:
        worker.inbox.put(_DONE)
    t_prog_done = time.perf_counter()
    worker.join()
    if worker.error is not None:
        err = worker.error
        if isinstance(err, (PolicyConfigError, PolicyPackError)):
            raise PreflightError(str(err)) from None
        raise err
    try:
        diagnostics = list(worker.diagnostics)
        for pending in worker.pending:
            diagnostics.extend(pending.result())
        t_an = time.perf_counter()
        regs = list(monitor.registrations)
        diagnostics.extend(pack.analyze_stack([r.as_resource("stack", providers) for r in regs]))
    except PolicyPackError as exc:
        raise PreflightError(str(exc)) from None
    t_end = time.perf_counter()
    info = pack.info
    return Result(
        project=cfg.project, stack=cfg.stack, preview=preview, registrations=regs,
        diagnostics=diagnostics, policies=list(info.policies), policy_config=dict(pack.policy_config),
        pack_name=info.name, pack_version=info.version, calls=dict(pack.calls - calls0),
        analyzed=dict(pack.analyzed - analyzed0),
        timings={"pack_start": round(pack.start_seconds, 3),
                 "program": round(t_prog_done - t_prog, 3),
                 "analyze_wait": round(t_an - t_prog_done, 3),
                 "analyze_stack": round(t_end - t_an, 3),
                 "total": round(t_end - t0, 3)},
        program_dir=Path(program_dir), pack_dir=Path(pack.pack_dir), warnings=warnings)


def record(stack: str, *, program_dir: Union[str, Path] = REPO, preview: bool = True,
           main: Union[str, Path, None] = None) -> list:
    """Only the program under the recording mocks (no policy pack): the registrations, e.g. for
    the cost estimate in the README (docs/sync_readme.py). `main` overrides the entry point the
    project names (e.g. a driver for a YAML program). PreflightError on bad input."""
    from .mocks import RecordingMocks, install_mocks
    from .recorder import RecordingMonitor

    program_dir = Path(program_dir).resolve()
    try:
        cfg = load_stack_config(stack, program_dir)
    except StackConfigError as exc:
        raise PreflightError(str(exc)) from None
    main = Path(main) if main else _entry_point(program_dir)
    mocks = RecordingMocks(region=cfg.get("aws:region", "eu-west-1"))
    monitor = RecordingMonitor(mocks, preview=preview, config=cfg)
    with _gc_paused():
        try:
            _drop_leftovers()
            install_mocks(cfg, project=cfg.project, stack=cfg.stack, preview=preview, mocks=mocks,
                          monitor=monitor, secret_keys=sorted(cfg.secret_keys), logger=_program_log()[1])
            _run_program(main, program_dir)
        except Exception as exc:  # noqa: BLE001 - one line, as in run()
            _drop_leftovers()
            raise _program_error(exc, main) from exc
    return list(monitor.registrations)
