"""Regenerates the README's generated blocks (`make docs`); tests/test_readme.py checks them.

A block is the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`; each is produced by
the module that owns the facts (one place for every default and every rule level).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _config_table() -> str:
    from components.reference import markdown
    from preflight.stackconfig import load_stack_config
    return markdown({s: load_stack_config(s, ROOT) for s in ("dev", "prod")})


def _rule_table() -> str:
    from policy.ruletable import render
    return render()


def _cost_estimate() -> str:
    from preflight.cost import readme_block
    return readme_block()


BLOCKS = {"config-table": _config_table, "rule-table": _rule_table, "cost-estimate": _cost_estimate}


def render(text: str) -> str:
    """`text` with every known block replaced by freshly generated content."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- {name}:start/end --> block")
        text = pattern.sub(lambda m: m.group(1) + make().rstrip("\n") + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    README.write_text(render(README.read_text()))
