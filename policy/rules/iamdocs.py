"""IAM and resource-policy documents: parsing that never raises, statements, which actions a
statement grants, which resources count as "everything", and which conditions pin the caller.

All helpers are linear in the document (no recursion: a document nested thousands of levels
deep is reported as unreadable instead of raising RecursionError).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from .base import items
from .breadth import broad_resource, service_wide
from .glob import Glob, has_wildcard

# Condition keys that say who the caller is (or from which account/organization/network path
# it comes). A `*` principal restricted by one of these is not public; aws:SecureTransport,
# aws:SourceIp, aws:CurrentTime, kms:ViaService alone are not identities.
PINNING_KEYS = frozenset({
    "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid",
    "aws:sourceorgpaths", "aws:sourcevpc", "aws:sourcevpce", "aws:userid",
    "kms:calleraccount"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
# Operators that require the key to be present and equal to one of the values.
_POSITIVE = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals",
                       "arnlike"})


def document(value: Any) -> tuple[Optional[dict], Optional[str]]:
    """A policy document from a JSON string or object: (doc, None) or (None, problem)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            return None, "is nested too deeply to be read"
        except ValueError:
            return None, "is not valid JSON"
    if not isinstance(value, dict):
        return None, "is not a JSON object"
    return value, None


def statements(doc: dict) -> list[dict]:
    found = doc.get("Statement")
    found = [found] if isinstance(found, dict) else items(found)
    return [s for s in found if isinstance(s, dict)]


def listed(value: Any) -> list:
    return [value] if isinstance(value, str) else [v for v in items(value) if isinstance(v, str)]


def allows(statement: dict) -> bool:
    """Anything but a Deny counts as Allow (a misspelt Effect is never taken as a Deny)."""
    effect = statement.get("Effect", "Allow")
    return not (isinstance(effect, str) and effect.strip().lower() == "deny")


def _matches(pattern: str, action: str) -> bool:
    """IAM action patterns are case-insensitive globs; either side may carry the wildcard
    (a document's `iam:Put*` grants `iam:PutRolePolicy`; a configured `iam:Put*Policy` is met
    by a document's `iam:PutRolePolicy` or `iam:*`)."""
    return Glob(pattern, fold=True).match(action) or Glob(action, fold=True).match(pattern)


def granted(statement: dict, actions: Iterable[str]) -> list[str]:
    """Which of `actions` an Allow statement grants (NotAction grants everything it omits)."""
    if not allows(statement):
        return []
    wanted = list(actions)
    if "NotAction" in statement:
        excluded = listed(statement.get("NotAction"))
        return [a for a in wanted if not any(_matches(x, a) for x in excluded)]
    given = listed(statement.get("Action"))
    return [a for a in wanted if any(_matches(g, a) for g in given)]


def service_wildcards(statement: dict) -> list[str]:
    """The statement's actions that grant every action of a service (or of every service),
    however spelled: `*`, `*:*`, `s3:*`, `s3:**`, `s3:*?`, `s3*` (policy/rules/breadth.py)."""
    return [a for a in listed(statement.get("Action")) if service_wide(a)]


def broad(resource: str) -> bool:
    """Whether one Resource means "every resource of its kind", however spelled: `*`, an ARN
    whose name part matches arbitrary names (`…:role/*`, `…:role/**`, `…:role*`,
    `arn:aws:s3:::*`, `…:::*/*`, `arn:aws:*`). S3 object ARNs of one bucket
    (`arn:aws:s3:::bucket/*`) name the bucket, so they are not broad (policy/rules/breadth.py)."""
    return broad_resource(resource)


def broad_resources(statement: dict) -> list[str]:
    """The statement's resources that mean "every resource of the kind" (see `broad`);
    NotResource counts as broad."""
    if "NotResource" in statement:
        return ["NotResource"]
    return [r for r in listed(statement.get("Resource")) if broad(r)]


_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})


def concrete(key: str, value: Any) -> bool:
    """Whether one condition value names known callers for `key` (lower case): no wildcard
    where it would widen to anyone. An ARN pins by its account (`arn:aws:iam::123:role/*`),
    or, when its service has account-less ARNs (S3 buckets), by the whole literal ARN; an
    organization path by its literal `o-…/` root (AWS documents `o-a1b2/r-ab12/*`); a user id
    by its unique id before the `:` (`AROAEXAMPLEID:*`). A number is taken as written (an
    account id given unquoted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or "${" in value:
        return False
    if key in _ARN_KEYS and value.count(":") >= 5:
        account = value.split(":")[4]
        return (bool(account) and not has_wildcard(account)) or (not account and not has_wildcard(value))
    if key in _ORG_PATH_KEYS:
        root = value.split("/", 1)[0]
        return root.startswith("o-") and len(root) > 2 and not has_wildcard(root) and "/" in value
    if key == "aws:userid":
        unique = value.split(":", 1)[0]
        return bool(unique) and not has_wildcard(unique)
    return not has_wildcard(value)


def pins_caller(condition: Any) -> bool:
    """Whether a statement's Condition restricts it to known callers (see PINNING_KEYS): a
    positive operator (StringEquals, ArnLike, ForAnyValue:…; not …IfExists, not
    ForAllValues:, which hold when the key is absent) with concrete values (no wildcard
    account)."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        op = str(operator).lower()
        op = op.removeprefix("foranyvalue:")
        if op not in _POSITIVE or not isinstance(block, dict):
            continue
        for key, values in block.items():
            key = str(key).lower()
            values = [values] if isinstance(values, (str, int)) else \
                [v for v in items(values) if isinstance(v, (str, int))] if isinstance(values, list) else []
            if key in PINNING_KEYS and values and all(concrete(key, v) for v in values):
                return True
    return False


def everyone(principal: Any) -> bool:
    """`*`, `{"AWS": "*"}`, any principal kind listing `*`, or a principal with a wildcard in it
    (`arn:aws:iam::*:root`; IAM has no partial principal wildcards, so it can only widen)."""
    values = principal.values() if isinstance(principal, dict) else [principal]
    return any("*" in p for v in values for p in listed(v))
