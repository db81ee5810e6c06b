"""Does a set of IPv4/IPv6 blocks reach "the internet"? One definition for every rule (and for
stack settings: this module imports nothing from Pulumi, so `components/settings.py` can use
`from policy.rules.cidrs import internet_reach` without loading the pack).

A set of CIDR blocks counts as **the internet** when, taken together (their union):

* it covers all of IPv4 (0.0.0.0/0) or all of IPv6 (::/0) — two /1 halves are the internet as
  much as one /0; or
* it holds more *public* addresses than one /16 (IPv4) or one /32 (IPv6) block: the threshold
  is "wider than /N" and each rule can change N (`widestPublicPrefixV4` / `widestPublicPrefixV6`).
  Public = not special-purpose: RFC 1918, CGNAT (100.64/10), loopback, link-local,
  documentation, benchmarking, multicast and reserved IPv4 space; for IPv6 everything outside
  global unicast (2000::/3), and the documentation range 2001:db8::/32, is not public.

So 10.0.0.0/8 is fine (private), 203.0.113.7/32 is fine (one address), 52.0.0.0/15 is too wide,
and 0.0.0.0/1 + 128.0.0.0/1 is the whole internet. Work is O(n log n) in the number of blocks.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Optional, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
WIDEST_PUBLIC_PREFIX = {4: 16, 6: 32}  # the one default: a union wider than this is "the internet"
WORLD = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
_NOT_PUBLIC_V4 = tuple(ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")))
_GLOBAL_V6 = ipaddress.ip_network("2000::/3")
_DOC_V6 = ipaddress.ip_network("2001:db8::/32")


def parse(value: object) -> Optional[Network]:
    """An IPv4/IPv6 network from a CIDR string (host bits allowed), else None."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def _overlap(a: Network, b: Network) -> int:
    """Addresses in both blocks (two CIDR blocks are nested or disjoint)."""
    if a.version != b.version:
        return 0
    if a.subnet_of(b):  # type: ignore[arg-type]
        return a.num_addresses
    if b.subnet_of(a):  # type: ignore[arg-type]
        return b.num_addresses
    return 0


def public_addresses(net: Network) -> int:
    """How many addresses of `net` are public (see the module docstring)."""
    if net.version == 4:
        return net.num_addresses - sum(_overlap(net, r) for r in _NOT_PUBLIC_V4)
    return _overlap(net, _GLOBAL_V6) - _overlap(net, _DOC_V6)


def union(cidrs: Iterable[object]) -> dict[int, list[Network]]:
    """The collapsed union per IP version (unparseable entries are ignored)."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for value in cidrs:
        net = parse(value)
        if isinstance(net, ipaddress.IPv4Network):
            v4.append(net)
        elif isinstance(net, ipaddress.IPv6Network):
            v6.append(net)
    return {4: list(ipaddress.collapse_addresses(v4)), 6: list(ipaddress.collapse_addresses(v6))}


def _prefix(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else default
    except (TypeError, ValueError, OverflowError):
        return default


def internet_reach(cidrs: Iterable[object], widest_v4: object = None,
                   widest_v6: object = None) -> Optional[str]:
    """What internet these blocks together reach (a noun phrase for messages), or None.

    >>> internet_reach(["0.0.0.0/1", "128.0.0.0/1"])
    'the whole IPv4 internet (0.0.0.0/0)'
    >>> internet_reach(["52.0.0.0/15"])
    '131,072 public IPv4 addresses (more than a /16, the widest public block allowed)'
    >>> internet_reach(["10.0.0.0/8", "198.51.100.7/32"]) is None
    True
    """
    widest = {4: _prefix(widest_v4, WIDEST_PUBLIC_PREFIX[4]),
              6: _prefix(widest_v6, WIDEST_PUBLIC_PREFIX[6])}
    for version, nets in union(cidrs).items():
        if nets == [WORLD[version]]:
            return f"the whole IPv{version} internet ({WORLD[version]})"
        limit = widest[version]
        bits = 32 if version == 4 else 128
        count = sum(public_addresses(n) for n in nets)
        if 0 <= limit <= bits and count > 2 ** (bits - limit):
            if version == 4:
                return (f"{count:,} public IPv4 addresses (more than a /{limit}, the widest "
                        "public block allowed)")
            return f"public IPv6 space wider than a /{limit} (the widest public block allowed)"
    return None


def has_public(cidrs: Iterable[object]) -> bool:
    """Whether any block holds a public address."""
    return any(public_addresses(n) > 0 for nets in union(cidrs).values() for n in nets)
