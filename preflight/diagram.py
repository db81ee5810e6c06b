"""Draw the architecture from the recorded resources (graphviz), not from a fixed picture.

Everything is derived from resource types and the propertyDependencies the program declared
(ids are unknown in a preview). Layout: the Internet on top, then per VPC its gateways and one
band per tier in rows (the subnet's ``Tier`` tag, else its name; public → private → isolated).
A band's subnets are one node, an HTML table with one equal-width column per Availability Zone
in name order (so columns line up and keep their order; edges attach to a resource's cell, a
port). A resource is placed by the subnets it names:
in one subnet → inside that subnet (instances by ``subnetId``, its value when several subnets feed
it, NAT gateways, Aurora instances via their cluster's subnet group and AZ); an Auto Scaling group
→ inside every subnet of its ``vpcZoneIdentifiers`` (the fleet across AZs, with its desired/min/
max and its launch template's instance type); across several subnets of one tier → in that tier's band
(a load balancer by ``subnets``/``subnetMappings``, interface endpoints by ``subnetIds``, gateway
endpoints via their route tables, an Aurora cluster via its subnet group). Edges: one per
security-group link (an ingress rule and its matching egress rule are one edge), replication
(cluster → instances) and routing (0.0.0.0/0 routes to the internet or a NAT gateway).
DynamoDB tables are one regional node below the VPCs (keys, indexes, billing), reached from the
VPC endpoints note when a DynamoDB gateway endpoint exists.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

from .diagram_edges import EDGE_KINDS, _forwards, _routing_edges, _sg_edges
from .diagram_model import T, _az, _Graph, _id, _slug, _subnets_of, _tier, _tier_key
from .diagram_nodes import (
    _OTHER_TIER,
    TIER_COLOURS,
    _dynamodb_node,
    _endpoints_node,
    _label,
    _legend,
    _subnet_cell,
    _table,
)

__all__ = ["EDGE_KINDS", "T", "TIER_COLOURS", "build", "write_diagram"]


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
    drawn_types = (T["instance"], T["asg"], T["nat"], T["lb"], T["endpoint"], T["cluster"],
                   T["cluster_instance"], T["db_instance"])

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
            if len(subs) == 1 or r.type == T["asg"]:  # an ASG: in every subnet (AZ) it launches in
                for sub in subs:
                    in_subnet[sub.urn].append(r)
                g.spread[r.urn] = len(subs)
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
            for upper, lower in itertools.pairwise(column):  # the tier rows stacked, AZ columns aligned
                dot.edge(upper, lower, style="invis", weight="20")
            if endpoints and not ep_tiers:
                _endpoints_node(g, v, vpc, endpoints)
    if g.by_type[T["table"]]:  # DynamoDB tables: one regional node, below the VPCs
        rows.append([_dynamodb_node(g, dot, g.by_type[T["table"]])])
    for r in g.regs:  # anything drawable with no known subnet still appears
        if r.type in drawn_types and r.urn not in g.node_of:
            if r.type == T["endpoint"]:
                continue
            text, attrs = _label(g, r, 0)
            g.put(dot, r, text, **attrs)
    for row in rows:
        with dot.subgraph() as same:
            same.attr(rank="same")
            for node in row:
                same.node(node)
    for above, below in itertools.pairwise(rows):
        dot.edge(above[0], below[0], style="invis")
    g.row = {n: i for i, row in enumerate(rows) for n in row}
    _routing_edges(dot, g)
    for e in g.by_type[T["endpoint"]]:  # a gateway endpoint to DynamoDB routes the tier to the tables
        if g.by_type[T["table"]] and str(g.known(e, "serviceName", "")).endswith(".dynamodb") and e.urn in g.node_of:
            dot.edge(*g.ends(g.node_of[e.urn], "dynamodb"), label=" DynamoDB gateway endpoint ",
                     **EDGE_KINDS["gateway"][1])
    for ci in g.by_type[T["cluster_instance"]]:
        for c in g.deps(ci, "clusterIdentifier"):
            if c.urn in g.node_of and ci.urn in g.node_of:
                dot.edge(*g.ends(g.node_of[c.urn], g.node_of[ci.urn]), **EDGE_KINDS["replication"][1])
    _sg_edges(dot, g, _forwards(g))
    _legend(dot, sorted({t for *_, t in g.tier_of.values()}, key=_tier_key))
    return dot


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
