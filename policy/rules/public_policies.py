"""Public resource policies on ANY resource type (rule resource-policy-no-public-principal).

The class, not a list of types: every resource input named like a resource policy (`policy`,
`resourcePolicy`, `accessPolicy`, `accessPolicies`, `policyDocument`) is read as a policy
document — S3 buckets (inline `policy`) and bucket policies, KMS keys, secrets, queues, topics,
DynamoDB and Backup vault resource policies, ECR, OpenSearch, CloudWatch Logs, API Gateway...
An Allow statement for every principal (`*`, `{"AWS": "*"}`, a wildcard principal) is public
unless its Condition pins who the caller is (iamdocs.pins_caller: account, organization,
source account/ARN/VPC/endpoint, principal ARN, kms:CallerAccount); `NotPrincipal` with Allow
is always reported. Grant resources carry the same thing as arguments: a Lambda Permission (or
LayerVersionPermission) or an EventBridge EventPermission for principal `*` without a literal
`sourceArn` / `sourceAccount` / `principalOrgId` (`organizationId`; the EventPermission's
organization `condition`) — a wildcard there pins nothing —, and a FunctionUrl with
`authorizationType: NONE`.

Not resource policies: IAM identity policies (no Principal; trust policies are judged by
iam-trust-only-services) and VPC endpoint policies (they restrict what passes through an
endpoint; `Principal: "*"` is their normal form).

Escape hatch for a reviewed public resource: the rule's `allowedPublicResources` option lists
logical resource names. Cost: one pass over the resource's top-level keys, then linear in the
document.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import Severity

from .base import ANY_TYPE, MANDATORY, UNKNOWN, Ctx, is_set, resource_rule, text
from .iamdocs import allows, concrete, document, everyone, listed, pins_caller, statements

POLICY_KEYS = frozenset({"policy", "resourcepolicy", "accesspolicy", "accesspolicies",
                         "policydocument"})
NOT_RESOURCE_POLICIES = frozenset({"aws:ec2/vpcEndpoint:VpcEndpoint",
                                   "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"})
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
LAYER_PERMISSION = "aws:lambda/layerVersionPermission:LayerVersionPermission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
# grant resource -> its pinning arguments, each with the condition key it stands for
_GRANTS = {LAMBDA_PERMISSION: {"sourceArn": "aws:sourcearn", "sourceAccount": "aws:sourceaccount",
                               "principalOrgId": "aws:principalorgid"},
           LAYER_PERMISSION: {"organizationId": "aws:principalorgid"},
           EVENT_PERMISSION: {"condition": "aws:principalorgid"}}


def _policy_keys(raw: Any) -> list[str]:
    if not isinstance(raw, Mapping):
        return []
    return [k for k in raw if isinstance(k, str) and k.lower() in POLICY_KEYS]


def _applies(resource_type: str, raw: Any) -> bool:
    if resource_type in _GRANTS or resource_type == FUNCTION_URL:
        return True
    if resource_type in NOT_RESOURCE_POLICIES or resource_type.startswith("aws:iam/"):
        return False
    return bool(_policy_keys(raw))


def _looks_like_json(value: Any) -> bool:
    return not isinstance(value, str) or value.lstrip()[:1] in ("{", "[")


def _document_findings(ctx: Ctx) -> Iterable[str]:
    for key in _policy_keys(ctx.props):
        raw = ctx.get(key)
        if not ctx.known(raw, key) or raw in (None, "") or not _looks_like_json(raw):
            continue                        # a name or ARN in a `policy` input is no document
        doc, problem = document(raw)
        if doc is None:
            yield f'Resource policy `{key}` of "{ctx.name}" {problem}; it cannot be checked for ' \
                  "public access."
            continue
        for i, st in enumerate(statements(doc)):
            if not allows(st):
                continue
            if "NotPrincipal" in st:
                yield (f"Resource policy `{key}` statement {i} allows everyone but "
                       "`NotPrincipal`: name the principals in `Principal` instead.")
            elif everyone(st.get("Principal")) and not pins_caller(st.get("Condition")):
                how = "without a `Condition`" if not st.get("Condition") else (
                    "with a `Condition` that does not pin the caller")
                yield (f"Resource policy `{key}` statement {i} allows any AWS principal (`*`) "
                       f"{how}: name the account or roles, or condition it on who the caller is "
                       "(aws:PrincipalAccount, aws:PrincipalOrgID, aws:SourceAccount/SourceArn/"
                       "SourceVpc/SourceVpce, aws:PrincipalArn, kms:CallerAccount); "
                       "aws:SecureTransport or aws:SourceIp alone do not.")


def _grant_findings(ctx: Ctx) -> Iterable[str]:
    principal = ctx.get("principal")
    if not ctx.known(principal, "principal") or not everyone(principal):
        return
    pins = _GRANTS[ctx.type]
    values = {k: ctx.get(k) for k in pins}
    if any(v is UNKNOWN for v in values.values()):
        ctx.known(UNKNOWN, "/".join(pins))
        return
    if not any(_pinned(pins[k], v) for k, v in values.items()):
        what = "Lambda grant" if ctx.type != EVENT_PERMISSION else "Event bus permission"
        how = "without" if not any(is_set(v) for v in values.values()) else "with a wildcard in"
        yield (f"{what} \"{ctx.name}\" gives principal `*` (anyone) access {how} "
               f"{' / '.join(f'`{k}`' for k in pins)}: name the service or account, and pin "
               "the caller with a literal source ARN / account (or the organization).")


def _pinned(key: str, value: Any) -> bool:
    """A grant argument that names known callers: a literal value (an EventPermission's
    `condition` is the organization condition {key, type, value})."""
    if isinstance(value, Mapping):
        return (str(value.get("key", "")).lower() == "aws:principalorgid"
                and str(value.get("type", "")).lower() == "stringequals" and concrete(key, value.get("value")))
    return concrete(key, value)


def _function_url(ctx: Ctx) -> Iterable[str]:
    auth = ctx.get("authorizationType")
    if ctx.known(auth, "authorizationType") and (text(auth) or "").strip().upper() != "AWS_IAM":
        yield (f'Lambda function URL "{ctx.name}" has `authorizationType` '
               f"{auth if text(auth) else 'unset'}: anyone on the internet can invoke the "
               'function; use "AWS_IAM" (and front it with a signed caller such as CloudFront '
               "OAC).")


def _public(ctx: Ctx) -> Iterable[str]:
    if ctx.name in listed(ctx.config.get("allowedPublicResources")):
        return
    if ctx.type in _GRANTS:
        yield from _grant_findings(ctx)
    elif ctx.type == FUNCTION_URL:
        yield from _function_url(ctx)
    else:
        yield from _document_findings(ctx)


RULES = [
    resource_rule(
        name="resource-policy-no-public-principal", types=(ANY_TYPE,), check=_public,
        applies=_applies,
        description="Checks whether resource policies on any resource type (every input named "
                    "policy, resourcePolicy, accessPolicy/accessPolicies or policyDocument: S3 "
                    "buckets and bucket policies, KMS keys, secrets, queues, topics, DynamoDB "
                    "and Backup vault policies, ...) allow every principal (`*`) only with a "
                    "condition that pins who the caller is (account, organization, source "
                    "account/ARN/VPC, principal ARN, kms:CallerAccount), never use NotPrincipal, "
                    "and whether Lambda permissions for `*` pin a source and function URLs "
                    "require AWS_IAM.",
        level=MANDATORY, severity=Severity.CRITICAL,
        anchors=("CKV_AWS_33", "CKV_AWS_301", "CKV_AWS_258",
                 "AWS Config kms-key-policy-no-public-access"),
        unknown="policy built from outputs: advisory 'not checked', checked at update",
        config={"allowedPublicResources": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "Logical names of resources reviewed to be public on purpose."}}),
]
