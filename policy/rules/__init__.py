"""aurorakit's policy rules: one module per area, pure checks, no PolicyPack here.

Import mechanism (one, used everywhere): this package only uses relative imports, so it works
under two names — `rules` when the pack runs (the engine starts `python -m pulumi.policy <addr> .`
with policy/ as the working directory, and runpy puts the pack directory first on sys.path) and
`policy.rules` from the repository root (tests, preflight, docs tooling).

The registry is built on first use (`from policy.rules import REGISTRY`), so a pure helper
module such as `policy.rules.cidrs` can be imported without loading pulumi_policy.
"""
from __future__ import annotations

from typing import Any

__all__ = ["REGISTRY", "Registry", "DuplicateRuleError", "build_registry"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import registry
    value = registry.build_registry() if name == "REGISTRY" else getattr(registry, name)
    globals()[name] = value
    return value
