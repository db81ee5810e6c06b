"""KMS keys, Secrets Manager secrets and IAM policy/trust documents."""
from __future__ import annotations

import fnmatch
import json
from typing import Any, Iterable, Optional

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, UNKNOWN, Ctx, is_set, items, number, resource_rule
from .stackview import StackView, label, stack_rule

KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
POLICY_TYPES = (ROLE, ROLE_POLICY, MANAGED_POLICY, USER_POLICY, "aws:iam/groupPolicy:GroupPolicy")
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ATTACHMENTS = (ROLE_ATTACHMENT, USER_ATTACHMENT, GROUP_ATTACHMENT, POLICY_ATTACHMENT)
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
RESOURCE_POLICY_TYPES = (KMS_KEY, "aws:kms/keyPolicy:KeyPolicy", SECRET,
                         "aws:secretsmanager/secretPolicy:SecretPolicy", "aws:sns/topic:Topic",
                         "aws:sns/topicPolicy:TopicPolicy")


def _rotation(ctx: Ctx) -> Iterable[str]:
    spec = ctx.get("customerMasterKeySpec") or ctx.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec is not UNKNOWN and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    value = ctx.get("enableKeyRotation")
    if ctx.known(value, "enableKeyRotation") and value is not True:
        yield "KMS key must rotate its key material yearly: set `enableKeyRotation: true`."


def _deletion_window(ctx: Ctx) -> Iterable[str]:
    minimum = number(ctx.config.get("minimumDays")) or 0.0
    value = ctx.get("deletionWindowInDays")
    if not ctx.known(value, "deletionWindowInDays") or value is None:
        return  # the AWS default is 30 days
    days = number(value)
    if days is None or days < minimum:
        yield (f"KMS key should wait at least {minimum:g} days before deletion "
               f"(`deletionWindowInDays` is {value}).")


def _secret_key(ctx: Ctx) -> Iterable[str]:
    if not is_set(ctx.get("kmsKeyId")):
        yield ("Secret must be encrypted with a customer-managed KMS key: set `kmsKeyId` to this "
               "stack's key (not aws/secretsmanager).")


