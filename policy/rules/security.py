"""KMS keys, Secrets Manager secrets and IAM policy/trust documents."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, UNKNOWN, Ctx, is_set, items, number, resource_rule
from .breadth import covers
from .glob import Glob
from .iamdocs import (
    allows,
    broad_resources,
    document,
    granted,
    listed,
    service_wildcards,
    statements,
)
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
# Actions that let a principal grant itself (or a role it can use) more: change policies or
# permission boundaries, mint credentials, pass or assume roles, run code or commands as a role
# it does not hold (instances' user data and templates, Lambda code and configuration, SSM).
# Matched case-insensitively and through wildcards on either side (`iam:Put*` grants
# iam:PutRolePolicy).
ESCALATION_ACTIONS = [
    "iam:PassRole", "iam:PutRolePolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy",
    "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy",
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:CreateAccessKey",
    "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
    "sts:AssumeRole", "ssm:SendCommand", "ssm:StartSession",
    "ec2-instance-connect:SendSSHPublicKey", "ec2:ModifyInstanceAttribute",
    "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration", "glue:UpdateDevEndpoint"]


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


def _documents(ctx: Ctx) -> Iterable[tuple[str, Any]]:
    if ctx.type == ROLE:
        ctx.known(ctx.get("inlinePolicies"), "inlinePolicies")
        for i, p in enumerate(items(ctx.get("inlinePolicies"))):
            if isinstance(p, dict):
                yield f"inlinePolicies[{i}].policy", p.get("policy")
    else:
        yield "policy", ctx.get("policy")


def _parsed(ctx: Ctx, what: str) -> Iterable[tuple[str, Any]]:
    """(path, document) for every readable document; an unreadable one is reported once (it
    cannot be checked, so it is not assumed safe) under the name of the resource."""
    for path, raw in _documents(ctx):
        if not ctx.known(raw, path) or raw is None:
            continue
        doc, problem = document(raw)
        if doc is None:
            ctx.problems.append(f'IAM policy `{path}` of "{ctx.name}" {problem}; it cannot be '
                                f"checked for {what}.")
            continue
        yield path, doc


def _wildcards(ctx: Ctx) -> Iterable[str]:
    forbidden = [str(a) for a in items(ctx.config.get("forbiddenActions"))]
    for path, doc in _parsed(ctx, "wildcard actions"):
        for i, st in enumerate(statements(doc)):
            if not allows(st):
                continue
            # as broad as a forbidden form, however spelled (`*?`, `**`, `*:*?` mean `*`)
            bad = sorted({a for a in listed(st.get("Action"))
                          if any(covers(a, f) for f in forbidden)})
            if bad:
                yield (f"IAM policy `{path}` statement {i} must not allow {', '.join(bad)}: list "
                       "the actions the workload needs.")
            if "NotAction" in st:
                yield (f"IAM policy `{path}` statement {i} must not combine Allow with "
                       "`NotAction` (it allows everything else).")
            services = sorted(set(service_wildcards(st)) - set(bad))
            if services and _broad(ctx, st, path, i):
                yield (f"IAM policy `{path}` statement {i} allows every action of a service "
                       f"({', '.join(services)}) on {', '.join(_broad(ctx, st, path, i))}: list "
                       "the actions and the resources the workload needs.")
    yield from ctx.problems


def _broad(ctx: Ctx, st: dict, path: str, i: int) -> list[str]:
    """The statement's broad resources; an unknown Resource is noted (not checked)."""
    if st.get("Resource") is UNKNOWN or UNKNOWN in items(st.get("Resource")):
        ctx.known(UNKNOWN, f"{path} statement {i} Resource")
        return []
    return broad_resources(st)


def _trust(ctx: Ctx) -> Iterable[str]:
    raw = ctx.get("assumeRolePolicy")
    if not ctx.known(raw, "assumeRolePolicy") or raw is None:
        return
    doc, problem = document(raw)
    if doc is None:
        yield f'IAM role trust policy of "{ctx.name}" {problem}; it cannot be checked.'
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


