"""Inputs that decide exposure must name resources of this stack (class 3 of issue 12).

A literal id — a security group next to the stack's own on a cluster, a subnet in a DB subnet
group, an internet-facing load balancer's only security group — names something the pack cannot
see, so it cannot prove it safe; that is not "fine because unknown". This rule reports every
such id unless it is listed in `allowedExternalIds` (the escape hatch for shared, reviewed
resources: a central VPC's subnets, an AWS-managed prefix list). Prod: mandatory; dev: advisory.

An input is resolved through its dependencies (`StackView.resolve`): an id names a resource of
this stack when it is one of its identities (id, name, ARN, ARN suffix) or, while those are
unknown in preview, when the input depends on such a resource.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN, items, true
from .database import CLUSTER, DB_INSTANCE
from .hosts import (
    ASG,
    FLEET,
    INSTANCES,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    SPOT_FLEET,
    override_subnets,
)
from .iamdocs import listed
from .ingress import ingress_of
from .loadbalancer import LOAD_BALANCERS
from .network import SECURITY_GROUP
from .routes import ASSOCIATION, TABLES
from .stack import RDS_PROXY, SUBNET, SUBNET_GROUP, Result
from .stackview import StackView, label, stack_rule

Values = Callable[[StackView, Any], Any]


def _get(key: str) -> Values:
    return lambda view, r: view.get(r, key)


def _nested(key: str, inner: str) -> Values:
    """`inner` of every entry of list input `key` (a launch template's network interfaces)."""
    def values(view: StackView, r: Any) -> Any:
        found: list = []
        for entry in items(view.get(r, key)):
            value = entry.get(inner) if isinstance(entry, dict) else None
            found += value if isinstance(value, list) else [value]
        return found
    return values


def _template_ref(view: StackView, r: Any) -> Any:
    spec = view.get(r, "launchTemplate")
    return [spec.get("id") or spec.get("name")] if isinstance(spec, dict) else []


def _mixed_template_ref(view: StackView, r: Any) -> Any:
    spec = view.get(r, "mixedInstancesPolicy", "launchTemplate", "launchTemplateSpecification")
    return [spec.get("launchTemplateId") or spec.get("launchTemplateName")] if isinstance(
        spec, dict) else []


def _fleet_template_refs(view: StackView, r: Any) -> Any:
    """The templates an EC2 Fleet / Spot Fleet names in `launchTemplateConfigs` (id or name)."""
    configs = view.get(r, "launchTemplateConfigs")
    if configs is UNKNOWN:
        return UNKNOWN
    found = []
    for c in items(configs):
        spec = c.get("launchTemplateSpecification") if isinstance(c, dict) else None
        if isinstance(spec, dict):
            found.append(spec.get("launchTemplateId") or spec.get("id")
                         or spec.get("launchTemplateName") or spec.get("name"))
    return found


def _fleet_override_subnets(view: StackView, r: Any) -> Any:
    configs = view.get(r, "launchTemplateConfigs")
    return UNKNOWN if configs is UNKNOWN else override_subnets(configs)


def _internet_facing(view: StackView, r: Any) -> bool:
    internal = view.get(r, "internal")
    return internal is not UNKNOWN and not true(internal)


def _db_subnet_associations(view: StackView) -> set:
    db_subnets = {s.urn for g in view.of(SUBNET_GROUP) for s in view.deps(g, "subnetIds", SUBNET)}
    return {a.urn for a in view.of(ASSOCIATION)
            if any(s.urn in db_subnets for s in view.deps(a, "subnetId", SUBNET))}


# (resource types, input key, how to read its ids, referenced types, what it names)
_INPUTS: tuple[tuple[tuple, str, Values, tuple, str], ...] = (
    ((CLUSTER, DB_INSTANCE), "vpcSecurityGroupIds", _get("vpcSecurityGroupIds"),
     (SECURITY_GROUP,), "security group"),
    ((CLUSTER, DB_INSTANCE), "dbSubnetGroupName", _get("dbSubnetGroupName"), (SUBNET_GROUP,),
     "DB subnet group"),
    ((SUBNET_GROUP,), "subnetIds", _get("subnetIds"), (SUBNET,), "subnet"),
    ((RDS_PROXY,), "vpcSecurityGroupIds", _get("vpcSecurityGroupIds"), (SECURITY_GROUP,),
     "security group"),
    ((RDS_PROXY,), "vpcSubnetIds", _get("vpcSubnetIds"), (SUBNET,), "subnet"),
    (INSTANCES, "subnetId", _get("subnetId"), (SUBNET,), "subnet"),
    (INSTANCES, "vpcSecurityGroupIds", _get("vpcSecurityGroupIds"), (SECURITY_GROUP,),
     "security group"),
    (INSTANCES, "securityGroups", _get("securityGroups"), (SECURITY_GROUP,), "security group"),
    (INSTANCES, "launchTemplate", _template_ref, (LAUNCH_TEMPLATE,), "launch template"),
    ((FLEET, SPOT_FLEET), "launchTemplateConfigs", _fleet_template_refs, (LAUNCH_TEMPLATE,),
     "launch template"),
    ((FLEET, SPOT_FLEET), "launchTemplateConfigs", _fleet_override_subnets, (SUBNET,),
     "subnet"),
    ((SPOT_FLEET,), "launchSpecifications", _nested("launchSpecifications", "subnetId"),
     (SUBNET,), "subnet"),
    ((SPOT_FLEET,), "launchSpecifications", _nested("launchSpecifications",
                                                    "vpcSecurityGroupIds"),
     (SECURITY_GROUP,), "security group"),
    ((LAUNCH_TEMPLATE,), "vpcSecurityGroupIds", _get("vpcSecurityGroupIds"), (SECURITY_GROUP,),
     "security group"),
    ((LAUNCH_TEMPLATE,), "networkInterfaces", _nested("networkInterfaces", "securityGroups"),
     (SECURITY_GROUP,), "security group"),
    ((LAUNCH_TEMPLATE,), "networkInterfaces", _nested("networkInterfaces", "subnetId"),
     (SUBNET,), "subnet"),
    ((LAUNCH_CONFIGURATION,), "securityGroups", _get("securityGroups"), (SECURITY_GROUP,),
     "security group"),
    ((ASG,), "vpcZoneIdentifiers", _get("vpcZoneIdentifiers"), (SUBNET,), "subnet"),
    ((ASG,), "launchTemplate", _template_ref, (LAUNCH_TEMPLATE,), "launch template"),
    ((ASG,), "mixedInstancesPolicy", _mixed_template_ref, (LAUNCH_TEMPLATE,), "launch template"),
    ((ASG,), "launchConfiguration", _get("launchConfiguration"), (LAUNCH_CONFIGURATION,),
     "launch configuration"),
    (LOAD_BALANCERS, "securityGroups", _get("securityGroups"), (SECURITY_GROUP,),
     "security group"),
    ((ASSOCIATION,), "routeTableId", _get("routeTableId"), TABLES, "route table"),
)
_ONLY_IF = {LOAD_BALANCERS[0]: _internet_facing, LOAD_BALANCERS[1]: _internet_facing}


def _unverified(view: StackView, allowed: set) -> Iterable[tuple[Any, str, str, str]]:
    """(resource, input, what, id or description) for every input naming something outside."""
    db_associations = _db_subnet_associations(view)
    for types, key, read, targets, what in _INPUTS:
        for r in view.of(*types):
            if r.resource_type == ASSOCIATION and r.urn not in db_associations:
                continue
            if not _ONLY_IF.get(r.resource_type, lambda v, x: True)(view, r):
                continue
            values = read(view, r)
            if values is UNKNOWN:
                if not view.deps(r, key, *targets):
                    yield r, key, what, "a value that does not come from a " + what + \
                        " of this stack"
                continue
            _, foreign, unaccounted = view.resolve(r, key, values, *targets)
            for fid in foreign:
                if fid not in allowed:
                    yield r, key, what, fid
            if unaccounted:
                yield r, key, what, f"a value that does not come from a {what} of this stack"
    for lb in view.of(*LOAD_BALANCERS):
        if _internet_facing(view, lb) and view.get(lb, "loadBalancerType") in (
                None, "application") and not items(view.get(lb, "securityGroups")) and (
                view.get(lb, "securityGroups") is not UNKNOWN):
            yield lb, "securityGroups", "security group", "none (the VPC's default group applies)"
    for sg in view.of(SECURITY_GROUP):
        for ing in ingress_of(view, sg):
            for fid in ing.foreign:
                if fid not in allowed:
                    yield ing.owner, ing.perm.path, "source security group", fid
            for pid in ing.foreign_lists:
                if pid not in allowed:
                    yield ing.owner, ing.perm.path, "prefix list", pid


def _verifiable(view: StackView, config: dict) -> Result:
    allowed = set(listed(config.get("allowedExternalIds")))
    for r, key, what, fid in _unverified(view, allowed):
        yield (f"{label(r)} `{key}` names {what} {fid}, which is not defined in this stack: the "
               "pack cannot verify what it exposes. Create it in this stack, or list the id in "
               "the rule's `allowedExternalIds` after reviewing it."), r.urn


RULES = [
    stack_rule(
        name="exposure-inputs-verifiable", types=tuple(dict.fromkeys(
            t for types, *_ in _INPUTS for t in types)), check=_verifiable,
        description="Checks whether the inputs that decide exposure (a database's security "
                    "groups and subnets, an RDS Proxy's, app hosts' (instances, Spot Instance "
                    "requests, Spot Fleet launch specifications) and launch templates' subnets "
                    "and security groups, an Auto Scaling group's, EC2 Fleet's or Spot Fleet's "
                    "subnets and templates, "
                    "an internet-facing load balancer's security groups, DB subnets' route "
                    "tables, ingress sources and prefix lists) name resources of this stack, or "
                    "ids listed in `allowedExternalIds`.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule",),
        unknown="unknown ids are related through dependencies; an unknown value with no "
                "dependency on the expected type is reported",
        config={"allowedExternalIds": {"type": "array", "items": {"type": "string"},
                                       "default": [],
                                       "description": "Ids/names/ARNs from outside the stack "
                                                      "that were reviewed and may be used."}}),
]
