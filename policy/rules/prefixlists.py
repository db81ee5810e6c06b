"""Managed prefix lists of this stack, resolved to their CIDRs (inline `entries` and standalone
`aws.ec2.ManagedPrefixListEntry` resources), so rules judge a prefix list like the CIDRs it
holds. A reference resolves through the input's dependency on the list (its id is unknown in
preview) or, once known, by the list's id/ARN; an id of a list this stack does not define
(an AWS-managed or another account's list) stays unresolved for the caller to judge.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import UNKNOWN, items
from .stackview import StackView

PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"


def entries(view: StackView, plist: Any) -> list:
    """The CIDRs of a prefix list of this stack (UNKNOWN where one is unknown)."""
    inline = view.get(plist, "entries")
    found: list = [UNKNOWN] if inline is UNKNOWN else [
        e.get("cidr") for e in items(inline) if isinstance(e, dict)]
    found += [view.get(e, "cidr") for e in view.referrers(plist, PREFIX_LIST_ENTRY,
                                                          "prefixListId")]
    return [c for c in found if c is not None]


def prefix_list_cidrs(view: StackView, owner: Any, key: str, ids: Iterable[Any]
                      ) -> tuple[list, list[str]]:
    """(CIDRs, unresolved ids) for the prefix lists `ids` that input `key` of `owner` names.
    An unknown id stands for every list the input depends on."""
    lists = view.deps(owner, key, PREFIX_LIST)
    by_identity = view.by_identity(PREFIX_LIST)
    cidrs: list = []
    unresolved: list[str] = []
    for pid in ids:
        if pid is UNKNOWN:
            if not lists:
                unresolved.append("<unknown>")
            cidrs += [c for pl in lists for c in entries(view, pl)]
        elif isinstance(pid, str) and pid in by_identity:
            cidrs += entries(view, by_identity[pid])
        elif isinstance(pid, str) and pid:
            unresolved.append(pid)
    return cidrs, unresolved
