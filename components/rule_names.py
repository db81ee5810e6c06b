"""Names of security-group rules made from a list of CIDRs (the ALB's listener CIDRs, a public
host's app CIDRs): each rule is named by its CIDR, so inserting or removing one CIDR leaves the
other rules as they are (an index in the name would move every later rule to another CIDR).
Earlier versions named them by list index: each rule carries that old name as an alias, so a
stack created by them keeps its rules. Its first `up` with this code must not also change the
list: an alias is by position in the NEW list, so removing or inserting a CIDR then would update
an old rule in place to a CIDR another old rule still holds until the end of the run, which AWS
refuses (InvalidPermission.Duplicate). Migrate with the same list, then edit it (README, Known
limits)."""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pulumi


def cidr_rules(prefix: str, cidrs: Sequence[str]) -> list[tuple[str, str, pulumi.ResourceOptions]]:
    """(logical name, CIDR, alias options) for each distinct CIDR, in list order: the name is
    `<prefix>-<address>-<prefix length>` (10.0.0.0/16 -> `<prefix>-10.0.0.0-16`), the alias
    `<prefix>-<index>`. A CIDR listed twice gets one rule (AWS refuses a duplicate rule)."""
    distinct = list(dict.fromkeys(str(ipaddress.IPv4Network(c)) for c in cidrs))
    return [(f"{prefix}-{cidr.replace('/', '-')}", cidr,
             pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{prefix}-{i}")]))
            for i, cidr in enumerate(distinct)]
