"""Draw the architecture from the recorded resources (graphviz), not from a fixed picture.

Everything is derived from resource types and the propertyDependencies the program declared
(ids are unknown in a preview): VPC -> subnets per Availability Zone and tier (the subnet's
``Tier`` tag, else its name), resources placed in their subnet (instances, NAT gateways, Aurora
instances via their cluster's subnet group and AZ), the load balancer and its targets, and one
labelled edge per security-group rule between the resources that carry those groups.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from google.protobuf import json_format

from .recorder import UNKNOWN

T = {
    "vpc": "aws:ec2/vpc:Vpc", "subnet": "aws:ec2/subnet:Subnet", "igw": "aws:ec2/internetGateway:InternetGateway",
    "nat": "aws:ec2/natGateway:NatGateway", "instance": "aws:ec2/instance:Instance",
    "cluster": "aws:rds/cluster:Cluster", "cluster_instance": "aws:rds/clusterInstance:ClusterInstance",
    "db_instance": "aws:rds/instance:Instance", "subnet_group": "aws:rds/subnetGroup:SubnetGroup",
    "lb": "aws:lb/loadBalancer:LoadBalancer", "listener": "aws:lb/listener:Listener",
    "tga": "aws:lb/targetGroupAttachment:TargetGroupAttachment", "endpoint": "aws:ec2/vpcEndpoint:VpcEndpoint",
    "ingress": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "sg_rule": "aws:ec2/securityGroupRule:SecurityGroupRule",
}
_SG_KEYS = ("vpcSecurityGroupIds", "securityGroups", "securityGroupIds")
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
        self.edges: set = set()

    def edge(self, dot, src: str, dst: str, **attrs) -> None:
        key = (src, dst, attrs.get("label", ""))
        if key not in self.edges:
            self.edges.add(key)
            dot.edge(src, dst, **attrs)

    def deps(self, r, key) -> list:
        return [self.by_urn[u] for u in r.property_dependencies.get(key, []) if u in self.by_urn]

    def known(self, r, key, default=None):
        v = self.props[r.urn].get(key, default)
        return default if v == UNKNOWN else v


def _slug(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _id(r) -> str:
    return "n_" + _slug(r.urn.split("::", 2)[-1])


def _num(value) -> str:
    """3306.0 -> "3306" (numbers arrive as floats)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value if value is not None else "")


def _tier(g: _Graph, subnet) -> str:
    tags = g.known(subnet, "tags", {}) or {}
    tier = tags.get("Tier") or tags.get("tier")
    if not tier:
        tier = next((t for t in _TIER_ORDER if t in subnet.name.lower()), "subnet")
    return str(tier)


