"""One preflight check: preview and/or update runs of a stack, turned into findings.

`check("prod")` (mode "full", the default) starts the pack once and runs the program twice:

1. preview - ids and provider-computed outputs unknown, as in `pulumi preview`. Rules that
   need such a value report "not checked while unknown" (a NOT_CHECKED finding);
2. update with MOCKED outputs - the values AWS would compute are the mocks' (realistic, not
   real), so those rules run in full. A preview NOT_CHECKED finding is then `judged`
   ("passed" / "violated" with mocked update values); update findings not seen in preview are
   added with phase "update".

Every finding is classified once (analyzer_messages), gets advice in the user's terms
(advice.py), may be acknowledged by a waiver (waivers.py); the stack gets a cost estimate
(cost.py). `exit_code`: 1 on a mandatory violation (or an advisory one with fail_on
"advisory", or an expired waiver), else 0; bad input raises PreflightError (exit 2).
"""
from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from .advice import Advice, advise, component_of
from .analyzer_messages import NOT_CHECKED, VIOLATION
from .run import REPO, PreflightError, Result, prepare, run_with_pack
from .waivers import Waiver, WaiverError, WaiverStatus, apply, check_rules, load_waivers

MODES = ("full", "preview", "update")
PHASES = ("preview", "update")
FAIL_ON = ("mandatory", "advisory")
MODE_LABEL = {"full": "preview + update (mocked outputs)", "preview": "preview",
              "update": "update (mocked outputs)"}


SETTING_WARNING_RULE = "stack-setting-warning"
_SETTING_WARNING = re.compile(r"stack config (?P<key>[A-Za-z][\w-]*:[A-Za-z]\w*) = ")


@dataclass(frozen=True)
class SettingWarning:
    """A program warning about one stack setting, with where the setting is."""

    key: str                       # aurorakit:hostIngressCidrs
    text: str
    file: str
    line: Optional[int]


@dataclass
class Finding:
    """One diagnostic of one phase, with what preflight adds (advice, waiver, judgement)."""

    policy: str
    level: str                 # enforcement level: advisory | mandatory | remediate | disabled
    kind: str                  # VIOLATION | NOT_CHECKED
    phase: str                 # preview | update
    urn: str
    message: str               # the pack's message (description line removed)
    description: str
    severity: str
    pack: str
    pack_version: str
    resource_type: str
    resource_name: str
    advice: Optional[Advice] = None
    waiver: Optional[Waiver] = None
    judged: Optional[str] = None   # NOT_CHECKED in preview, full mode: passed | violated | unknown

    @property
    def detail(self) -> str:
        """For NOT_CHECKED: what was unknown (the text after the SDK's prefix and after this
        pack's own "not checked while unknown: ")."""
        if self.kind != NOT_CHECKED:
            return self.message
        return self.message.split(" during preview: ", 1)[-1].removeprefix("not checked while unknown: ")

    @property
    def short(self) -> str:
        return f"{self.resource_type.split(':')[-1] if self.resource_type else '?'}::{self.resource_name}"

    def key(self) -> tuple:
        return (self.policy, self.urn, self.kind, self.message)


@dataclass
class Check:
    """Everything one check produced; the CLI renders it (report.py, sarif.py, junit.py)."""

    project: str
    stack: str
    mode: str
    fail_on: str
    runs: dict                     # phase -> run.Result
    findings: list
    waivers: list                  # [WaiverStatus]
    waiver_file: Optional[str]
    cost: Any                      # cost.Estimate or None
    own_program: bool
    stack_file: Optional[str]      # relative to the working directory when possible
    program_file: str
    config: Any                    # stackconfig.StackConfig
    pack_dir: Optional[Path] = None
    timings: dict = field(default_factory=dict)
    today: str = ""

    @property
    def warnings(self) -> list[str]:
        """The program's warnings (e.g. a stack setting that is valid but most likely a mistake),
        once each over the runs."""
        seen: list[str] = []
        for result in self.runs.values():
            seen += [w for w in result.warnings if w not in seen]
        return seen

    @property
    def setting_warnings(self) -> list[SettingWarning]:
        """The warnings about a stack setting (valid but most likely a mistake): advisory findings
        of the stack file, blocking with --fail-on advisory. Other program warnings (e.g. boot
        artifacts not built here) describe this machine, not the stack, and stay warnings."""
        out = []
        for text in self.warnings:
            m = _SETTING_WARNING.match(text)
            if m:
                line = self.config.lines.get(m["key"]) if self.stack_file else None
                where = self.stack_file if line and self.stack_file else self.program_file
                out.append(SettingWarning(m["key"], text, where, line))
        return out

    @property
    def primary(self) -> Result:
        return self.runs.get("preview") or self.runs["update"]

    @property
    def registrations(self) -> list:
        return self.primary.registrations

    def violations(self, level: str) -> list:
        return [f for f in self.findings if f.kind == VIOLATION and f.level == level and f.waiver is None]

    @property
    def acknowledged(self) -> list:
        return [f for f in self.findings if f.waiver is not None]

    @property
    def not_checked(self) -> list:
        return [f for f in self.findings if f.kind == NOT_CHECKED]

    @property
    def expired(self) -> list[WaiverStatus]:
        return [s for s in self.waivers if s.expired]

    @property
    def unmatched(self) -> list[WaiverStatus]:
        return [s for s in self.waivers if s.state == "unmatched"]

    @property
    def failing(self) -> list:
        levels = ("mandatory",) if self.fail_on == "mandatory" else ("mandatory", "advisory")
        return [f for level in levels for f in self.violations(level)]

    @property
    def exit_code(self) -> int:
        blocking_warnings = self.fail_on == "advisory" and self.setting_warnings
        return 1 if self.failing or self.expired or blocking_warnings else 0

    def setting_location(self, finding: Finding) -> tuple[str, Optional[int]]:
        """(file, line): the stack file line of the setting the advice names, else the program."""
        setting = finding.advice.setting if finding.advice else None
        if setting and self.stack_file:
            line = self.config.lines.get(setting)
            if line:
                return self.stack_file, line
        return self.program_file, None


