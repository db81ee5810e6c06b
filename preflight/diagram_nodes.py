"""How the diagram's nodes look (preflight/diagram.py): resource labels, the HTML tables of a
tier row's subnets, the VPC-endpoints note and the legend."""
from __future__ import annotations

import html

from .diagram_edges import EDGE_KINDS
from .diagram_model import T, _az, _Graph, _id, _num, _slug

TIER_COLOURS = {"public": "#e8f5e9", "private": "#e3f2fd", "app": "#e3f2fd", "isolated": "#fff3e0",
                "db": "#fff3e0", "data": "#fff3e0"}
_OTHER_TIER = "#f1f3f4"
CELL_WIDTH = 170  # points: every AZ column is this wide, so the tiers' columns line up


def _label(g: _Graph, r, nsubnets: int) -> tuple[str, dict]:
    t = r.type
    if t == T["instance"]:
        pub = "\npublic IP" if g.public_ip(r) else ""
        where = f"\nin one of {nsubnets} subnets" if nsubnets > 1 else ""  # its subnet is known at update
        return f"EC2 {r.name}\n{g.launched(r, 'instanceType', '')}{pub}{where}", {"fillcolor": "#fde9d9"}
    if t == T["asg"]:
        sizes = ", ".join(f"{k} {_num(g.known(r, key))}" for k, key in (
            ("desired", "desiredCapacity"), ("min", "minSize"), ("max", "maxSize")) if g.known(r, key) is not None)
        azs = g.spread.get(r.urn, nsubnets)
        return (f"Auto Scaling group {r.name}\n{g.launched(r, 'instanceType', '')} · {sizes}\n"
                f"across {azs} subnet(s)" + ("\npublic IP" if g.public_ip(r) else ""), {"fillcolor": "#fde9d9"})
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
            if g.spread.get(r.urn, 1) > 1:  # drawn in several subnets: one port each, edges at the first
                rport += "__" + _slug(s.name)
            g.node_of.setdefault(r.urn, f"{row_id}:{rport}")
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


def _dynamodb_node(g: _Graph, parent, tables: list) -> str:
    """The regional DynamoDB service outside the VPC: one line per table (keys, indexes, billing)."""
    lines = []
    for t in sorted(tables, key=lambda t: str(g.known(t, "name") or t.name)):
        keys = ", ".join(k for k in (g.known(t, "hashKey"), g.known(t, "rangeKey")) if k)
        indexes = len(g.known(t, "globalSecondaryIndexes", []) or [])
        mode = g.known(t, "billingMode") or "PROVISIONED"
        billing = "on-demand" if mode == "PAY_PER_REQUEST" else \
            f"{_num(g.known(t, 'readCapacity'))} RCU / {_num(g.known(t, 'writeCapacity'))} WCU"
        scaled = [x for x in g.by_type[T["scaling_target"]] if t.urn in x.property_dependencies.get("resourceId", [])]
        ceiling = max((g.known(x, "maxCapacity") or 0 for x in scaled), default=0)
        lines.append(f"{g.known(t, 'name') or t.name} ({keys})" + (f" +{indexes} GSI" if indexes else "") +
                     f", {billing}" + (f", auto scaling ≤ {_num(ceiling)}" if ceiling else ""))
    g.node_of.update({t.urn: "dynamodb" for t in tables})
    return g.put(parent, None, "DynamoDB (regional)\n" + "\n".join(lines), "dynamodb", shape="cylinder",
                 fillcolor="#ede7f6")


_SAMPLES = {"sg": "───▶", "replication": "╌╌╌╌", "routing": "┈┈┈▶", "gateway": "╌╌╌▶"}  # how each edge kind looks


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
