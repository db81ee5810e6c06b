"""Where a subnet's traffic to 0.0.0.0/0 and ::/0 goes, from property dependencies alone.

subnet -> route table associations (`subnetId`) -> route tables (`routeTableId`), or the VPC's
main route table when the subnet has no association; routes are inline `routes` entries or
standalone `aws.ec2.Route` resources (`routeTableId`). Targets are recognised by the resource type
an input depends on (internet gateway, NAT gateway), or a literal `igw-`/`nat-` id.
"""
from __future__ import annotations

from typing import Any

from .base import UNKNOWN, is_set, items
from .network import is_world
from .stackview import StackView, label

SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
MAIN_ASSOCIATION = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
IGW = "aws:ec2/internetGateway:InternetGateway"
EGRESS_ONLY_IGW = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
TABLES = (ROUTE_TABLE, DEFAULT_ROUTE_TABLE)
_GATEWAYS = {IGW: "internet gateway", NAT: "NAT gateway", EGRESS_ONLY_IGW: "egress-only gateway"}


def route_tables(view: StackView, subnet: Any) -> list:
    """The route tables that govern `subnet` (explicit association, else the VPC's main one)."""
    tables = [t for a in view.referrers(subnet, ASSOCIATION, "subnetId")
              for t in view.deps(a, "routeTableId", *TABLES)]
    if tables:
        return tables
    for vpc in view.deps(subnet, "vpcId", VPC):
        main = [t for m in view.referrers(vpc, MAIN_ASSOCIATION, "vpcId")
                for t in view.deps(m, "routeTableId", *TABLES)]
        return main or view.referrers(vpc, DEFAULT_ROUTE_TABLE, "defaultRouteTableId")
    return []


def _target(view: StackView, owner: Any, dep_key: str, entry: dict) -> str:
    """'internet gateway', 'NAT gateway', 'egress-only gateway' or '' for other targets."""
    gateway, nat = entry.get("gatewayId"), entry.get("natGatewayId")
    if is_set(nat):
        return "NAT gateway"
    if is_set(entry.get("egressOnlyGatewayId")):
        return "egress-only gateway"
    if isinstance(gateway, str) and gateway.startswith("igw-"):
        return "internet gateway"
    if is_set(gateway) and gateway != "local":
        deps = view.deps(owner, dep_key)
        if any(d.resource_type == IGW for d in deps):
            return "internet gateway"
        if any(d.resource_type == NAT for d in deps):
            return "NAT gateway"
        if gateway is UNKNOWN:
            view.note(f"{label(owner)} gatewayId")
    return ""


def default_routes(view: StackView, table: Any) -> list[tuple[Any, str]]:
    """(resource to blame, target kind) for every 0.0.0.0/0 or ::/0 route of `table`."""
    found: list[tuple[Any, str]] = []
    if view.get(table, "routes") is UNKNOWN:
        # A new table's computed `routes` output is unknown in preview; what the program put in
        # it is still visible through the input's dependencies (taken as default routes).
        found += [(table, _GATEWAYS[d.resource_type])
                  for d in view.deps(table, "routes", *_GATEWAYS)]
    for i, entry in enumerate(items(view.get(table, "routes"))):
        if not isinstance(entry, dict):
            continue
        dest = [entry.get("cidrBlock"), entry.get("ipv6CidrBlock")]
        if UNKNOWN in dest:
            view.note(f"{label(table)} routes[{i}] destination")
        if any(is_world(d) for d in dest if isinstance(d, str)):
            kind = _target(view, table, "routes", entry)
            if kind:
                found.append((table, kind))
    for route in view.referrers(table, ROUTE, "routeTableId"):
        props = view.props(route)
        dest = [props.get("destinationCidrBlock"), props.get("destinationIpv6CidrBlock")]
        if UNKNOWN in dest:
            view.note(f"{label(route)} destination")
        if any(is_world(d) for d in dest if isinstance(d, str)):
            key = "natGatewayId" if is_set(props.get("natGatewayId")) else "gatewayId"
            kind = _target(view, route, key, props)
            if kind:
                found.append((route, kind))
    return found


def is_public(view: StackView, subnet: Any) -> bool:
    """Whether the subnet has a default route to an internet gateway."""
    return any(kind == "internet gateway" for t in route_tables(view, subnet)
               for _, kind in default_routes(view, t))
