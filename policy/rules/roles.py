"""Catalogue stack rule 5: the roles the workload runs as — app hosts' roles (instances, launch
templates/configurations, through their instance profile) and the database's roles
(`rds.ClusterRoleAssociation`, `rds.RoleAssociation`, a cluster's `iamRoles`) — hold only
least privilege, read from their *effective* permissions: inline policies, `RolePolicy`,
`RolePolicyAttachment`, `PolicyAttachment(roles=…)` and `managedPolicyArns` (customer managed
policies of this stack are read; AWS managed ones must be on an allow list).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN, items
from .hosts import INSTANCES, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE, SPOT_FLEET
from .iamdocs import document, granted, listed, statements
from .stackview import StackView, label, stack_rule

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
CLUSTER_ROLE = "aws:rds/clusterRoleAssociation:ClusterRoleAssociation"
INSTANCE_ROLE = "aws:rds/roleAssociation:RoleAssociation"
CLUSTER = "aws:rds/cluster:Cluster"
DB_INSTANCE = "aws:rds/instance:Instance"
SECRET = "aws:secretsmanager/secret:Secret"
KMS_KEY = "aws:kms/key:Key"
HOST_TYPES = (*INSTANCES, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)  # and SPOT_FLEET's launch specifications


def _unique(resources: Iterable[Any]) -> list:
    return list({r.urn: r for r in resources}.values())


def app_roles(view: StackView) -> list:
    """Roles of the app hosts' instance profiles (instances, Spot Instance requests, launch
    templates/configurations, Spot Fleet launch specifications)."""
    profiles = [p for host in view.of(*HOST_TYPES)
                for p in view.deps(host, "iamInstanceProfile", INSTANCE_PROFILE)]
    profiles += [p for fleet in view.of(SPOT_FLEET)
                 for p in view.deps(fleet, "launchSpecifications", INSTANCE_PROFILE)]
    return _unique(role for profile in profiles for role in view.deps(profile, "role", ROLE))


def database_roles(view: StackView) -> list:
    """Roles associated with a cluster or DB instance (S3 import/export, Lambda, ...)."""
    found = [r for a in view.of(CLUSTER_ROLE, INSTANCE_ROLE) for r in view.deps(a, "roleArn", ROLE)]
    found += [r for db in view.of(CLUSTER) for r in view.deps(db, "iamRoles", ROLE)]
    return _unique(found)


def any_partition(arn: Any) -> Any:
    """arn:aws-cn:… / arn:aws-us-gov:… compare equal to arn:aws:… (AWS managed policies exist
    in every partition under the same name)."""
    return re.sub(r"^arn:aws(?:-[a-z-]+)?:", "arn:aws:", arn) if isinstance(arn, str) else arn


def _managed(view: StackView, owner: Any, key: str, values: Any, allowed: Optional[set]
             ) -> Iterable[tuple[Any, str, Any]]:
    """Documents for the managed policies input `key` of `owner` attaches: this stack's
    policies are read; any other ARN not on the allow list counts as `*` on `*` (with
    `allowed` None, other ARNs are skipped)."""
    policies, foreign, _ = view.resolve(owner, key, values, MANAGED_POLICY)
    for policy in policies:
        yield policy, label(policy), view.get(policy, "policy")
    for arn in foreign:
        if allowed is not None and any_partition(arn) not in allowed:
            yield owner, label(owner), {"Statement": [{"Effect": "Allow", "Action": "*",
                                                       "Resource": "*", "Managed": arn}]}


def role_documents(view: StackView, role: Any, allowed: Optional[set] = None
                   ) -> Iterable[tuple[Any, str, Any]]:
    """(owner, where, raw document) for every policy that applies to `role`."""
    for i, p in enumerate(items(view.get(role, "inlinePolicies"))):
        if isinstance(p, dict):
            yield role, f"inlinePolicies[{i}]", p.get("policy")
    for rp in view.referrers(role, ROLE_POLICY, "role"):
        yield rp, label(rp), view.get(rp, "policy")
    arns = view.get(role, "managedPolicyArns")
    if arns is UNKNOWN and not view.deps(role, "managedPolicyArns"):
        view.note(f"{label(role)} managedPolicyArns")
    yield from _managed(view, role, "managedPolicyArns", [a for a in items(arns)], allowed)
    for att in view.referrers(role, ROLE_ATTACHMENT, "role") + view.referrers(
            role, POLICY_ATTACHMENT, "roles"):
        yield from _managed(view, att, "policyArn", view.get(att, "policyArn"), allowed)


def stack_arns(view: StackView) -> set:
    """ARNs of this stack's secrets and keys (and RDS-managed master secrets)."""
    arns: set = set()
    for r in view.of(SECRET, KMS_KEY):
        arns.add(view.get(r, "arn"))
    for db in view.of(CLUSTER, DB_INSTANCE):
        for s in items(view.get(db, "masterUserSecrets")):
            if isinstance(s, dict):
                arns.add(s.get("secretArn"))
    return {a for a in arns if isinstance(a, str) and a}


