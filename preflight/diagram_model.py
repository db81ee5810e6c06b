"""The recorded resources as a graph for the diagram, and where each one sits (preflight/diagram.py).

`_Graph` indexes the custom resources by URN and type with their inputs as dicts (unknowns
stay `UNKNOWN`); `_subnets_of` places a resource by the subnets its inputs name; `_tier` and
`_az` give a subnet's band and column.
"""
from __future__ import annotations

import re
from collections import defaultdict

from google.protobuf import json_format

from .recorder import UNKNOWN

T = {
    "vpc": "aws:ec2/vpc:Vpc", "subnet": "aws:ec2/subnet:Subnet", "igw": "aws:ec2/internetGateway:InternetGateway",
    "nat": "aws:ec2/natGateway:NatGateway", "instance": "aws:ec2/instance:Instance",
    "cluster": "aws:rds/cluster:Cluster", "cluster_instance": "aws:rds/clusterInstance:ClusterInstance",
    "db_instance": "aws:rds/instance:Instance", "lb": "aws:lb/loadBalancer:LoadBalancer",
    "listener": "aws:lb/listener:Listener", "tga": "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    "endpoint": "aws:ec2/vpcEndpoint:VpcEndpoint", "route": "aws:ec2/route:Route",
    "rta": "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "ingress": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "egress": "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "sg_rule": "aws:ec2/securityGroupRule:SecurityGroupRule", "table": "aws:dynamodb/table:Table",
    "scaling_target": "aws:appautoscaling/target:Target", "asg": "aws:autoscaling/group:Group",
    "template": "aws:ec2/launchTemplate:LaunchTemplate", "sg": "aws:ec2/securityGroup:SecurityGroup",
    "target_group": "aws:lb/targetGroup:TargetGroup",
}
_TIER_ORDER = ("public", "private", "app", "isolated", "db", "data")


class _Graph:
    def __init__(self, result):
        self.regs = sorted((r for r in result.registrations if r.custom), key=lambda r: r.urn)
        self.by_urn = {r.urn: r for r in self.regs}
        self.by_type = defaultdict(list)
        for r in self.regs:
            self.by_type[r.type].append(r)
        self.props = {r.urn: json_format.MessageToDict(r.inputs) for r in self.regs}
        self.node_of: dict[str, str] = {}  # urn -> graphviz node id, for what is drawn
        self.labels: dict[str, str] = {}  # node id -> label text
        self.row: dict[str, int] = {}  # node id -> its row, top to bottom
        self.tier_of: dict[str, tuple] = {}  # subnet urn -> (its tier band cluster, that tier's subnet urns, tier)
        self.spread: dict[str, int] = {}  # urn -> subnets it spans, for what is drawn in each of them (ASGs)

    def ends(self, src: str, dst: str) -> tuple[str, str]:
        """Leave from the side facing the other end (matters for ports inside a tier row)."""
        a, b = (self.row.get(n.split(":")[0], 0) for n in (src, dst))  # unplaced: the top row
        if a == b:  # two resources of one tier row: a loop on its right-hand side, label outside
            same = src.split(":")[0] == dst.split(":")[0] and ":" in src
            return (f"{src}:e", f"{dst}:e") if same else (src, dst)
        return (f"{src}:s", f"{dst}:n") if a < b else (f"{src}:n", f"{dst}:s")

    def put(self, parent, r, text: str, node_id: str = "", **attrs) -> str:
        """Draw resource `r` (or a shared node `node_id`) in `parent` and remember where."""
        node_id = node_id or _id(r)
        if r is not None:
            self.node_of[r.urn] = node_id
        self.labels[node_id] = text
        parent.node(node_id, text, **attrs)
        return node_id

    def deps(self, r, *keys) -> list:
        return [self.by_urn[u] for k in keys for u in r.property_dependencies.get(k, []) if u in self.by_urn]

    def known(self, r, key, default=None):
        v = self.props[r.urn].get(key, default)
        return default if v == UNKNOWN else v

    def route_table_subnets(self) -> dict:
        """route table urn -> the subnets associated with it."""
        out: defaultdict[str, list] = defaultdict(list)
        for a in self.by_type[T["rta"]]:
            for rt in self.deps(a, "routeTableId"):
                out[rt.urn] += self.deps(a, "subnetId")
        return out

    def in_vpc(self, r, vpc) -> bool:
        return vpc.urn in [d.urn for d in self.deps(r, "vpcId")]

    def template(self, r):
        """The launch template an instance or Auto Scaling group launches from (of this stack)."""
        found = [t for t in self.deps(r, "launchTemplate", "mixedInstancesPolicy") if t.type == T["template"]]
        return found[0] if found else None

    def launched(self, r, key, default=None):
        """An instance's (or ASG's hosts') setting: its own, else its launch template's."""
        own = self.known(r, key)
        template = self.template(r)
        return own if own is not None or template is None else self.known(template, key, default)

    def public_ip(self, r) -> bool:
        """Whether a host gets a public IP: asked for itself or through its template's interface,
        else by its subnet's auto-assign (every subnet it may be in)."""
        own = self.known(r, "associatePublicIpAddress")
        template = self.template(r)
        if own is not None:
            return str(own).lower() == "true"
        nics = [n for n in (self.known(template, "networkInterfaces", []) if template else []) or []
                if isinstance(n, dict) and n.get("associatePublicIpAddress") is not None]
        if nics:
            return any(str(n.get("associatePublicIpAddress")).lower() == "true" for n in nics)
        subnets = [s for s in self.deps(r, "subnetId", "vpcZoneIdentifiers") if s.type == T["subnet"]]
        return bool(subnets) and all(self.known(s, "mapPublicIpOnLaunch") is True for s in subnets)

    def security_groups(self, r) -> list:
        """The security groups a resource attaches (a host launched from a template: the template's)."""
        own = [sg for sg in self.deps(r, "vpcSecurityGroupIds", "securityGroups", "securityGroupIds")
               if sg.type == T["sg"]]
        template = self.template(r) if r.type in (T["instance"], T["asg"]) else None
        if own or template is None:
            return own
        return [sg for sg in self.deps(template, "vpcSecurityGroupIds", "networkInterfaces") if sg.type == T["sg"]]


