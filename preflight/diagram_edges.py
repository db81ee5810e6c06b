"""The diagram's edges, derived from the recorded relationships (preflight/diagram.py):
default routes, load balancer → target forwards and security-group links."""
from __future__ import annotations

from collections import defaultdict

from .diagram_model import T, _Graph, _num, _slug

EDGE_KINDS = {  # kind -> (legend text, graphviz attributes)
    "sg": ("security-group link (protocol port)", {"color": "#1a73e8", "fontcolor": "#1a73e8", "penwidth": "1.4"}),
    "replication": ("replication (cluster → instance)", {"color": "#34a853", "style": "dashed",
                                                                "arrowhead": "none"}),
    "routing": ("route 0.0.0.0/0 (IGW / NAT)", {"color": "#80868b", "style": "dotted", "fontcolor": "#5f6368"}),
    "gateway": ("gateway endpoint (route to an AWS service)", {"color": "#7b1fa2", "style": "dashed",
                                                               "fontcolor": "#7b1fa2"}),
}


def _routing_edges(dot, g: _Graph) -> None:
    """One dotted edge per default route to an internet or NAT gateway, from the subnets whose
    route table holds it: from the whole tier band when every subnet of that tier uses it."""
    rt_subnets = {rt: [s for s in subs if s.urn in g.tier_of and s.urn in g.node_of]
                  for rt, subs in g.route_table_subnets().items()}
    users: defaultdict[str, dict] = defaultdict(dict)  # gateway node -> {subnet urn: subnet}
    for route in g.by_type[T["route"]]:
        for gw in g.deps(route, "natGatewayId", "gatewayId"):
            if gw.urn in g.node_of:
                for rt in g.deps(route, "routeTableId"):
                    users[g.node_of[gw.urn]].update({s.urn: s for s in rt_subnets.get(rt.urn, [])})
    for gw, subnets in sorted(users.items()):
        done: set[str] = set()
        for s in sorted(subnets.values(), key=lambda s: s.name):
            band, members, _ = g.tier_of[s.urn]
            if s.urn in done:
                continue
            whole = len(members) > 1 and set(members) <= set(subnets)
            done.update(members if whole else [s.urn])
            dot.edge(*g.ends(g.node_of[s.urn], gw), constraint="false", **({"ltail": band} if whole else {}),
                     **EDGE_KINDS["routing"][1])


def _listeners_to(g: _Graph, tg) -> list:
    """The listeners whose default actions name the target group `tg`."""
    return [x for x in g.by_type[T["listener"]] if tg.urn in x.property_dependencies.get("defaultActions", [])]


def _forwards(g: _Graph) -> dict:
    """(load balancer node, target node) -> "HTTP :80", from listeners → target groups → attachments
    (or the Auto Scaling groups that register their hosts, `targetGroupArns`)."""
    out = {}
    for asg in g.by_type[T["asg"]]:
        for tg in g.deps(asg, "targetGroupArns"):
            for lst in _listeners_to(g, tg):
                for lb in g.deps(lst, "loadBalancerArn"):
                    if lb.urn in g.node_of and asg.urn in g.node_of:
                        out[(g.node_of[lb.urn], g.node_of[asg.urn])] = \
                            f"{g.known(lst, 'protocol', 'HTTP')} :{_num(g.known(tg, 'port'))}".rstrip(" :")
    for tga in g.by_type[T["tga"]]:
        for tg in g.deps(tga, "targetGroupArn"):
            for lst in _listeners_to(g, tg):
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
        for sg in g.security_groups(r) if r.urn in g.node_of else ():
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
