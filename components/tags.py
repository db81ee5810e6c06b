"""What AWS accepts as resource tags, checked before anything is created: a tag that EC2, RDS,
S3 or IAM refuses fails `pulumi up` halfway (some resources made, some not)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

MAX_EXTRA_TAGS = 40  # AWS allows 50 per resource; the components add Project, Stack, ManagedBy, Name …
# Set by the components themselves: "Name" per resource; "aurorakit:" marks the policy pack's opt-ins
# (e.g. aurorakit:allow-plain-http), which a stack-wide tag must not grant to every resource.
RESERVED_KEYS = ("Name", "Project", "Stack", "ManagedBy")
RESERVED_PREFIXES = ("aws:", "aurorakit:")
# The characters every tagging service accepts (S3, IAM and RDS are stricter than EC2).
_TEXT = re.compile(r"[\w .:/=+\-@]*")


MAX_COMPONENT_TAGS = MAX_EXTRA_TAGS + len(RESERVED_KEYS)  # the stack's own keys plus its extra tags


def tags_problem(v: Any) -> Optional[str]:
    """Extra tags: at most 40; keys 1-128 and values 0-256 characters of letters, digits, spaces
    and _ . : / = + - @; no aws: or aurorakit: prefix, none of the keys the stack sets itself."""
    return _problem(v, MAX_EXTRA_TAGS, RESERVED_KEYS)


def component_tags_problem(v: Any) -> Optional[str]:
    """A component's `tags` argument: what `tags_problem` checks, except that the stack's own keys
    (Project, Stack, ManagedBy, Name) may come in (a component sets Name per resource itself)."""
    return _problem(v, MAX_COMPONENT_TAGS, ())


def _problem(v: Any, most: int, reserved: tuple[str, ...]) -> Optional[str]:
    if not isinstance(v, Mapping):
        return "must be an object of string -> string"
    if len(v) > most:
        return f"at most {most} tags (AWS allows 50 per resource and the components set some); got {len(v)}"
    for key, value in v.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "must be an object of string -> string"
        if not 1 <= len(key) <= 128 or len(value) > 256:
            return f"tag {key[:40]!r}: keys are 1-128 characters, values at most 256"
        if not _TEXT.fullmatch(key) or not _TEXT.fullmatch(value):
            return (f"tag {key[:40]!r}: only letters, digits, spaces and _ . : / = + - @ "
                    "(what all AWS services accept)")
        if key.lower().startswith(RESERVED_PREFIXES):
            return f"tag {key[:40]!r}: the prefixes {', '.join(RESERVED_PREFIXES)} are reserved (AWS; the policy pack)"
        if key in reserved:
            return f"tag {key!r} is set by the stack itself; reserved keys are {', '.join(RESERVED_KEYS)}"
    return None
