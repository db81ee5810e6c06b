"""The diagram is derived from the recorded resources and their relationships: these tests read
the DOT source (clusters, rows, ports, edges), never pixels."""
import re

import pytest

from preflight.diagram import TIER_COLOURS, build, write_diagram
from preflight.run import run

from .conftest import PACK

SG = 'color="#1a73e8"'
ROUTING = "style=dotted"


def parse(src: str):
    """(node id -> enclosing subgraph names, [(tail, head, attrs)]) of a DOT source."""
    nodes, edges, stack = {}, [], []
    for line in re.sub(r'"[^"]*"', lambda m: m.group(0).replace("\n", " "), src).splitlines():
        s = line.strip()
        if s.startswith("subgraph"):
            stack.append(s.split()[1])
        elif s == "{":
            stack.append("")
        elif s == "}" and stack:
            stack.pop()
        elif "->" in s:
            tail, rest = s.split(" -> ", 1)
            head, _, attrs = rest.partition(" [")
            edges.append((tail, head, attrs))
        elif re.match(r"^\w+ \[", s):
            nodes.setdefault(s.split(" ", 1)[0], [c for c in stack if c])
    return nodes, edges


def base(end: str) -> str:
    return end.split(":")[0]


def port(end: str) -> str:
    """node:port:compass or node:compass -> the port (edges attach to cells of a tier row)."""
    parts = end.split(":")
    return parts[1] if len(parts) > 1 and parts[1] not in ("n", "s", "e", "w") else ""


def short(end: str) -> str:
    """A resource's cell port, else its node's resource name."""
    return port(end) or base(end).split("__")[-1]


def label(attrs: str) -> str:
    m = re.search(r'label="([^"]*)"', attrs)
    return " ".join(m.group(1).split()) if m else ""


def drawn(edges, kind):
    return [e for e in edges if kind in e[2]]


@pytest.fixture(scope="module")
def prod():
    return run("prod", pack_dir=PACK, policy_config=None)


@pytest.fixture(scope="module")
def dev():
    return run("dev", pack_dir=PACK, policy_config=None)


@pytest.fixture(scope="module")
def dev_update():
    return run("dev", pack_dir=PACK, policy_config=None, preview=False)


def _row(src: str, tier: str) -> str:
    """The HTML table of one tier row of the stack's VPC."""
    text = src[src.index(f"\trow_{tier}_n_aurorakit_index_Network_aws_ec2_vpc_Vpc__network_vpc ["):]
    return text[:text.index("</TABLE>>")]


def _cells(row: str) -> list[str]:
    """A tier row's AZ cells, in AZ order."""
    return row.split('<TD WIDTH="170"')[1:]


def _node(nodes, suffix):
    found = [n for n in nodes if n.endswith(suffix)]
    assert len(found) == 1, (suffix, found)
    return found[0]


def test_tiny_program(fixture_result):
    src = build(fixture_result).source
    nodes, edges = parse(src)
    assert "fixture / dev — 11 resources" in src  # title: project / stack and resource count
    row = _node(nodes, "row_private_n_fixture_index_Net_aws_ec2_vpc_Vpc__net_vpc")
    assert nodes[row] == ["cluster_n_fixture_index_Net_aws_ec2_vpc_Vpc__net_vpc",
                          "cluster_tier_private_n_fixture_index_Net_aws_ec2_vpc_Vpc__net_vpc"]
    assert "eu-west-1a · 10.0.1.0/24" in src and 'PORT="Instance_app"' in src
    assert 'PORT="Cluster_db"' in src  # one subnet in its subnet group: the cluster sits in it
    # the SG rule db-from-app becomes one labelled edge from the host's cell to the cluster's
    sg = drawn(edges, SG)
    assert [(port(t), port(h), label(a)) for t, h, a in sg] == [("Instance_app", "Cluster_db", "tcp 3306")]
    assert "legend" in nodes and "private tier" in src and "isolated tier" not in src  # the tiers drawn


def test_prod_alb_in_the_public_tier_and_one_edge_per_link(prod):
    src = build(prod).source
    nodes, edges = parse(src)
    alb = _node(nodes, "_lb_loadBalancer_LoadBalancer__app_alb")
    vpc = "cluster_n_aurorakit_index_Network_aws_ec2_vpc_Vpc__network_vpc"
    assert nodes[alb] == [vpc, "cluster_tier_public_n_aurorakit_index_Network_aws_ec2_vpc_Vpc__network_vpc"]
    assert "3 subnet(s)" in src  # from the ALB's `subnets` input
    igw = _node(nodes, "__network_igw")
    assert nodes[igw] == [vpc]
    # the links exist as ingress + egress rule pairs ...
    links = [r for r in prod.registrations if r.type == "aurorakit:index:SecurityGroupLink"]
    assert len(links) == 2
    egress = [r.name for r in prod.registrations if r.type.endswith("SecurityGroupEgressRule")]
    assert {"app-to-db-egress", "app-alb-to-host-egress"} <= set(egress)
    # ... yet each is one labelled edge, plus the listener's world-open ingress from the Internet
    # (the fleet's hosts carry the launch template's security group; edges meet its first AZ's box)
    fleet = "Group_app_fleet__network_private_0"
    sg = sorted((short(t), short(h), label(a)) for t, h, a in drawn(edges, SG))
    assert sg == [(fleet, "db_cluster", "tcp 3306"),
                  ("app_alb", fleet, "tcp 80 (HTTPS :80 target)"),
                  ("internet", "app_alb", "tcp 443, tcp 80")]
    # replication: the cluster to each of its instances, in the isolated row
    rep = drawn(edges, 'color="#34a853"')
    assert sorted(port(h) for _, h, _ in rep) == ["ClusterInstance_db_reader_1", "ClusterInstance_db_reader_2",
                                                 "ClusterInstance_db_writer"]
    assert {base(h) for _, h, _ in rep} == {"row_isolated_" + vpc[len("cluster_"):]}