def document(value: Any) -> tuple[Optional[dict], Optional[str]]:
    """A policy document from a JSON string or object: (doc, None) or (None, problem)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
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
    return statement.get("Effect", "Allow") == "Allow"


def _documents(ctx: Ctx) -> Iterable[tuple[str, Any]]:
    if ctx.type == ROLE:
        ctx.known(ctx.get("inlinePolicies"), "inlinePolicies")
        for i, p in enumerate(items(ctx.get("inlinePolicies"))):
            if isinstance(p, dict):
                yield f"inlinePolicies[{i}].policy", p.get("policy")
    else:
        yield "policy", ctx.get("policy")


def _wildcards(ctx: Ctx) -> Iterable[str]:
    forbidden = {str(a).lower() for a in items(ctx.config.get("forbiddenActions"))}
    for path, raw in _documents(ctx):
        if not ctx.known(raw, path) or raw is None:
            continue
        doc, problem = document(raw)
        if doc is None:
            yield f"IAM policy `{path}` {problem}; it cannot be checked for wildcard actions."
            continue
        for i, st in enumerate(statements(doc)):
            if not allows(st):
                continue
            bad = sorted({a for a in listed(st.get("Action")) if a.lower() in forbidden})
            if bad:
                yield (f"IAM policy `{path}` statement {i} must not allow {', '.join(bad)}: list "
                       "the actions the workload needs.")
            if "NotAction" in st:
                yield (f"IAM policy `{path}` statement {i} must not combine Allow with "
                       "`NotAction` (it allows everything else).")


def _trust(ctx: Ctx) -> Iterable[str]:
    raw = ctx.get("assumeRolePolicy")
    if not ctx.known(raw, "assumeRolePolicy") or raw is None:
        return
    doc, problem = document(raw)
    if doc is None:
        yield f"IAM role trust policy {problem}; it cannot be checked."
        return
    allowed = set(listed(ctx.config.get("allowedServices")))
    for i, st in enumerate(statements(doc)):
        if not allows(st):
            continue
        principal = st.get("Principal")
        if not isinstance(principal, dict):
            yield (f"IAM role trust statement {i} must name a service principal, not "
                   f"{principal!r}.")
            continue
        others = sorted(k for k in principal if k != "Service")
        if others:
            yield (f"IAM role trust statement {i} must trust only AWS services, not "
                   f"{', '.join(others)} principals.")
        # China's partition names service principals with a .cn suffix (ec2.amazonaws.com.cn)
        unknown = sorted(s for s in set(listed(principal.get("Service")))
                         if s not in allowed and s.removesuffix(".cn") not in allowed)
        if unknown:
            yield (f"IAM role trust statement {i} trusts {', '.join(unknown)}; allowed services "
                   f"are {', '.join(sorted(allowed))} (the rule's `allowedServices` option).")


def _pass_role(ctx: Ctx) -> Iterable[str]:
    for path, raw in _documents(ctx):
        if not ctx.known(raw, path) or raw is None:
            continue
        doc, _ = document(raw)
        for i, st in enumerate(statements(doc) if doc else []):
            actions = [a for a in listed(st.get("Action")) if a.lower().startswith("iam:")]
            if not allows(st) or not any(fnmatch.fnmatchcase("iam:passrole", a.lower())
                                         for a in actions):
                continue
            if st.get("Resource") is UNKNOWN or UNKNOWN in items(st.get("Resource")):
                ctx.known(UNKNOWN, f"{path} statement {i} Resource")
                continue
            broad = [r for r in listed(st.get("Resource")) if r == "*" or r.endswith("role/*")]
            if broad or "NotResource" in st:
                yield (f"IAM policy `{path}` statement {i} allows iam:PassRole on "
                       f"{', '.join(broad) or 'NotResource'}: list the role ARNs it may pass "
                       "(and condition on iam:PassedToService).")


def _attached_arns(ctx: Ctx) -> list[tuple[str, Any]]:
    if ctx.type == ROLE:
        arns = ctx.get("managedPolicyArns")
        if not ctx.known(arns, "managedPolicyArns"):
            return []
        return [(f"managedPolicyArns[{i}]", a) for i, a in enumerate(items(arns))]
    return [("policyArn", ctx.get("policyArn"))]


def _admin_policies(ctx: Ctx) -> Iterable[str]:
    forbidden = [str(p) for p in items(ctx.config.get("forbiddenPolicies"))]
    for path, arn in _attached_arns(ctx):
        if not ctx.known(arn, path) or not isinstance(arn, str):
            continue
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in forbidden):
            yield (f"IAM attachment `{path}` grants {arn.rsplit('/', 1)[-1]}: attach a policy "
                   "that lists only the actions the workload needs.")


def _user_policies(ctx: Ctx) -> Iterable[str]:
    if ctx.type == POLICY_ATTACHMENT:
        users = ctx.get("users")
        if not ctx.known(users, "users") or not items(users):
            return
    yield ("IAM policies must not be attached to users: attach them to a group or a role "
           "the user assumes (`users` / aws.iam.UserPolicy / UserPolicyAttachment).")


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in listed(principal.get("AWS"))


def _public_resource_policy(ctx: Ctx) -> Iterable[str]:
    raw = ctx.get("policy")
    if not ctx.known(raw, "policy") or raw in (None, ""):
        return
    doc, _ = document(raw)
    for i, st in enumerate(statements(doc) if doc else []):
        if allows(st) and _everyone(st.get("Principal")) and not st.get("Condition"):
            yield (f"Resource policy statement {i} allows any AWS principal (`*`) without a "
                   "`Condition`: name the account or roles, or condition it (e.g. "
                   "kms:CallerAccount, aws:PrincipalAccount).")


def _secret_rotation(view: StackView, config: dict):
    for secret in view.of(SECRET):
        if not view.referrers(secret, SECRET_ROTATION, "secretId"):
            yield (f"{label(secret)} has no rotation: add an aws.secretsmanager.SecretRotation "
                   "with `secretId` from this secret (or let RDS manage the password with "
                   "`manageMasterUserPassword`, which rotates it)."), secret.urn


RULES = [
    resource_rule(
        name="kms-key-rotation-enabled", types=(KMS_KEY,), check=_rotation,
        description="Checks whether symmetric KMS keys rotate their key material.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_7", "KMS.4")),
    resource_rule(
        name="kms-key-deletion-window", types=(KMS_KEY,), check=_deletion_window,
        description="Checks whether KMS keys wait long enough before deletion.",
        level=ADVISORY, severity=Severity.LOW, anchors=("KMS.3",),
        config={"minimumDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 14,
                                "description": "Minimum deletionWindowInDays."}}),
    resource_rule(
        name="secret-customer-managed-key", types=(SECRET,), check=_secret_key,
        description="Checks whether Secrets Manager secrets use a customer-managed KMS key.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_149",),
        unknown="set-ness only; an unknown value counts as set"),
    resource_rule(
        name="iam-no-wildcard-actions", types=POLICY_TYPES, check=_wildcards,
        description="Checks whether IAM policy documents avoid wildcard actions and Allow with "
                    "NotAction.",
        level=MANDATORY, severity=Severity.HIGH,
        anchors=("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_274", "IAM.1"),
        unknown="document built from outputs (unknown in preview): advisory 'not checked', "
                "checked at update",
        config={"forbiddenActions": {"type": "array", "items": {"type": "string"},
                                     "default": ["*", "*:*"],
                                     "description": "Actions no Allow statement may grant."}}),
    resource_rule(
        name="iam-trust-only-services", types=(ROLE,), check=_trust,
        description="Checks whether IAM roles can be assumed only by the expected AWS services.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_60", "CKV_AWS_61"),
        config={"allowedServices": {
            "type": "array", "items": {"type": "string"},
            "default": ["ec2.amazonaws.com", "monitoring.rds.amazonaws.com",
                        "vpc-flow-logs.amazonaws.com", "rds.amazonaws.com", "lambda.amazonaws.com",
                        "backup.amazonaws.com"],
            "description": "Service principals roles may trust."}}),
    resource_rule(
        name="iam-no-passrole-wildcard", types=POLICY_TYPES, check=_pass_role,
        description="Checks whether IAM policy documents allow iam:PassRole only on named roles "
                    "(not on * or every role).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_286",),
        unknown="document or Resource built from outputs: advisory 'not checked', checked at "
                "update"),
    resource_rule(
        name="iam-no-admin-managed-policy", types=(ROLE, *ATTACHMENTS), check=_admin_policies,
        description="Checks whether roles, users and groups are not attached AWS's "
                    "administrator-level managed policies.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_274",),
        unknown="unknown policyArn: advisory 'not checked', checked at update",
        config={"forbiddenPolicies": {
            "type": "array", "items": {"type": "string"},
            "default": ["arn:*:iam::aws:policy/AdministratorAccess",
                        "arn:*:iam::aws:policy/PowerUserAccess",
                        "arn:*:iam::aws:policy/IAMFullAccess"],
            "description": "Managed policy ARNs (glob patterns) never to attach."}}),
    resource_rule(
        name="iam-no-user-policies", types=(USER_POLICY, USER_ATTACHMENT, POLICY_ATTACHMENT),
        check=_user_policies,
        description="Checks whether IAM policies are attached to groups and roles, never "
                    "directly to users.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_40", "IAM.2"),
        unknown="unknown `users` list: advisory 'not checked'"),
    stack_rule(
        name="secret-rotation-configured", types=(SECRET,), check=_secret_rotation,
        description="Checks whether Secrets Manager secrets of this stack have a rotation "
                    "(RDS-managed master secrets rotate on their own and are not stack "
                    "resources).",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("CKV2_AWS_57", "SecretsManager.1"),
        unknown="uses dependencies only; never blocked by unknown values"),
    resource_rule(
        name="resource-policy-no-public-principal", types=RESOURCE_POLICY_TYPES,
        check=_public_resource_policy,
        description="Checks whether KMS key, secret and SNS topic policies do not allow every "
                    "AWS principal (`*`) without a condition.",
        level=MANDATORY, severity=Severity.CRITICAL,
        anchors=("CKV_AWS_33", "AWS Config kms-key-policy-no-public-access"),
        unknown="policy built from outputs: advisory 'not checked', checked at update"),
]
