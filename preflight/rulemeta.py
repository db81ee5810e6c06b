"""Rule metadata for the CI formats: what the pack says (GetAnalyzerInfo: name, description,
level, severity) plus, for this repository's own pack, the registry's anchors, resource types
and how each rule treats preview unknowns (`policy/rules`), and the settings that fix it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .advice import FIXES
from .run import REPO


@dataclass(frozen=True)
class RuleMeta:
    name: str
    description: str
    level: str                      # reconciled enforcement level in this stack
    severity: str
    anchors: tuple[str, ...] = ()
    types: Optional[tuple[str, ...]] = None    # None: not known (a foreign pack)
    unknown: str = ""

    def help_text(self) -> str:
        parts = [self.description, f"Enforcement level in this stack: {self.level}."]
        if self.anchors:
            parts.append("Anchors: " + ", ".join(self.anchors) + ".")
        if self.unknown:
            parts.append(f"While a value is unknown in preview: {self.unknown}.")
        fixes = FIXES.get(self.name, ())
        settings = sorted({f.setting for f in fixes if f.setting})
        args = sorted({f.argument_path for f in fixes if f.argument_path})
        if settings:
            parts.append("Stack settings that fix it: " + ", ".join(settings) + ".")
        if args:
            parts.append("Component arguments: " + ", ".join(args) + ".")
        return " ".join(parts)

    def help_markdown(self) -> str:
        lines = [self.description, "", f"- enforcement level in this stack: **{self.level}**"]
        if self.anchors:
            lines.append("- anchors: " + ", ".join(f"`{a}`" for a in self.anchors))
        if self.unknown:
            lines.append(f"- while a value is unknown in preview: {self.unknown}")
        for f in FIXES.get(self.name, ()):
            what = " / ".join(x for x in (f"`{f.setting}`" if f.setting else "",
                                          f"`{f.argument_path}`" if f.argument_path else "") if x)
            lines.append(f"- {f.component}: {what + ': ' if what else ''}{f.change}")
        return "\n".join(lines)


def rule_meta(check) -> list[RuleMeta]:
    """One RuleMeta per policy of the pack, sorted by name."""
    from .check import levels_of

    result = check.primary
    levels = levels_of(result)
    registry = _registry(check.pack_dir, result.pack_name)
    out = []
    for p in sorted(result.policies, key=lambda p: p.name):
        rule = registry.get(p.name)
        out.append(RuleMeta(p.name, p.description or "", levels.get(p.name, ""), p.severity or "",
                            tuple(rule.anchors) if rule else (), tuple(rule.types) if rule else None,
                            rule.unknown if rule else ""))
    return out


def _registry(pack_dir: Optional[Path], pack_name: str) -> dict:
    """This repository's rule registry when the pack is `policy/` (never imports other packs)."""
    if pack_dir is None or Path(pack_dir).resolve() != REPO / "policy":
        return {}
    from policy.rules import REGISTRY
    return {r.name: r for r in REGISTRY}
