"""The five catalogue stack rules (AnalyzeStack: resource OUTPUTS, related by dependencies).

Each check is linear in the number of resources: a `StackView` builds URN-keyed reverse indexes
once per check. What a rule could not check (unknown values in preview) is reported through the
SDK's advisory "can't run policy ... during preview" diagnostic, after all known violations.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable, Optional

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN, items, number, text
from .database import CLUSTER, CLUSTER_INSTANCE, DB_INSTANCE, MYSQL_ENGINES, POSTGRES_ENGINES
from .network import SECURITY_GROUP, SG_RULE, VPC_INGRESS, Permission, permissions
from .routes import default_routes, route_tables
from .security import KMS_KEY, MANAGED_POLICY, ROLE, ROLE_POLICY, SECRET, allows, document, \
    listed, statements
from .stackview import StackView, label, stack_rule

DATABASES = (CLUSTER, DB_INSTANCE)
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SUBNET = "aws:ec2/subnet:Subnet"
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RDS_PROXY = "aws:rds/proxy:Proxy"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KMS_ALIAS = "aws:kms/alias:Alias"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

Result = Iterable[tuple[str, Optional[str]]]


def engine_port(view: StackView, db: Any) -> Optional[int]:
    port = view.get(db, "port")
    if view.is_unknown(port, db, "port"):
        return None
    if number(port) is not None:
        return int(number(port))
    engine = view.get(db, "engine") or "aurora"
    return 5432 if engine in POSTGRES_ENGINES else 3306 if engine in MYSQL_ENGINES else None


def db_subnets(view: StackView, db: Any) -> tuple[list, Optional[str]]:
    """(subnets, problem): the DB's subnets via its subnet group, or why they are unknown."""
    groups = view.deps(db, "dbSubnetGroupName", SUBNET_GROUP)
    if not groups:
        if text(view.get(db, "dbSubnetGroupName")) is None and view.get(
                db, "dbSubnetGroupName") is not UNKNOWN:
            return [], "has no DB subnet group (it would use the default VPC's public subnets)"
        return [], ("takes `dbSubnetGroupName` from outside this stack, so its subnets cannot "
                    "be verified; pass the SubnetGroup's `name` output")
    subnets = [s for g in groups for s in view.deps(g, "subnetIds", SUBNET)]
    if not subnets:
        return [], (f"uses {label(groups[0])}, whose `subnetIds` do not come from subnets of "
                    "this stack, so they cannot be verified")
    return subnets, None


# 1 ----------------------------------------------------------------------------------------
def _no_internet_route(view: StackView, config: dict) -> Result:
    forbidden = {"internet gateway"}
    if config.get("forbidNatRoute") is True:
        forbidden |= {"NAT gateway", "egress-only gateway"}
    for db in view.of(*DATABASES):
        subnets, problem = db_subnets(view, db)
        if problem:
            yield f"{label(db)} {problem}.", db.urn
        for subnet in subnets:
            for table in route_tables(view, subnet):
                for blamed, kind in default_routes(view, table):
                    if kind in forbidden:
                        yield (f"{label(db)} runs in {label(subnet)}, whose {label(table)} "
                               f"sends 0.0.0.0/0 or ::/0 to a {kind}; database subnets must "
                               "have no route to the internet (use an isolated route table)."
                               ), blamed.urn


# 2 ----------------------------------------------------------------------------------------
def _app_host_groups(view: StackView, config: dict) -> set:
    allowed_types = set(listed(config.get("allowedSourceTypes")))
    urns: set = set()
    for r in view.of(*allowed_types):
        for key in ("vpcSecurityGroupIds", "securityGroups", "vpcSecurityGroupIds"):
            urns.update(d.urn for d in view.deps(r, key, SECURITY_GROUP))
    return urns


