"""Where a subnet's traffic to the internet goes, from property dependencies alone.

subnet -> route table associations (`subnetId`) -> route tables (`routeTableId`), or the VPC's
main route table when the subnet has no association; routes are inline `routes` entries or
standalone `aws.ec2.Route` resources (`routeTableId`). A route's target kind comes from the
input it sets (`natGatewayId`, `transitGatewayId`, `networkInterfaceId` (a NAT instance), ...)
and, for `gatewayId`, from the resource type it depends on or a literal `igw-` id.

"The internet" is judged on the union of a table's destinations per target kind
(`cidrs.internet_reach`): 0.0.0.0/1 + 128.0.0.0/1 is a default route as much as 0.0.0.0/0.
Destinations may be managed prefix lists of this stack (`destinationPrefixListId`).
"""
from __future__ import annotations

from typing import Any, Optional

from .base import UNKNOWN, is_set, items
from .cidrs import has_public, internet_reach
from .prefixlists import prefix_list_cidrs
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
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
TABLES = (ROUTE_TABLE, DEFAULT_ROUTE_TABLE)
INTERNET_GATEWAY = "internet gateway"
_GATEWAYS = {IGW: INTERNET_GATEWAY, NAT: "NAT gateway", EGRESS_ONLY_IGW: "egress-only gateway",
             VPN_GATEWAY: "VPN gateway"}
# Route target inputs (inline `routes` entries and aws.ec2.Route use the same names).
_TARGETS = (("natGatewayId", "NAT gateway"), ("egressOnlyGatewayId", "egress-only gateway"),
            ("transitGatewayId", "transit gateway"), ("vpcPeeringConnectionId", "VPC peering"),
            ("networkInterfaceId", "network interface (NAT instance)"),
            ("instanceId", "instance (NAT instance)"), ("vpcEndpointId", "VPC endpoint"),
            ("carrierGatewayId", "carrier gateway"), ("localGatewayId", "local gateway"),
            ("coreNetworkArn", "Cloud WAN core network"), ("odbNetworkArn", "ODB network"))


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


def _target(view: StackView, owner: Any, entry: dict, inline: bool) -> str:
    """The kind of the route's target ('' for `local` or no target)."""
    gateway = entry.get("gatewayId")
    for key, kind in _TARGETS:
        if is_set(entry.get(key)):
            return kind
    if isinstance(gateway, str) and gateway.startswith("igw-"):
        return INTERNET_GATEWAY
    if is_set(gateway) and gateway != "local":
        deps = {d.resource_type for d in view.deps(owner, "routes" if inline else "gatewayId")}
        for gateway_type in (IGW, NAT, VPN_GATEWAY, EGRESS_ONLY_IGW):
            if gateway_type in deps:
                return _GATEWAYS[gateway_type]
        if isinstance(gateway, str) and gateway.startswith("vgw-"):
            return "VPN gateway"
        return "gateway"
    return ""


def _destinations(view: StackView, owner: Any, entry: dict, inline: bool) -> Optional[list]:
    """The CIDRs a route sends (prefix lists resolved), or None when one is unknown (noted)."""
    keys = ("cidrBlock", "ipv6CidrBlock") if inline else ("destinationCidrBlock",
                                                           "destinationIpv6CidrBlock")
    found = [entry.get(k) for k in keys if entry.get(k) is not None]
    plist = entry.get("destinationPrefixListId")
    if plist is not None:
        cidrs, unresolved = prefix_list_cidrs(view, owner, "routes" if inline else
                                              "destinationPrefixListId", [plist])
        found += cidrs
        if unresolved:
            view.note(f"{label(owner)} destination prefix list {', '.join(unresolved)} (not "
                      "defined in this stack)")
    if UNKNOWN in found:
        view.note(f"{label(owner)} destination")
        return None
    return [d for d in found if isinstance(d, str)]


def routes(view: StackView, table: Any) -> list[tuple[Any, str, list]]:
    """(resource to blame, target kind, destination CIDRs) for every route of `table` that has
    a target other than `local`."""
    found: list[tuple[Any, str, list]] = []
    if view.get(table, "routes") is UNKNOWN:
        # A new table's computed `routes` output is unknown in preview; what the program put in
        # it is still visible through the input's dependencies (taken as default routes).
        found += [(table, _GATEWAYS[d.resource_type], ["0.0.0.0/0", "::/0"])
                  for d in view.deps(table, "routes", IGW, NAT, EGRESS_ONLY_IGW)]
    for entry in items(view.get(table, "routes")):
        if isinstance(entry, dict):
            kind = _target(view, table, entry, True)
            dest = _destinations(view, table, entry, True) if kind else None
            if kind and dest is not None:
                found.append((table, kind, dest))
    for route in view.referrers(table, ROUTE, "routeTableId"):
        props = view.props(route)
        kind = _target(view, route, props, False)
        dest = _destinations(view, route, props, False) if kind else None
        if kind and dest is not None:
            found.append((route, kind, dest))
    return found


def internet_routes(view: StackView, table: Any, kinds: Optional[set] = None,
                    config: Optional[dict] = None) -> list[tuple[Any, str, str]]:
    """(resource to blame, target kind, why) for the routes of `table` whose destinations,
    taken together per target kind, are the internet. `kinds` limits the target kinds (None:
    every kind)."""
    config = config or {}
    by_kind: dict[str, list] = {}
    for owner, kind, dest in routes(view, table):
        if kinds is None or kind in kinds:
            by_kind.setdefault(kind, []).append((owner, dest))
    out = []
    for kind, entries in by_kind.items():
        why = internet_reach([d for _, dest in entries for d in dest],
                             config.get("widestPublicPrefixV4"), config.get("widestPublicPrefixV6"))
        if why:
            blamed = [o for o, dest in entries if has_public(dest)]
            for owner in dict.fromkeys(blamed or [o for o, _ in entries]):
                out.append((owner, kind, why))
    return out


def is_public(view: StackView, subnet: Any) -> bool:
    """Whether the subnet routes the internet to an internet gateway."""
    return any(internet_routes(view, t, {INTERNET_GATEWAY}) for t in route_tables(view, subnet))
