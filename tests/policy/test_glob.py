"""The pack's one wildcard matcher (policy/rules/glob.py) and the breadth checks built on it
(policy/rules/breadth.py): IAM semantics (`*`, `?`, everything else literal), checked against a
reference; no rule uses fnmatch (whose `[` classes and regex compilation made hostile patterns
slow; bench/glob.py prints the timings; the timed tests at the end have generous limits)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.rules import breadth
from policy.rules.glob import Glob, match

RULES_DIR = Path(__file__).resolve().parents[2] / "policy" / "rules"


def reference(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(pattern=st.text(alphabet="ab*?[]!-", max_size=12), text=st.text(alphabet="ab[]!-", max_size=14))
def test_matches_exactly_what_iam_globs_match(pattern, text):
    assert match(pattern, text) == reference(pattern, text)


@pytest.mark.parametrize("pattern, text, fold, expected", [
    ("[a-z]*", "[a-z]x", False, True),          # `[` is a literal, not a class
    ("[a-z]*", "bx", False, False),
    ("iam:Put*Policy", "IAM:PUTROLEPOLICY", True, True),   # actions compare case-insensitively
    ("iam:Put*Policy", "IAM:PUTROLEPOLICY", False, False),  # ARNs do not
    ("s3:*?", "s3:", False, False),             # `?` needs one character
    ("*a?*b", "xxaab", False, True),
    ("a*b*c", "abcbc", False, True),
    ("", "", False, True),
    ("*", "", False, True),
])
def test_iam_semantics(pattern, text, fold, expected):
    assert match(pattern, text, fold) is expected


def test_non_strings_never_match_and_never_raise():
    assert match(None, "x") is False and match("*", 3) is False  # type: ignore[arg-type]


def test_a_parsed_pattern_is_reusable_and_knows_its_minimum_length():
    g = Glob("arn:*:role/?*")
    assert g.min_length() == len("arn::role/?")
    assert g.match("arn:aws:role/x") and not g.match("arn:aws:role/")


def test_no_rule_uses_fnmatch():
    users = [p.name for p in RULES_DIR.glob("*.py") if re.search(
        r"^\s*(import fnmatch|from fnmatch)", p.read_text(), re.M)]
    assert users == []


@pytest.mark.parametrize("resource", [
    "*", "**", "*?", "arn:*", "arn:aws:*", "arn:aws:iam::*", "arn:aws:iam::123456789012:*",
    "arn:aws:iam::123456789012:role*", "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::123456789012:role/**", "arn:aws:iam::123456789012:role/?*",
    "arn:aws:iam::123456789012:role/????", "arn:aws:iam::*:role/*", "arn:*:iam::*:role/*",
    "arn:aws:s3:::*", "arn:aws:s3:::**", "arn:aws:s3:::*?", "arn:aws:s3:::*/*",
    "arn:aws:s3:::?*/*", "arn:aws:ec2:*:*:instance/*", "arn:aws:kms:eu-west-1:1:key/*",
    "arn:aws:secretsmanager:eu-west-1:1:secret:*", "arn:aws:sqs:eu-west-1:1:*",
    "arn:aws:lambda:eu-west-1:1:function:*", "arn:aws:*:*:*:*",
])
def test_broad_resources_whatever_the_spelling(resource):
    assert breadth.broad_resource(resource)


@pytest.mark.parametrize("resource", [
    "arn:aws:s3:::aurorakit-artifacts/*", "arn:aws:s3:::aurorakit-artifacts",
    "arn:aws:s3:::aurorakit-*", "arn:aws:iam::123456789012:role/app-*",
    "arn:aws:iam::123456789012:role/*-prod", "arn:aws:iam::123456789012:role/app",
    "arn:aws:secretsmanager:eu-west-1:1:secret:db-??????",
    "arn:aws:rds-db:eu-west-1:1:dbuser:cluster-ABC/app", "", "arn:aws:s3:::[*]",
])
def test_named_resources_are_not_broad(resource):
    assert not breadth.broad_resource(resource)


@pytest.mark.parametrize("action, every, service", [
    ("*", True, True), ("*:*", True, True), ("*?", True, True), ("??*:*", True, True),
    ("s3:*", False, True), ("S3:**", False, True), ("s3:*?", False, True), ("s3*", False, True),
    ("?3*", False, True), ("s?:*", False, True), ("iam:????", False, True),
    ("s3:Get*", False, False), ("s3:GetObject", False, False), ("iam:Put*Policy", False, False),
    ("a:b:c", False, False),
])
def test_action_breadth(action, every, service):
    assert breadth.every_action(action) is every
    assert breadth.service_wide(action) is service


@pytest.mark.parametrize("pattern", ["[" * 5000, "*?" * 2500, "*a" * 2500 + "b",
                                     "arn:aws:iam::1:role/" + "?*" * 2500])
def test_hostile_patterns_are_judged_not_raised(pattern):
    assert isinstance(breadth.broad_resource(pattern), bool)
    assert isinstance(breadth.service_wide(pattern), bool)
    assert isinstance(match(pattern, "a" * 5000), bool)


# Timed, with generous limits (CPU time, 1 s for what takes milliseconds): hostile wildcard
# patterns of EC2's 16 KB user-data size, through the matcher and through every rule that reads
# an IAM document. fnmatch took 24 s on `[` * 16000 alone.
HOSTILE_16KB = {
    "brackets": "[" * 16_000,
    "star-question": "*?" * 8_000,
    "star-a-then-b": "*a" * 8_000 + "b",
    "one-long-question-segment": "*" + "?a" * 8_000 + "b*",
    "arn-name": "arn:aws:iam::123456789012:role/" + "?*" * 8_000,
    "action": "iam:" + "*?a" * 5_300,
}
LIMIT_S = 1.0


def _cpu(fn, *args) -> float:
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


@pytest.mark.parametrize("pattern", HOSTILE_16KB.values(), ids=HOSTILE_16KB.keys())
def test_hostile_16kb_patterns_match_in_well_under_a_second(pattern):
    from policy.rules.iamdocs import _matches
    for text in ("a" * 16_000, "[" * 16_000, "arn:aws:iam::123456789012:role/" + "x" * 16_000):
        assert _cpu(match, pattern, text) < LIMIT_S
        assert _cpu(_matches, pattern, text[:64]) < LIMIT_S
    assert _cpu(breadth.broad_resource, pattern) < LIMIT_S
    assert _cpu(breadth.service_wide, pattern) < LIMIT_S


@pytest.mark.parametrize("pattern", HOSTILE_16KB.values(), ids=HOSTILE_16KB.keys())
def test_rules_read_hostile_16kb_patterns_in_well_under_a_second(pattern):
    from pulumi_policy import ResourceValidationPolicy

    from policy.rules import REGISTRY

    from . import factories as f
    from .support import Stack, check_resource
    doc = f.doc({"Effect": "Allow", "Action": [pattern, "iam:PassRole"], "Resource": pattern,
                 "Principal": {"AWS": pattern}})
    props = {"policy": doc, "assumeRolePolicy": doc, "inlinePolicies": [{"policy": doc}],
             "policyArn": pattern, "managedPolicyArns": [pattern]}
    types = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/role:Role",
             "aws:s3/bucketPolicy:BucketPolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    for rule in REGISTRY:
        if isinstance(rule.policy, ResourceValidationPolicy):
            for type_ in types:
                assert _cpu(check_resource, rule.name, type_, props) < LIMIT_S, (rule.name, type_)
    stack = Stack()
    for i, type_ in enumerate(types):
        stack.add(type_, f"r{i}", props)
    for rule in REGISTRY:
        if not isinstance(rule.policy, ResourceValidationPolicy):
            assert _cpu(stack.check, rule.name) < LIMIT_S, rule.name