def ingress_of(view: StackView, sg: Any) -> Iterable[tuple[Any, Permission, list, list]]:
    """(declaring resource, permission, source SGs of this stack, unresolved sources) for every
    ingress of `sg`. Sources are resolved through the input's dependencies; a refreshed SG's
    `ingress` output also mirrors standalone rules, whose source ids resolve to stack SGs."""
    def sources(owner: Any, perm: Permission, key: str) -> tuple[list, list]:
        deps = view.deps(owner, key, SECURITY_GROUP)
        if deps:
            return deps, []
        by_id = view.by_output("id", SECURITY_GROUP)
        resolved = [by_id[s] for s in perm.sources if isinstance(s, str) and s in by_id]
        return resolved, [s for s in perm.sources if s is not UNKNOWN and not (
            isinstance(s, str) and s in by_id)]

    for perm in permissions(view.props(sg), SECURITY_GROUP):
        if perm.direction == "ingress":
            yield (sg, perm, *sources(sg, perm, "ingress"))
    for rule in view.referrers(sg, SG_RULE, "securityGroupId"):
        for perm in permissions(view.props(rule), SG_RULE):
            if perm.direction == "ingress":
                yield (rule, perm, *sources(rule, perm, "sourceSecurityGroupId"))
    for rule in view.referrers(sg, VPC_INGRESS, "securityGroupId"):
        for perm in permissions(view.props(rule), VPC_INGRESS):
            yield (rule, perm, *sources(rule, perm, "referencedSecurityGroupId"))


def _db_ingress(view: StackView, config: dict) -> Result:
    app_groups = _app_host_groups(view, config)
    for db in view.of(*DATABASES):
        groups = view.deps(db, "vpcSecurityGroupIds", SECURITY_GROUP)
        if not groups:
            yield (f"{label(db)} must use a security group of this stack (`vpcSecurityGroupIds` "
                   "from a SecurityGroup); without it the VPC default group applies and its "
                   "ingress cannot be verified."), db.urn
            continue
        port = engine_port(view, db)
        for sg in groups:
            for owner, perm, sources, unresolved in ingress_of(view, sg):
                where = f"{label(sg)} ({label(owner)} {perm.path})" if owner is not sg else (
                    f"{label(sg)} {perm.path}")
                if perm.cidrs:
                    yield (f"{label(db)} accepts CIDR sources on {where}; allow only the app "
                           "hosts' security groups."), owner.urn
                foreign = [s for s in sources if s.urn not in app_groups]
                if foreign or unresolved:
                    names = ", ".join(label(s) for s in foreign) or "a source not in this stack"
                    yield (f"{label(db)} accepts {names} on {where}; only security groups "
                           "attached to app hosts may reach the database."), owner.urn
                if port is not None and view.is_unknown(perm.ports, owner, "ports"):
                    continue
                if port is not None and perm.ports != (port, port):
                    shown = "(ICMP)" if perm.ports is None else "-".join(map(str, perm.ports))
                    yield (f"{label(db)} ingress {where} opens ports {shown}; open exactly the "
                           f"database port {port}."), owner.urn


# 3 ----------------------------------------------------------------------------------------
_KEYED = (  # (type, input, condition input that must be true, what)
    (CLUSTER, "kmsKeyId", None, "storage"),
    (CLUSTER, "masterUserSecretKmsKeyId", "manageMasterUserPassword", "managed master secret"),
    (DB_INSTANCE, "kmsKeyId", None, "storage"),
    (DB_INSTANCE, "masterUserSecretKmsKeyId", "manageMasterUserPassword",
     "managed master secret"),
    (CLUSTER_INSTANCE, "performanceInsightsKmsKeyId", "performanceInsightsEnabled",
     "Performance Insights"),
    (DB_INSTANCE, "performanceInsightsKmsKeyId", "performanceInsightsEnabled",
     "Performance Insights"),
    (SECRET, "kmsKeyId", None, "secret"),
    (LOG_GROUP, "kmsKeyId", None, "log group"),
    (EC2_INSTANCE, "rootBlockDevice", None, "root volume"),
)


def _uses_stack_key(view: StackView, r: Any, key: str) -> bool:
    for dep in view.deps(r, key):
        if dep.resource_type == KMS_KEY:
            return True
        if dep.resource_type == KMS_ALIAS and view.deps(dep, "targetKeyId", KMS_KEY):
            return True
    return False


def _cmk(view: StackView, config: dict) -> Result:
    for rtype, key, condition, what in _KEYED:
        for r in view.of(rtype):
            if condition and view.get(r, condition) is not True:
                continue
            if _uses_stack_key(view, r, key):
                continue
            value = view.get(r, key, "kmsKeyId") if key == "rootBlockDevice" else view.get(r, key)
            how = "is not encrypted with a customer-managed key" if value in (None, "") else (
                "uses a KMS key that is not created by this stack")
            field = "rootBlockDevice.kmsKeyId" if key == "rootBlockDevice" else key
            yield (f"{label(r)} {what} {how}: set `{field}` from this stack's KMS key."), r.urn