def _shown(statement: dict, wrong: list) -> str:
    if "NotResource" in statement:
        return "NotResource"
    return ", ".join(wrong) or "no resource of this stack"


def _least_privilege(view: StackView, config: dict):
    sensitive = listed(config.get("sensitiveActions"))
    allowed = {any_partition(a) for a in listed(config.get("allowedManagedPolicies"))}
    arns = None
    roles = [(r, f'App role "{r.name}"') for r in app_roles(view)] + [
        (r, f'Database role "{r.name}"') for r in database_roles(view)]
    for role, kind in {r.urn: (r, k) for r, k in reversed(roles)}.values():
        for owner, where, raw in role_documents(view, role, allowed):
            if view.is_unknown(raw, owner, "policy"):
                continue
            doc, problem = document(raw) if raw is not None else (None, None)
            if doc is None:
                if problem:
                    yield f"{kind}: {where} {problem}.", owner.urn
                continue
            for i, st in enumerate(statements(doc)):
                if "Managed" in st:
                    yield (f"{kind} has managed policy {st['Managed']} attached; "
                           "allowed are " + ", ".join(sorted(allowed)) + "."), owner.urn
                    continue
                # through wildcards on either side and NotAction (iamdocs.granted)
                found = sorted(set(granted(st, sensitive)))
                if not found:
                    continue
                arns = stack_arns(view) if arns is None else arns
                if UNKNOWN in items(st.get("Resource")) or st.get("Resource") is UNKNOWN:
                    view.note(f"{label(owner)} statement {i} Resource")
                    continue
                resources = listed(st.get("Resource"))
                wrong = [r for r in resources if r not in arns]
                if "NotResource" in st or not resources or wrong:
                    yield (f"{kind} ({where} statement {i}) grants "
                           f"{', '.join(found)} on {_shown(st, wrong)}; grant it only on "
                           "this stack's secret and KMS key ARNs."), owner.urn


RULES = [
    stack_rule(
        name="app-role-least-privilege", types=(ROLE,), check=_least_privilege,
        description="Checks whether the roles the workload runs as (app hosts' roles, and "
                    "roles associated with the database) read secrets and decrypt only with "
                    "this stack's secrets and keys, and carry only allowed AWS managed policies "
                    "— across inline policies, RolePolicy, RolePolicyAttachment, "
                    "PolicyAttachment(roles) and managedPolicyArns.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule 5", "CKV_AWS_290",
                                                           "CKV_AWS_355"),
        unknown="policy document or ARNs unknown in preview: advisory 'not checked', checked "
                "at update",
        config={"sensitiveActions": {
                    "type": "array", "items": {"type": "string"},
                    "default": ["secretsmanager:GetSecretValue", "kms:Decrypt"],
                    "description": "Actions that must be scoped to this stack's ARNs."},
                "allowedManagedPolicies": {
                    "type": "array", "items": {"type": "string"},
                    "default": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                                "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"],
                    "description": "AWS managed policies these roles may carry."}}),
]
