"""Config reference table (markdown) for the README: `python -m components.reference`.

Generated from `settings.KEYS` (the one place defaults live) plus each stack file's values.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Mapping, Sequence

from .settings import KEYS, NAMESPACE


def _type(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (int, float)):
        return "number"
    if isinstance(default, (list, tuple)):
        return "list"
    if isinstance(default, dict):
        return "object"
    return "string"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`".replace("|", "\\|")


def markdown(stacks: Mapping[str, Mapping[str, str]] = {}) -> str:
    """One row per `aurorakit:` key: type, default, each stack's value, description."""
    names: Sequence[str] = list(stacks)
    head = "| key | type | default | " + " | ".join(names) + (" | " if names else "") + "description |"
    rows = [head, "|" + "---|" * (4 + len(names))]
    for key, (default, about) in KEYS.items():
        per_stack = [_cell(stacks[s].get(f"{NAMESPACE}:{key}")) for s in names]
        kind = "list" if key == "availabilityZones" else _type(default)
        rows.append(f"| `{key}` | {kind} | {_cell(default)} | " + " | ".join(per_stack)
                    + (" | " if names else "") + about.replace("|", "\\|") + " |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - a documentation helper
    from preflight.stackconfig import load_stack_config
    print(markdown({s: load_stack_config(s) for s in (sys.argv[1:] or ["dev", "prod"])}))
