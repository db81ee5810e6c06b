"""Security groups in all three rule styles (inline `ingress`/`egress`, `aws.ec2.SecurityGroupRule`,
`aws.vpc.SecurityGroupIngressRule`/`EgressRule`), IPv4 and IPv6."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, UNKNOWN, Ctx, items, number, resource_rule, text
from .cidrs import WIDEST_PUBLIC_PREFIX, internet_reach

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
    sources: tuple                 # source security group ids / "self"
    prefix_lists: tuple            # managed prefix list ids (may contain UNKNOWN)
    description: Any


def _ports(protocol: Any, low: Any, high: Any) -> Any:
    if protocol is UNKNOWN or low is UNKNOWN or high is UNKNOWN:
        return UNKNOWN
    proto = str(protocol).lower().strip() if protocol is not None else ""
    numbered = number(proto)
    if numbered is not None:  # protocol numbers: "6", 6.0 and "6.0" are all TCP
        proto = str(int(numbered))
    if proto in ("-1", "all"):
        return ALL_PORTS
    if proto in _NO_PORTS or (proto.lstrip("-").isdigit() and proto not in ("6", "17")):
        return None  # AWS: ports apply only to TCP/UDP (other protocols carry no port)
    low_n, high_n = number(low), number(high)
    if low_n is None:  # one side given: a single port
        if high_n is None:
            return ALL_PORTS
        low_n = high_n
    elif high_n is None:
        high_n = low_n
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
                    _listed(r.get("securityGroups"), "self" if r.get("self") is True else None),
                    _listed(r.get("prefixListIds")), r.get("description")))
    elif resource_type == SG_RULE:
        kind = props.get("type")
        out.append(Permission(
            "rule", kind if kind in ("ingress", "egress") else "ingress",
            props.get("protocol"),
            _ports(props.get("protocol"), props.get("fromPort"), props.get("toPort")),
            _listed(props.get("cidrBlocks"), props.get("ipv6CidrBlocks")),
            _listed(props.get("sourceSecurityGroupId"),
                    "self" if props.get("self") is True else None),
            _listed(props.get("prefixListIds")), props.get("description")))
    elif resource_type in (VPC_INGRESS, VPC_EGRESS):
        out.append(Permission(
            "rule", "ingress" if resource_type == VPC_INGRESS else "egress",
            props.get("ipProtocol"),
            _ports(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")),
            _listed(props.get("cidrIpv4"), props.get("cidrIpv6")),
            _listed(props.get("referencedSecurityGroupId")), _listed(props.get("prefixListId")),
            props.get("description")))
    return out


def sensitive_ports(config: Mapping[str, Any]) -> list[int]:
    return sorted({int(p) for p in (number(x) for x in items(config.get("ports")))
                   if p is not None})


def reach(cidrs: Iterable[Any], config: Mapping[str, Any]) -> Any:
    """`internet_reach` with the rule's thresholds."""
    return internet_reach([c for c in cidrs if isinstance(c, str)],
                          config.get("widestPublicPrefixV4"), config.get("widestPublicPrefixV6"))


def exposure(low: int, high: int, sensitive: list[int]) -> Any:
    """'all ports' / the sensitive ports in low..high / None."""
    if low <= 0 and high >= 65535:
        return "all"
    hit = [p for p in sensitive if low <= p <= high]
    return hit or None


def exposed_message(where: str, shown: str, why: str, low: int, high: int, hit: Any) -> str:
    if hit == "all":
        return (f"Security group must not open all ports to the internet: {where} allows "
                f"{shown} on ports {low}-{high}: {why}; restrict the source to a security group "
                "or known CIDR.")
    return (f"Security group must not open admin/database ports to the internet: {where} allows "
            f"{shown} on port(s) {', '.join(map(str, hit))}: {why}; use SSM Session Manager or "
            "a security-group source instead.")


def _world_ingress(ctx: Ctx) -> Iterable[str]:
    sensitive = sensitive_ports(ctx.config)
    if ctx.type == SECURITY_GROUP:
        ctx.known(ctx.get("ingress"), "ingress")
    open_perms: list[tuple[Permission, list[Any]]] = []  # with known ports, for the union below
    for perm in permissions(ctx.props, ctx.type):
        if perm.direction != "ingress":
            continue
        where = f"`{perm.path}`" if ctx.type == SECURITY_GROUP else "this rule"
        known_cidrs = [c for c in perm.cidrs if c is not UNKNOWN]
        if len(known_cidrs) != len(perm.cidrs):
            ctx.known(UNKNOWN, f"{perm.path} CIDR")
        if not known_cidrs or not ctx.known(perm.ports, f"{perm.path} ports") or (
                perm.ports is None):
            continue
        low, high = perm.ports
        hit = exposure(low, high, sensitive)
        why = reach(known_cidrs, ctx.config)
        if hit and why:
            yield exposed_message(where, ", ".join(map(str, known_cidrs)), why, low, high, hit)
        elif hit:
            open_perms.append((perm, known_cidrs))
    # Entries that are each narrow enough may together still be the internet on one port.
    # (what is hit: "all" or [port], the entries that open it)
    groups: list[tuple[Any, list[tuple[Permission, list[Any]]]]] = [
        ("all", [x for x in open_perms if exposure(x[0].ports[0], x[0].ports[1], sensitive) == "all"])]
    groups += [([port], [x for x in open_perms if x[0].ports[0] <= port <= x[0].ports[1]])
               for port in sensitive]
    for hit, group in groups:
        why = reach([c for _, cs in group for c in cs], ctx.config) if len(group) > 1 else None
        if why:
            low, high = (0, 65535) if hit == "all" else (hit[0], hit[0])
            yield exposed_message(", ".join(f"`{p.path}`" for p, _ in group),
                                  "CIDRs that together make", why, low, high, hit)


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


SENSITIVE_PORTS = {"ports": {"type": "array", "items": {"type": "integer"},
                             "default": [22, 3389, 3306, 5432, 1433, 1521, 6379, 27017],
                             "description": "Ports that must never be open to the internet."}}
INTERNET_THRESHOLDS = {
    f"widestPublicPrefixV{v}": {
        "type": "integer", "minimum": 0, "maximum": 32 if v == 4 else 128,
        "default": WIDEST_PUBLIC_PREFIX[v],
        "description": f"Blocks holding more public IPv{v} addresses than one /N count as the "
                       "internet (see policy/rules/cidrs.py)."} for v in (4, 6)}
RULES = [
    resource_rule(
        name="sg-no-world-ingress-to-sensitive-ports", types=(SECURITY_GROUP, SG_RULE,
                                                              VPC_INGRESS),
        check=_world_ingress,
        description="Checks whether security groups keep admin/database ports (and all-port "
                    "ranges) closed to the internet: 0.0.0.0/0, ::/0, any set of blocks that "
                    "together covers it, or public blocks wider than the configured prefix.",
        level=MANDATORY, severity=Severity.CRITICAL,
        anchors=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "EC2.18", "EC2.19"),
        unknown="unknown CIDR or ports: advisory 'not checked' for that rule; the others are "
                "checked",
        config={**SENSITIVE_PORTS, **INTERNET_THRESHOLDS}),
    resource_rule(
        name="sg-rules-described", types=SG_TYPES, check=_described,
        description="Checks whether security groups and their rules have descriptions.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_23",)),
]
