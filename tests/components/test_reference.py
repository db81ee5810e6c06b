"""The README's config table is generated from the stack settings (derived from the Args) and the stack files."""
from components.reference import markdown
from components.settings import SETTINGS as KEYS
from preflight.stackconfig import load_stack_config

from .conftest import ROOT


def test_every_key_has_one_row_with_stack_values():
    table = markdown({s: load_stack_config(s, ROOT) for s in ("dev", "prod")}).splitlines()
    assert len(table) == 2 + len(KEYS)
    assert table[0] == "| key | type | default | dev | prod | description |"
    nat = next(r for r in table if r.startswith("| `natMode` "))
    assert nat.startswith("| `natMode` | string | `single` | `none` | `per-az` | ")


def test_stack_files_use_only_known_keys():
    for stack in ("dev", "prod"):
        for key in load_stack_config(stack, ROOT):
            ns, _, name = key.partition(":")
            assert ns == "aws" or name in KEYS, key
