"""Draw the architecture from the recorded resources (graphviz), not from a fixed picture.

Everything is derived from resource types and the propertyDependencies the program declared
(ids are unknown in a preview). Layout: the Internet on top, then per VPC its gateways and one
band per tier in rows (the subnet's ``Tier`` tag, else its name; public → private → isolated).
A band's subnets are one node, an HTML table with one equal-width column per Availability Zone
in name order (so columns line up and keep their order; edges attach to a resource's cell, a
port). A resource is placed by the subnets it names:
in one subnet → inside that subnet (instances by ``subnetId``, NAT gateways, Aurora instances via
their cluster's subnet group and AZ); across several subnets of one tier → in that tier's band
(a load balancer by ``subnets``/``subnetMappings``, interface endpoints by ``subnetIds``, gateway
endpoints via their route tables, an Aurora cluster via its subnet group). Edges: one per
security-group link (an ingress rule and its matching egress rule are one edge), replication
(cluster → instances) and routing (0.0.0.0/0 routes to the internet or a NAT gateway).
"""
from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

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
    "sg_rule": "aws:ec2/securityGroupRule:SecurityGroupRule",
}
_SG_KEYS = ("vpcSecurityGroupIds", "securityGroups", "securityGroupIds")
_TIER_ORDER = ("public", "private", "app", "isolated", "db", "data")
TIER_COLOURS = {"public": "#e8f5e9", "private": "#e3f2fd", "app": "#e3f2fd", "isolated": "#fff3e0",
                "db": "#fff3e0", "data": "#fff3e0"}
_OTHER_TIER = "#f1f3f4"
EDGE_KINDS = {  # kind -> (legend text, graphviz attributes)
    "sg": ("security-group link (protocol port)", {"color": "#1a73e8", "fontcolor": "#1a73e8", "penwidth": "1.4"}),
    "replication": ("replication (cluster → instance)", {"color": "#34a853", "style": "dashed",
                                                                "arrowhead": "none"}),
    "routing": ("route 0.0.0.0/0 (IGW / NAT)", {"color": "#80868b", "style": "dotted", "fontcolor": "#5f6368"}),
}


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
        out = defaultdict(list)
        for a in self.by_type[T["rta"]]:
            for rt in self.deps(a, "routeTableId"):
                out[rt.urn] += self.deps(a, "subnetId")
        return out

    def in_vpc(self, r, vpc) -> bool:
        return vpc.urn in [d.urn for d in self.deps(r, "vpcId")]


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


def _tier_key(tier: str):
    return (_TIER_ORDER.index(tier) if tier in _TIER_ORDER else len(_TIER_ORDER), tier)


def _az(g: _Graph, subnet) -> str:
    return str(g.known(subnet, "availabilityZone") or "AZ (unknown)")


def _subnets_of(g: _Graph) -> dict:
    """resource urn -> the subnets it sits in, from the inputs that name subnets."""
    rt_subnets = g.route_table_subnets()
    out = {}
    for kind, keys in (("instance", ("subnetId",)), ("nat", ("subnetId",)), ("lb", ("subnets", "subnetMappings"))):
        for r in g.by_type[T[kind]]:
            out[r.urn] = g.deps(r, *keys)
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


def _label(g: _Graph, r, nsubnets: int) -> tuple[str, dict]:
    t = r.type
    if t == T["instance"]:
        pub = "\npublic IP" if g.known(r, "associatePublicIpAddress") else ""
        return f"EC2 {r.name}\n{g.known(r, 'instanceType', '')}{pub}", {"fillcolor": "#fde9d9"}
    if t == T["nat"]:
        return f"NAT gateway\n{r.name}", {"fillcolor": "#e8f0fe", "shape": "octagon"}
    if t == T["lb"]:
        kind = "internal" if g.known(r, "internal") else "internet-facing"
        lbtype = {"network": "NLB", "gateway": "GWLB"}.get(g.known(r, "loadBalancerType"), "ALB")
        return f"{lbtype} {r.name}\n{kind}, {nsubnets} subnet(s)", {"fillcolor": "#fce8b2", "shape": "hexagon"}
    if t == T["cluster"]:
        return (f"Aurora cluster {r.name}\n{g.known(r, 'engine', '')} :{_num(g.known(r, 'port'))}".rstrip(" :"),
                {"fillcolor": "#ceead6", "shape": "cylinder"})
    role = (g.known(r, "tags", {}) or {}).get("Role", "")
    kind = "Aurora" if t == T["cluster_instance"] else "RDS"
    return f"{kind} {role or 'instance'}\n{r.name}\n{g.known(r, 'instanceClass', '')}", {"fillcolor": "#e6f4ea"}


