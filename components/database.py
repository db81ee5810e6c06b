"""AuroraCluster: a private, encrypted, monitored Aurora MySQL/PostgreSQL cluster.

Own KMS CMK with rotation (or a given key) for storage, Performance Insights, the master
secret and the alarm topic; DB subnet group on the isolated tier; a cluster parameter group
that enforces TLS; master password managed by RDS in Secrets Manager (default) or a
RandomPassword stored in a Secrets Manager secret (opt-out); IAM auth; backups; final snapshot
kept (identifier with a random suffix); writer in the first AZ, readers round-robin over the
other AZs (never in the writer's; several readers may share one), promotion tiers by round;
enhanced monitoring; CloudWatch alarms to SNS; optional reader autoscaling and RDS Proxy; the
app's least-privilege IAM database user and schema, created at deploy time through the RDS Data
API (components/db_bootstrap.py).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from app.bootstrap.sql import check_names

from .connections import Connections
from .database_ops import alarms, proxy, reader_autoscaling
from .db_bootstrap import DatabaseBootstrap, DatabaseBootstrapArgs, data_api_supported
from .engines import (DEFAULT_ENGINE_VERSIONS, ENGINES, MYSQL_AUDIT, VERSION_PATTERNS, Engine,
                      parameter_group_family, performance_insights_supported, supports_zero_acu)
from .knobs import Rule, args_class, between, each, knob, matches, one_of
from .network import FLOW_LOG_RETENTION_DAYS
from .policies import ENCRYPT_ACTIONS, AccountContext, assume_role_policy, key_policy


class DbMode(StrEnum):
    """How the cluster's instances are sized."""

    PROVISIONED = "provisioned"
    """Instances of a fixed class (`instance_class`)."""
    SERVERLESS = "serverless"
    """Aurora Serverless v2 (class db.serverless, `serverless_min_acu`..`serverless_max_acu`)."""


RESERVED_USERS = ("admin", "root", "postgres", "rdsadmin", "rdsrepladmin", "mysql", "master")
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
_PROVISIONED = (lambda a: a.mode == DbMode.PROVISIONED, "with {mode} provisioned (serverless uses db.serverless)")
_SERVERLESS = (lambda a: a.mode == DbMode.SERVERLESS, "with {mode} serverless")


def _acu(low: float):
    def check(v: float) -> Optional[str]:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= 256 or v * 2 != int(v * 2):
            return f"must be {low}..256 in steps of 0.5"
        return None
    return check


def _pi_retention(v: int) -> Optional[str]:
    return None if v == 7 or (isinstance(v, int) and v % 31 == 0 and 31 <= v <= 731) else \
        "allowed values are 7 or a multiple of 31 up to 731"


def _version(a) -> Optional[str]:
    if a.engine_version is not None and not re.fullmatch(VERSION_PATTERNS[a.engine], a.engine_version):
        return f"not a {a.engine} version (e.g. {DEFAULT_ENGINE_VERSIONS[a.engine]})"
    return None


def _min_acu(a) -> Optional[str]:
    if a.serverless_min_acu > a.serverless_max_acu:
        return f"must not exceed {{serverless_max_acu}} ({a.serverless_max_acu})"
    version = a.engine_version or DEFAULT_ENGINE_VERSIONS[a.engine]
    if a.mode == DbMode.SERVERLESS and a.serverless_min_acu == 0 and not supports_zero_acu(a.engine, version):
        return (f"0 ACU (auto-pause) needs aurora-mysql ≥ 3.08.0 or aurora-postgresql ≥ 13.15/14.12/15.7/16.3 "
                f"({{engine_version}} is {version}); use ≥ 0.5")
    return None


def _autoscaling_max(a) -> Optional[str]:
    if a.reader_autoscaling_max != 0 and not max(a.readers, 1) <= a.reader_autoscaling_max <= 15:
        return f"must be 0 (off) or between max({{readers}}, 1)={max(a.readers, 1)} and 15"
    return None


def _backtrack(a) -> Optional[str]:
    return "backtrack exists only for aurora-mysql; use 0" if a.backtrack_hours and a.engine != Engine.AURORA_MYSQL else None


