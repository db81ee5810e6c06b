"""Encryption and retention of what the stack's alarms and logs carry: SNS topics, log groups.

Absent means the provider default: absent `kmsMasterKeyId` / `kmsKeyId` = not encrypted with a
KMS key; absent or 0 `retentionInDays` = the events never expire.
"""
from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from .base import MANDATORY, Ctx, is_set, number, resource_rule

SNS_TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
_NOTE_PRESENT = "set-ness only; an unknown value counts as set"


def _topic_key(ctx: Ctx) -> Iterable[str]:
    if not is_set(ctx.get("kmsMasterKeyId")):
        yield ("SNS topic must be encrypted with a KMS key: set `kmsMasterKeyId` to this stack's "
               "key (its policy must let CloudWatch alarms use it).")


def _log_key(ctx: Ctx) -> Iterable[str]:
    if not is_set(ctx.get("kmsKeyId")):
        yield ("CloudWatch log group must be encrypted with a customer-managed KMS key: set "
               "`kmsKeyId` to this stack's key.")


def _retention(ctx: Ctx) -> Iterable[str]:
    value, klass = ctx.get("retentionInDays"), ctx.get("logGroupClass")
    if not ctx.known(value, "retentionInDays") or not ctx.known(klass, "logGroupClass"):
        return
    if klass == "DELIVERY":
        return  # AWS forces 2 days on delivery-class groups; retentionInDays is ignored
    minimum = number(ctx.config.get("minimumDays")) or 0.0
    days = number(value)
    if value is None or days == 0:
        if ctx.config.get("allowNeverExpire") is not True:
            yield ("CloudWatch log group keeps its events forever: set `retentionInDays` (at least "
                   f"{minimum:g}) so logs are kept as long as needed and no longer.")
    elif days is None or days < minimum:
        yield (f"CloudWatch log group must keep its events at least {minimum:g} days "
               f"(`retentionInDays` is {value}).")


RULES = [
    resource_rule(
        name="sns-topic-encrypted", types=(SNS_TOPIC,), check=_topic_key,
        description="Checks whether SNS topics are encrypted at rest with a KMS key.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_26", "SNS.1"),
        unknown=_NOTE_PRESENT),
    resource_rule(
        name="cloudwatch-log-group-encrypted", types=(LOG_GROUP,), check=_log_key,
        description="Checks whether CloudWatch log groups are encrypted with a KMS key.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_158",),
        unknown=_NOTE_PRESENT),
    resource_rule(
        name="cloudwatch-log-group-retention", types=(LOG_GROUP,), check=_retention,
        description="Checks whether CloudWatch log groups set a retention of at least the "
                    "configured number of days (absent or 0 = never expire).",
        level=MANDATORY, severity=Severity.LOW,
        anchors=("CKV_AWS_66", "CKV_AWS_338", "AWS Config cw-loggroup-retention-period-check"),
        unknown="unknown retentionInDays: advisory 'not checked', checked at update",
        config={"minimumDays": {"type": "integer", "minimum": 1, "maximum": 3653, "default": 7,
                                "description": "Minimum retentionInDays."},
                "allowNeverExpire": {"type": "boolean", "default": False,
                                     "description": "Accept log groups that never expire "
                                                    "(absent or 0 retentionInDays)."}}),
]