def build(result):
    """A graphviz.Digraph of the stack's architecture."""
    import graphviz

    g = _Graph(result)
    dot = graphviz.Digraph("architecture", graph_attr={
        "rankdir": "TB", "fontname": "Helvetica", "fontsize": "16", "compound": "true", "newrank": "true",
        "label": f"{result.project} / {result.stack} — {len(result.registrations)} resources (from preflight)",
        "labelloc": "t", "nodesep": "0.35", "ranksep": "0.45", "forcelabels": "true"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box", "style": "rounded,filled",
                   "fillcolor": "white"}, edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    dot.node("internet", "Internet", shape="ellipse", fillcolor="#f1f3f4")
    placed = _subnets_of(g)
    rows: list[list[str]] = [["internet"]]  # top-to-bottom rank rows, chained invisibly below
    drawn_types = (T["instance"], T["nat"], T["lb"], T["endpoint"], T["cluster"], T["cluster_instance"],
                   T["db_instance"])

    for vpc in sorted(g.by_type[T["vpc"]], key=lambda r: r.name):
        vid = _id(vpc)
        subnets = [s for s in g.by_type[T["subnet"]] if g.in_vpc(s, vpc)]
        azs = sorted({_az(g, s) for s in subnets})
        tiers = sorted({_tier(g, s) for s in subnets}, key=_tier_key)
        cell = defaultdict(list)  # (tier, AZ) -> its subnets
        for s in sorted(subnets, key=lambda s: s.name):
            cell[(_tier(g, s), _az(g, s))].append(s)
        inside = {s.urn for s in subnets}
        in_subnet, in_tier = defaultdict(list), defaultdict(list)
        for r in g.regs:
            subs = [s for s in placed.get(r.urn, []) if s.urn in inside]
            if r.type not in drawn_types or not subs or r.type == T["endpoint"]:
                continue
            if len(subs) == 1:
                in_subnet[subs[0].urn].append(r)
            else:
                in_tier[min((_tier(g, s) for s in subs), key=_tier_key)].append((r, len(subs)))
        endpoints = [e for e in g.by_type[T["endpoint"]] if g.in_vpc(e, vpc)]
        ep_tiers = sorted({_tier(g, s) for e in endpoints for s in placed.get(e.urn, []) if s.urn in inside},
                          key=_tier_key)[:1]  # drawn once, in the top-most tier they reach
        with dot.subgraph(name=f"cluster_{vid}") as v:
            v.attr(label=f"VPC {vpc.name}  {g.known(vpc, 'cidrBlock', '')}", style="rounded", color="#5f6368",
                   fontsize="13", labeljust="l")
            igws = [i for i in g.by_type[T["igw"]] if g.in_vpc(i, vpc)]
            for igw in igws:
                g.put(v, igw, f"Internet gateway\n{igw.name}", shape="cds", fillcolor="#e8f0fe")
                dot.edge("internet", _id(igw), dir="both", **EDGE_KINDS["routing"][1])
            if igws:
                rows.append([_id(i) for i in igws])
            column = []
            for tier in tiers:
                band_name = f"cluster_tier_{_slug(tier)}_{vid}"
                members = [s.urn for s in subnets if _tier(g, s) == tier]
                g.tier_of.update({u: (band_name, members, tier) for u in members})
                with v.subgraph(name=band_name) as band:
                    band.attr(label=f"{tier} tier", labeljust="l", style="rounded,filled", color="#bdc1c6",
                              fillcolor=TIER_COLOURS.get(tier, _OTHER_TIER), fontsize="11")
                    spanning = []
                    for r, n in sorted(in_tier[tier], key=lambda x: x[0].name):
                        text, attrs = _label(g, r, n)
                        spanning.append(g.put(band, r, text, **attrs))
                    if tier in ep_tiers and endpoints:
                        spanning.append(_endpoints_node(g, band, vpc, endpoints))
                    if spanning:
                        rows.append(spanning)
                    row_id = f"row_{_slug(tier)}_{vid}"
                    cells = [_subnet_cell(g, row_id, cell.get((tier, az), []), in_subnet) for az in azs]
                    band.node(row_id, _table(cells, border=0), shape="plain", style="")
                    rows.append([row_id])
                    column.append(row_id)
            for upper, lower in zip(column, column[1:]):  # the tier rows stacked, AZ columns aligned
                dot.edge(upper, lower, style="invis", weight="20")
            if endpoints and not ep_tiers:
                _endpoints_node(g, v, vpc, endpoints)
    for r in g.regs:  # anything drawable with no known subnet still appears
        if r.type in drawn_types and r.urn not in g.node_of:
            if r.type == T["endpoint"]:
                continue
            text, attrs = _label(g, r, 0)
            g.put(dot, r, text, **attrs)
    for row in rows:
        with dot.subgraph() as same:
            same.attr(rank="same")
            for n in row:
                same.node(n)
    for upper, lower in zip(rows, rows[1:]):
        dot.edge(upper[0], lower[0], style="invis")
    g.row = {n: i for i, row in enumerate(rows) for n in row}
    _routing_edges(dot, g)
    for ci in g.by_type[T["cluster_instance"]]:
        for c in g.deps(ci, "clusterIdentifier"):
            if c.urn in g.node_of and ci.urn in g.node_of:
                dot.edge(*g.ends(g.node_of[c.urn], g.node_of[ci.urn]), **EDGE_KINDS["replication"][1])
    _sg_edges(dot, g, _forwards(g))
    _legend(dot, sorted({t for *_, t in g.tier_of.values()}, key=_tier_key))
    return dot


CELL_WIDTH = 170  # points: every AZ column is this wide, so the tiers' columns line up


def _table(cells: list, border: int = 0) -> str:
    tds = "".join(f'<TD WIDTH="{CELL_WIDTH}" VALIGN="TOP">{c}</TD>' for c in cells)
    return f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="10" CELLPADDING="0"><TR>{tds}</TR></TABLE>>'


def _subnet_cell(g: _Graph, row_id: str, subnets: list, in_subnet: dict) -> str:
    """One AZ's cell of a tier row: its subnets (usually one), each a box headed by AZ and CIDR with
    one port per resource in it (edges attach there); an AZ without this tier stays an empty cell."""
    boxes = []
    for s in subnets:
        port = _slug("Subnet_" + s.name)
        g.node_of[s.urn] = f"{row_id}:{port}"
        head = html.escape(f"{_az(g, s)} · {g.known(s, 'cidrBlock', '') or s.name}")
        trs = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#5f6368">{head}</FONT></TD></TR>']
        for r in sorted(in_subnet.get(s.urn, []), key=lambda r: r.name):
            text, attrs = _label(g, r, 1)
            rport = _slug(r.type.rsplit(":", 1)[-1] + "_" + r.name)
            g.node_of[r.urn] = f"{row_id}:{rport}"
            lines = "<BR/>".join(html.escape(x) for x in text.split("\n"))
            trs.append(f'<TR><TD PORT="{rport}" BGCOLOR="{attrs.get("fillcolor", "white")}" BORDER="1" '
                       f'STYLE="ROUNDED" CELLPADDING="5">{lines}</TD></TR>')
        size = f'WIDTH="{CELL_WIDTH}"' + ("" if len(trs) > 1 else ' HEIGHT="30" FIXEDSIZE="TRUE"')  # empty: compact
        boxes.append(f'<TABLE PORT="{port}" BORDER="1" COLOR="#9aa0a6" STYLE="ROUNDED" BGCOLOR="white" '
                     f'CELLBORDER="0" CELLSPACING="4" CELLPADDING="2" {size}>{"".join(trs)}</TABLE>')
    if len(boxes) <= 1:
        return "".join(boxes)
    return '<TABLE BORDER="0" CELLSPACING="4">' + "".join(f"<TR><TD>{b}</TD></TR>" for b in boxes) + "</TABLE>"


def _endpoints_node(g: _Graph, parent, vpc, endpoints) -> str:
    node_id = f"endpoints_{_id(vpc)}"
    names = sorted(str(g.known(e, "serviceName") or e.name).rsplit(".", 1)[-1] for e in endpoints)
    kinds = sorted({str(g.known(e, "vpcEndpointType") or "Gateway") for e in endpoints})
    g.put(parent, None, f"VPC endpoints ({'/'.join(k.lower() for k in kinds)})\n" + ", ".join(names),
          node_id, shape="note", fillcolor="#f8f9fa")
    for e in endpoints:
        g.node_of[e.urn] = node_id
    return node_id


def _routing_edges(dot, g: _Graph) -> None:
    """One dotted edge per default route to an internet or NAT gateway, from the subnets whose
    route table holds it: from the whole tier band when every subnet of that tier uses it."""
    rt_subnets = {rt: [s for s in subs if s.urn in g.tier_of and s.urn in g.node_of]
                  for rt, subs in g.route_table_subnets().items()}
    users = defaultdict(dict)  # gateway node -> {subnet urn: subnet}
    for route in g.by_type[T["route"]]:
        for gw in g.deps(route, "natGatewayId", "gatewayId"):
            if gw.urn in g.node_of:
                for rt in g.deps(route, "routeTableId"):
                    users[g.node_of[gw.urn]].update({s.urn: s for s in rt_subnets.get(rt.urn, [])})
    for gw, subnets in sorted(users.items()):
        done = set()
        for s in sorted(subnets.values(), key=lambda s: s.name):
            band, members, _ = g.tier_of[s.urn]
            if s.urn in done:
                continue
            whole = len(members) > 1 and set(members) <= set(subnets)
            done.update(members if whole else [s.urn])
            dot.edge(*g.ends(g.node_of[s.urn], gw), constraint="false", **({"ltail": band} if whole else {}),
                     **EDGE_KINDS["routing"][1])


def _forwards(g: _Graph) -> dict:
    """(load balancer node, target node) -> "HTTP :80", from listeners → target groups → attachments."""
    out = {}
    for tga in g.by_type[T["tga"]]:
        for tg in g.deps(tga, "targetGroupArn"):
            for lst in [x for x in g.by_type[T["listener"]] if tg.urn in x.property_dependencies.get("defaultActions", [])]:
                for lb in g.deps(lst, "loadBalancerArn"):
                    for target in g.deps(tga, "targetId"):
                        if lb.urn in g.node_of and target.urn in g.node_of:
                            out[(g.node_of[lb.urn], g.node_of[target.urn])] = \
                                f"{g.known(lst, 'protocol', 'HTTP')} :{_num(g.known(tga, 'port'))}".rstrip(" :")
    return out


def _sg_edges(dot, g: _Graph, forwards: dict) -> None:
    """One edge per security-group link: an ingress rule (source = referenced group or a CIDR) and
    the egress rule on the source that mirrors it are the same (source, target, ports) → one edge."""
    holders: dict[str, list] = defaultdict(list)
    for r in g.regs:
        for sg in g.deps(r, *_SG_KEYS):
            if r.urn in g.node_of:
                holders[sg.urn].append(g.node_of[r.urn])
    vpc_cidrs = {g.known(v, "cidrBlock") for v in g.by_type[T["vpc"]]}
    links: dict = {}  # (source node, target node) -> [labels]
    notes = defaultdict(list)  # target node -> rules from the VPC's own CIDR
    rules = [(r, "ingress") for r in g.by_type[T["ingress"]]] + [(r, "egress") for r in g.by_type[T["egress"]]] + \
        [(r, g.known(r, "type")) for r in g.by_type[T["sg_rule"]]]
    for rule, direction in rules:
        proto = str(g.known(rule, "ipProtocol", g.known(rule, "protocol", "tcp")))
        lo, hi = g.known(rule, "fromPort"), g.known(rule, "toPort")
        label = "all traffic" if proto == "-1" else f"{proto} {_num(lo) if lo == hi else f'{_num(lo)}-{_num(hi)}'}"
        own = [h for sg in g.deps(rule, "securityGroupId") for h in holders.get(sg.urn, [])]
        other = [h for sg in g.deps(rule, "referencedSecurityGroupId", "sourceSecurityGroupId")
                 for h in holders.get(sg.urn, [])]
        cidrs = [c for c in (g.known(rule, "cidrIpv4"), g.known(rule, "cidrIpv6")) if c] + \
            list(g.known(rule, "cidrBlocks", []) or [])
        if direction != "ingress":  # egress: only group-to-group (the mirror of an ingress link)
            pairs = [(o, x) for o in own for x in other]
        else:
            pairs = [(x, o) for o in own for x in other]
            for c in cidrs:
                for o in own:
                    if c in vpc_cidrs and ":" not in o:  # a note on the node, not an edge across the VPC
                        notes[o].append(f"{label} from VPC CIDR")
                    else:
                        pairs.append(("internet" if c in ("0.0.0.0/0", "::/0") else _cidr_node(dot, c), o))
        for pair in pairs:
            if label not in links.setdefault(pair, []):
                links[pair].append(label)
    for (src, dst), labels in sorted(links.items()):
        text = ", ".join(labels)
        if (src, dst) in forwards:
            text += f"\n({forwards[(src, dst)]} target)"
        dot.edge(*g.ends(src, dst), label=" " + text + " ", **EDGE_KINDS["sg"][1])
    for (src, dst), text in sorted(forwards.items()):  # a target without a matching SG link
        if (src, dst) not in links:
            dot.edge(*g.ends(src, dst), label=f" {text} ", color="#f9ab00", fontcolor="#b06000")
    for node_id, texts in notes.items():
        dot.node(node_id, g.labels[node_id] + "\ningress " + "; ".join(sorted(set(texts))))


def _cidr_node(dot, cidr: str) -> str:
    node_id = "cidr_" + _slug(cidr)
    with dot.subgraph() as top:  # an outside address sits beside the Internet
        top.attr(rank="same")
        top.node("internet")
        top.node(node_id, cidr, shape="ellipse", fillcolor="#f1f3f4")
    return node_id


_SAMPLES = {"sg": "───▶", "replication": "╌╌╌╌", "routing": "┈┈┈▶"}  # how each edge kind looks


def _legend(dot, tiers_drawn: list) -> None:
    """One small table beside the Internet: the tiers drawn and what each edge kind means."""
    rows = [f'<TR><TD BGCOLOR="{TIER_COLOURS.get(t, _OTHER_TIER)}" BORDER="1" COLOR="#bdc1c6"> </TD>'
            f'<TD ALIGN="LEFT">{html.escape(t)} tier</TD></TR>' for t in tiers_drawn]
    rows += [f'<TR><TD><FONT COLOR="{attrs["color"]}">{_SAMPLES[kind]}</FONT></TD>'
             f'<TD ALIGN="LEFT">{html.escape(text)}</TD></TR>' for kind, (text, attrs) in EDGE_KINDS.items()]
    dot.node("legend", '<<TABLE BORDER="1" COLOR="#bdc1c6" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="3">'
             '<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>' + "".join(rows) + "</TABLE>>",
             shape="plain", style="", fontsize="9")
    with dot.subgraph() as top:
        top.attr(rank="same")
        top.node("internet")
        top.node("legend")


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