def _display(path: Optional[Path]) -> Optional[str]:
    if path is None:
        return None
    path = Path(path).resolve()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _violation_text(d) -> str:
    lines = d.message.splitlines()
    if len(lines) > 1 and lines[0] == d.description:
        lines = lines[1:]
    return " ".join(ln.strip() for ln in lines if ln.strip()) or d.description


def _findings(result: Result, phase: str, own_program: bool, stack_file: str, config) -> list[Finding]:
    by_urn = {r.urn: r for r in result.registrations}
    out = []
    config = dict(config)
    for d in result.diagnostics:
        reg = by_urn.get(d.urn)
        rtype, name = (reg.type, reg.name) if reg else ("", d.urn.rsplit("::", 1)[-1])
        f = Finding(d.policy_name, d.enforcement_level, d.kind, phase, d.urn, _violation_text(d),
                    d.description, d.severity, d.policy_pack_name or result.pack_name,
                    d.policy_pack_version or result.pack_version, rtype, name)
        if f.kind == VIOLATION:
            f.advice = advise(f.policy, rtype, component_of(d.urn, by_urn), own_program,
                              stack_file, config)
        out.append(f)
    return out


def _stack_urn(result: Result) -> str:
    return next((r.urn for r in result.registrations if r.type == "pulumi:pulumi:Stack"), "")


def merge(preview: list[Finding], update: list[Finding], stack_urn: str = "") -> list[Finding]:
    """Preview findings, judged by the update's; update findings not seen in preview added."""
    seen = {f.key() for f in preview}
    out = list(preview)
    out += [f for f in update if f.key() not in seen]
    for f in preview:
        if f.kind != NOT_CHECKED:
            continue
        same = [u for u in update if u.policy == f.policy and (u.urn == f.urn or f.urn == stack_urn)]
        if any(u.kind == VIOLATION for u in same):
            f.judged = "violated"
        elif any(u.kind == NOT_CHECKED for u in same):
            f.judged = "unknown"
        else:
            f.judged = "passed"
    return out


def _sort(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.policy, f.urn, PHASES.index(f.phase), f.kind, f.message))


def levels_of(result: Result) -> dict[str, str]:
    """Each policy's reconciled enforcement level in this run."""
    out = {}
    for p in result.policies:
        cfg = result.policy_config.get(p.name)
        out[p.name] = cfg.enforcement_level if cfg and cfg.enforcement_level else p.enforcement_level
    return out


def _waiver_path(waivers, pack_dir: Path, stack: str) -> Optional[Path]:
    if waivers is None:
        return None
    if isinstance(waivers, str) and waivers == "default":
        default = pack_dir / "waivers" / f"{stack}.yaml"
        return default if default.is_file() else None
    return Path(waivers)


