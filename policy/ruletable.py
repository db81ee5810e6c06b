"""Print the README's rule table from the registry and the per-stack configs.

    venv/bin/python -m policy.ruletable            # markdown to stdout

Levels per stack are what the engine would use with `--policy-pack-config policy/config/<stack>.json`:
the rule's own entry, else the file's `all`, else the rule's default level.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from policy.rules import REGISTRY
from policy.rules.base import ANY_TYPE

CONFIG_DIR = Path(__file__).resolve().parent / "config"
STACKS = ("dev", "prod")


def level(config: dict, rule) -> str:
    entry = config.get(rule.name)
    if isinstance(entry, dict):
        entry = entry.get("enforcementLevel")
    return entry or config.get("all") or rule.level.value


def _short(type_token: str) -> str:
    """aws:rds/cluster:Cluster -> rds.Cluster"""
    parts = type_token.split(":")
    return f"{parts[1].split('/')[0]}.{parts[2]}" if len(parts) == 3 else type_token


def options(rule, config: dict) -> str:
    entry = config.get(rule.name)
    if not isinstance(entry, dict):
        entry = {}
    parts = []
    for key, schema in rule.config_schema.items():
        value = entry.get(key, schema.get("default"))
        parts.append(f"`{key}`={json.dumps(value)}")
    return ", ".join(parts)


def render(configs: Optional[dict] = None) -> str:
    configs = configs or {s: json.loads((CONFIG_DIR / f"{s}.json").read_text()) for s in STACKS}
    lines = ["| rule | resources | checks | anchors | dev | prod | options (prod) | unknown in preview |",
             "|---|---|---|---|---|---|---|---|"]
    for rule in REGISTRY:
        kind = "stack: " if rule.policy.__class__.__name__ == "StackValidationPolicy" else ""
        types = kind + ("any resource type" if ANY_TYPE in rule.types else
                        ", ".join(sorted({_short(t) for t in rule.types})))
        lines.append(" | ".join([
            f"| `{rule.name}`", types, rule.description.removeprefix("Checks whether "),
            ", ".join(rule.anchors) or "—", level(configs["dev"], rule), level(configs["prod"], rule),
            options(rule, configs["prod"]) or "—", rule.unknown]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