def build(result):
    """A graphviz.Digraph of the stack's architecture."""
    import graphviz

    g = _Graph(result)
    dot = graphviz.Digraph("architecture", graph_attr={
        "rankdir": "TB", "fontname": "Helvetica", "fontsize": "12", "compound": "true", "newrank": "true",
        "label": f"{result.project} / {result.stack} (from preflight)", "labelloc": "t"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box", "style": "rounded,filled",
                   "fillcolor": "white"}, edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    in_subnet: dict[str, list] = defaultdict(list)  # subnet urn -> resources placed in it
    placed = set()
    for kind in ("instance", "nat"):
        for r in g.by_type[T[kind]]:
            for s in g.deps(r, "subnetId"):
                in_subnet[s.urn].append(r)
                placed.add(r.urn)
    for ci in g.by_type[T["cluster_instance"]] + g.by_type[T["db_instance"]]:
        az = g.known(ci, "availabilityZone")
        clusters = g.deps(ci, "clusterIdentifier")
        groups = [sg for c in clusters for sg in g.deps(c, "dbSubnetGroupName")] + g.deps(ci, "dbSubnetGroupName")
        subnets = [s for grp in groups for s in g.deps(grp, "subnetIds")]
        target = next((s for s in subnets if g.known(s, "availabilityZone") == az), None)
        if target is not None:
            in_subnet[target.urn].append(ci)
            placed.add(ci.urn)

    def node(parent, r, label, **attrs):
        g.node_of[r.urn] = _id(r)
        parent.node(_id(r), label, **attrs)

    def draw(parent, r):
        p, t = g.props[r.urn], r.type
        if t == T["instance"]:
            pub = " (public IP)" if g.known(r, "associatePublicIpAddress") else ""
            node(parent, r, f"EC2 {r.name}\n{g.known(r, 'instanceType', '')}{pub}", fillcolor="#fde9d9")
        elif t == T["nat"]:
            node(parent, r, f"NAT {r.name}", fillcolor="#e8f0fe")
        else:
            role = (g.known(r, "tags", {}) or {}).get("Role", "")
            node(parent, r, f"{'Aurora ' if t == T['cluster_instance'] else 'RDS '}{role or 'instance'}\n{r.name}\n"
                            f"{p.get('instanceClass', '')}", fillcolor="#e6f4ea")

    for vpc in sorted(g.by_type[T["vpc"]], key=lambda r: r.name):
        with dot.subgraph(name=f"cluster_{_id(vpc)}") as v:
            v.attr(label=f"VPC {vpc.name} {g.known(vpc, 'cidrBlock', '')}", style="rounded", color="#5f6368")
            subnets = [s for s in g.by_type[T["subnet"]] if vpc.urn in [d.urn for d in g.deps(s, "vpcId")]]
            by_az = defaultdict(list)
            for s in subnets:
                by_az[g.known(s, "availabilityZone") or "AZ (unknown)"].append(s)
            ranks = defaultdict(list)
            for az in sorted(by_az):
                with v.subgraph(name="cluster_az_" + _slug(az) + "_" + _id(vpc)) as a:
                    a.attr(label=az, style="dashed", color="#9aa0a6")
                    order = {t: i for i, t in enumerate(_TIER_ORDER)}
                    stacked = sorted(by_az[az], key=lambda s: (order.get(_tier(g, s), 99), s.name))
                    for upper, lower in zip(stacked, stacked[1:]):  # tiers top to bottom
                        dot.edge(_id(upper), _id(lower), style="invis")
                    for s in stacked:
                        ranks[_tier(g, s)].append(_id(s))
                        with a.subgraph(name=f"cluster_{_id(s)}") as sn:
                            tier = _tier(g, s)
                            sn.attr(label=f"{tier} {g.known(s, 'cidrBlock', '')}", style="rounded,filled",
                                    fillcolor={"public": "#e8f5e9", "isolated": "#fff3e0", "db": "#fff3e0"}
                                    .get(tier, "#e3f2fd"), color="#bdc1c6")
                            sn.node(_id(s), "", shape="point", style="invis")
                            with sn.subgraph() as row:  # a subnet's resources sit on its tier's row
                                row.attr(rank="same")
                                row.node(_id(s))
                                for r in sorted(in_subnet.get(s.urn, []), key=lambda r: r.name):
                                    draw(row, r)
            for ids in ranks.values():  # the same tier lines up across AZs, AZs in name order
                with v.subgraph() as same:
                    same.attr(rank="same")
                    for i in ids:
                        same.node(i)
                for left, right in zip(ids, ids[1:]):
                    dot.edge(left, right, style="invis")
            for igw in g.by_type[T["igw"]]:
                if vpc.urn in [d.urn for d in g.deps(igw, "vpcId")]:
                    node(v, igw, f"Internet gateway\n{igw.name}", shape="cds", fillcolor="#e8f0fe")
                    dot.edge("internet", _id(igw), dir="both", color="#5f6368", constraint="false")
            for c in g.by_type[T["cluster"]]:
                node(v, c, f"Aurora cluster {c.name}\n{g.known(c, 'engine', '')} :{_num(g.known(c, 'port'))}".rstrip(" :"),
                     shape="cylinder", fillcolor="#ceead6")
            for lb in g.by_type[T["lb"]]:
                kind = "internal" if g.known(lb, "internal") else "internet-facing"
                node(v, lb, f"ALB {lb.name}\n({kind})", shape="hexagon", fillcolor="#fce8b2")
                if kind == "internet-facing":
                    dot.edge("internet", _id(lb), label="HTTP(S)")
            endpoints = [e for e in g.by_type[T["endpoint"]] if vpc.urn in [d.urn for d in g.deps(e, "vpcId")]]
            if endpoints:
                names = sorted(str(g.known(e, "serviceName") or e.name).rsplit(".", 1)[-1] for e in endpoints)
                v.node(f"endpoints_{_id(vpc)}", "VPC endpoints\n" + ", ".join(names), shape="note")
                for e in endpoints:
                    g.node_of[e.urn] = f"endpoints_{_id(vpc)}"
    dot.node("internet", "Internet", shape="ellipse", fillcolor="#f1f3f4")

    for r in g.regs:  # anything drawn with no subnet (e.g. no VPC known) still appears
        if r.type in (T["instance"], T["nat"], T["cluster_instance"], T["db_instance"]) and r.urn not in placed:
            draw(dot, r)
    for ci in g.by_type[T["cluster_instance"]]:
        for c in g.deps(ci, "clusterIdentifier"):
            dot.edge(_id(c), _id(ci), style="dashed", arrowhead="none", color="#34a853")
    for tga in g.by_type[T["tga"]]:
        for tg in g.deps(tga, "targetGroupArn"):
            for lst in [x for x in g.by_type[T["listener"]] if tg.urn in x.property_dependencies.get("defaultActions", [])]:
                for lb in g.deps(lst, "loadBalancerArn"):
                    for target in g.deps(tga, "targetId"):
                        dot.edge(_id(lb), _id(target), constraint="false", label=f"{g.known(lst, 'protocol', 'HTTP')} :{_num(g.known(tga, 'port'))}".rstrip(" :"),
                                 color="#f9ab00")
    _sg_edges(dot, g)
    return dot


def _sg_edges(dot, g: _Graph) -> None:
    """One edge per ingress rule: from the holders of the source group (or a CIDR) to the
    holders of the target group, labelled protocol and ports."""
    holders: dict[str, list] = defaultdict(list)
    for r in g.regs:
        for key in _SG_KEYS:
            for sg in g.deps(r, key):
                holders[sg.urn].append(r)
    cidr_nodes = set()
    for rule in g.by_type[T["ingress"]] + [r for r in g.by_type[T["sg_rule"]] if g.known(r, "type") == "ingress"]:
        proto = str(g.known(rule, "ipProtocol", g.known(rule, "protocol", "tcp")))
        lo, hi = g.known(rule, "fromPort"), g.known(rule, "toPort")
        ports = _num(lo) if lo == hi else f"{_num(lo)}-{_num(hi)}"
        label = "all traffic" if proto == "-1" else f"{proto} {ports}"
        targets = [h for sg in g.deps(rule, "securityGroupId") for h in holders.get(sg.urn, [])]
        sources = [h for key in ("referencedSecurityGroupId", "sourceSecurityGroupId")
                   for sg in g.deps(rule, key) for h in holders.get(sg.urn, [])]
        cidrs = [c for c in (g.known(rule, "cidrIpv4"), g.known(rule, "cidrIpv6")) if c] + \
            list(g.known(rule, "cidrBlocks", []) or [])
        targets = [g.node_of[t.urn] for t in targets if t.urn in g.node_of]
        sources = [g.node_of[x.urn] for x in sources if x.urn in g.node_of]
        for t in targets:
            for s in sources:
                g.edge(dot, s, t, label=label, color="#1a73e8", fontcolor="#1a73e8", constraint="false")
            for c in cidrs:
                src = "internet" if c in ("0.0.0.0/0", "::/0") else "cidr_" + _slug(c)
                if src != "internet" and src not in cidr_nodes:
                    dot.node(src, c, shape="ellipse", fillcolor="#f1f3f4")
                    cidr_nodes.add(src)
                g.edge(dot, src, t, label=label, color="#1a73e8", fontcolor="#1a73e8", style="dashed",
                       constraint="false")


def write_diagram(result, path: str) -> None:
    """Write .dot (source), .svg or .png (needs graphviz's `dot`, Debian package graphviz)."""
    import graphviz

    out = Path(path)
    dot = build(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".dot":
        out.write_text(dot.source, encoding="utf-8")
        return
    try:
        out.write_bytes(dot.pipe(format=out.suffix.lower().lstrip(".")))
    except graphviz.ExecutableNotFound:
        raise RuntimeError("--diagram needs graphviz's `dot` (Debian package graphviz; `make apt`)") from None