def _app_user(a) -> Optional[str]:
    if a.app_db_user is None:
        return None
    if a.app_db_user == a.master_username.lower():
        return "must not be the master user ({master_username}): the app gets its own least-privilege user"
    try:
        check_names(a.db_name, a.app_db_user)
    except ValueError as exc:
        return str(exc)
    version = a.engine_version or DEFAULT_ENGINE_VERSIONS[a.engine]
    if not data_api_supported(a.engine, version):
        return (f"the RDS Data API (which creates the app user) needs aurora-mysql 8.0.mysql_aurora.3.07+ or "
                f"aurora-postgresql 13.11+/14.8+/15.3+/16.1+/17.4+ ({{engine_version}} is {version})")
    return None


def _proxy(a) -> Optional[str]:
    return "needs {app_db_user} (the proxy authenticates that user with IAM end to end)" \
        if a.proxy and not a.app_db_user else None


@args_class
class AuroraClusterArgs:
    """Inputs of `AuroraCluster`."""

    vpc_id: pulumi.Input[str]
    """VPC of the cluster's security group. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Isolated-tier subnet ids for the DB subnet group (≥ 2 AZs). Required."""
    availability_zones: Sequence[str] = knob(check=lambda v: None if len(set(v)) >= 2 else "need ≥ 2 distinct AZs")
    """AZs for the instances: the writer in the first; readers round-robin over the others, so no
    reader shares the writer's AZ (with more readers than other AZs, readers share those AZs).
    Required."""
    engine: Engine = knob(Engine.AURORA_MYSQL, key="dbEngine")
    """The engine: aurora-mysql or aurora-postgresql. Default: "aurora-mysql"."""
    engine_version: Optional[str] = knob(None, key="dbEngineVersion")
    """Engine version at creation; quote it in YAML ('16.10', not 16.10: other YAML readers see
    the number 16.1). AWS then applies minor upgrades (auto minor version upgrade is on) and they
    are kept, never reverted (RDS cannot downgrade). Default: None (8.0.mysql_aurora.3.08.2 /
    16.6)."""
    mode: DbMode = knob(DbMode.PROVISIONED, key="dbMode")
    """provisioned, or serverless (Aurora Serverless v2, instance class db.serverless).
    Default: "provisioned"."""
    instance_class: str = knob("db.t4g.medium", key="dbInstanceClass", only=_PROVISIONED, check=matches(
        r"db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.(medium|large|\d*xlarge)",
        "must be an Aurora instance class like db.r7g.large or db.t4g.medium (no micro/small)"))
    """Instance class of every instance, e.g. db.r7g.large (provisioned only). Default: "db.t4g.medium"."""
    serverless_min_acu: float = knob(0.5, key="dbServerlessMinAcu", only=_SERVERLESS, check=_acu(0))
    """Serverless v2 minimum capacity, 0..256 in steps of 0.5. Default: 0.5."""
    serverless_max_acu: float = knob(4, key="dbServerlessMaxAcu", only=_SERVERLESS, check=_acu(1))
    """Serverless v2 maximum capacity, 1..256 in steps of 0.5, ≥ the minimum. Default: 4."""
    readers: int = knob(0, key="dbReaders", check=between(0, 15))
    """Reader instances, 0..15; the writer is in the first AZ, readers round-robin over the other
    AZs (never in the writer's). Default: 0."""
    db_name: str = knob("app", key="dbName", check=matches(
        r"[A-Za-z][A-Za-z0-9_]{0,62}", "must start with a letter; letters, digits, _; ≤ 63 chars"))
    """Initial database name. Default: "app"."""
    master_username: str = knob("dbadmin", key="dbMasterUsername", check=lambda v: None if re.fullmatch(
        r"[A-Za-z][A-Za-z0-9_]{0,15}", v) and v.lower() not in RESERVED_USERS else
        "1-16 letters/digits/_ starting with a letter, not one of " + ", ".join(sorted(RESERVED_USERS)))
    """Master user name (not admin/root/postgres/rdsadmin …). Default: "dbadmin"."""
    app_db_user: Optional[str] = knob("app", key="appDbUser", check=matches(
        r"[a-z][a-z0-9_]{0,15}", "1-16 lowercase letters/digits/_ starting with a letter"))
    """The app's database user, created at deploy time (IAM authentication, DML on the database's
    tables only) by a Lambda through the RDS Data API, which this enables on the cluster; None =
    no bootstrap and no Data API. Default: "app"."""
    managed_password: bool = knob(True, key="dbManagedPassword")
    """RDS manages the master password in Secrets Manager under the CMK (False = a
    RandomPassword stored in a secret). Default: True."""
    backup_retention_days: int = knob(7, key="dbBackupRetentionDays", check=between(1, 35))
    """Automated backup retention in days, 1..35. Default: 7."""
    deletion_protection: bool = knob(True, key="dbDeletionProtection")
    """RDS deletion protection (False is an explicit opt-out). Default: True."""
    backtrack_hours: int = knob(0, key="dbBacktrackHours", check=between(0, 72))
    """Aurora MySQL backtrack window in hours, 0..72; RDS enables backtrack only when the cluster
    is created (turning it on later needs a restore into a new cluster). Default: 0."""
    monitoring_interval: int = knob(60, key="dbMonitoringInterval", check=one_of(*MONITORING_INTERVALS))
    """Enhanced monitoring interval in seconds: 0 (off), 1, 5, 10, 15, 30 or 60. Default: 60."""
    performance_insights_retention_days: int = knob(7, key="dbPerformanceInsightsRetentionDays",
                                                    check=_pi_retention)
    """Performance Insights retention: 7 or a multiple of 31 up to 731 days. Default: 7."""
    reader_autoscaling_max: int = knob(0, key="dbReaderAutoscalingMax")
    """0 = off; else the maximum number of readers under Application Auto Scaling (≥ readers,
    ≤ 15). Default: 0."""
    reader_autoscaling_cpu_target: int = knob(70, key="dbReaderAutoscalingCpuTarget", check=between(10, 90),
                                              only=(lambda a: bool(a.reader_autoscaling_max),
                                                    "with {reader_autoscaling_max} (autoscaling is off)"))
    """Reader autoscaling target average CPU %, 10..90. Default: 70."""
    log_retention_days: int = knob(30, check=one_of(*FLOW_LOG_RETENTION_DAYS))
    """Retention of the exported DB log groups (created here, encrypted with the CMK). Default: 30."""
    alarm_emails: Sequence[str] = knob((), key="dbAlarmEmails", check=each(matches(
        r"[^@\s]+@[^@\s]+\.[^@\s]+", "not an e-mail address"), "e-mail addresses like ops@example.com"))
    """E-mail addresses subscribed to the alarm topic (CPU, memory, connections, replica lag);
    each confirms by mail. Default: () (none)."""
    proxy: bool = knob(False, key="dbProxy")
    """Create an RDS Proxy in front of the cluster: TLS and end-to-end IAM authentication (no
    secret), a read-only endpoint when the cluster has readers. Default: False."""
    kms_key_arn: Optional[str] = knob(None, key="dbKmsKeyArn", check=matches(
        r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})",
        "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"))
    """An existing KMS key ARN instead of a new CMK; its policy must let CloudWatch Logs (log
    groups /aws/rds/cluster/<name>-* and /aws/lambda/<name>-*) and CloudWatch (alarm topic) use it. Default: None (create
    one)."""
    protect: bool = knob(False, key="protect")
    """pulumi `protect` on the cluster, its key and secret (the stack setting also protects the
    flow-log key and turns on the ALB's deletion protection). Default: False."""
    tags: Mapping[str, str] = knob(default_factory=dict)
    """Tags on every taggable child. Default: {}."""

    _rules = (Rule("engine_version", _version, requires=("engine",)),
              Rule("serverless_min_acu", _min_acu, requires=("serverless_max_acu", "engine", "engine_version", "mode")),
              Rule("reader_autoscaling_max", _autoscaling_max, requires=("readers",)),
              Rule("backtrack_hours", _backtrack, requires=("engine",)),
              Rule("app_db_user", _app_user, requires=("master_username", "db_name", "engine", "engine_version")),
              Rule("proxy", _proxy, requires=("app_db_user",)))