def _slug(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _id(r) -> str:
    return "n_" + _slug(r.urn.split("::", 2)[-1])


def _num(value) -> str:
    """3306.0 -> "3306" (numbers arrive as floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value if value is not None else "")


def _tier(g: _Graph, subnet) -> str:
    tags = g.known(subnet, "tags", {}) or {}
    tier = tags.get("Tier") or tags.get("tier")
    if not tier:
        tier = next((t for t in _TIER_ORDER if t in subnet.name.lower()), "subnet")
    return str(tier)


def _tier_key(tier: str):
    return (_TIER_ORDER.index(tier) if tier in _TIER_ORDER else len(_TIER_ORDER), tier)


def _az(g: _Graph, subnet) -> str:
    return str(g.known(subnet, "availabilityZone") or "AZ (unknown)")


def _subnets_of(g: _Graph) -> dict:
    """resource urn -> the subnets it sits in, from the inputs that name subnets."""
    rt_subnets = g.route_table_subnets()
    out = {}
    for kind, keys in (("instance", ("subnetId",)), ("nat", ("subnetId",)), ("lb", ("subnets", "subnetMappings")),
                       ("asg", ("vpcZoneIdentifiers",))):
        for r in g.by_type[T[kind]]:
            out[r.urn] = [s for s in g.deps(r, *keys) if s.type == T["subnet"]]
    for r in g.by_type[T["instance"]]:  # a subnet id computed from a list names them all: its value decides
        chosen = [s for s in out[r.urn] if s.id and s.id == g.known(r, "subnetId")]
        out[r.urn] = chosen or out[r.urn]
    for e in g.by_type[T["endpoint"]]:
        out[e.urn] = g.deps(e, "subnetIds") + [s for rt in g.deps(e, "routeTableIds") for s in rt_subnets[rt.urn]]
    for c in g.by_type[T["cluster"]]:
        out[c.urn] = [s for grp in g.deps(c, "dbSubnetGroupName") for s in g.deps(grp, "subnetIds")]
    for ci in g.by_type[T["cluster_instance"]] + g.by_type[T["db_instance"]]:
        az = g.known(ci, "availabilityZone")
        groups = [grp for c in g.deps(ci, "clusterIdentifier") for grp in g.deps(c, "dbSubnetGroupName")]
        subnets = [s for grp in groups + g.deps(ci, "dbSubnetGroupName") for s in g.deps(grp, "subnetIds")]
        out[ci.urn] = [s for s in subnets if g.known(s, "availabilityZone") == az][:1]
    return {u: list({s.urn: s for s in subs}.values()) for u, subs in out.items()}
