"""Config reference table (markdown) for the README: `python -m components.reference`.

Generated from the stack settings (components/settings.py `SETTINGS`, derived from the component
Args fields, the one place each default and description lives) plus each stack file's values.
"""
from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .knobs import type_name
from .settings import NAMESPACE, SETTINGS


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, enum.Enum):
        value = value.value
    text = value if isinstance(value, str) else json.dumps(list(value) if isinstance(value, tuple) else value)
    return f"`{text}`".replace("|", "\\|")


def _about(setting) -> str:
    """The field's docstring in stack terms: `Default: X.` dropped (the default column has it)
    unless it explains what absent means; field names of the same Args read as config keys."""
    head, _, default = setting.description.partition("Default: ")
    absent = re.search(r"\((.*)\)\.?$", default)
    text = head.strip() + (f" Absent: {absent.group(1)}." if absent and setting.default is None else "")
    keys = {s.field: k for k, s in SETTINGS.items() if s.cls is setting.cls and "_" in s.field}
    return re.sub(r"\b[a-z]+(?:_[a-z0-9]+)+\b", lambda m: keys.get(m.group(0), m.group(0)), text)


def markdown(stacks: Mapping[str, Mapping[str, str]] = {}) -> str:
    """One row per `aurorakit:` key: type, default, each stack's value, description."""
    names: Sequence[str] = list(stacks)
    head = "| key | type | default | " + " | ".join(names) + (" | " if names else "") + "description |"
    rows = [head, "|" + "---|" * (4 + len(names))]
    for key, setting in SETTINGS.items():
        per_stack = [_cell(stacks[s].get(f"{NAMESPACE}:{key}")) for s in names]
        about = _about(setting)
        rows.append(f"| `{key}` | {type_name(setting.hint)} | {_cell(setting.default)} | " + " | ".join(per_stack)
                    + (" | " if names else "") + about.replace("|", "\\|") + " |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - a documentation helper
    from preflight.stackconfig import load_stack_config
    print(markdown({s: load_stack_config(s) for s in (sys.argv[1:] or ["dev", "prod"])}))