def alias_name(project: str, stack: str, name: str) -> str:
    """`alias/<project>-<stack>-<name>`: KMS allows only letters, digits, / _ - (stack names may hold '.')."""
    return "alias/" + re.sub(r"[^A-Za-z0-9/_-]", "-", f"{project}-{stack}-{name}")[:250]


def instance_az(azs: Sequence[str], index: int) -> str:
    """AZ of instance `index` (0 = writer): the writer in azs[0]; reader k (k ≥ 1) in
    azs[1 + (k - 1) % (len(azs) - 1)], so a writer-AZ outage never takes a reader with it."""
    return azs[0] if index == 0 else azs[1 + (index - 1) % (len(azs) - 1)]


def promotion_tier(azs: Sequence[str], index: int) -> int:
    """Failover order (lower first): writer 0; the first reader in each other AZ 1, the next
    round 2, … (max 15). Every reader is outside the writer's AZ, so failover leaves that AZ."""
    return 0 if index == 0 else min(1 + (index - 1) // (len(azs) - 1), 15)


def identifier_prefix(name: str) -> str:
    """`<name>-`: the cluster identifier is this plus 8 random hex digits (RDS naming rules).

    ≤ 40 chars keeps every derived name legal: instance ids `<name>-reader-15-<7>` ≤ 63 and the
    IAM role `<name>-monitoring-role-<7>` ≤ 64."""
    if not re.fullmatch(r"[a-z](-?[a-z0-9])*", name) or len(name) > 40:
        raise ValueError(f"AuroraCluster name {name!r}: must be lowercase letters, digits and single "
                         "hyphens, start with a letter, ≤ 40 chars (it prefixes the cluster identifier)")
    return f"{name}-"


class AuroraCluster(pulumi.ComponentResource):
    """A private Aurora cluster; see the module docstring."""

    cluster_identifier: pulumi.Output[str]
    """The cluster identifier."""
    cluster_arn: pulumi.Output[str]
    """The cluster ARN."""
    cluster_resource_id: pulumi.Output[str]
    """The cluster resource id (for rds-db:connect ARNs)."""
    endpoint: pulumi.Output[str]
    """Writer (cluster) endpoint."""
    reader_endpoint: pulumi.Output[str]
    """Reader endpoint."""
    port: int
    """The engine's port."""
    master_user_secret_arn: pulumi.Output[str]
    """ARN of the Secrets Manager secret holding the master credentials (never the value)."""
    kms_key_arn: pulumi.Output[str]
    """The CMK used for storage, PI, the secret and the alarm topic."""
    security_group_id: pulumi.Output[str]
    """The cluster's security group."""
    alarm_topic_arn: pulumi.Output[str]
    """SNS topic receiving the CloudWatch alarms."""
    proxy_endpoint: Optional[pulumi.Output[str]]
    """RDS Proxy endpoint (read/write, to the writer), when enabled."""
    proxy_read_only_endpoint: Optional[pulumi.Output[str]]
    """RDS Proxy READ_ONLY endpoint (to the readers), when enabled and the cluster has readers."""
    proxy_resource_id: Optional[pulumi.Output[str]]
    """The proxy's resource id (prx-…, for rds-db:connect ARNs), when enabled."""
    app_db_user: Optional[str]
    """The app's database user the bootstrap creates (None: no bootstrap)."""
    connections: Connections
    """Security groups + default port, for SecurityGroupLink."""
    proxy_connections: Optional[Connections]
    """The RDS Proxy's security group + port (link app hosts to it), when enabled."""

    def __init__(self, name: str, args: AuroraClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        prefix = identifier_prefix(name)
        super().__init__("aurorakit:index:AuroraCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect)
        engine = ENGINES[args.engine]
        version = args.engine_version or DEFAULT_ENGINE_VERSIONS[args.engine]
        tags = dict(args.tags)
        ctx = AccountContext(pulumi.InvokeOptions(parent=self))

        if args.kms_key_arn:
            key_arn: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key_arn)
        else:
            key = aws.kms.Key(
                f"{name}-key", description=f"{name}: Aurora storage, Performance Insights, secret, alarms",
                enable_key_rotation=True, deletion_window_in_days=30,
                policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region, ctx.service_host("logs")).apply(
                    lambda a: key_policy(a[0], a[1], [{
                        "Sid": "AllowCloudWatchAlarmsToEncryptedTopic", "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": a[0]}}}, {
                        "Sid": "AllowCloudWatchLogsForDbLogExports", "Effect": "Allow",
                        "Principal": {"Service": a[3]},
                        "Action": ENCRYPT_ACTIONS, "Resource": "*",
                        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
                            f"arn:{a[1]}:logs:{a[2]}:{a[0]}:log-group:/aws/rds/cluster/{prefix}*",
                            f"arn:{a[1]}:logs:{a[2]}:{a[0]}:log-group:/aws/lambda/{prefix}*"]}}}])),
                tags={**tags, "Name": f"{name}-key"},
                # Kept on `pulumi destroy`: the final snapshot is encrypted with it and cannot be
                # restored once the key is deleted (schedule its deletion by hand when done).
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True))
            aws.kms.Alias(f"{name}-key-alias", target_key_id=key.key_id,
                          name=alias_name(pulumi.get_project(), pulumi.get_stack(), name), opts=child)
            key_arn = key.arn

        sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                   description=f"{name}: Aurora cluster (ingress only via SecurityGroupLink)",
                                   tags={**tags, "Name": f"{name}-sg"}, opts=child)
        subnet_group = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=args.subnet_ids,
                                           description=f"{name}: isolated tier, no internet route",
                                           tags=tags, opts=child)
        params = {**engine["tls"], **(MYSQL_AUDIT if args.engine == "aurora-mysql" else {})}
        param_group = aws.rds.ClusterParameterGroup(
            f"{name}-params", family=parameter_group_family(args.engine, version),
            description=f"{name}: TLS enforced",
            # "pending-reboot" is valid for static and dynamic parameters ("immediate" is rejected
            # for static ones); a new cluster starts with these values either way.
            parameters=[aws.rds.ClusterParameterGroupParameterArgs(name=k, value=v, apply_method="pending-reboot")
                        for k, v in params.items()], tags=tags, opts=child)
        suffix = random.RandomId(f"{name}-id-suffix", byte_length=4, opts=child)
        identifier = suffix.hex.apply(lambda h: f"{prefix}{h}")
        # RDS writes exported logs to these groups; creating them first sets KMS + retention.
        log_groups = [aws.cloudwatch.LogGroup(
            f"{name}-log-{log}", name=identifier.apply(lambda i, log=log: f"/aws/rds/cluster/{i}/{log}"),
            retention_in_days=args.log_retention_days, kms_key_id=key_arn, tags=tags, opts=child)
            for log in engine["logs"]]

        password = secret = None
        if not args.managed_password:
            password = random.RandomPassword(f"{name}-master-password", length=32, special=True,
                                             override_special="!#$%^&*()-_=+[]{}<>:?", opts=child)
            secret = aws.secretsmanager.Secret(
                f"{name}-master-secret", kms_key_id=key_arn, recovery_window_in_days=30,
                description=f"{name}: Aurora master credentials", tags=tags, opts=keep)

        cluster = aws.rds.Cluster(
            f"{name}-cluster", cluster_identifier=identifier, engine=args.engine, engine_version=version,
            engine_mode="provisioned", database_name=args.db_name, master_username=args.master_username,
            manage_master_user_password=True if args.managed_password else None,
            master_user_secret_kms_key_id=key_arn if args.managed_password else None,
            master_password=password.result if password else None,
            storage_encrypted=True, kms_key_id=key_arn, port=engine["port"],
            db_subnet_group_name=subnet_group.name, vpc_security_group_ids=[sg.id],
            db_cluster_parameter_group_name=param_group.name,
            iam_database_authentication_enabled=True,
            enable_http_endpoint=True if args.app_db_user else None,  # the Data API, for the bootstrap
            backup_retention_period=args.backup_retention_days, preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:04:00-sun:05:00", copy_tags_to_snapshot=True,
            skip_final_snapshot=False, delete_automated_backups=False,
            final_snapshot_identifier=identifier.apply(lambda i: f"{i}-final"),
            deletion_protection=args.deletion_protection,
            enabled_cloudwatch_logs_exports=engine["logs"],
            backtrack_window=args.backtrack_hours * 3600 if args.backtrack_hours else None,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=args.serverless_min_acu, max_capacity=args.serverless_max_acu)
            if args.mode == DbMode.SERVERLESS else None,
            tags=tags, opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=log_groups,
                                                   ignore_changes=["engine_version"]))

        secret_value = None
        if secret is not None:
            secret_value = aws.secretsmanager.SecretVersion(
                f"{name}-master-secret-value", secret_id=secret.id,
                secret_string=pulumi.Output.secret(pulumi.Output.all(
                    password.result, cluster.endpoint, cluster.port).apply(lambda a: json.dumps({
                        "username": args.master_username, "password": a[0], "engine": args.engine,
                        "host": a[1], "port": a[2], "dbname": args.db_name}))),
                opts=child)
            secret_arn = secret.arn
        else:
            secret_arn = cluster.master_user_secrets.apply(
                lambda s: s[0].secret_arn if s else None)

        monitoring_role = monitoring_policy = None
        if args.monitoring_interval:
            monitoring_role = aws.iam.Role(
                f"{name}-monitoring-role", description=f"{name}: RDS enhanced monitoring",
                # RDS documents aws:SourceAccount for this role (confused-deputy protection).
                assume_role_policy=ctx.account_id.apply(
                    lambda acct: assume_role_policy("monitoring.rds.amazonaws.com", acct)), tags=tags, opts=child)
            monitoring_policy = aws.iam.RolePolicyAttachment(
                f"{name}-monitoring-policy", role=monitoring_role.name,
                policy_arn=ctx.partition.apply(
                    lambda p: f"arn:{p}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
                opts=child)

        azs = list(args.availability_zones)
        klass = "db.serverless" if args.mode == DbMode.SERVERLESS else args.instance_class
        insights = performance_insights_supported(args.engine, klass)
        if not insights:
            pulumi.log.warn(f"{name}: {args.engine} has no Performance Insights on {klass}; "
                            "it stays off (use db.t4g.medium or larger)", resource=self)
        instances: list[aws.rds.ClusterInstance] = []  # [writer, reader-1, reader-2, ...]
        for i in range(args.readers + 1):
            role = "writer" if i == 0 else f"reader-{i}"
            instances.append(aws.rds.ClusterInstance(
                # No engine_version: instances run the cluster's version (a version set here
                # is never applied and leaves a permanent diff after a cluster upgrade).
                f"{name}-{role}", cluster_identifier=cluster.id, engine=args.engine, instance_class=klass,
                availability_zone=instance_az(azs, i), promotion_tier=promotion_tier(azs, i),
                publicly_accessible=False, db_subnet_group_name=subnet_group.name,
                performance_insights_enabled=insights,
                performance_insights_kms_key_id=key_arn if insights else None,
                performance_insights_retention_period=args.performance_insights_retention_days if insights else None,
                monitoring_interval=args.monitoring_interval,
                monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
                auto_minor_version_upgrade=True, copy_tags_to_snapshot=True,
                ca_cert_identifier="rds-ca-rsa2048-g1", tags={**tags, "Role": role},
                # RDS validates the monitoring role's permissions at create time: wait for the policy.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    *instances[:1], *([monitoring_policy] if monitoring_policy else [])])))

        topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=key_arn, tags=tags, opts=child)
        alarms(name, cluster, topic, args, tags, child)
        if args.reader_autoscaling_max:
            reader_autoscaling(name, self, cluster, args, instances, child)

        self.app_db_user = args.app_db_user
        if args.app_db_user:
            DatabaseBootstrap(f"{name}-bootstrap", DatabaseBootstrapArgs(
                cluster_arn=cluster.arn, cluster_resource_id=cluster.cluster_resource_id,
                master_secret_arn=secret_arn, kms_key_arn=key_arn, engine=args.engine,
                db_name=args.db_name, app_user=args.app_db_user,
                log_group_name=identifier.apply(lambda i: f"/aws/lambda/{i}-bootstrap"),
                log_retention_days=args.log_retention_days, tags=tags),
                # SQL needs the writer (and, with our own secret, its value).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    instances[0], *([secret_value] if secret_value else [])]))

        self.connections = Connections([sg.id], engine["port"], label=f"{name} Aurora")
        self.proxy_endpoint = self.proxy_read_only_endpoint = self.proxy_resource_id = None
        self.proxy_connections = None
        if args.proxy:
            (self.proxy_endpoint, self.proxy_read_only_endpoint, self.proxy_resource_id,
             self.proxy_connections) = proxy(name, self, args, cluster, self.connections, ctx, tags,
                                             instances, child)

        self.cluster_identifier = cluster.cluster_identifier
        self.cluster_arn = cluster.arn
        self.cluster_resource_id = cluster.cluster_resource_id
        self.endpoint = cluster.endpoint
        self.reader_endpoint = cluster.reader_endpoint
        self.port = engine["port"]
        self.master_user_secret_arn = secret_arn
        self.kms_key_arn = key_arn
        self.security_group_id = sg.id
        self.alarm_topic_arn = topic.arn
        self.register_outputs({
            "cluster_identifier": self.cluster_identifier, "cluster_arn": self.cluster_arn,
            "cluster_resource_id": self.cluster_resource_id, "endpoint": self.endpoint,
            "reader_endpoint": self.reader_endpoint, "port": self.port,
            "master_user_secret_arn": self.master_user_secret_arn, "kms_key_arn": self.kms_key_arn,
            "security_group_id": self.security_group_id, "alarm_topic_arn": self.alarm_topic_arn,
            "proxy_endpoint": self.proxy_endpoint, "proxy_read_only_endpoint": self.proxy_read_only_endpoint,
            "proxy_resource_id": self.proxy_resource_id, "app_db_user": self.app_db_user})
