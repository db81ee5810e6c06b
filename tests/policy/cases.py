"""Deferred rule checks for parametrized variant tables: a `Case` names a variant, the rule it
must trip and a fragment of the expected message; `resource` / `stack` build its run."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Optional

from .stack_factory import good_stack
from .support import Outcome, check_resource


class Case(NamedTuple):
    id: str
    rule: str
    run: Callable[[], Outcome]
    fragment: str = ""


def resource(rule: str, type_: str, props: dict, config: Optional[dict] = None,
             name: str = "res") -> Callable[[], Outcome]:
    """One resource through `rule`, as the SDK calls it."""
    return lambda: check_resource(rule, type_, props, config, name)


def stack(rule: str, change: Callable[[Any], None], config: Optional[dict] = None
          ) -> Callable[[], Outcome]:
    """A compliant stack (stack_factory.good_stack) with one change, through `rule`."""
    def run() -> Outcome:
        s = good_stack()
        change(s)
        return s.check(rule, config)
    return run
