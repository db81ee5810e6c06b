"""IAM wildcard matching (`*` any run of characters, empty included; `?` exactly one), without
backtracking: the pack's one matcher for actions, ARNs and configured name patterns.

`[`, `]`, `!` and every other character are literal, as in IAM (fnmatch would read `[...]` as
a class and compile each new pattern into a regex; a pattern full of `[` or `*?*?` made it
slow). Nothing is cached, so hostile patterns do not pile up in memory.

How: the pattern is cut at its `*`s into segments. The first segment must match at the start,
the last at the end, and each middle one is taken at its leftmost place after the previous one
(taking the leftmost occurrence never loses a match: a later `*` can absorb whatever an earlier
choice leaves). A segment without `?` is found with `str.find` (CPython's two-way search,
linear); a segment with `?` with a bit-parallel shift-and scan.

Cost, for a text of n and a pattern of m characters: O(n + m) when no segment between two `*`s
holds a `?`; otherwise O(n * ceil(k / w)) machine-word operations for the longest such segment
of k characters (w = 30-bit integer digits), O(n * m / w) at worst — never exponential, and no
regex. `bench/glob.py` prints timings for hostile inputs of 10k and 100k characters.
"""
from __future__ import annotations

from typing import Optional

__all__ = ["Glob", "match", "has_wildcard"]


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _equal_at(segment: str, text: str, pos: int) -> bool:
    """Whether `segment` (with `?` for any one character) matches text[pos:pos+len(segment)]
    (the caller made sure it fits)."""
    if "?" not in segment:
        return text.startswith(segment, pos)
    offset = 0
    for chunk in segment.split("?"):
        if chunk and not text.startswith(chunk, pos + offset):
            return False
        offset += len(chunk) + 1
    return True


def _find(segment: str, text: str, start: int, end: int) -> int:
    """Leftmost i in [start, end - len(segment)] where `segment` matches; -1 if none."""
    if "?" not in segment:
        return text.find(segment, start, end)
    k = len(segment)
    if end - start < k:
        return -1
    wild = 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(segment):
        if ch == "?":
            wild |= 1 << i
        else:
            masks[ch] = masks.get(ch, 0) | (1 << i)
    masks = {ch: bits | wild for ch, bits in masks.items()}
    goal = 1 << (k - 1)
    state = 0
    for j in range(start, end):
        state = ((state << 1) | 1) & masks.get(text[j], wild)
        if state & goal:
            return j - k + 1
    return -1


class Glob:
    """A parsed pattern; `match(text)` as described in the module docstring."""

    __slots__ = ("pattern", "fold", "_parts", "_fixed")

    def __init__(self, pattern: str, fold: bool = False):
        self.pattern = pattern.lower() if fold else pattern
        self.fold = fold
        parts = self.pattern.split("*")
        self._parts: Optional[list[str]] = parts if len(parts) > 1 else None
        # the characters every match needs (a text shorter than this never matches)
        self._fixed = len(self.pattern) - (len(parts) - 1)

    def min_length(self) -> int:
        return self._fixed

    def match(self, text: str) -> bool:
        if self.fold:
            text = text.lower()
        n = len(text)
        if self._parts is None:
            return n == self._fixed and _equal_at(self.pattern, text, 0)
        if n < self._fixed:
            return False
        parts = self._parts
        first, last = parts[0], parts[-1]
        if not _equal_at(first, text, 0) or not _equal_at(last, text, n - len(last)):
            return False
        pos, end = len(first), n - len(last)
        for segment in parts[1:-1]:
            if not segment:
                continue
            found = _find(segment, text, pos, end)
            if found < 0:
                return False
            pos = found + len(segment)
        return True


def match(pattern: str, text: str, fold: bool = False) -> bool:
    """Whether `text` matches `pattern` (`fold`: case-insensitively, as IAM compares actions)."""
    if not isinstance(pattern, str) or not isinstance(text, str):
        return False
    return Glob(pattern, fold).match(text)
