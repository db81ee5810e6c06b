"""Call rules the way the SDK does, without the pack: fake args + a collecting report_violation.

Props go through the SDK's own `unknown_checking_proxy`, exactly as Analyze/AnalyzeStack wrap
them, so rules see the same Mapping/Sequence proxies (and unknown sentinels) as in a preview.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy.rules import REGISTRY

STACK_URN = "urn:pulumi:prod::aurorakit"


def urn(type_: str, name: str) -> str:
    return f"{STACK_URN}::{type_}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


@dataclass
class Outcome:
    """What one rule reported: messages (with URNs for stack rules) and the 'not checked' note."""

    messages: list = field(default_factory=list)
    urns: list = field(default_factory=list)
    not_checked: Optional[str] = None

    @property
    def ok(self) -> bool:
        return not self.messages


def check_resource(rule: str, type_: str, props: dict, config: Optional[dict] = None,
                   name: str = "res") -> Outcome:
    """Run one resource rule's validate on `props` (a plain dict, copied)."""
    out = Outcome()
    args = ResourceValidationArgs(type_, unknown_checking_proxy(copy.deepcopy(props)),
                                  urn(type_, name), name, options(), None, config, {})

    def report(message: str, urn_: Optional[str] = None) -> None:
        assert isinstance(message, str) and message
        out.messages.append(message)

    try:
        REGISTRY[rule].policy.validate(args, report)
    except UnknownValueError as exc:  # the SDK turns this into an advisory diagnostic
        out.not_checked = exc.message
    return out


class Stack:
    """Build PolicyResources with property dependencies, then run stack rules over them."""

    def __init__(self) -> None:
        self.resources: list[PolicyResource] = []
        self.raw: dict[str, dict] = {}

    def add(self, type_: str, name: str, props: Optional[dict] = None,
            deps: Optional[dict] = None, protect: bool = False) -> PolicyResource:
        r = PolicyResource(type_, unknown_checking_proxy(copy.deepcopy(props or {})),
                           urn(type_, name), name, options(protect), None, None, [], {})
        self.raw[r.urn] = copy.deepcopy(props or {})
        for key, targets in (deps or {}).items():
            r.property_dependencies[key] = list(targets)
            r.dependencies.extend(t for t in targets if t not in r.dependencies)
        self.resources.append(r)
        return r

    def find(self, name: str) -> PolicyResource:
        return next(r for r in self.resources if r.name == name)

    def set(self, name: str, key: str, value: Any) -> None:
        """Replace (or with None, delete) one prop of a built resource."""
        r = self.find(name)
        raw = self.raw[r.urn]
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
        r.props = unknown_checking_proxy(copy.deepcopy(raw))

    def remove(self, name: str) -> None:
        self.resources = [r for r in self.resources if r.name != name]

    def check(self, rule: str, config: Optional[dict] = None) -> Outcome:
        out = Outcome()

        def report(message: str, urn_: Optional[str] = None) -> None:
            assert isinstance(message, str) and message
            out.messages.append(message)
            out.urns.append(urn_)

        try:
            REGISTRY[rule].policy.validate(StackValidationArgs(self.resources, config, {}), report)
        except UnknownValueError as exc:
            out.not_checked = exc.message
        return out
