"""aurorakit's policy rules: one module per area, pure checks, no PolicyPack here.

Import mechanism (one, used everywhere): this package only uses relative imports, so it works
under two names — `rules` when the pack runs (the engine starts `python -m pulumi.policy <addr> .`
with policy/ as the working directory, and runpy puts the pack directory first on sys.path) and
`policy.rules` from the repository root (tests, preflight, docs tooling).
"""
from .registry import DuplicateRuleError, Registry, build_registry

REGISTRY = build_registry()

__all__ = ["REGISTRY", "Registry", "DuplicateRuleError", "build_registry"]
