"""Aurora clusters, their instances and plain RDS instances (seed 004 uses RDS MySQL).

Absent means the provider default: absent `storageEncrypted` / `deletionProtection` /
`copyTagsToSnapshot` = false, absent `backupRetentionPeriod` = 1 day.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Ctx,
    is_set,
    items,
    number,
    resource_rule,
    target,
    text,
)

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
DB_INSTANCE = "aws:rds/instance:Instance"
PROXY = "aws:rds/proxy:Proxy"
STORAGE = (CLUSTER, DB_INSTANCE)
INSTANCES = (CLUSTER_INSTANCE, DB_INSTANCE)
SNAPSHOTS = ("aws:rds/clusterSnapshot:ClusterSnapshot",
             "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy", "aws:rds/snapshot:Snapshot",
             "aws:rds/snapshotCopy:SnapshotCopy")
KIND = {CLUSTER: "Aurora cluster", CLUSTER_INSTANCE: "Aurora instance", DB_INSTANCE: "RDS instance",
        PROXY: "RDS Proxy", SNAPSHOTS[0]: "DB cluster snapshot",
        SNAPSHOTS[1]: "DB cluster snapshot copy", SNAPSHOTS[2]: "DB snapshot",
        SNAPSHOTS[3]: "DB snapshot copy"}
MYSQL_ENGINES = ("aurora", "aurora-mysql", "mysql", "mariadb")
POSTGRES_ENGINES = ("aurora-postgresql", "postgres")


def engine_family(ctx: Ctx) -> Optional[str]:
    """'mysql', 'postgresql', None (other/absent engine) or UNKNOWN."""
    engine = ctx.get("engine")
    if engine is None and ctx.type == CLUSTER:
        engine = "aurora"  # the provider default
    if engine is UNKNOWN:
        return UNKNOWN
    if engine in MYSQL_ENGINES:
        return "mysql"
    if engine in POSTGRES_ENGINES:
        return "postgresql"
    return None


def _flag(key: str, message: str):
    """A check: props[key] must be true (absent = provider default false)."""
    def check(ctx: Ctx) -> Iterable[str]:
        value = ctx.get(key)
        if ctx.known(value, key) and value is not True:
            yield f"{KIND[ctx.type]} must {message} (set `{key}: true`)."
    return check


def _customer_key(ctx: Ctx) -> Iterable[str]:
    if not is_set(ctx.get("kmsKeyId")):
        yield (f"{KIND[ctx.type]} must be encrypted with a customer-managed KMS key: set "
               "`kmsKeyId` to this stack's key (not the AWS-managed aws/rds key).")


def _backup(ctx: Ctx) -> Iterable[str]:
    minimum = number(ctx.config.get("minimumRetentionDays")) or 0.0
    value = ctx.get("backupRetentionPeriod")
    if not ctx.known(value, "backupRetentionPeriod"):
        return
    days = 1 if value is None else number(value)
    if days is None or days < minimum:
        yield (f"{KIND[ctx.type]} must keep automated backups for at least {minimum:g} days "
               f"(`backupRetentionPeriod` is {'unset (1 day)' if value is None else value}).")


def _final_snapshot(ctx: Ctx) -> Iterable[str]:
    skip = ctx.get("skipFinalSnapshot")
    if ctx.known(skip, "skipFinalSnapshot") and skip is True:
        yield (f"{KIND[ctx.type]} must take a final snapshot on deletion: remove "
               "`skipFinalSnapshot: true`.")
    elif not is_set(ctx.get("finalSnapshotIdentifier")):
        yield (f"{KIND[ctx.type]} must name its final snapshot: set `finalSnapshotIdentifier` "
               "(e.g. with a random suffix).")


def _log_exports(ctx: Ctx) -> Iterable[str]:
    family = engine_family(ctx)
    if not ctx.known(family, "engine") or family is None:
        return
    exports = ctx.get("enabledCloudwatchLogsExports")
    if not ctx.known(exports, "enabledCloudwatchLogsExports"):
        return
    wanted = items(ctx.config.get("mysqlLogs" if family == "mysql" else "postgresqlLogs"))
    missing = [w for w in wanted if w not in items(exports)]
    if missing:
        yield (f"{KIND[ctx.type]} must export its {', '.join(missing)} log(s) to CloudWatch: add "
               f"them to `enabledCloudwatchLogsExports`.")


def _backtrack(ctx: Ctx) -> Iterable[str]:
    if engine_family(ctx) != "mysql":
        return
    window = ctx.get("backtrackWindow")
    if ctx.known(window, "backtrackWindow") and not (number(window) or 0) > 0:
        yield "Aurora MySQL cluster should enable Backtrack: set `backtrackWindow` > 0 (seconds)."


def _username(ctx: Ctx) -> Iterable[str]:
    name = ctx.get("masterUsername")
    if not ctx.known(name, "masterUsername") or text(name) is None:
        return
    forbidden = {str(n).lower() for n in items(ctx.config.get("forbiddenNames"))}
    if name.lower() in forbidden:
        yield (f"{KIND[ctx.type]} should not use a well-known admin user name: choose a "
               f"`masterUsername` other than {', '.join(sorted(forbidden))}.")


def _not_public(ctx: Ctx) -> Iterable[str]:
    if ctx.type in SNAPSHOTS:
        shared = ctx.get("sharedAccounts")
        if ctx.known(shared, "sharedAccounts") and any(
                isinstance(a, str) and a.strip().lower() == "all" for a in items(shared)):
            yield (f'{KIND[ctx.type]} must not be public: remove "all" from `sharedAccounts` '
                   "(share with named account ids only).")
        return
    value = ctx.get("publiclyAccessible")
    if ctx.known(value, "publiclyAccessible") and value is True:
        yield f"{KIND[ctx.type]} must not be publicly accessible: set `publiclyAccessible: false`."


def _performance_insights(ctx: Ctx) -> Iterable[str]:
    enabled = ctx.get("performanceInsightsEnabled")
    if not ctx.known(enabled, "performanceInsightsEnabled"):
        return
    if enabled is not True:
        yield (f"{KIND[ctx.type]} should enable Performance Insights "
               "(`performanceInsightsEnabled: true`).")
    elif not is_set(ctx.get("performanceInsightsKmsKeyId")):
        yield (f"{KIND[ctx.type]} should encrypt Performance Insights with this stack's key: set "
               "`performanceInsightsKmsKeyId`.")


def _monitoring(ctx: Ctx) -> Iterable[str]:
    interval = ctx.get("monitoringInterval")
    if ctx.known(interval, "monitoringInterval") and not (number(interval) or 0) > 0:
        yield (f"{KIND[ctx.type]} should enable Enhanced Monitoring: set `monitoringInterval` "
               "(e.g. 60) and `monitoringRoleArn`.")


def _minor_upgrades(ctx: Ctx) -> Iterable[str]:
    value = ctx.get("autoMinorVersionUpgrade")
    if ctx.known(value, "autoMinorVersionUpgrade") and value is False:
        yield (f"{KIND[ctx.type]} should take minor engine upgrades: remove "
               "`autoMinorVersionUpgrade: false`.")


def _copy_tags_fix(resource_type: str, props: Any) -> Optional[dict]:
    raw = target(props)
    if raw.get("copyTagsToSnapshot") is True:
        return None
    fixed = dict(raw)
    fixed["copyTagsToSnapshot"] = True
    return fixed


_NOTE_PRESENT = "set-ness only; an unknown value counts as set"
RULES = [
    resource_rule(
        name="rds-storage-encrypted", types=STORAGE, check=_flag("storageEncrypted",
                                                                  "encrypt its storage"),
        description="Checks whether Aurora clusters and RDS instances encrypt storage at rest.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_96", "RDS.27")),
    resource_rule(
        name="rds-customer-managed-key", types=STORAGE, check=_customer_key,
        description="Checks whether Aurora clusters and RDS instances use a customer-managed KMS "
                    "key.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_327",),
        unknown=_NOTE_PRESENT),
    resource_rule(
        name="rds-deletion-protection", types=STORAGE,
        check=_flag("deletionProtection", "have deletion protection"),
        description="Checks whether Aurora clusters and RDS instances have deletion protection.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_139", "RDS.7")),
    resource_rule(
        name="rds-backup-retention", types=STORAGE, check=_backup,
        description="Checks whether automated backups are kept at least the configured number "
                    "of days.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_133", "RDS.11"),
        config={"minimumRetentionDays": {
            "type": "integer", "minimum": 1, "maximum": 35, "default": 7,
            "description": "Minimum backupRetentionPeriod in days."}}),
    resource_rule(
        name="rds-final-snapshot", types=STORAGE, check=_final_snapshot,
        description="Checks whether a final snapshot is taken (and named) when the database is "
                    "deleted.",
        level=MANDATORY, severity=Severity.HIGH,
        unknown="skipFinalSnapshot unknown: advisory 'not checked'; identifier: " + _NOTE_PRESENT),
    resource_rule(
        name="rds-log-exports", types=STORAGE, check=_log_exports,
        description="Checks whether the engine's audit/error (MySQL) or postgresql logs are "
                    "exported to CloudWatch.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_324", "CKV_AWS_325",
                                                            "RDS.34"),
        config={"mysqlLogs": {"type": "array", "items": {"type": "string"},
                              "default": ["audit", "error"],
                              "description": "Exports required for MySQL-family engines."},
                "postgresqlLogs": {"type": "array", "items": {"type": "string"},
                                   "default": ["postgresql"],
                                   "description": "Exports required for PostgreSQL engines."}}),
    resource_rule(
        name="rds-iam-authentication", types=STORAGE,
        check=_flag("iamDatabaseAuthenticationEnabled", "enable IAM database authentication"),
        description="Checks whether IAM database authentication is enabled.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_162", "RDS.12")),
    resource_rule(
        name="rds-copy-tags-to-snapshot", types=STORAGE,
        check=_flag("copyTagsToSnapshot", "copy its tags to snapshots"),
        description="Checks whether tags are copied to snapshots (remediable: level "
                    "'remediate' sets copyTagsToSnapshot).",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_313", "RDS.16"),
        remediate=_copy_tags_fix),
    resource_rule(
        name="rds-aurora-mysql-backtrack", types=(CLUSTER,), check=_backtrack,
        description="Checks whether Aurora MySQL clusters enable Backtrack.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_326", "RDS.14")),
    resource_rule(
        name="rds-non-default-master-username", types=STORAGE, check=_username,
        description="Checks whether the master user name is not a well-known default.",
        level=ADVISORY, severity=Severity.LOW, anchors=("RDS.24", "RDS.25"),
        config={"forbiddenNames": {
            "type": "array", "items": {"type": "string"},
            "default": ["admin", "administrator", "postgres", "root", "master", "sa"],
            "description": "Master user names that count as defaults."}}),
    resource_rule(
        name="rds-not-publicly-accessible", types=(*INSTANCES, *SNAPSHOTS), check=_not_public,
        description="Checks whether database instances are not publicly accessible and DB "
                    "(cluster) snapshots and their copies are not shared with `all`.",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("CKV_AWS_17", "RDS.2", "RDS.1")),
    resource_rule(
        name="rds-performance-insights-cmk", types=INSTANCES, check=_performance_insights,
        description="Checks whether Performance Insights is enabled and encrypted with a "
                    "customer-managed key.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_353", "CKV_AWS_354")),
    resource_rule(
        name="rds-enhanced-monitoring", types=INSTANCES, check=_monitoring,
        description="Checks whether database instances enable Enhanced Monitoring.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_118", "RDS.6")),
    resource_rule(
        name="rds-auto-minor-version-upgrade", types=INSTANCES, check=_minor_upgrades,
        description="Checks whether database instances take automatic minor version upgrades.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_226", "RDS.13")),
    resource_rule(
        name="rds-proxy-require-tls", types=(PROXY,),
        check=_flag("requireTls", "require TLS for every client connection"),
        description="Checks whether RDS Proxies require TLS (absent = not required).",
        level=MANDATORY, severity=Severity.HIGH,
        anchors=("AWS Config rds-proxy-tls-encryption",)),
]
