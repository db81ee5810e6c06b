"""How much of the internet a list of IPv4 CIDRs reaches: the check behind the admin (SSH) CIDR
and the warning on a public host open to everyone, whatever the spelling (0.0.0.0/0, two /1s,
every public /8 listed). Linear in the list (after sorting); IPv4 only, as the settings are."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Optional

# The documentation ranges (RFC 5737): examples, no real client has these addresses.
DOCUMENTATION = tuple(ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
# IANA special-purpose IPv4 blocks (RFC 6890 and successors): not reachable from the internet.
# Disjoint, so a CIDR's overlap with each is all, part (it contains the block) or nothing.
SPECIAL = (*DOCUMENTATION, *(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4")))
ALL_PUBLIC = 2 ** 32 - sum(n.num_addresses for n in SPECIAL)
ADMIN_WIDEST_PREFIX = 24  # an admin (SSH) CIDR: an office or VPN range, not a provider's block


def public_addresses(cidrs: Iterable[str]) -> int:
    """Public IPv4 addresses the CIDRs reach together (overlaps counted once)."""
    total = 0
    for net in ipaddress.collapse_addresses(ipaddress.IPv4Network(c, strict=False) for c in cidrs):
        special = sum(s.num_addresses if s.subnet_of(net) else net.num_addresses if net.subnet_of(s) else 0
                      for s in SPECIAL)
        total += net.num_addresses - special
    return total


def admin_cidr_problem(v: Any) -> Optional[str]:
    """An SSH source: one IPv4 CIDR reaching at most a /24 of public addresses."""
    try:
        net = ipaddress.IPv4Network(str(v), strict=True)
    except ValueError:
        return "must be an IPv4 CIDR like 198.51.100.7/32 (host bits zero)"
    reach = public_addresses([str(net)])
    if reach > 2 ** (32 - ADMIN_WIDEST_PREFIX):
        return (f"reaches {reach:,} public IPv4 addresses; SSH is allowed from at most a "
                f"/{ADMIN_WIDEST_PREFIX} of public addresses (your office or VPN range)")
    return None


def whole_internet(cidrs: Iterable[str]) -> bool:
    """The CIDRs together reach every public IPv4 address."""
    return public_addresses(cidrs) >= ALL_PUBLIC