# 4 ----------------------------------------------------------------------------------------
def _protected(view: StackView, config: dict) -> Result:
    for r in view.of(*listed(config.get("types"))):
        if not getattr(getattr(r, "opts", None), "protect", False):
            yield (f"{label(r)} must be registered with `protect=True` so `pulumi destroy` and "
                   "replacements cannot delete it."), r.urn


def _multi_az(view: StackView, config: dict) -> Result:
    minimum = int(number(config.get("minimumInstances")) or 0)
    for cluster in view.of(CLUSTER):
        members = view.referrers(cluster, CLUSTER_INSTANCE, "clusterIdentifier")
        zones = [view.get(m, "availabilityZone") for m in members]
        if any(view.is_unknown(z, m, "availabilityZone") for z, m in zip(zones, members)):
            continue
        distinct = {z for z in zones if text(z)}
        if len(members) < minimum or len(distinct) < min(minimum, 2):
            yield (f"{label(cluster)} has {len(members)} instance(s) in {len(distinct)} pinned "
                   f"Availability Zone(s); it needs at least {minimum} instances across 2 or "
                   "more AZs (set each instance's `availabilityZone`)."), cluster.urn
    for db in view.of(DB_INSTANCE):
        if text(view.get(db, "replicateSourceDb")) is None and view.get(db, "multiAz") is not True:
            yield f"{label(db)} must be Multi-AZ: set `multiAz: true`.", db.urn


# 5 ----------------------------------------------------------------------------------------
def _app_roles(view: StackView) -> list:
    roles, seen = [], set()
    for host in view.of(EC2_INSTANCE, LAUNCH_TEMPLATE):
        for profile in view.deps(host, "iamInstanceProfile", INSTANCE_PROFILE):
            for role in view.deps(profile, "role", ROLE):
                if role.urn not in seen:
                    seen.add(role.urn)
                    roles.append(role)
    return roles


def _stack_arns(view: StackView) -> set:
    arns: set = set()
    for r in view.of(SECRET, KMS_KEY):
        arns.add(view.get(r, "arn"))
    for db in view.of(*DATABASES):
        for s in items(view.get(db, "masterUserSecrets")):
            if isinstance(s, dict):
                arns.add(s.get("secretArn"))
    return {a for a in arns if isinstance(a, str) and a}


def _any_partition(arn: Any) -> Any:
    """arn:aws-cn:… / arn:aws-us-gov:… compare equal to arn:aws:… (AWS managed policies exist
    in every partition under the same name)."""
    return re.sub(r"^arn:aws(?:-[a-z-]+)?:", "arn:aws:", arn) if isinstance(arn, str) else arn


def _role_documents(view: StackView, role: Any, config: dict) -> Iterable[tuple[Any, str, Any]]:
    """(owner, where, raw document) for every policy attached to `role`."""
    for i, p in enumerate(items(view.get(role, "inlinePolicies"))):
        if isinstance(p, dict):
            yield role, f"inlinePolicies[{i}]", p.get("policy")
    for rp in view.referrers(role, ROLE_POLICY, "role"):
        yield rp, label(rp), view.get(rp, "policy")
    allowed = {_any_partition(a) for a in listed(config.get("allowedManagedPolicies"))}
    for att in view.referrers(role, ATTACHMENT, "role"):
        managed = view.deps(att, "policyArn", MANAGED_POLICY)
        for m in managed:
            yield m, label(m), view.get(m, "policy")
        arn = view.get(att, "policyArn")
        if not managed and arn is not UNKNOWN and _any_partition(arn) not in allowed:
            yield att, label(att), {"Statement": [{"Effect": "Allow", "Action": "*",
                                                   "Resource": "*", "Managed": str(arn)}]}


def _shown(statement: dict, wrong: list) -> str:
    if "NotResource" in statement:
        return "NotResource"
    return ", ".join(wrong) or "no resource of this stack"


