"""Security groups in all three rule styles (inline `ingress`/`egress`, `aws.ec2.SecurityGroupRule`,
`aws.vpc.SecurityGroupIngressRule`/`EgressRule`), IPv4 and IPv6."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, UNKNOWN, Ctx, items, number, resource_rule, text

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_TYPES = (SECURITY_GROUP, SG_RULE, VPC_INGRESS, VPC_EGRESS)
ALL_PORTS = (0, 65535)
_NO_PORTS = ("icmp", "icmpv6", "1", "58")
PULUMI_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi"


@dataclass(frozen=True)
class Permission:
    """One ingress/egress permission, whatever style declared it."""

    path: str                      # where it came from, e.g. "ingress[0]"
    direction: str                 # "ingress" | "egress"
    protocol: Any
    ports: Any                     # (from, to), None (not port-based, e.g. ICMP) or UNKNOWN
    cidrs: tuple                   # IPv4 and IPv6 CIDRs (may contain UNKNOWN)
    sources: tuple                 # source security group ids / "self" / prefix lists
    description: Any


def _ports(protocol: Any, low: Any, high: Any) -> Any:
    if protocol is UNKNOWN or low is UNKNOWN or high is UNKNOWN:
        return UNKNOWN
    proto = str(protocol).lower().strip() if protocol is not None else ""
    if number(proto) is not None:  # protocol numbers: "6", 6.0 and "6.0" are all TCP
        proto = str(int(number(proto)))
    if proto in ("-1", "all"):
        return ALL_PORTS
    if proto in _NO_PORTS or (proto.lstrip("-").isdigit() and proto not in ("6", "17")):
        return None  # AWS: ports apply only to TCP/UDP (other protocols carry no port)
    low_n, high_n = number(low), number(high)
    if low_n is None and high_n is None:
        return ALL_PORTS
    low_n = low_n if low_n is not None else high_n
    high_n = high_n if high_n is not None else low_n
    return (int(low_n), int(high_n)) if low_n >= 0 else ALL_PORTS


def _listed(*values: Any) -> tuple:
    out: list = []
    for v in values:
        if v is UNKNOWN:
            out.append(UNKNOWN)
        elif isinstance(v, list):
            out.extend(x for x in v if x is not None)
        elif v not in (None, ""):
            out.append(v)
    return tuple(out)


def permissions(props: dict, resource_type: str) -> list[Permission]:
    """All permissions a security-group-ish resource declares (plain props)."""
    out: list[Permission] = []
    if resource_type == SECURITY_GROUP:
        for direction in ("ingress", "egress"):
            for i, r in enumerate(items(props.get(direction))):
                if not isinstance(r, dict):
                    continue
                out.append(Permission(
                    f"{direction}[{i}]", direction, r.get("protocol"),
                    _ports(r.get("protocol"), r.get("fromPort"), r.get("toPort")),
                    _listed(r.get("cidrBlocks"), r.get("ipv6CidrBlocks")),
                    _listed(r.get("securityGroups"), r.get("prefixListIds"),
                            "self" if r.get("self") is True else None),
                    r.get("description")))
    elif resource_type == SG_RULE:
        direction = props.get("type")
        out.append(Permission(
            "rule", direction if direction in ("ingress", "egress") else "ingress",
            props.get("protocol"),
            _ports(props.get("protocol"), props.get("fromPort"), props.get("toPort")),
            _listed(props.get("cidrBlocks"), props.get("ipv6CidrBlocks")),
            _listed(props.get("sourceSecurityGroupId"), props.get("prefixListIds"),
                    "self" if props.get("self") is True else None),
            props.get("description")))
    elif resource_type in (VPC_INGRESS, VPC_EGRESS):
        out.append(Permission(
            "rule", "ingress" if resource_type == VPC_INGRESS else "egress",
            props.get("ipProtocol"),
            _ports(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")),
            _listed(props.get("cidrIpv4"), props.get("cidrIpv6")),
            _listed(props.get("referencedSecurityGroupId"), props.get("prefixListId")),
            props.get("description")))
    return out


def is_world(cidr: Any) -> bool:
    """0.0.0.0/0, ::/0 (any /0) — the whole internet."""
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _world_ingress(ctx: Ctx) -> Iterable[str]:
    sensitive = sorted({int(p) for p in (number(x) for x in items(ctx.config.get("ports")))
                        if p is not None})
    if ctx.type == SECURITY_GROUP:
        ctx.known(ctx.get("ingress"), "ingress")
    for perm in permissions(ctx.props, ctx.type):
        if perm.direction != "ingress":
            continue
        where = f"`{perm.path}`" if ctx.type == SECURITY_GROUP else "this rule"
        known_cidrs = [c for c in perm.cidrs if c is not UNKNOWN]
        if len(known_cidrs) != len(perm.cidrs):
            ctx.known(UNKNOWN, f"{perm.path} CIDR")
        world = sorted({str(c) for c in known_cidrs if is_world(c)})
        if not world or not ctx.known(perm.ports, f"{perm.path} ports") or perm.ports is None:
            continue
        low, high = perm.ports
        hit = [p for p in sensitive if low <= p <= high]
        if low <= 0 and high >= 65535:
            yield (f"Security group must not open all ports to the internet: {where} allows "
                   f"{', '.join(world)} on ports {low}-{high}; restrict the source to a "
                   "security group or known CIDR.")
        elif hit:
            yield (f"Security group must not open admin/database ports to the internet: {where} "
                   f"allows {', '.join(world)} on port(s) {', '.join(map(str, hit))}; use SSM "
                   "Session Manager or a security-group source instead.")


def _described(ctx: Ctx) -> Iterable[str]:
    if ctx.type == SECURITY_GROUP:
        desc = ctx.get("description")
        if ctx.known(desc, "description") and (
                text(desc) is None or desc == PULUMI_DEFAULT_SG_DESCRIPTION):
            yield ('Security group should say what it is for: set `description` (the default '
                   f'"{PULUMI_DEFAULT_SG_DESCRIPTION}" says nothing).')
    for perm in permissions(ctx.props, ctx.type):
        if ctx.known(perm.description, f"{perm.path}.description") and text(
                perm.description) is None:
            where = f"`{perm.path}`" if ctx.type == SECURITY_GROUP else "This rule"
            yield f"Security group rule {where} should have a `description`."


RULES = [
    resource_rule(
        name="sg-no-world-ingress-to-sensitive-ports", types=(SECURITY_GROUP, SG_RULE,
                                                              VPC_INGRESS),
        check=_world_ingress,
        description="Checks whether security groups keep admin/database ports (and all-port "
                    "ranges) closed to 0.0.0.0/0 and ::/0.",
        level=MANDATORY, severity=Severity.CRITICAL,
        anchors=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "EC2.18", "EC2.19"),
        unknown="unknown CIDR or ports: advisory 'not checked' for that rule; the others are "
                "checked",
        config={"ports": {"type": "array", "items": {"type": "integer"},
                          "default": [22, 3389, 3306, 5432, 1433, 1521, 6379, 27017],
                          "description": "Ports that must never be open to the internet."}}),
    resource_rule(
        name="sg-rules-described", types=SG_TYPES, check=_described,
        description="Checks whether security groups and their rules have descriptions.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_23",)),
]
