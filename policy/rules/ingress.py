"""Every ingress permission of a security group of this stack, whatever declared it (the
group's inline `ingress`, `aws.ec2.SecurityGroupRule`, `aws.vpc.SecurityGroupIngressRule`), with
its sources resolved through dependencies: security groups of this stack, ids this stack does
not define, and managed prefix lists resolved to their CIDRs.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .network import SECURITY_GROUP, SG_RULE, VPC_INGRESS, Permission, permissions
from .prefixlists import prefix_list_cidrs
from .stackview import StackView

_KEYS = {SECURITY_GROUP: ("ingress", "ingress"), SG_RULE: ("sourceSecurityGroupId",
                                                           "prefixListIds"),
         VPC_INGRESS: ("referencedSecurityGroupId", "prefixListId")}


@dataclass(frozen=True)
class Ingress:
    owner: Any                    # the resource that declares the permission
    perm: Permission
    groups: list                  # source security groups of this stack
    foreign: list                 # source group ids this stack does not define
    prefix_cidrs: list = field(default_factory=list)   # CIDRs of the prefix lists it names
    foreign_lists: list = field(default_factory=list)  # prefix list ids not of this stack

    @property
    def cidrs(self) -> list:
        """Direct CIDRs plus the resolved prefix lists' CIDRs (UNKNOWN where unknown)."""
        return list(self.perm.cidrs) + self.prefix_cidrs


def _resolve(view: StackView, sg: Any, owner: Any, perm: Permission) -> Ingress:
    group_key, list_key = _KEYS[owner.resource_type]
    named = [s for s in perm.sources if s != "self"]
    groups, foreign, _ = view.resolve(owner, group_key, named, SECURITY_GROUP)
    if "self" in perm.sources:
        groups.append(sg)
    cidrs, foreign_lists = prefix_list_cidrs(view, owner, list_key, perm.prefix_lists)
    return Ingress(owner, perm, list({g.urn: g for g in groups}.values()), foreign, cidrs,
                   foreign_lists)


def ingress_of(view: StackView, sg: Any) -> Iterable[Ingress]:
    """Every ingress permission of `sg` (linear: rules are found through a reverse index)."""
    for perm in permissions(view.props(sg), SECURITY_GROUP):
        if perm.direction == "ingress":
            yield _resolve(view, sg, sg, perm)
    for rule in view.referrers(sg, SG_RULE, "securityGroupId"):
        for perm in permissions(view.props(rule), SG_RULE):
            if perm.direction == "ingress":
                yield _resolve(view, sg, rule, perm)
    for rule in view.referrers(sg, VPC_INGRESS, "securityGroupId"):
        for perm in permissions(view.props(rule), VPC_INGRESS):
            yield _resolve(view, sg, rule, perm)
