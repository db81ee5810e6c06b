"""The pack's rule registry: every area module's RULES, in a stable order, names unique."""
from __future__ import annotations

from collections.abc import Iterable

from .base import Rule


class DuplicateRuleError(ValueError):
    """Two rules share a name (the engine keys config and results by name)."""


class Registry:
    """Ordered rules by name; `add` refuses a name that is already registered."""

    def __init__(self, rules: Iterable[Rule] = ()):
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule) -> Rule:
        if rule.name in self._rules:
            raise DuplicateRuleError(f"policy name {rule.name!r} is registered twice")
        self._rules[rule.name] = rule
        return rule

    def __iter__(self):
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __getitem__(self, name: str) -> Rule:
        return self._rules[name]

    def names(self) -> list[str]:
        return list(self._rules)

    def policies(self) -> list:
        """The pulumi_policy Policy objects, for PolicyPack(policies=...)."""
        return [rule.policy for rule in self]


def build_registry() -> Registry:
    from . import (
        compute,
        database,
        database_stack,
        dynamodb,
        external,
        iam_auth,
        loadbalancer,
        network,
        network_stack,
        observability,
        protection,
        public_policies,
        roles,
        security,
        sg_stack,
        stack,
    )
    registry = Registry()
    for module in (database, database_stack, compute, network, network_stack, sg_stack,
                   loadbalancer, security, observability, dynamodb, stack, roles, iam_auth,
                   external, protection, public_policies):
        for rule in module.RULES:
            registry.add(rule)
    return registry
