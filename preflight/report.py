"""Turn a preflight `Check` into the terminal report (rich) and the JSON report.

The JSON form is documented by `preflight/report.schema.json`; `to_json` produces exactly that.
Everything in it is deterministic for the same program, config and pack, except the `run`
object (timings and the date waivers were evaluated on). Secret values (the SDK's secret
wrapper) are written as ``"[secret]"`` and preview unknowns as ``"(unknown)"``.
"""
from __future__ import annotations

from typing import Any, Optional

from google.protobuf import json_format

from .analyzer_messages import NOT_CHECKED
from .recorder import UNKNOWN

SCHEMA_VERSION = 2
_SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
_LEVEL_STYLE = {"mandatory": "bold red", "remediate": "bold red", "advisory": "yellow", "disabled": "dim"}
# Tree markers, strongest first; the legend under the tree explains them.
MARKERS = (("mandatory", "✗", "bold red", "mandatory violation"),
           ("advisory", "!", "yellow", "advisory violation"),
           ("not-checked", "?", "cyan", "not checked while unknown in preview"),
           ("acknowledged", "~", "green", "acknowledged by a waiver"))


def _clean(value: Any) -> Any:
    """Plain JSON with secrets redacted and unknowns marked."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG[0]) == _SECRET_SIG[1]:
            return "[secret]"
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if value == UNKNOWN:
        return "(unknown)"
    return value


def short_urn(urn: str) -> str:
    """``type::name`` of a URN (the tail the CLI shows)."""
    parts = urn.split("::")
    if len(parts) < 4:
        return urn
    return f"{parts[2].split('$')[-1]}::{'::'.join(parts[3:])}"


def _as_check(obj):
    from .check import Check, from_result
    return obj if isinstance(obj, Check) else from_result(obj)


def counts(check) -> dict[str, int]:
    return {"mandatory": len(check.violations("mandatory")), "advisory": len(check.violations("advisory")),
            "acknowledged": len(check.acknowledged), "notChecked": len(check.not_checked),
            "expiredWaivers": len(check.expired), "unmatchedWaivers": len(check.unmatched),
            "settingWarnings": len(check.setting_warnings)}


def verdict(check) -> str:
    """One line like the CLI's closing line."""
    from .check import MODE_LABEL

    check = _as_check(check)
    c = counts(check)
    r = check.primary
    pack = f"{r.pack_name}@v{r.pack_version}"
    tail = (f"{c['advisory']} advisory, {c['acknowledged']} acknowledged, {c['notChecked']} not "
            f"checked while unknown, {len(r.registrations)} resources, policy pack {pack}")
    mode = MODE_LABEL[check.mode]
    if not check.exit_code:
        return f"{mode} passed: no mandatory policy violations, {tail}"
    why = []
    if c["mandatory"]:
        why.append(f"{c['mandatory']} mandatory policy violation(s)")
    if check.fail_on == "advisory" and c["advisory"]:
        why.append(f"{c['advisory']} advisory violation(s) with --fail-on advisory")
    if check.fail_on == "advisory" and c["settingWarnings"]:
        why.append(f"{c['settingWarnings']} stack setting warning(s) with --fail-on advisory")
    if c["expiredWaivers"]:
        why.append(f"{c['expiredWaivers']} expired waiver(s)")
    return f"{mode} failed: {', '.join(why)}; {tail}"


def _advice_json(check, f) -> Optional[dict]:
    if f.advice is None:
        return None
    file, line = check.setting_location(f)
    return {"kind": f.advice.kind, "text": f.advice.text, "setting": f.advice.setting,
            "argument": f.advice.argument, "file": file, "line": line}


def _waiver_json(w) -> dict:
    return {"rule": w.rule, "resource": w.resource, "reason": w.reason,
            "expires": w.expires.isoformat() if w.expires else None, "file": w.file, "line": w.line}