def check(stack: str, *, mode: str = "full", program_dir: Union[str, Path] = REPO,
          pack_dir: Union[str, Path, None] = None, policy_config: Any = "default",
          waivers: Union[str, Path, None] = "default", fail_on: str = "mandatory",
          config_overrides: Optional[Mapping[str, Any]] = None,
          today: Optional[datetime.date] = None, with_cost: bool = True) -> Check:
    """Run `stack` in `mode` (full | preview | update) and build the findings."""
    if mode not in MODES:
        raise PreflightError(f"mode {mode!r}: allowed values are {', '.join(MODES)}")
    if fail_on not in FAIL_ON:
        raise PreflightError(f"fail-on {fail_on!r}: allowed values are {', '.join(FAIL_ON)}")
    t0 = time.perf_counter()
    setup = prepare(stack, program_dir=program_dir, pack_dir=pack_dir, policy_config=policy_config,
                    config_overrides=config_overrides)
    waiver_path = _waiver_path(waivers, setup.pack_dir, stack)
    try:
        loaded = load_waivers(waiver_path, _display(waiver_path)) if waiver_path else []
    except WaiverError as exc:
        raise PreflightError(str(exc)) from None
    phases = PHASES if mode == "full" else (mode,)
    runs: dict[str, Result] = {}
    with setup.start_pack(phases[0] == "preview") as pack:
        for phase in phases:
            runs[phase] = run_with_pack(pack, setup.config, setup.main, setup.program_dir,
                                        setup.file_config, phase == "preview")
    return build(runs, setup, mode=mode, fail_on=fail_on, waivers=loaded,
                 waiver_file=_display(waiver_path), today=today, with_cost=with_cost,
                 total=time.perf_counter() - t0)


def _own_program(program_dir: Path, project: str) -> bool:
    """This project's program (its stack settings are what advice names): this checkout, or any
    copy of it (same project name in Pulumi.yaml); a program of one's own gets argument names."""
    if program_dir.resolve() == REPO:
        return True
    import yaml

    try:
        ours = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")).get("name")
    except (OSError, yaml.YAMLError, AttributeError):
        return False
    return bool(ours) and project == ours


def build(runs: dict, setup, *, mode: str, fail_on: str = "mandatory", waivers: Optional[list] = None,
          waiver_file: Optional[str] = None, today: Optional[datetime.date] = None,
          with_cost: bool = True, total: Optional[float] = None) -> Check:
    """Findings, waivers and cost from already finished runs (phase -> Result)."""
    cfg = setup.config
    own = _own_program(Path(setup.program_dir), cfg.project)
    stack_file = _display(cfg.path)
    label = stack_file or f"Pulumi.{cfg.stack}.yaml"
    per_phase = {p: _findings(r, p, own, label, cfg) for p, r in runs.items()}
    if "preview" in per_phase and "update" in per_phase:
        findings = merge(per_phase["preview"], per_phase["update"], _stack_urn(runs["preview"]))
    else:
        findings = next(iter(per_phase.values()))
    first = runs.get("preview") or runs["update"]
    waivers = waivers or []
    try:
        check_rules(waivers, levels_of(first), cfg.stack)
    except WaiverError as exc:
        raise PreflightError(str(exc)) from None
    today = today or datetime.date.today()
    statuses = apply(waivers, findings, today)
    estimate = None
    if with_cost:
        from .cost import estimate as cost_estimate
        estimate = cost_estimate(first.registrations, cfg.get("aws:region", "eu-west-1"))
    timings: dict[str, Any] = {p: dict(r.timings) for p, r in runs.items()}
    if total is not None:
        timings["total"] = round(total, 3)
    return Check(cfg.project, cfg.stack, mode, fail_on, runs, _sort(findings), statuses, waiver_file,
                 estimate, own, stack_file, _display(setup.main) or str(setup.main), cfg,
                 Path(setup.pack_dir), timings, today.isoformat())


def from_result(result: Result) -> Check:
    """A Check for one finished run (no waivers), e.g. from `run.run(...)`."""
    from .run import Setup
    from .stackconfig import load_stack_config

    program_dir = Path(result.program_dir or REPO).resolve()
    try:
        cfg = load_stack_config(result.stack, program_dir)
    except Exception:  # noqa: BLE001 - a programmatic result without its files: no locations
        from .stackconfig import StackConfig
        cfg = StackConfig({}, project=result.project, stack=result.stack)
    setup = Setup(cfg, program_dir / "__main__.py", program_dir, Path(result.pack_dir or REPO / "policy"), None)
    phase = "preview" if result.preview else "update"
    return build({phase: result}, setup, mode=phase, with_cost=True)


def env_today() -> Optional[datetime.date]:
    """PREFLIGHT_TODAY=YYYY-MM-DD pins the waiver-expiry date (tests, reproducible CI reruns)."""
    value = os.environ.get("PREFLIGHT_TODAY")
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise PreflightError(f"PREFLIGHT_TODAY {value!r}: use a date like 2027-06-30") from None
