"""Waivers: a stack acknowledges expected ADVISORY findings in a reviewed file, with a reason.

File: ``<pack>/waivers/<stack>.yaml`` (this project: ``policy/waivers/dev.yaml``), or
``--waivers FILE``::

    waivers:
      - rule: rds-aurora-mysql-backtrack     # a policy of the pack
        resource: db-cluster                 # logical name, type::name, a full URN, or "*"
        reason: dev is disposable; backtrack is a prod safety net
        expires: 2027-06-30                  # optional; the last day the waiver holds

Rules (checked, never silent):
* a waiver acknowledges only an advisory VIOLATION; a "not checked while unknown" finding is
  not a violation and is never acknowledged;
* a waiver naming a rule that is MANDATORY in this stack's policy config is an error (exit 2):
  a mandatory rule is relaxed only in ``policy/config/<stack>.json``, reviewed like code, as
  dev does for its disposable-stack rules; so no waiver can hide a mandatory violation in prod;
* an acknowledged finding is still reported, as acknowledged, and counted separately;
* an expired waiver acknowledges nothing and fails the run (exit 1) until it is renewed or
  removed; a waiver that matches no finding is reported.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

_KEYS = ("rule", "resource", "reason", "expires")


class WaiverError(Exception):
    """A malformed waiver file or a waiver that may not exist (one line, exit 2)."""


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    expires: Optional[datetime.date]
    file: str
    line: int

    def matches(self, policy: str, urn: str) -> bool:
        if policy != self.rule:
            return False
        if self.resource in ("*", urn):
            return True
        qualified, _, name = urn.rpartition("::")
        rtype = qualified.rsplit("::", 1)[-1].split("$")[-1]
        return self.resource in (name, f"{rtype}::{name}")

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class WaiverStatus:
    """How one waiver fared in a run: matched findings, or unmatched, or expired."""

    waiver: Waiver
    matched: int = 0
    expired: bool = False

    @property
    def state(self) -> str:
        return "expired" if self.expired else ("active" if self.matched else "unmatched")


def _date(value: Any, where: str) -> Optional[datetime.date]:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiverError(f"{where}: expires {value!r}: use a date like 2027-06-30")


def load_waivers(path: Path, label: Optional[str] = None) -> list[Waiver]:
    """Parse and check a waiver file (raises WaiverError naming the file, line and key)."""
    import yaml

    class _Loader(yaml.SafeLoader):  # dates stay text: _date() judges them with file and line
        yaml_implicit_resolvers = {first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
                                   for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except OSError as exc:
        raise WaiverError(f"{label}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise WaiverError(f"{label}: not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None or root is None:  # an empty file (both parse the same text)
        return []
    if not isinstance(data, dict) or set(data) != {"waivers"} or not isinstance(data["waivers"], list):
        raise WaiverError(f"{label}: expected a mapping with one key, waivers: a list of "
                          f"{{rule, resource, reason, expires?}}")
    nodes = next(v for k, v in root.value if k.value == "waivers").value
    out: list[Waiver] = []
    seen: dict[tuple[str, str], int] = {}
    for item, node in zip(data["waivers"], nodes, strict=True):
        line = node.start_mark.line + 1
        where = f"{label}:{line}"
        if not isinstance(item, dict):
            raise WaiverError(f"{where}: a waiver is a mapping with rule, resource, reason, expires")
        unknown = sorted(set(map(str, item)) - set(_KEYS))
        if unknown:
            raise WaiverError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(_KEYS)})")
        for key in ("rule", "resource", "reason"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise WaiverError(f"{where}: {key} is required (a non-empty string)")
        waiver = Waiver(item["rule"].strip(), item["resource"].strip(), " ".join(item["reason"].split()),
                        _date(item.get("expires"), where), label, line)
        first = seen.setdefault((waiver.rule, waiver.resource), line)
        if first != line:
            raise WaiverError(f"{where}: duplicate waiver for {waiver.rule} on {waiver.resource} "
                              f"(first at line {first})")
        out.append(waiver)
    return out


def check_rules(waivers: Iterable[Waiver], levels: dict[str, str], stack: str) -> None:
    """Every waiver names a policy of the pack that is advisory in this stack."""
    for w in waivers:
        level = levels.get(w.rule)
        if level is None:
            raise WaiverError(f"{w.where}: rule {w.rule!r} is not a policy of the pack "
                              f"(known: {', '.join(sorted(levels)[:6])}, ...)")
        if level in ("mandatory", "remediate"):
            raise WaiverError(f"{w.where}: rule {w.rule!r} is {level} in stack {stack!r}; a waiver "
                              "acknowledges advisory findings only (relax a rule in the stack's "
                              "policy config, reviewed, if it really must be)")


def apply(waivers: list[Waiver], findings: list, today: datetime.date) -> list[WaiverStatus]:
    """Mark the advisory violations each live waiver acknowledges (`finding.waiver`)."""
    statuses = [WaiverStatus(w, expired=w.expired(today)) for w in waivers]
    for f in findings:
        if f.kind != "violation" or f.level != "advisory":
            continue
        for status in statuses:
            if not status.expired and status.waiver.matches(f.policy, f.urn):
                f.waiver = status.waiver
                status.matched += 1
                break
    return statuses