def _escalation(ctx: Ctx) -> Iterable[str]:
    actions = [str(a) for a in items(ctx.config.get("escalationActions"))]
    for path, doc in _parsed(ctx, "privilege escalation"):
        for i, st in enumerate(statements(doc)):
            found = granted(st, actions)
            broad = _broad(ctx, st, path, i) if found else []
            if found and broad:
                shown = ", ".join(found[:6]) + (f" and {len(found) - 6} more" if len(found) > 6
                                                else "")
                yield (f"IAM policy `{path}` statement {i} allows {shown} on "
                       f"{', '.join(broad)}: these actions let the holder escalate its own "
                       "privileges; list the exact role/user/instance ARNs (and condition "
                       "iam:PassRole on iam:PassedToService).")
    yield from ctx.problems


def _attached_arns(ctx: Ctx) -> list[tuple[str, Any]]:
    if ctx.type == ROLE:
        arns = ctx.get("managedPolicyArns")
        if not ctx.known(arns, "managedPolicyArns"):
            return []
        return [(f"managedPolicyArns[{i}]", a) for i, a in enumerate(items(arns))]
    return [("policyArn", ctx.get("policyArn"))]


def _admin_policies(ctx: Ctx) -> Iterable[str]:
    forbidden = [Glob(str(p)) for p in items(ctx.config.get("forbiddenPolicies"))]
    for path, arn in _attached_arns(ctx):
        if not ctx.known(arn, path) or not isinstance(arn, str):
            continue
        if any(pattern.match(arn) for pattern in forbidden):
            yield (f"IAM attachment `{path}` grants {arn.rsplit('/', 1)[-1]}: attach a policy "
                   "that lists only the actions the workload needs.")


def _user_policies(ctx: Ctx) -> Iterable[str]:
    if ctx.type == POLICY_ATTACHMENT:
        users = ctx.get("users")
        if not ctx.known(users, "users") or not items(users):
            return
    yield ("IAM policies must not be attached to users: attach them to a group or a role "
           "the user assumes (`users` / aws.iam.UserPolicy / UserPolicyAttachment).")


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
        description="Checks whether IAM policy documents avoid wildcard actions, Allow with "
                    "NotAction, and whole-service actions (`s3:*`) on every resource.",
        level=MANDATORY, severity=Severity.HIGH,
        anchors=("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_274", "IAM.1"),
        unknown="document built from outputs (unknown in preview): advisory 'not checked', "
                "checked at update; an unreadable document is a violation",
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
        name="iam-no-privilege-escalation", types=POLICY_TYPES, check=_escalation,
        description="Checks whether IAM policy documents allow privilege-escalation actions "
                    "(iam:PassRole, iam:Put*Policy, iam:Attach*Policy, iam:CreateAccessKey, "
                    "sts:AssumeRole, ssm:SendCommand, ...) only on named resources, never on * or "
                    "every role/user/instance (replaces iam-no-passrole-wildcard).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_286", "CKV_AWS_287"),
        unknown="document or Resource built from outputs: advisory 'not checked', checked at "
                "update; an unreadable document is a violation",
        config={"escalationActions": {"type": "array", "items": {"type": "string"},
                                      "default": ESCALATION_ACTIONS,
                                      "description": "Actions (glob patterns) allowed only on "
                                                     "named resources."}}),
    resource_rule(
        name="iam-no-admin-managed-policy", types=(ROLE, *ATTACHMENTS), check=_admin_policies,
        description="Checks whether roles, users and groups are not attached AWS's "
                    "administrator-level or whole-service (`*FullAccess`) managed policies.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_274",),
        unknown="unknown policyArn: advisory 'not checked', checked at update",
        config={"forbiddenPolicies": {
            "type": "array", "items": {"type": "string"},
            "default": ["arn:*:iam::aws:policy/AdministratorAccess",
                        "arn:*:iam::aws:policy/PowerUserAccess",
                        "arn:*:iam::aws:policy/*FullAccess"],
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
]