def _least_privilege(view: StackView, config: dict) -> Result:
    sensitive = [a.lower() for a in listed(config.get("sensitiveActions"))]
    arns = None
    for role in _app_roles(view):
        for owner, where, raw in _role_documents(view, role, config):
            if view.is_unknown(raw, owner, "policy"):
                continue
            doc, problem = document(raw) if raw is not None else (None, None)
            if doc is None:
                if problem:
                    yield f"App role {label(role)}: {where} {problem}.", owner.urn
                continue
            for i, st in enumerate(statements(doc)):
                if "Managed" in st:
                    yield (f"App role {label(role)} has managed policy {st['Managed']} attached; "
                           "allowed are " + ", ".join(sorted(listed(config.get(
                               "allowedManagedPolicies")))) + "."), owner.urn
                    continue
                actions = [a.lower() for a in listed(st.get("Action"))]
                granted = sorted({s for s in sensitive for a in actions if fnmatch.fnmatch(s, a)})
                if not allows(st) or not granted:
                    continue
                arns = _stack_arns(view) if arns is None else arns
                resources = listed(st.get("Resource"))
                if UNKNOWN in items(st.get("Resource")) or st.get("Resource") is UNKNOWN:
                    view.note(f"{label(owner)} statement {i} Resource")
                    continue
                wrong = [r for r in resources if r not in arns]
                if "NotResource" in st or not resources or wrong:
                    yield (f"App role {label(role)} ({where} statement {i}) grants "
                           f"{', '.join(granted)} on {_shown(st, wrong)}; grant "
                           "it only on this stack's secret and KMS key ARNs."), owner.urn


RULES = [
    stack_rule(
        name="db-subnets-no-internet-route", types=DATABASES, check=_no_internet_route,
        description="Checks whether the database's subnets have no 0.0.0.0/0 or ::/0 route to "
                    "an internet gateway (or NAT, when configured).",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("stack rule 1",),
        unknown="unknown route destination/gateway: advisory 'not checked'; relations use "
                "dependencies, which are known in preview",
        config={"forbidNatRoute": {"type": "boolean", "default": False,
                                   "description": "Treat NAT/egress-only routes as internet "
                                                  "routes too (an isolated DB tier)."}}),
    stack_rule(
        name="db-ingress-only-from-app-hosts", types=DATABASES, check=_db_ingress,
        description="Checks whether database security groups accept only app-host security "
                    "groups, on exactly the database port.",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("stack rule 2",),
        unknown="unknown port: advisory 'not checked' for that rule",
        config={"allowedSourceTypes": {
            "type": "array", "items": {"type": "string"},
            "default": [EC2_INSTANCE, LAUNCH_TEMPLATE, RDS_PROXY],
            "description": "Resource types whose security groups count as app hosts."}}),
    stack_rule(
        name="encryption-uses-stack-cmk", types=tuple(dict.fromkeys(t for t, *_ in _KEYED)),
        check=_cmk,
        description="Checks whether storage, secrets, Performance Insights, logs and EBS use a "
                    "KMS key created by this stack.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule 3", "CKV_AWS_158"),
        unknown="uses dependencies only; never blocked by unknown values"),
    stack_rule(
        name="stack-deletion-safety", types=(CLUSTER, DB_INSTANCE, KMS_KEY, SECRET),
        check=_protected,
        description="Checks whether the database, its KMS key and its secret are registered "
                    "with protect=True.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule 4",),
        unknown="uses resource options only; never blocked by unknown values",
        config={"types": {"type": "array", "items": {"type": "string"},
                          "default": [CLUSTER, DB_INSTANCE, KMS_KEY, SECRET],
                          "description": "Resource types that must be protected."}}),
    stack_rule(
        name="rds-multi-az", types=(CLUSTER, DB_INSTANCE), check=_multi_az,
        description="Checks whether each Aurora cluster has enough instances spread over at "
                    "least two Availability Zones (and RDS instances are Multi-AZ).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("RDS.15", "RDS.5", "stack rule 4"),
        unknown="unknown availabilityZone: advisory 'not checked' for that cluster",
        config={"minimumInstances": {"type": "integer", "minimum": 1, "default": 2,
                                     "description": "Minimum instances per cluster."}}),
    stack_rule(
        name="app-role-least-privilege", types=(ROLE,), check=_least_privilege,
        description="Checks whether the app host's role reads secrets and decrypts only with "
                    "this stack's secret and key, and carries only allowed managed policies.",
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
                    "description": "AWS managed policies the app role may carry."}}),
]
