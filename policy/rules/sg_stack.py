"""Admin/database ports closed to the internet across a security group's rules: what no
single rule shows (the resource rule `sg-no-world-ingress-to-sensitive-ports` judges each rule
on its own, at every step of an update).

Here the stack is seen whole: a managed prefix list of this stack is resolved to its entries,
and the blocks of all rules of one group that open the same port are judged together — two
standalone rules with 0.0.0.0/1 and 128.0.0.0/1 open the port to the internet as much as one
0.0.0.0/0. Prefix lists not defined in this stack are judged by `exposure-inputs-verifiable`.
"""
from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN
from .ingress import Ingress, ingress_of
from .network import (
    INTERNET_THRESHOLDS,
    SECURITY_GROUP,
    SENSITIVE_PORTS,
    exposure,
    reach,
    sensitive_ports,
)
from .stack import Result
from .stackview import StackView, label, stack_rule


def _direct(ing: Ingress) -> list:
    return [c for c in ing.perm.cidrs if isinstance(c, str)]


def _all(ing: Ingress) -> list:
    return [c for c in ing.cidrs if isinstance(c, str)]


def _ports(hit: Any) -> str:
    return "all ports" if hit == "all" else f"port(s) {', '.join(map(str, hit))}"


def _across_rules(view: StackView, config: dict) -> Result:
    sensitive = sensitive_ports(config)
    for sg in view.of(SECURITY_GROUP):
        opened: list[tuple[Ingress, Any]] = []
        for ing in ingress_of(view, sg):
            ports = ing.perm.ports
            if ports is UNKNOWN or ports is None:
                continue  # unknown ports are noted by the resource rule
            low, high = ports
            hit = exposure(low, high, sensitive)
            if hit:
                if UNKNOWN in ing.prefix_cidrs:
                    view.note(f"{label(ing.owner)} prefix list entries")
                opened.append((ing, hit))
        reported: set = set()
        for ing, hit in opened:  # a prefix list alone is the internet
            why = reach(_all(ing), config)
            if why and not reach(_direct(ing), config):
                reported.add(ing.owner.urn)
                yield (f"{label(sg)} opens {_ports(hit)} to the internet through the prefix "
                       f"list(s) of {label(ing.owner)} ({ing.perm.path}): their entries are "
                       f"{why}; reference a security group or list only known, narrow "
                       "CIDRs."), ing.owner.urn
        groups = [("all", [i for i, h in opened if h == "all"])] + [
            ([p], [i for i, h in opened if h == "all" or p in h]) for p in sensitive]
        for hit, group in groups:
            rest = [i for i in group if not reach(_all(i), config)]
            owners = {i.owner.urn for i in rest}
            if len(rest) < 2 or (owners == {sg.urn} and not any(i.prefix_cidrs for i in rest)):
                continue  # one rule, or one group's inline rules: the resource rule sees them
            why = reach([c for i in rest for c in _all(i)], config)
            if why and sg.urn not in reported:
                reported.add(sg.urn)
                names = ", ".join(f"{label(i.owner)} {i.perm.path}" for i in rest)
                yield (f"{label(sg)} opens {_ports(hit)} to the internet through several rules "
                       f"whose blocks together are {why} ({names}); reference a security group "
                       "or list only known, narrow CIDRs."), sg.urn


RULES = [
    stack_rule(
        name="sg-no-world-ingress-across-rules", types=(SECURITY_GROUP,), check=_across_rules,
        description="Checks whether admin/database ports stay closed to the internet across all "
                    "of a security group's rules and the managed prefix lists they reference "
                    "(blocks that only together, or only through a prefix list, are the "
                    "internet).",
        level=MANDATORY, severity=Severity.CRITICAL,
        anchors=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "EC2.18", "EC2.19"),
        unknown="unknown prefix list entries: advisory 'not checked'; relations use "
                "dependencies",
        config={**SENSITIVE_PORTS, **INTERNET_THRESHOLDS}),
]
