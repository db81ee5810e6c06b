"""How much an IAM action or resource pattern covers, decided by what it matches (IAM glob
semantics, policy/rules/glob.py) rather than by how it is spelled.

A part of a pattern *names nothing* when it matches a name made only of a character the pattern
does not contain: then only `*` and `?` cover that part, so it stands for arbitrary names
(`*`, `**`, `?*`, `*?`, `?????`), whatever the spelling. Broad forms:

* every action: the action part and the service part name nothing (`*`, `*:*`, `*?`, `??*:*`);
* every action of a service: the part after `<service>:` names nothing (`s3:*`, `s3:**`,
  `s3:*?`, `s3*`, `?3:*`);
* every resource of a kind: after the ARN's header and resource type the name part names
  nothing (`arn:aws:iam::123:role/*`, `…:role/**`, `…:role*`, `…:log-group:*:*`, `arn:aws:s3:::*`, `…:::*/*`, an
  ARN whose wildcard spans the header such as `arn:aws:*` or `arn:*`, and `*` itself). S3
  object ARNs of one bucket (`arn:aws:s3:::bucket/*`) name the bucket, so they are not broad.

Cost: linear in the pattern per probe prefix (a few dozen short glob matches, each O(n + m)).
"""
from __future__ import annotations

import re

from .glob import Glob, has_wildcard

# Services whose every action matters most; a colon-less action such as `?3*` is tried against
# these (and against its own literal prefix) as the service it may stand for.
KNOWN_SERVICES = ("iam", "sts", "s3", "kms", "secretsmanager", "ssm", "ec2", "lambda", "rds",
                  "rds-db", "dynamodb", "sqs", "sns", "logs", "cloudformation", "organizations",
                  "ecr", "ecs", "eks", "glue", "backup", "elasticloadbalancing", "autoscaling")
# Kinds a header-spanning wildcard (`arn:aws:*`, `arn:*:role/*`) may stand for.
SAMPLE_PREFIXES = ("", "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:user/",
                   "arn:aws:s3:::", "arn:aws:kms:eu-west-1:123456789012:key/",
                   "arn:aws:secretsmanager:eu-west-1:123456789012:secret:",
                   "arn:aws:ec2:eu-west-1:123456789012:instance/",
                   "arn:aws:lambda:eu-west-1:123456789012:function:",
                   "arn:aws:rds:eu-west-1:123456789012:cluster:")
_WILD = "*?"


def _wild_only(text: str) -> bool:
    return bool(text) and not text.strip(_WILD)


def _instance(part: str) -> str:
    """One text `part` (a pattern) matches: `*` as nothing, `?` as one character."""
    return part.replace("*", "").replace("?", "x")


def names_nothing(pattern: str, prefix: str) -> bool:
    """Whether `pattern` matches `prefix` followed by a non-empty run of a character it does not
    contain (see the module docstring). Exact, without trying run lengths: the run can only be
    covered by the pattern's trailing wildcards W; the rest (its head) matches `prefix[:k]`,
    and W covers `prefix[k:]` plus the run — any length when W holds a `*`, else exactly
    len(W) characters (so fewer than len(W) of the prefix)."""
    head = pattern.rstrip(_WILD)
    tail = pattern[len(head):]
    if not tail:
        return False                        # ends in a literal: it names something
    if not head:
        return "*" in tail or len(prefix) < len(tail)
    glob, last = Glob(head), head[-1]
    for k in range(glob.min_length(), len(prefix) + 1):
        if prefix[k - 1] == last and ("*" in tail or len(prefix) - k < len(tail)) \
                and glob.match(prefix[:k]):
            return True
    return False


def every_action(action: str) -> bool:
    """`*`, `*:*` and every other spelling of "every action of every service"."""
    a = action.lower()
    colons = a.count(":")
    if colons == 0:
        return _wild_only(a) and "*" in a
    if colons == 1:
        service, name = a.split(":")
        return _wild_only(service) and _wild_only(name)
    return False


def service_wide(action: str) -> bool:
    """Whether `action` grants every action of some service (`s3:*`, `s3:*?`, `s3*`, `?3:*`)."""
    a = action.lower()
    colons = a.count(":")
    if colons == 1:
        return _wild_only(a.split(":")[1])
    if colons > 1 or not has_wildcard(a):
        return False
    literal = a[:min((i for i in (a.find("*"), a.find("?")) if i >= 0), default=len(a))]
    return any(names_nothing(a, f"{s}:") for s in dict.fromkeys((literal, *KNOWN_SERVICES)))


def covers(action: str, form: str) -> bool:
    """Whether `action` grants at least what the broad `form` (e.g. a configured `*` or `iam:*`)
    names: `action` matches `form` read as text (its wildcards as characters), or both mean
    every action."""
    return every_action(action) or Glob(action, fold=True).match(form.lower())


def broad_resource(resource: str) -> bool:
    """Whether one Resource means every resource of its kind (see the module docstring)."""
    if not isinstance(resource, str) or not has_wildcard(resource):
        return False
    fields = resource.split(":", 5)
    prefixes: list[str] = []
    if len(fields) == 6 and not has_wildcard(fields[2]):
        header = ":".join(_instance(f) for f in fields[:5]) + ":"
        rest = fields[5]
        cut = min((i for i in (rest.find("/"), rest.find(":")) if i >= 0), default=-1)
        if fields[2] == "s3" and fields[3] == "" and fields[4] == "":
            if cut >= 0 and rest[cut] == "/" and _wild_only(rest[:cut]):
                return True                 # objects of every bucket
            prefixes.append(header)
        elif cut >= 0:
            if all(_wild_only(part) for part in re.split(r"[/:]", rest[cut + 1:])):
                return True                 # every name, with any suffix (`log-group:*:*`, `function:*:*`)
            prefixes.append(header + _instance(rest[:cut]) + rest[cut])
        else:
            literal = rest[:min((i for i in (rest.find("*"), rest.find("?")) if i >= 0),
                                default=len(rest))]
            prefixes += [header, header + literal + "/", header + literal + ":"]
    else:
        prefixes += SAMPLE_PREFIXES
    return any(names_nothing(resource, p) for p in prefixes)
