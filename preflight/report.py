"""Turn a preflight `Result` into the terminal report (rich) and the JSON report.

The JSON form is documented by `preflight/report.schema.json`; `to_json` produces exactly that.
Secret values (the SDK's secret wrapper) are written as ``"[secret]"`` and preview unknowns as
``"(unknown)"``, so the report never carries a secret.
"""
from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from .recorder import UNKNOWN

SCHEMA_VERSION = 1
_SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
_LEVEL_ORDER = ("mandatory", "remediate", "advisory", "disabled")
_LEVEL_STYLE = {"mandatory": "bold red", "remediate": "bold red", "advisory": "yellow", "disabled": "dim"}


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


def violation_text(d) -> str:
    """The pack's message without the description line it prepends (shown separately)."""
    lines = d.message.splitlines()
    if len(lines) > 1 and lines[0] == d.description:
        lines = lines[1:]
    return " ".join(ln.strip() for ln in lines if ln.strip()) or d.description


def counts(result) -> dict[str, int]:
    out = {level: 0 for level in _LEVEL_ORDER}
    for d in result.diagnostics:
        out[d.enforcement_level] = out.get(d.enforcement_level, 0) + 1
    return out


def verdict(result) -> str:
    """One line like the CLI's closing line."""
    c = counts(result)
    n = len(result.registrations)
    pack = f"{result.pack_name}@v{result.pack_version}"
    mode = "preview" if result.preview else "update (mock outputs)"
    if result.exit_code:
        return (f"{mode} failed: {c['mandatory']} mandatory policy violation(s), {c['advisory']} advisory, "
                f"{n} resources, policy pack {pack}")
    return f"{mode} passed: no mandatory policy violations, {c['advisory']} advisory, {n} resources, policy pack {pack}"


def to_json(result) -> dict:
    """The documented JSON report (see report.schema.json)."""
    regs = result.registrations
    c = counts(result)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": result.project,
        "stack": result.stack,
        "preview": result.preview,
        "policyPack": {
            "name": result.pack_name, "version": result.pack_version,
            "policies": [{"name": p.name, "type": p.policy_type, "description": p.description,
                          "enforcementLevel": (result.policy_config.get(p.name).enforcement_level
                                               if result.policy_config.get(p.name) else p.enforcement_level)}
                         for p in result.policies],
        },
        "resources": [{
            "urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
            "provider": r.provider, "protect": r.protect, "dependencies": sorted(r.dependencies),
            "propertyDependencies": {k: sorted(v) for k, v in sorted(r.property_dependencies.items())},
            "inputs": _clean(json_format.MessageToDict(r.inputs)),
        } for r in sorted(regs, key=lambda r: r.urn)],
        "diagnostics": [{
            "policyName": d.policy_name, "policyPackName": d.policy_pack_name,
            "policyPackVersion": d.policy_pack_version, "enforcementLevel": d.enforcement_level,
            "severity": d.severity, "urn": d.urn, "message": d.message, "description": d.description,
        } for d in sorted(result.diagnostics, key=lambda d: (d.policy_name, d.urn, d.message))],
        "summary": {
            "resources": len(regs), "customResources": sum(1 for r in regs if r.custom),
            "analyzeCalls": result.calls.get("Analyze", 0),
            "analyzeStackCalls": result.calls.get("AnalyzeStack", 0),
            "mandatory": c["mandatory"], "advisory": c["advisory"],
            "verdict": "failed" if result.exit_code else "passed", "exitCode": result.exit_code,
            "line": verdict(result), "timings": dict(result.timings),
        },
    }


def _tree(result):
    from rich.markup import escape
    from rich.tree import Tree

    regs = result.registrations
    children: dict[str, list] = {}
    roots = []
    for r in regs:
        (children.setdefault(r.parent, []) if r.parent else roots).append(r)
    flagged: dict[str, str] = {}
    for d in result.diagnostics:
        if flagged.get(d.urn) != "mandatory":
            flagged[d.urn] = d.enforcement_level

    def label(r) -> str:
        style = "bold" if not r.custom else ""
        mark = {"mandatory": " [bold red]✗[/]", "advisory": " [yellow]![/]"}.get(flagged.get(r.urn, ""), "")
        prot = " [cyan](protect)[/]" if r.protect else ""
        return f"[{style or 'default'}]{escape(r.name)}[/] [dim]{escape(r.type)}[/]{prot}{mark}"

    top = Tree(f"[bold]{result.project}-{result.stack}[/]")

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


def print_report(result, console, quiet: bool = False) -> None:
    """Resource tree by component, violations grouped by level, then the verdict line."""
    from rich.markup import escape

    if not quiet:
        console.print(_tree(result))
    by_level: dict[str, list] = {}
    for d in result.diagnostics:
        by_level.setdefault(d.enforcement_level, []).append(d)
    for level in _LEVEL_ORDER:
        diags = by_level.get(level, [])
        if not diags or (quiet and level not in ("mandatory", "remediate")):
            continue
        console.print(f"\n[{_LEVEL_STYLE[level]}]{level.capitalize()} policy violations ({len(diags)})[/]")
        for d in sorted(diags, key=lambda x: (x.policy_name, x.urn)):
            console.print(f"  [{_LEVEL_STYLE[level]}]{escape(d.policy_name)}[/]  [dim]{escape(short_urn(d.urn))}[/]", soft_wrap=True,
                          highlight=False)
            console.print(f"      {violation_text(d)}", highlight=False, markup=False, soft_wrap=True)
    style = "bold red" if result.exit_code else "bold green"
    console.print(f"\n[{style}]{escape(verdict(result))}[/]", highlight=False, soft_wrap=True)
