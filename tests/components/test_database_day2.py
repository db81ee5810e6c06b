"""Issue 11, database day 2: destroy with autoscaled readers (moto), create-before-delete
replacements, engine upgrades, apply-immediately, Performance Insights combinations, AWS Backup,
Database Insights, scale to zero and what a destroy keeps."""
import asyncio
import json
from pathlib import Path

import boto3
import pulumi
import pytest
from moto import mock_aws

from components import AuroraCluster, AuroraClusterArgs
from components.engines import parameter_group_family, supports_zero_acu

from .conftest import ROOT, run_stack, settle
from .test_settings import _run_expecting_error

# Modules and names added by the fix are imported where they are used, so that each test fails
# for its own reason when run against the code before the fix.

AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
R = "aws:rds/"
CI = R + "clusterInstance:ClusterInstance"
REGION = "eu-west-1"
MYSQL_84 = "8.4.mysql_aurora.8.4.7"
AUTOSCALED = "application-autoscaling-0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def build(name="db", **kw):
    args = AuroraClusterArgs(vpc_id="vpc-0123456789abcdef0", subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
                             availability_zones=AZS, **kw)
    return settle(lambda: AuroraCluster(name, args))


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


# --- defect 1: autoscaled readers block `pulumi destroy` -------------------------------------

