"""The diagram shows the DynamoDB tables (a regional node with keys, indexes and billing) and the
gateway endpoint that routes the private tier to them (the project's stacks, `forum: true`)."""
from __future__ import annotations

import time

import pytest

from preflight.analyzer import PolicyPack
from preflight.diagram import build
from preflight.run import REPO, run_with_pack
from preflight.stackconfig import load_stack_config

from .conftest import PACK
from .test_diagram import label, parse

PROGRAM = REPO / "__main__.py"


@pytest.fixture(scope="module")
def sources():
    out = {}
    for stack in ("dev", "prod"):
        cfg = load_stack_config(stack, REPO)
        with PolicyPack(str(PACK), project=cfg.project, stack=stack, config=cfg) as pack:
            out[stack] = build(run_with_pack(pack, cfg, PROGRAM, REPO, None, True, time.perf_counter())).source
    return out


def test_tables_are_one_regional_node_outside_the_vpc(sources):
    nodes, _ = parse(sources["prod"])
    assert nodes["dynamodb"] == []  # not inside any VPC cluster
    text = " ".join(sources["prod"].split())
    for line in ("aurorakit-prod-forum-Comment (Id, CommentDateTime) +1 GSI, 5 RCU / 5 WCU, auto scaling ≤ 50",
                 "aurorakit-prod-forum-Forum (Name), 5 RCU / 5 WCU, auto scaling ≤ 50",
                 "aurorakit-prod-forum-Thread (ForumName, Subject), 5 RCU / 5 WCU, auto scaling ≤ 50"):
        assert line in text, line
    assert "aurorakit-dev-forum-Forum (Name), 1 RCU / 1 WCU\n" in sources["dev"].replace("\\n", "\n")  # no scaling


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_gateway_endpoint_leads_to_dynamodb(sources, stack):
    nodes, edges = parse(sources[stack])
    gateway = [(t, h, a) for t, h, a in edges if 'color="#7b1fa2"' in a]
    assert len(gateway) == 1
    tail, head, attrs = gateway[0]
    assert tail.split(":")[0].startswith("endpoints_") and head.split(":")[0] == "dynamodb"
    assert label(attrs) == "DynamoDB gateway endpoint"
    endpoints = next(n for n in nodes if n.startswith("endpoints_"))
    assert "dynamodb" in sources[stack].split(f"{endpoints} [label=", 1)[1].split("]", 1)[0]
    assert "gateway endpoint (route to an AWS service)" in sources[stack]  # in the legend


def test_without_tables_there_is_no_dynamodb_node(fixture_result):
    assert "dynamodb" not in build(fixture_result).source