def to_json(check) -> dict:
    """The documented JSON report (see report.schema.json)."""
    from . import cost
    from .check import levels_of

    check = _as_check(check)
    r = check.primary
    regs = r.registrations
    c = counts(check)
    levels = levels_of(r)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": check.project, "stack": check.stack, "mode": check.mode, "failOn": check.fail_on,
        "error": None,
        "policyPack": {
            "name": r.pack_name, "version": r.pack_version,
            "policies": [{"name": p.name, "type": p.policy_type, "description": p.description,
                          "enforcementLevel": levels[p.name]} for p in r.policies],
        },
        "resources": [{
            "urn": x.urn, "type": x.type, "name": x.name, "custom": x.custom, "parent": x.parent,
            "provider": x.provider, "protect": x.protect, "dependencies": sorted(x.dependencies),
            "propertyDependencies": {k: sorted(v) for k, v in sorted(x.property_dependencies.items())},
            "inputs": _clean(json_format.MessageToDict(x.inputs)),
        } for x in sorted(regs, key=lambda x: x.urn)],
        "findings": [{
            "policyName": f.policy, "policyPackName": f.pack, "policyPackVersion": f.pack_version,
            "enforcementLevel": f.level, "severity": f.severity, "kind": f.kind, "phase": f.phase,
            "urn": f.urn, "resourceType": f.resource_type, "resourceName": f.resource_name,
            "message": f.message, "description": f.description, "advice": _advice_json(check, f),
            "acknowledged": _waiver_json(f.waiver) if f.waiver else None,
            "judgedAtUpdate": f.judged,
        } for f in check.findings],
        "warnings": check.warnings,
        "waivers": {"file": check.waiver_file, "entries": [
            {**_waiver_json(s.waiver), "state": s.state, "matched": s.matched} for s in check.waivers]},
        "cost": cost.to_json(check.cost) if check.cost else None,
        "summary": {
            "resources": len(regs), "customResources": sum(1 for x in regs if x.custom),
            "phases": {p: {"analyzeCalls": res.calls.get("Analyze", 0),
                           "analyzeStackCalls": res.calls.get("AnalyzeStack", 0)}
                       for p, res in check.runs.items()},
            **c, "verdict": "failed" if check.exit_code else "passed", "exitCode": check.exit_code,
            "line": verdict(check),
        },
        "run": {"timings": check.timings, "today": check.today},
    }


def error_json(stack: str, mode: str, fail_on: str, message: str) -> dict:
    """The JSON report of a run that stopped with an error (exit 2): CI keeps an artifact."""
    return {"schemaVersion": SCHEMA_VERSION, "project": None, "stack": stack, "mode": mode,
            "failOn": fail_on, "error": {"message": message},
            "summary": {"verdict": "error", "exitCode": 2, "line": f"preflight: error: {message}"},
            "run": {"timings": {}, "today": ""}}


# ----- console ---------------------------------------------------------------------------------
def _marks(check) -> dict[str, str]:
    state: dict[str, set] = {}
    for f in check.findings:
        s = state.setdefault(f.urn, set())
        if f.waiver is not None:
            s.add("acknowledged")
        elif f.kind == NOT_CHECKED:
            s.add("not-checked")
        elif f.level in ("mandatory", "advisory"):
            s.add(f.level)
    return {urn: "".join(f" [{style}]{mark}[/]" for key, mark, style, _ in MARKERS if key in s)
            for urn, s in state.items()}


def _tree(check):
    from rich.markup import escape
    from rich.tree import Tree

    regs = check.registrations
    children: dict[str, list] = {}
    roots: list = []
    for r in regs:
        (children.setdefault(r.parent, []) if r.parent else roots).append(r)
    marks = _marks(check)

    def label(r) -> str:
        style = "bold" if not r.custom else ""
        prot = " [cyan](protect)[/]" if r.protect else ""
        return f"[{style or 'default'}]{escape(r.name)}[/] [dim]{escape(r.type)}[/]{prot}{marks.get(r.urn, '')}"

    top = Tree(f"[bold]{check.project}-{check.stack}[/]")

    def ordered(items):  # components first, then by name: stable whatever the registration order
        return sorted(items, key=lambda r: (r.custom, r.name, r.type))

    def add(node, r):
        branch = node.add(label(r))
        for child in ordered(children.get(r.urn, [])):
            add(branch, child)

    for r in ordered(roots):
        if r.type == "pulumi:pulumi:Stack":
            for child in ordered(children.get(r.urn, [])):
                add(top, child)
        else:
            add(top, r)
    return top


