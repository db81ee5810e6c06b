"""DynamoDB tables (AWSGuard's dynamodb-table-encryption-enabled and its siblings)."""
from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from .base import MANDATORY, Ctx, resource_rule

TABLE = "aws:dynamodb/table:Table"


def _nested_flag(block: str, what: str):
    def check(ctx: Ctx) -> Iterable[str]:
        value = ctx.get(block, "enabled")
        if ctx.known(value, f"{block}.enabled") and value is not True:
            yield f"DynamoDB table must {what}: set `{block}.enabled: true`."
    return check


def _deletion(ctx: Ctx) -> Iterable[str]:
    value = ctx.get("deletionProtectionEnabled")
    if ctx.known(value, "deletionProtectionEnabled") and value is not True:
        yield "DynamoDB table must have deletion protection: set `deletionProtectionEnabled: true`."


RULES = [
    resource_rule(
        name="dynamodb-table-encryption-enabled", types=(TABLE,),
        check=_nested_flag("serverSideEncryption", "use KMS server-side encryption"),
        description="Checks whether DynamoDB tables use KMS server-side encryption.",
        level=MANDATORY, severity=Severity.MEDIUM,
        anchors=("AWSGuard dynamodb-table-encryption-enabled", "CKV_AWS_119")),
    resource_rule(
        name="dynamodb-point-in-time-recovery", types=(TABLE,),
        check=_nested_flag("pointInTimeRecovery", "enable point-in-time recovery"),
        description="Checks whether DynamoDB tables enable point-in-time recovery.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_28", "DynamoDB.2")),
    resource_rule(
        name="dynamodb-deletion-protection", types=(TABLE,), check=_deletion,
        description="Checks whether DynamoDB tables have deletion protection.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("DynamoDB.6",)),
]
