"""The catalogue's database stack rules 1-4 (AnalyzeStack: resource OUTPUTS, related by
dependencies); rule 5 (least privilege) is in roles.py.

Each check is linear in the number of resources: a `StackView` builds URN-keyed reverse indexes
once per check. What a rule could not check (unknown values in preview) is reported through the
SDK's advisory "can't run policy ... during preview" diagnostic, after all known violations.
What comes from outside the stack (a literal id) is judged by `exposure-inputs-verifiable`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN, is_set, items, number, text
from .database import CLUSTER, CLUSTER_INSTANCE, DB_INSTANCE, MYSQL_ENGINES, POSTGRES_ENGINES
from .hosts import LAUNCH_CONFIGURATION, SPOT_FLEET, SPOT_INSTANCE, host_groups, public_members
from .iamdocs import listed
from .ingress import ingress_of
from .network import INTERNET_THRESHOLDS, SECURITY_GROUP
from .routes import INTERNET_GATEWAY, internet_routes, route_tables
from .stackview import StackView, label, stack_rule

DATABASES = (CLUSTER, DB_INSTANCE)
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SUBNET = "aws:ec2/subnet:Subnet"
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
RDS_PROXY = "aws:rds/proxy:Proxy"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

Result = Iterable[tuple[str, Optional[str]]]


def engine_port(view: StackView, db: Any) -> Optional[int]:
    port = view.get(db, "port")
    if view.is_unknown(port, db, "port"):
        return None
    numbered = number(port)
    if numbered is not None:
        return int(numbered)
    engine = view.get(db, "engine") or "aurora"
    return 5432 if engine in POSTGRES_ENGINES else 3306 if engine in MYSQL_ENGINES else None


def db_subnets(view: StackView, db: Any) -> tuple[list, Optional[str]]:
    """(subnets of this stack, problem): the DB's subnets via its subnet group. Inputs from
    outside the stack are not a problem here (`exposure-inputs-verifiable` judges them)."""
    groups = view.deps(db, "dbSubnetGroupName", SUBNET_GROUP)
    if not groups and text(view.get(db, "dbSubnetGroupName")) is None and view.get(
            db, "dbSubnetGroupName") is not UNKNOWN:
        return [], "has no DB subnet group (it would use the default VPC's public subnets)"
    return [s for g in groups for s in view.deps(g, "subnetIds", SUBNET)], None


# 1 ----------------------------------------------------------------------------------------
def _no_internet_route(view: StackView, config: dict) -> Result:
    kinds = None if config.get("forbidNatRoute") is True else {INTERNET_GATEWAY}
    for db in view.of(*DATABASES):
        subnets, problem = db_subnets(view, db)
        if problem:
            yield f"{label(db)} {problem}.", db.urn
        seen: set = set()
        for subnet in subnets:
            for table in route_tables(view, subnet):
                for blamed, kind, why in internet_routes(view, table, kinds, config):
                    if (blamed.urn, kind) in seen:
                        continue
                    seen.add((blamed.urn, kind))
                    yield (f"{label(db)} runs in {label(subnet)}, whose {label(table)} routes "
                           f"{why} to the {kind}; database subnets must have no route to the "
                           "internet of any kind (use an isolated route table)."), blamed.urn


# 2 ----------------------------------------------------------------------------------------
def _db_ingress(view: StackView, config: dict) -> Result:
    app_groups = host_groups(view, listed(config.get("allowedSourceTypes")))
    public = {} if config.get("allowPublicHost") is True else public_members(view)
    for db in view.of(*DATABASES):
        groups = view.deps(db, "vpcSecurityGroupIds", SECURITY_GROUP)
        if not groups:
            yield (f"{label(db)} must use a security group of this stack (`vpcSecurityGroupIds` "
                   "from a SecurityGroup); without it the VPC default group applies and its "
                   "ingress cannot be verified."), db.urn
            continue
        port = engine_port(view, db)
        for sg in groups:
            for ing in ingress_of(view, sg):
                owner, perm = ing.owner, ing.perm
                where = f"{label(sg)} ({label(owner)})" if owner is not sg else (
                    f"{label(sg)} {perm.path}")
                if perm.cidrs or perm.prefix_lists:
                    what = "CIDR sources" if perm.cidrs else "a prefix list (CIDR sources)"
                    yield (f"{label(db)} accepts {what} on {where}; allow only the app hosts' "
                           "security groups."), owner.urn
                foreign = [s for s in ing.groups if s.urn not in app_groups]
                if foreign:
                    yield (f"{label(db)} accepts {', '.join(label(s) for s in foreign)} on "
                           f"{where}; only security groups attached to app hosts may reach "
                           "the database."), owner.urn
                for s in ing.groups:
                    for host in app_groups.get(s.urn, []):
                        if host.urn in public:
                            yield (f"{label(db)} is reachable on {where} from {label(host)}, "
                                   f"which {public[host.urn]}; hosts that reach the database "
                                   "must have no public address."), owner.urn
                if port is not None and view.is_unknown(perm.ports, owner, "ports"):
                    continue
                if port is not None and perm.ports != (port, port):
                    shown = "(ICMP)" if perm.ports is None else "-".join(map(str, perm.ports))
                    yield (f"{label(db)} ingress {where} opens ports {shown}; open exactly the "
                           f"database port {port}."), owner.urn


# 3 ----------------------------------------------------------------------------------------
def _always(view: StackView, r: Any) -> bool:
    return True


def _flag(key: str) -> Callable[[StackView, Any], bool]:
    return lambda view, r: view.get(r, key) is True


def _own_root(view: StackView, r: Any) -> bool:
    """An instance launched from a template without its own root device is judged on the
    template."""
    return view.get(r, "rootBlockDevice") is not None or not is_set(view.get(r, "launchTemplate"))


def _listed_ebs(key: str) -> Callable[[StackView, Any], bool]:
    return lambda view, r: any(isinstance(d, dict) and (d.get("ebs") is not None or
                                                        key == "ebsBlockDevices")
                               for d in items(view.get(r, key)))


def _spec_volumes(view: StackView, r: Any) -> bool:
    return any(isinstance(s, dict) and (items(s.get("rootBlockDevices"))
                                        or items(s.get("ebsBlockDevices")))
               for s in items(view.get(r, "launchSpecifications")))


_KEYED = (  # (type, input, condition, what)
    (CLUSTER, "kmsKeyId", _always, "storage"),
    (CLUSTER, "masterUserSecretKmsKeyId", _flag("manageMasterUserPassword"),
     "managed master secret"),
    (DB_INSTANCE, "kmsKeyId", _always, "storage"),
    (DB_INSTANCE, "masterUserSecretKmsKeyId", _flag("manageMasterUserPassword"),
     "managed master secret"),
    (CLUSTER_INSTANCE, "performanceInsightsKmsKeyId", _flag("performanceInsightsEnabled"),
     "Performance Insights"),
    (DB_INSTANCE, "performanceInsightsKmsKeyId", _flag("performanceInsightsEnabled"),
     "Performance Insights"),
    (SECRET, "kmsKeyId", _always, "secret"),
    (LOG_GROUP, "kmsKeyId", _always, "log group"),
    (EC2_INSTANCE, "rootBlockDevice", _own_root, "root volume"),
    (EC2_INSTANCE, "ebsBlockDevices", _listed_ebs("ebsBlockDevices"), "EBS volumes"),
    (SPOT_INSTANCE, "rootBlockDevice", _own_root, "root volume"),
    (SPOT_INSTANCE, "ebsBlockDevices", _listed_ebs("ebsBlockDevices"), "EBS volumes"),
    (SPOT_FLEET, "launchSpecifications", _spec_volumes, "launch specifications' volumes"),
    (LAUNCH_TEMPLATE, "blockDeviceMappings", _listed_ebs("blockDeviceMappings"),
     "EBS volumes (blockDeviceMappings)"),
    (EBS_VOLUME, "kmsKeyId", _always, "volume"),
)
_FIELDS = {"rootBlockDevice": "rootBlockDevice.kmsKeyId", "ebsBlockDevices":
           "ebsBlockDevices[].kmsKeyId", "blockDeviceMappings": "blockDeviceMappings[].ebs.kmsKeyId",
           "launchSpecifications": "launchSpecifications[].rootBlockDevices[]/ebsBlockDevices[]"
                                   ".kmsKeyId"}


def uses_stack_key(view: StackView, r: Any, key: str) -> bool:
    for dep in view.deps(r, key):
        if dep.resource_type == KMS_KEY:
            return True
        if dep.resource_type == KMS_ALIAS and view.deps(dep, "targetKeyId", KMS_KEY):
            return True
    return False


def _cmk(view: StackView, config: dict) -> Result:
    for rtype, key, condition, what in _KEYED:
        for r in view.of(rtype):
            if not condition(view, r) or uses_stack_key(view, r, key):
                continue
            value = view.get(r, key, "kmsKeyId") if key == "rootBlockDevice" else view.get(r, key)
            how = ("do not all use a KMS key created by this stack" if key in (
                "ebsBlockDevices", "blockDeviceMappings", "launchSpecifications") else
                "is not encrypted with a customer-managed key" if value in (None, "") else
                "uses a KMS key that is not created by this stack")
            yield (f"{label(r)} {what} {how}: set `{_FIELDS.get(key, key)}` from this stack's KMS "
                   "key."), r.urn


# 4 ----------------------------------------------------------------------------------------
def _keys_of(view: StackView, r: Any) -> list:
    """KMS keys of this stack that `r` depends on (directly or through an alias)."""
    found = []
    for deps in (getattr(r, "property_dependencies", None) or {}).values():
        for d in deps:
            if d.resource_type == KMS_KEY:
                found.append(d)
            elif d.resource_type == KMS_ALIAS:
                found += view.deps(d, "targetKeyId", KMS_KEY)
    return found


def database_dependencies(view: StackView, db: Any) -> list:
    """What a database depends on: its KMS keys, the secret holding the master password (the
    SecretVersion written from the same RandomPassword, or read into it) and that secret's
    keys."""
    out = {k.urn: k for k in _keys_of(view, db)}
    secrets = []
    for source in view.deps(db, "masterPassword") + view.deps(db, "masterPasswordWo"):
        versions = [source] if source.resource_type == SECRET_VERSION else (
            view.referrers(source, SECRET_VERSION, "secretString"))
        secrets += [s for v in versions for s in view.deps(v, "secretId", SECRET)]
        secrets += [source] if source.resource_type == SECRET else []
    for secret in secrets:
        out[secret.urn] = secret
        out.update((k.urn, k) for k in _keys_of(view, secret))
    return list(out.values())


def database_closure(view: StackView) -> list:
    """The databases and what they depend on (`database_dependencies`)."""
    out: dict[str, Any] = {}
    for db in view.of(*DATABASES):
        out[db.urn] = db
        out.update((r.urn, r) for r in database_dependencies(view, db))
    return list(out.values())


def _protected(view: StackView, config: dict) -> Result:
    types = set(listed(config.get("types")))
    scope = view.of(*types) if config.get("scope") == "all" else [
        r for r in database_closure(view) if r.resource_type in types]
    for r in scope:
        if not getattr(getattr(r, "opts", None), "protect", False):
            yield (f"{label(r)} must be registered with `protect=True` so `pulumi destroy` and "
                   "replacements cannot delete it."), r.urn


def _multi_az(view: StackView, config: dict) -> Result:
    minimum = int(number(config.get("minimumInstances")) or 0)
    for cluster in view.of(CLUSTER):
        members = view.referrers(cluster, CLUSTER_INSTANCE, "clusterIdentifier")
        zones = [view.get(m, "availabilityZone") for m in members]
        if any(view.is_unknown(z, m, "availabilityZone") for z, m in zip(zones, members, strict=True)):
            continue
        distinct = {z for z in zones if text(z)}
        if len(members) < minimum or len(distinct) < min(minimum, 2):
            yield (f"{label(cluster)} has {len(members)} instance(s) in {len(distinct)} pinned "
                   f"Availability Zone(s); it needs at least {minimum} instances across 2 or "
                   "more AZs (set each instance's `availabilityZone`)."), cluster.urn
    for db in view.of(DB_INSTANCE):
        if text(view.get(db, "replicateSourceDb")) is None and view.get(db, "multiAz") is not True:
            yield f"{label(db)} must be Multi-AZ: set `multiAz: true`.", db.urn


RULES = [
    stack_rule(
        name="db-subnets-no-internet-route", types=DATABASES, check=_no_internet_route,
        description="Checks whether the database's subnets have no route to the internet: no "
                    "0.0.0.0/0, ::/0, set of routes that together cover it, or public block "
                    "wider than the configured prefix, to an internet gateway (or, when "
                    "configured, to any target: NAT gateway or instance, transit gateway, "
                    "peering, egress-only gateway, endpoint...).",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("stack rule 1",),
        unknown="unknown route destination/gateway: advisory 'not checked'; relations use "
                "dependencies, which are known in preview",
        config={"forbidNatRoute": {"type": "boolean", "default": False,
                                   "description": "Treat routes to every other target (NAT "
                                                  "gateway/instance, transit gateway, peering, "
                                                  "egress-only gateway, ...) as internet "
                                                  "routes too (an isolated DB tier)."},
                **INTERNET_THRESHOLDS}),
    stack_rule(
        name="db-ingress-only-from-app-hosts", types=DATABASES, check=_db_ingress,
        description="Checks whether database security groups accept only the security groups "
                    "of app hosts (instances, Spot Instance requests and Spot Fleet launch "
                    "specifications, launch templates/configurations of Auto Scaling groups and "
                    "fleets, RDS Proxies) that have no public address, on exactly the database "
                    "port.",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("stack rule 2",),
        unknown="unknown port: advisory 'not checked' for that rule",
        config={"allowedSourceTypes": {
                    "type": "array", "items": {"type": "string"},
                    "default": [EC2_INSTANCE, SPOT_INSTANCE, SPOT_FLEET, LAUNCH_TEMPLATE,
                                LAUNCH_CONFIGURATION, RDS_PROXY],
                    "description": "Resource types whose security groups count as app hosts."},
                "allowPublicHost": {"type": "boolean", "default": False,
                                    "description": "Allow app hosts with a public address to "
                                                   "reach the database (dev)."}}),
    stack_rule(
        name="encryption-uses-stack-cmk", types=tuple(dict.fromkeys(t for t, *_ in _KEYED)),
        check=_cmk,
        description="Checks whether storage, secrets, Performance Insights, logs and EBS "
                    "(instances, Spot Instance requests, Spot Fleet launch specifications, "
                    "launch templates, volumes) use a KMS key created by this stack.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule 3", "CKV_AWS_158"),
        unknown="uses dependencies only; never blocked by unknown values"),
    stack_rule(
        name="stack-deletion-safety", types=(CLUSTER, DB_INSTANCE, KMS_KEY, SECRET),
        check=_protected,
        description="Checks whether the database, the KMS keys it uses and the secret holding "
                    "its master password are registered with protect=True (scope `database`; "
                    "`all` = every resource of the listed types).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule 4",),
        unknown="uses resource options only; never blocked by unknown values",
        config={"types": {"type": "array", "items": {"type": "string"},
                          "default": [CLUSTER, DB_INSTANCE, KMS_KEY, SECRET],
                          "description": "Resource types that must be protected."},
                "scope": {"type": "string", "enum": ["database", "all"], "default": "database",
                          "description": "database: what the databases depend on; all: every "
                                         "resource of `types`."}}),
    stack_rule(
        name="rds-multi-az", types=(CLUSTER, DB_INSTANCE), check=_multi_az,
        description="Checks whether each Aurora cluster has enough instances spread over at "
                    "least two Availability Zones (and RDS instances are Multi-AZ).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("RDS.15", "RDS.5", "stack rule 4"),
        unknown="unknown availabilityZone: advisory 'not checked' for that cluster",
        config={"minimumInstances": {"type": "integer", "minimum": 1, "default": 2,
                                     "description": "Minimum instances per cluster."}}),
]