def legend() -> str:
    items = [f"[{style}]{mark}[/] {text}" for _, mark, style, text in MARKERS]
    return "legend: " + "   ".join(items) + "   [cyan](protect)[/] pulumi protect"


def _finding_lines(check, f, console) -> None:
    from rich.markup import escape

    style = _LEVEL_STYLE.get(f.level, "")
    phase = "  [dim](update, mocked values)[/]" if f.phase == "update" else ""
    console.print(f"  [{style}]{escape(f.policy)}[/]  [dim]{escape(short_urn(f.urn))}[/]{phase}",
                  highlight=False)
    console.print(f"      {f.message}", highlight=False, markup=False)
    if f.advice is not None:
        file, line = check.setting_location(f)
        where = f" ({file}:{line})" if line else ""
        console.print(f"      fix: {f.advice.text}{where}", highlight=False, markup=False)


def print_report(check, console, quiet: bool = False) -> None:
    """Tree (with a legend), violations by level with advice, acknowledged findings, what
    preview could not judge and how the update judged it, waivers, cost, then the verdict."""
    from rich.markup import escape

    check = _as_check(check)
    if not quiet:
        console.print(_tree(check))
        console.print(legend(), highlight=False)
    if check.warnings:  # shown even with --quiet: a setting that is most likely a mistake
        console.print(f"\n[yellow]Program warnings ({len(check.warnings)})[/]")
        for w in check.warnings:
            console.print(f"  [yellow]![/] {escape(w)}", highlight=False)
    failing = {id(f) for f in check.failing}
    for level in ("mandatory", "advisory"):
        items = check.violations(level)
        if quiet:
            items = [f for f in items if id(f) in failing]
        if items:
            console.print(f"\n[{_LEVEL_STYLE[level]}]{level.capitalize()} policy violations ({len(items)})[/]")
            for f in items:
                _finding_lines(check, f, console)
    if check.acknowledged and not quiet:
        console.print(f"\n[green]Acknowledged by waivers ({len(check.acknowledged)}), "
                      f"{escape(check.waiver_file or '')}[/]")
        for f in check.acknowledged:
            w = f.waiver
            until = f", until {w.expires.isoformat()}" if w.expires else ""
            console.print(f"  [green]{escape(f.policy)}[/]  [dim]{escape(short_urn(f.urn))}[/]  "
                          f"{escape(w.reason)} [dim]({escape(w.where)}{until})[/]", highlight=False)
    if check.not_checked and not quiet:
        head = ("judged below with mocked update values" if check.mode == "full" else
                "run the default mode (no --mode preview) to judge them with mocked update values")
        console.print(f"\n[cyan]Not checked while unknown in {check.not_checked[0].phase} "
                      f"({len(check.not_checked)}): {head}[/]")
        for f in check.not_checked:
            result = {"passed": "passed", "violated": "VIOLATED (listed above)",
                      "unknown": "still unknown"}.get(f.judged or "", "")
            result = f"  -> with mocked update values: {result}" if result else ""
            console.print(f"  [cyan]{escape(f.policy)}[/]  [dim]{escape(short_urn(f.urn))}[/]  "
                          f"{escape(f.detail)}{result}", highlight=False)
    for s in check.expired:
        w = s.waiver
        console.print(f"\n[bold red]waiver expired on {w.expires.isoformat()}: {escape(w.rule)} on "
                      f"{escape(w.resource)} ({escape(w.where)}): renew it with a new date and a "
                      f"reason, or fix the finding and remove the waiver[/]", highlight=False)
    for s in check.unmatched:
        w = s.waiver
        if not quiet:
            console.print(f"\n[yellow]waiver matches nothing: {escape(w.rule)} on {escape(w.resource)} "
                          f"({escape(w.where)}): remove it if the finding is gone[/]", highlight=False)
    if check.cost is not None and not quiet:
        from .cost import render_lines
        lines = render_lines(check.cost)
        console.print(f"\n[bold]{escape(lines[0])}[/]", highlight=False)
        for line in lines[1:]:
            console.print(escape(line), highlight=False)
    style = "bold red" if check.exit_code else "bold green"
    console.print(f"\n[{style}]{escape(verdict(check))}[/]", highlight=False)