def test_prod_az_columns_tiers_and_routes(prod):
    src = build(prod).source
    nodes, edges = parse(src)
    vpc = "n_aurorakit_index_Network_aws_ec2_vpc_Vpc__network_vpc"
    rows = [f"row_{t}_{vpc}" for t in ("public", "private", "isolated")]
    order = [src.index(f"\t{r} [") for r in rows]
    assert order == sorted(order)  # tiers top to bottom, chained in this order
    chain = [(t, h) for t, h, a in edges if "invis" in a and "weight=20" in a]
    assert chain == list(zip(rows, rows[1:]))
    for r in rows:  # one equal-width cell per AZ, a before b before c
        text = src[src.index(f"\t{r} ["):]
        text = text[:text.index("</TABLE>>")]
        assert text.count('<TD WIDTH="170"') == 3
        azs = [text.index(f"eu-west-1{z} · ") for z in "abc"]
        assert azs == sorted(azs)
    empty = src[src.index(f"\t{rows[1]} ["):]
    assert "eu-west-1b · 10.20.4.0/24" in empty  # an empty subnet is still drawn
    routes = drawn(edges, ROUTING)
    nat = sorted((port(t), port(h)) for t, h, _ in routes if "NatGateway" in port(h))
    assert nat == [(f"Subnet_network_private_{i}", f"NatGateway_network_nat_{i}") for i in range(3)]
    igw = [a for t, h, a in routes if base(h).endswith("__network_igw") and not t == "internet"]
    assert len(igw) == 1 and "ltail=cluster_tier_public_" + vpc in igw[0]  # the whole tier routes there


def test_prod_fleet_is_drawn_in_every_private_subnet_with_its_sizes(prod):
    """Issue 9: the Auto Scaling group in each AZ's private subnet it spans (vpcZoneIdentifiers),
    with its launch template's instance type and desired/min/max; not in the other tiers."""
    src = build(prod).source
    cells = _cells(_row(src, "private"))
    assert len(cells) == 3
    for i, (az, cell) in enumerate(zip("abc", cells)):
        assert f"eu-west-1{az} · " in cell and f'PORT="Group_app_fleet__network_private_{i}"' in cell
        assert "Auto Scaling group app-fleet<BR/>t3.small · min 2, max 4<BR/>across 3 subnet(s)" in cell
    assert "Group_app_fleet" not in _row(src, "public") + _row(src, "isolated")
    assert "public IP" not in "".join(cells)


def test_fleet_sizes_and_type_come_from_the_stack(tmp_path):
    result = run("prod", pack_dir=PACK, policy_config=None, config_overrides={
        "aurorakit:hostMinCount": "3", "aurorakit:hostDesiredCount": "3", "aurorakit:hostMaxCount": "9",
        "aurorakit:hostInstanceType": "m7g.large"})
    assert "m7g.large · desired 3, min 3, max 9" in _row(build(result).source, "private")


def test_dev_two_azs_public_host_no_alb_no_nat(dev):
    src = build(dev).source
    nodes, edges = parse(src)
    assert not [n for n in nodes if "LoadBalancer" in n] and "NatGateway" not in src
    assert len(_cells(_row(src, "public"))) == 2 and "Group_" not in src
    # in a preview its subnet id is unknown and computed from both public subnets: the tier holds it
    host = _node(nodes, "_ec2_instance_Instance__app_instance")
    assert nodes[host][-1] == "cluster_tier_public_n_aurorakit_index_Network_aws_ec2_vpc_Vpc__network_vpc"
    assert "EC2 app-instance\nt3.micro\npublic IP\nin one of 2 subnets" in src  # type and IP: the template's
    assert not [e for e in drawn(edges, ROUTING) if "NatGateway" in e[1]]
    assert set(TIER_COLOURS) >= {"public", "private", "isolated"}


def test_dev_host_sits_in_its_subnet_once_its_id_is_known(dev_update):
    src = build(dev_update).source
    first, second = _cells(_row(src, "public"))
    assert "eu-west-1a · " in first and 'PORT="Instance_app_instance"' in first
    assert "EC2 app-instance<BR/>t3.micro<BR/>public IP" in first and "app-instance" not in second
    sg = sorted((short(t), short(h), label(a)) for t, h, a in drawn(parse(src)[1], SG))
    assert sg == [("Instance_app_instance", "db_cluster", "tcp 3306"),
                  ("cidr_203_0_113_10_32", "Instance_app_instance", "tcp 80")]


def test_writes_svg_and_dot(fixture_result, tmp_path):
    write_diagram(fixture_result, str(tmp_path / "a.svg"))
    write_diagram(fixture_result, str(tmp_path / "a.dot"))
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert "digraph architecture" in (tmp_path / "a.dot").read_text()
    assert "tcp 3306" in (tmp_path / "a.svg").read_text()