@pytest.fixture
def rds(monkeypatch):
    """A moto RDS with a cluster, its Pulumi-managed writer and reader, a reader Application Auto
    Scaling added and one added by hand."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        client = boto3.client("rds", region_name=REGION)
        cluster = client.create_db_cluster(DBClusterIdentifier="db-20260101120000000000000001", Engine="aurora-mysql",
                                           MasterUsername="dbadmin", MasterUserPassword="p" * 16)["DBCluster"]
        for ident in ("db-writer-1a2b3c4", "db-reader-1-5d6e7f8", AUTOSCALED,
                      "console-reader"):
            client.create_db_instance(DBInstanceIdentifier=ident, DBClusterIdentifier=cluster["DBClusterIdentifier"],
                                      Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
        yield client, cluster


def _members(client, cluster_id):
    return sorted(m["DBInstanceIdentifier"] for m in
                  client.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterMembers"])


def test_cluster_delete_fails_with_foreign_readers_and_succeeds_after_the_hook(rds):
    from components.db_hooks import before_cluster_delete
    client, cluster = rds
    cid = cluster["DBClusterIdentifier"]
    managed = {"db-writer-1a2b3c4", "db-reader-1-5d6e7f8"}
    for ident in managed:   # Pulumi deletes its own instances first; the cluster delete still fails
        client.delete_db_instance(DBInstanceIdentifier=ident)
    with pytest.raises(client.exceptions.InvalidDBClusterStateFault, match="still contains DB instances"):
        client.delete_db_cluster(DBClusterIdentifier=cid, SkipFinalSnapshot=True)

    outputs = {"clusterIdentifier": cid, "arn": cluster["DBClusterArn"]}
    removed = before_cluster_delete(outputs, cid, managed, lambda region: boto3.Session(region_name=region),
                                    poll=0)
    assert removed == [AUTOSCALED, "console-reader"]
    assert _members(client, cid) == []
    client.delete_db_cluster(DBClusterIdentifier=cid, SkipFinalSnapshot=True)   # now it goes


def test_hook_leaves_the_stacks_own_instances_alone(rds):
    from components.db_hooks import remove_unmanaged_instances
    client, cluster = rds
    cid = cluster["DBClusterIdentifier"]
    managed = {"db-writer-1a2b3c4", "db-reader-1-5d6e7f8"}
    removed = remove_unmanaged_instances(client, cid, managed, poll=0)
    assert len(removed) == 2 and not set(removed) & managed
    assert _members(client, cid) == sorted(managed)


def test_without_known_instances_only_autoscaled_readers_go(rds):
    from components.db_hooks import remove_unmanaged_instances
    client, cluster = rds
    cid = cluster["DBClusterIdentifier"]
    assert remove_unmanaged_instances(client, cid, None, poll=0) == [
        AUTOSCALED]
    assert _members(client, cid) == ["console-reader", "db-reader-1-5d6e7f8", "db-writer-1a2b3c4"]


def test_hook_registered_by_the_program_runs_in_the_stacks_region(rds):
    from components.db_hooks import (
        ManagedInstances,
        unmanaged_instances_hook,
    )
    client, cluster = rds
    cid = cluster["DBClusterIdentifier"]
    managed = ManagedInstances()
    hook = settle(lambda: unmanaged_instances_hook("db", managed, poll=0))
    managed._known(["db-writer-1a2b3c4", "db-reader-1-5d6e7f8"])   # what .track() records during `up`
    args = pulumi.ResourceHookArgs(urn="urn:pulumi:prod::aurorakit::aws:rds/cluster:Cluster::db-cluster", id=cid,
                                   name="db-cluster", type="aws:rds/cluster:Cluster",
                                   old_outputs={"clusterIdentifier": cid, "arn": cluster["DBClusterArn"]})
    loop = asyncio.new_event_loop()   # not asyncio.run: it would unset the loop Pulumi's runtime uses
    try:
        loop.run_until_complete(hook.callback(args))
    finally:
        loop.close()
    assert hook.name == "db-remove-unmanaged-instances"
    assert _members(client, cid) == ["db-reader-1-5d6e7f8", "db-writer-1a2b3c4"]


class _SlowRds:
    """An RDS whose instance stays `deleting` (and is busy the first time): the wait is bounded."""

    def __init__(self):
        self.deletes = []

    def describe_db_clusters(self, DBClusterIdentifier):
        return {"DBClusters": [{"DBClusterMembers": [{"DBInstanceIdentifier": "application-autoscaling-x"}]}]}

    def delete_db_instance(self, DBInstanceIdentifier):
        self.deletes.append(DBInstanceIdentifier)
        if len(self.deletes) == 1:
            error = Exception("busy")
            error.response = {"Error": {"Code": "InvalidDBInstanceState"}}
            raise error


def test_wait_is_bounded_retries_a_busy_instance_and_names_what_is_left():
    from components.db_hooks import remove_unmanaged_instances
    client, now, sleeps = _SlowRds(), [0.0], []

    def sleep(s):
        sleeps.append(s)
        now[0] += s
    with pytest.raises(TimeoutError, match="application-autoscaling-x.*aws rds delete-db-instance"):
        remove_unmanaged_instances(client, "db-1", None, timeout=60, poll=15, clock=lambda: now[0], sleep=sleep)
    assert client.deletes == ["application-autoscaling-x"] * 2   # busy once, then requested once
    assert sleeps == [15] * 4


def test_unmanaged_members_and_region():
    from components.db_hooks import region_of, unmanaged
    members = ["db-writer-a", "application-autoscaling-1", "manual"]
    assert unmanaged(members, {"db-writer-a"}) == ["application-autoscaling-1", "manual"]
    assert unmanaged(members, None) == ["application-autoscaling-1"]
    assert region_of("arn:aws:rds:eu-central-1:123456789012:cluster:db-1") == "eu-central-1"
    assert region_of(None) is None


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_carries_the_delete_hook_and_the_version_guard(stack, request):
    run = request.getfixturevalue(stack)
    assert run.monitor.named("db-cluster").hooks == {
        "before_update": ["db-engine-version-guard"], "before_delete": ["db-remove-unmanaged-instances"]}


# --- defect 2: replacements are create-before-delete, final snapshot names unique -----------------

def test_identifier_is_generated_from_a_prefix_and_everything_follows_it(mocks):
    build(readers=1, reader_autoscaling_max=3, proxy=True)
    cluster = mocks.only(R + "cluster:Cluster")
    assert "clusterIdentifier" not in cluster.inputs and cluster.inputs["clusterIdentifierPrefix"] == "db-"
    ident = cluster.outputs["clusterIdentifier"]
    assert {g.inputs["name"].split("/")[4] for g in mocks.resources_of("aws:cloudwatch/logGroup:LogGroup")
            if g.name != "db-bootstrap-logs"} == {ident}
    assert {a.inputs["dimensions"]["DBClusterIdentifier"]
            for a in mocks.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")} == {ident}
    assert mocks.only("aws:appautoscaling/target:Target").inputs["resourceId"] == f"cluster:{ident}"
    assert mocks.only(R + "proxyTarget:ProxyTarget").inputs["dbClusterIdentifier"] == ident
    logs = [s for s in json.loads(mocks.only("aws:kms/key:Key").inputs["policy"])["Statement"]
            if s["Sid"] == "AllowCloudWatchLogsForDbLogExports"][0]
    arns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert [a.rsplit(":", 1)[1] for a in arns] == ["/aws/rds/cluster/db-*", "/aws/lambda/db-*"]


def _snapshot_keepers(**kw):
    from preflight.mocks import install_mocks
    mocks = install_mocks({"aws:region": REGION}, stack="test")
    build(**kw)
    suffix = mocks.only("random:index/randomId:RandomId")
    cluster = mocks.only(R + "cluster:Cluster").inputs
    return suffix.inputs["keepers"], cluster


def test_final_snapshot_name_changes_exactly_when_the_cluster_is_replaced():
    from components.database import CLUSTER_IDENTITY
    base, cluster = _snapshot_keepers()
    camel = {"cluster_identifier_prefix": "clusterIdentifierPrefix", "engine": "engine", "engine_mode": "engineMode",
             "database_name": "databaseName", "master_username": "masterUsername",
             "storage_encrypted": "storageEncrypted", "kms_key_id": "kmsKeyId",
             "db_subnet_group_name": "dbSubnetGroupName"}
    # the keepers are the cluster's own replacement-forcing inputs (its identity) ...
    assert {camel[k] for k in CLUSTER_IDENTITY} == set(camel.values())
    assert {camel[k]: str(cluster[camel[k]]).lower() for k in CLUSTER_IDENTITY} == \
        {camel[k]: str(base[k]).lower() for k in CLUSTER_IDENTITY}
    assert cluster["finalSnapshotIdentifier"].startswith("db-final-")
    # ... so an in-place change keeps the name (no diff on every up) and a replacement gets a new one
    for same in ({"readers": 2}, {"instance_class": "db.r7g.large"}, {"backup_retention_days": 30},
                 {"apply_immediately": True}):
        assert _snapshot_keepers(**same)[0] == base, same
    for replaced in ({"db_name": "other"}, {"master_username": "admin2"}, {"engine": "aurora-postgresql"},
                     {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"}):
        assert _snapshot_keepers(**replaced)[0] != base, replaced


def test_stacks_with_a_fixed_identifier_are_not_replaced(prod):
    # Their state has no prefix: ignoring it keeps their cluster (docs/DATABASE_RUNBOOK.md).
    assert "clusterIdentifierPrefix" in prod.monitor.named("db-cluster").ignore_changes


# --- defects 3 and 7: engine upgrades, 8.4 versions, PI 731, backtrack Regions -------------------

@pytest.mark.parametrize("overrides,family", [
    ({"dbEngineVersion": MYSQL_84}, "aurora-mysql8.4"),
    ({"dbEngine": "aurora-postgresql", "dbEngineVersion": "17.4", "dbBacktrackHours": 0}, "aurora-postgresql17"),
])
def test_major_upgrade_switches_both_parameter_groups_with_the_flag(overrides, family):
    run = run_stack("prod", {**overrides, "dbAllowMajorVersionUpgrade": True, "dbApplyImmediately": True})
    m = run.mocks
    cluster_group = m.only(R + "clusterParameterGroup:ClusterParameterGroup")
    instance_group = m.only(R + "parameterGroup:ParameterGroup")
    assert cluster_group.inputs["family"] == instance_group.inputs["family"] == family
    cluster = m.only(R + "cluster:Cluster").inputs
    assert cluster["engineVersion"] == overrides["dbEngineVersion"] and cluster["allowMajorVersionUpgrade"] is True
    assert cluster["dbClusterParameterGroupName"] == cluster_group.outputs["name"]
    assert cluster["dbInstanceParameterGroupName"] == instance_group.outputs["name"]
    assert cluster["applyImmediately"] is True
    assert run.monitor.named("db-cluster").ignore_changes == ["clusterIdentifierPrefix"]   # version applied
    for inst in m.resources_of(CI):
        assert inst.inputs["dbParameterGroupName"] == instance_group.outputs["name"]
        assert run.monitor.named(inst.name).ignore_changes == ["dbParameterGroupName"]   # the cluster moves them


def test_without_the_flag_minor_upgrades_by_aws_are_kept(prod):
    cluster = prod.mocks.only(R + "cluster:Cluster").inputs
    assert cluster["allowMajorVersionUpgrade"] is False and "dbInstanceParameterGroupName" not in cluster
    assert prod.monitor.named("db-cluster").ignore_changes[0] == "engineVersion"
    group = prod.mocks.only(R + "parameterGroup:ParameterGroup")
    assert {i.inputs["dbParameterGroupName"] for i in prod.mocks.resources_of(CI)} == {group.outputs["name"]}


@pytest.mark.parametrize("engine,configured,actual,upgrade,problem", [
    ("aurora-postgresql", "17.4", "16.8", False, "major upgrade needs dbAllowMajorVersionUpgrade"),
    ("aurora-postgresql", "17.4", "16.8", True, None),
    ("aurora-postgresql", "16.6", "17.2", True, "RDS cannot downgrade"),
    ("aurora-postgresql", "16.6", "17.2", False, "RDS cannot downgrade"),
    ("aurora-postgresql", "16.6", "16.8", False, None),              # AWS's minor upgrade, kept
    ("aurora-postgresql", "16.6", "16.8", True, "a minor upgrade AWS applied"),
    ("aurora-postgresql", "16", "16.8", True, None),                 # a partial version covers 16.x
    ("aurora-mysql", MYSQL_84, "8.0.mysql_aurora.3.08.2", False, "aurora-mysql 8.0 -> 8.4"),
    ("aurora-mysql", MYSQL_84, "8.0.mysql_aurora.3.08.2", True, None),
    ("aurora-mysql", "8.0.mysql_aurora.3.09.0", "8.0.mysql_aurora.3.08.2", True, None),
    ("aurora-mysql", "8.0.mysql_aurora.3.08.2", None, False, None),  # a new cluster
])
def test_engine_version_guard(engine, configured, actual, upgrade, problem):
    from components.db_hooks import engine_version_problem
    found = engine_version_problem(engine, configured, actual, upgrade)
    assert (found is None) if problem is None else (problem in found), found


def test_guard_hook_runs_in_previews_and_refuses_a_major_change_without_the_flag(mocks):
    from components.db_hooks import engine_version_guard
    hook = settle(lambda: engine_version_guard("db", "aurora-postgresql", "17.4", False))
    assert hook.name == "db-engine-version-guard" and hook.opts.on_dry_run is True
    args = pulumi.ResourceHookArgs(urn="urn", id="db-1", name="db-cluster", type="aws:rds/cluster:Cluster",
                                   old_outputs={"engineVersionActual": "16.8"})
    with pytest.raises(ValueError, match="db: dbEngineVersion .* moves aurora-postgresql 16 -> 17"):
        hook.callback(args)


def test_a_minor_version_edit_is_not_silently_ignored():
    from components.db_hooks import minor_drift_note
    assert "used only at creation" in minor_drift_note("aurora-postgresql", "16.6", "16.8", False)
    assert minor_drift_note("aurora-postgresql", "16.6", "16.6", False) is None
    assert minor_drift_note("aurora-postgresql", "16.6", "16.8", True) is None


def test_mysql_84_versions_are_accepted_and_map_to_their_family():
    assert parameter_group_family("aurora-mysql", MYSQL_84) == "aurora-mysql8.4"
    assert parameter_group_family("aurora-mysql", "8.0.mysql_aurora.3.08.2") == "aurora-mysql8.0"
    assert parameter_group_family("aurora-postgresql", "17.4") == "aurora-postgresql17"
    assert supports_zero_acu("aurora-mysql", MYSQL_84)
    AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=AZS, engine_version=MYSQL_84)
    with pytest.raises(ValueError, match="engine_version = '8.4.7': not a aurora-mysql version"):
        AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=AZS, engine_version="8.4.7")


@pytest.mark.parametrize("days,ok", [(7, True), (31, True), (465, True), (713, True), (731, True),
                                     (730, False), (744, False), (0, False), (30, False)])
def test_performance_insights_retention_values(days, ok):
    from components.engines import pi_retention_valid
    assert pi_retention_valid(days) is ok
    if ok:
        AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=AZS, performance_insights_retention_days=days)
    else:
        with pytest.raises(ValueError, match="7, a multiple of 31 up to 713 .* or 731"):
            AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=AZS,
                              performance_insights_retention_days=days)


# --- settings: every new key, every forbidden combination, one clear error each ----------------

PROD_SA = {"aws:region": "sa-east-1", "availabilityZones": ["sa-east-1a", "sa-east-1b", "sa-east-1c"]}
BAD = [  # (stack, overrides, key, part of the message)
    ("prod", PROD_SA, "dbBacktrackHours", "Backtrack is not available in sa-east-1"),
    ("prod", {"dbAllowMajorVersionUpgrade": True, "dbEngineVersion": None, "dbApplyImmediately": True},
     "dbAllowMajorVersionUpgrade", "needs dbEngineVersion set to the target version"),
    ("prod", {"dbAllowMajorVersionUpgrade": True}, "dbAllowMajorVersionUpgrade", "needs dbApplyImmediately true"),
    ("prod", {"dbAllowMajorVersionUpgrade": "yes"}, "dbAllowMajorVersionUpgrade", "true or false"),
    ("prod", {"dbApplyImmediately": "now"}, "dbApplyImmediately", "true or false"),
    ("dev", {"dbKeepOnDestroy": "no"}, "dbKeepOnDestroy", "true or false"),
    ("dev", {"dbServerlessMinAcu": 0, "dbProxy": True}, "dbProxy",
     "AWS does not support Serverless v2 auto-pause with RDS Proxy"),
    ("dev", {"dbServerlessMinAcu": 0, "dbServerlessAutoPauseSeconds": 200}, "dbServerlessAutoPauseSeconds",
     "between 300 and 86400"),
    ("dev", {"dbServerlessMinAcu": 0, "dbServerlessAutoPauseSeconds": 90000}, "dbServerlessAutoPauseSeconds",
     "between 300 and 86400"),
    ("dev", {"dbServerlessAutoPauseSeconds": 600}, "dbServerlessAutoPauseSeconds",
     "only with dbMode serverless and dbServerlessMinAcu 0"),
    ("prod", {"dbInsightsMode": "turbo"}, "dbInsightsMode", "allowed values are standard, advanced"),
    ("prod", {"dbInsightsMode": "advanced"}, "dbInsightsMode", "needs dbPerformanceInsightsRetentionDays ≥ 465"),
    ("prod", {"dbPerformanceInsightsRetentionDays": 730}, "dbPerformanceInsightsRetentionDays", "or 731"),
    ("prod", {"dbAwsBackupRetentionDays": 0}, "dbAwsBackupRetentionDays", "between 1 and 36500"),
    ("prod", {"dbAwsBackupVaultLock": "strict"}, "dbAwsBackupVaultLock", "allowed values are off, governance, compliance"),
    ("prod", {"dbKeepOnDestroy": False}, "dbAwsBackupVaultLock", "needs dbKeepOnDestroy true"),
    ("prod", {"dbAwsBackupCopyVaultArn": "arn:aws:s3:::bucket"}, "dbAwsBackupCopyVaultArn", "backup vault ARN"),
    ("dev", {"dbAwsBackupRetentionDays": 14}, "dbAwsBackupRetentionDays", "only with dbAwsBackup true"),
    ("dev", {"dbAwsBackupVaultLock": "governance"}, "dbAwsBackupVaultLock", "only with dbAwsBackup true"),
]


@pytest.mark.parametrize("stack,overrides,key,text", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_new_settings_reject_bad_values_with_one_line(stack, overrides, key, text):
    error, mocks = _run_expecting_error(stack, overrides)
    message = str(error)
    assert message.startswith(f"invalid stack config aurorakit:{key} = "), message
    assert text in message and "\n" not in message, message
    assert mocks.resources == []


def test_backtrack_in_a_region_that_has_it_is_fine():
    run = run_stack("prod", {"aws:region": "eu-central-1",
                             "availabilityZones": ["eu-central-1a", "eu-central-1b", "eu-central-1c"]})
    assert run.mocks.only(R + "cluster:Cluster").inputs["backtrackWindow"] == 86400


# --- defect 4: apply immediately is a stated setting --------------------------------------------

def test_apply_immediately_reaches_the_cluster_and_every_instance(mocks):
    build(readers=1)
    assert mocks.only(R + "cluster:Cluster").inputs["applyImmediately"] is False   # safe default: the window
    assert {i.inputs["applyImmediately"] for i in mocks.resources_of(CI)} == {False}


def test_dev_applies_at_once_prod_waits_for_the_window(dev, prod):
    for run, value in ((dev, True), (prod, False)):
        assert run.mocks.only(R + "cluster:Cluster").inputs["applyImmediately"] is value
        assert {i.inputs["applyImmediately"] for i in run.mocks.resources_of(CI)} == {value}


# --- defect 5: a consistent Performance Insights combination ------------------------------------

def test_performance_insights_sent_whole_where_supported(prod):
    key = prod.mocks.by_name("db-key").outputs["arn"]
    for inst in prod.mocks.resources_of(CI):
        assert (inst.inputs["performanceInsightsEnabled"], inst.inputs["performanceInsightsKmsKeyId"],
                inst.inputs["performanceInsightsRetentionPeriod"]) == (True, key, 31)


# --- capabilities: Database Insights and scale to zero ------------------------------------------

def test_advanced_database_insights_sets_the_cluster_and_every_instance_alike():
    run = run_stack("prod", {"dbInsightsMode": "advanced", "dbPerformanceInsightsRetentionDays": 465})
    key = run.mocks.by_name("db-key").outputs["arn"]
    cluster = run.mocks.only(R + "cluster:Cluster").inputs
    assert (cluster["databaseInsightsMode"], cluster["performanceInsightsEnabled"],
            cluster["performanceInsightsKmsKeyId"], cluster["performanceInsightsRetentionPeriod"]) == \
        ("advanced", True, key, 465)
    assert {(i.inputs["performanceInsightsEnabled"], i.inputs["performanceInsightsRetentionPeriod"])
            for i in run.mocks.resources_of(CI)} == {(True, 465)}


def test_standard_insights_is_stated_explicitly_with_the_instances_pi_settings(prod):
    # Sent explicitly so that leaving advanced mode is a change, not a silently kept setting; the
    # provider sends the cluster's PI flag with every mode change, so it matches the instances'.
    key = prod.mocks.by_name("db-key").outputs["arn"]
    cluster = prod.mocks.only(R + "cluster:Cluster").inputs
    assert (cluster["databaseInsightsMode"], cluster["performanceInsightsEnabled"],
            cluster["performanceInsightsKmsKeyId"], cluster["performanceInsightsRetentionPeriod"]) == \
        ("standard", True, key, 31)



def test_a_class_without_performance_insights_states_it_off(mocks):
    # A burstable class is a library user's choice without the app user (no Data API on T classes).
    build(instance_class="db.t3.medium", app_db_user=None)
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert cluster["performanceInsightsEnabled"] is False and "performanceInsightsKmsKeyId" not in cluster


def test_advanced_insights_on_a_class_without_performance_insights_is_refused(mocks):
    from components.knobs import ArgsError

    with pytest.raises(ArgsError, match="insights_mode = .*advanced needs Performance Insights, which "
                                        "aurora-mysql does not offer on db.t3.medium"):
        build(insights_mode="advanced", performance_insights_retention_days=465, instance_class="db.t3.medium",
              app_db_user=None)
    assert mocks.resources == []


def test_scale_to_zero_sets_the_auto_pause_delay(dev):
    run = run_stack("dev", {"dbServerlessMinAcu": 0, "dbServerlessAutoPauseSeconds": 3600})
    scaling = run.mocks.only(R + "cluster:Cluster").inputs["serverlessv2ScalingConfiguration"]
    assert scaling == {"minCapacity": 0, "maxCapacity": 2, "secondsUntilAutoPause": 3600}
    default = run_stack("dev", {"dbServerlessMinAcu": 0}).mocks.only(R + "cluster:Cluster")
    assert default.inputs["serverlessv2ScalingConfiguration"]["secondsUntilAutoPause"] == 300
    assert "secondsUntilAutoPause" not in dev.mocks.only(R + "cluster:Cluster").inputs["serverlessv2ScalingConfiguration"]


# --- capability: AWS Backup -----------------------------------------------------------------------

def test_prod_backup_vault_plan_and_selection_cover_the_cluster(prod):
    m, monitor = prod.mocks, prod.monitor
    key = m.by_name("db-key").outputs["arn"]
    vault = m.only("aws:backup/vault:Vault")
    assert vault.inputs["kmsKeyArn"] == key and vault.inputs["forceDestroy"] is False
    assert monitor.named("db-backup-vault").retain_on_delete is True and monitor.named("db-backup-vault").protect
    lock = m.only("aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs
    assert lock["backupVaultName"] == vault.outputs["name"] and lock["minRetentionDays"] == 35
    assert "changeableForDays" not in lock   # governance: no cooling-off, removable by the allowed
    rule = m.only("aws:backup/plan:Plan").inputs["rules"][0]
    assert rule["targetVaultName"] == vault.outputs["name"] and rule["schedule"] == "cron(0 5 * * ? *)"
    assert rule["lifecycle"] == {"deleteAfter": 35} and "copyActions" not in rule
    selection = m.only("aws:backup/selection:Selection")
    cluster = m.only(R + "cluster:Cluster")
    assert selection.inputs["resources"] == [cluster.outputs["arn"]]
    cluster_urn = monitor.named("db-cluster").urn
    assert cluster_urn in monitor.named("db-backup-selection").property_dependencies["resources"]
    assert any(d.endswith("::db-backup-policy") for d in monitor.named("db-backup-selection").dependencies)
    role = m.by_name("db-backup-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert m.by_name("db-backup-policy").inputs["policyArn"].endswith(
        ":iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup")
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]


def test_cross_region_copy_and_compliance_lock():
    arn = "arn:aws:backup:eu-central-1:123456789012:backup-vault:dr-vault"
    m = run_stack("prod", {"dbAwsBackupCopyVaultArn": arn, "dbAwsBackupVaultLock": "compliance",
                           "dbAwsBackupRetentionDays": 90}).mocks
    rule = m.only("aws:backup/plan:Plan").inputs["rules"][0]
    assert rule["copyActions"] == [{"destinationVaultArn": arn, "lifecycle": {"deleteAfter": 90}}]
    lock = m.only("aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs
    assert lock["changeableForDays"] == 3 and lock["minRetentionDays"] == 90


def test_dev_has_no_backup_plan(dev):
    assert [r.name for r in dev.mocks.resources if r.type.startswith("aws:backup/")] == []


# --- issue 16: what a destroy leaves behind -------------------------------------------------------

def test_dev_teardown_leaves_nothing_billable(dev):
    run = run_stack("dev", {"dbManagedPassword": False})
    m, monitor = run.mocks, run.monitor
    cluster = m.only(R + "cluster:Cluster").inputs
    assert cluster["skipFinalSnapshot"] is True and cluster["deleteAutomatedBackups"] is True
    assert "finalSnapshotIdentifier" not in cluster and m.resources_of("random:index/randomId:RandomId") == []
    assert monitor.named("db-key").retain_on_delete is False and m.by_name("db-key").inputs["deletionWindowInDays"] == 7
    assert m.only("aws:secretsmanager/secret:Secret").inputs["recoveryWindowInDays"] == 0
    assert not any(monitor.named(g.name).retain_on_delete for g in m.resources_of("aws:cloudwatch/logGroup:LogGroup"))


def test_prod_keeps_snapshot_backups_key_logs_and_vault(prod):
    m, monitor = prod.mocks, prod.monitor
    cluster = m.only(R + "cluster:Cluster").inputs
    assert cluster["skipFinalSnapshot"] is False and cluster["deleteAutomatedBackups"] is False
    assert monitor.named("db-key").retain_on_delete is True and m.by_name("db-key").inputs["deletionWindowInDays"] == 30
    groups = [g.name for g in m.resources_of("aws:cloudwatch/logGroup:LogGroup") if g.name.startswith("db-log-")]
    assert len(groups) == 3 and all(monitor.named(g).retain_on_delete for g in groups)
    assert monitor.named("db-backup-vault").retain_on_delete is True


def test_dev_backup_vault_is_destroyed_with_its_recovery_points():
    m = run_stack("dev", {"dbAwsBackup": True}).mocks
    assert m.only("aws:backup/vault:Vault").inputs["forceDestroy"] is True


# --- defect 9: the documented destroy procedure ---------------------------------------------------

def test_docs_give_the_real_destroy_and_upgrade_procedures():
    readme = (ROOT / "README.md").read_text()
    runbook = (ROOT / "docs" / "DATABASE_RUNBOOK.md").read_text()
    assert "set\n  `dbReaderAutoscalingMax: 0` and `up`" not in readme   # the advice that did not work
    assert "pulumi destroy --run-program" in readme and "pulumi destroy --run-program" in runbook
    for heading in ("## Minor version upgrades", "## Major version upgrade in place",
                    "## Major version upgrade with an RDS blue/green deployment", "## Destroying the stack"):
        assert heading in runbook, heading
    assert Path(ROOT / "docs" / "DATABASE_RUNBOOK.md").is_file()
