"""AuroraCluster under mocks: encryption, TLS, secret, instances/AZs, monitoring, options."""
import json

import pytest

from components import AuroraCluster, AuroraClusterArgs
from components.database import instance_az, parameter_group_family, promotion_tier

from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor

from .conftest import resolve, settle

SECRET_SIG = "4dabf18193072939515e22adb298388d"   # pulumi's secret sentinel on the wire
AZS = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
R = "aws:rds/"


def is_secret(value):
    return isinstance(value, dict) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270"


def build(name="db", **kw):
    args = AuroraClusterArgs(vpc_id="vpc-0123456789abcdef0",
                             subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
                             availability_zones=kw.pop("azs", AZS), **kw)
    return settle(lambda: AuroraCluster(name, args))


def test_secure_defaults(mocks):
    db = build()
    key = mocks.only("aws:kms/key:Key")
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] >= 14
    assert cluster["storageEncrypted"] is True and cluster["kmsKeyId"] == key.outputs["arn"]
    assert cluster["manageMasterUserPassword"] is True and "masterPassword" not in cluster
    assert cluster["masterUserSecretKmsKeyId"] == key.outputs["arn"]
    assert cluster["masterUsername"] == "dbadmin"
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    assert cluster["copyTagsToSnapshot"] is True and cluster["deletionProtection"] is True
    assert cluster["backupRetentionPeriod"] == 7
    assert cluster["skipFinalSnapshot"] is False
    suffix = mocks.only("random:index/randomId:RandomId").outputs["hex"]
    assert "clusterIdentifier" not in cluster and cluster["clusterIdentifierPrefix"] == "db-"
    assert cluster["finalSnapshotIdentifier"] == f"db-final-{suffix}"
    assert cluster["enabledCloudwatchLogsExports"] == ["audit", "error", "slowquery"]
    assert "backtrackWindow" not in cluster and "serverlessv2ScalingConfiguration" not in cluster
    subnet_group = mocks.only(R + "subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == ["subnet-0a", "subnet-0b", "subnet-0c"]
    assert cluster["dbSubnetGroupName"] == subnet_group.outputs["name"]
    sg = mocks.only("aws:ec2/securityGroup:SecurityGroup")
    assert cluster["vpcSecurityGroupIds"] == [sg.id] and sg.inputs["description"]
    assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")
    assert resolve(db.master_user_secret_arn).startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!")
    assert mocks.resources_of("aws:secretsmanager/secret:Secret") == []


@pytest.mark.parametrize("engine,version,family,param,value,logs,port", [
    ("aurora-mysql", "8.0.mysql_aurora.3.08.2", "aurora-mysql8.0", "require_secure_transport", "ON",
     ["audit", "error", "slowquery"], 3306),
    ("aurora-postgresql", "16.6", "aurora-postgresql16", "rds.force_ssl", "1", ["postgresql"], 5432),
])
def test_tls_enforced_and_logs_per_engine(mocks, engine, version, family, param, value, logs, port):
    db = build(engine=engine, engine_version=version)
    group = mocks.only(R + "clusterParameterGroup:ClusterParameterGroup")
    assert group.inputs["family"] == family
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]}[param] == value
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert cluster["dbClusterParameterGroupName"] == group.outputs["name"]
    assert cluster["enabledCloudwatchLogsExports"] == logs and cluster["port"] == port
    assert db.port == port and db.connections.default_port == port
    assert resolve(db.endpoint).endswith(".eu-west-1.rds.amazonaws.com")
    assert ".cluster-ro-" in resolve(db.reader_endpoint)


@pytest.mark.parametrize("azs,readers,placed,tiers", [
    (AZS[:2], 3, ["a", "b", "b", "b"], [0, 1, 2, 3]),
    (AZS, 4, ["a", "b", "c", "b", "c"], [0, 1, 1, 2, 2]),
    (AZS[:2], 0, ["a"], [0]),
])
def test_no_reader_shares_the_writers_az(mocks, azs, readers, placed, tiers):
    build(readers=readers, azs=azs)
    instances = [i.inputs for i in mocks.resources_of(R + "clusterInstance:ClusterInstance")]
    assert [i["availabilityZone"] for i in instances] == [f"eu-west-1{z}" for z in placed]
    assert [i["promotionTier"] for i in instances] == tiers


def test_placement_rule_holds_for_every_size():
    for azs in (AZS[:2], AZS):
        for readers in range(16):
            zones = [instance_az(azs, i) for i in range(readers + 1)]
            tiers = [promotion_tier(azs, i) for i in range(readers + 1)]
            assert zones[0] == azs[0] and azs[0] not in zones[1:]
            counts = [zones[1:].count(z) for z in azs[1:]]
            assert max(counts) - min(counts) <= 1      # round-robin: evenly over the other AZs
            assert tiers[0] == 0 and all(1 <= t <= 15 for t in tiers[1:]) and tiers == sorted(tiers)


def test_writer_and_readers_in_distinct_azs_with_promotion_tiers(mocks):
    build(readers=2)
    instances = {i.name: i.inputs for i in mocks.resources_of(R + "clusterInstance:ClusterInstance")}
    assert list(instances) == ["db-writer", "db-reader-1", "db-reader-2"]
    assert [i["availabilityZone"] for i in instances.values()] == list(AZS)
    assert [i["promotionTier"] for i in instances.values()] == [0, 1, 1]
    key_arn = mocks.only("aws:kms/key:Key").outputs["arn"]
    role_arn = mocks.by_name("db-monitoring-role").outputs["arn"]
    for i in instances.values():
        assert i["publiclyAccessible"] is False and i["autoMinorVersionUpgrade"] is True
        assert i["performanceInsightsEnabled"] and i["performanceInsightsKmsKeyId"] == key_arn
        assert i["monitoringInterval"] == 60 and i["monitoringRoleArn"] == role_arn
        assert i["instanceClass"] == "db.r7g.large" and i["copyTagsToSnapshot"] is True
    trust = json.loads(mocks.by_name("db-monitoring-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    attachment = mocks.by_name("db-monitoring-policy").inputs
    assert attachment["policyArn"].endswith(":policy/service-role/AmazonRDSEnhancedMonitoringRole")
    alarms = {a.inputs["metricName"] for a in mocks.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert alarms == {"CPUUtilization", "FreeableMemory", "DatabaseConnections", "AuroraReplicaLagMaximum"}


def test_single_writer_has_no_replica_lag_alarm_and_alarms_go_to_encrypted_topic(mocks):
    build()
    topic = mocks.only("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == mocks.only("aws:kms/key:Key").outputs["arn"]
    alarms = mocks.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 3 and all(a.inputs["alarmActions"] == [topic.outputs["arn"]] for a in alarms)
    policy = json.loads(mocks.only("aws:kms/key:Key").inputs["policy"])
    assert any(s["Principal"].get("Service") == "cloudwatch.amazonaws.com" for s in policy["Statement"])

    assert mocks.resources_of("aws:sns/topicSubscription:TopicSubscription") == []


def test_alarm_emails_subscribe_to_the_topic(mocks):
    build(alarm_emails=("ops@example.com", "dba@example.com"))
    topic = mocks.only("aws:sns/topic:Topic")
    subs = mocks.resources_of("aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"]) for s in subs) == [
        ("email", "dba@example.com", topic.outputs["arn"]), ("email", "ops@example.com", topic.outputs["arn"])]


def test_serverless_v2(mocks):
    build(mode="serverless", serverless_min_acu=0.5, serverless_max_acu=8)
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert cluster["engineMode"] == "provisioned"
    assert cluster["serverlessv2ScalingConfiguration"] == {"minCapacity": 0.5, "maxCapacity": 8}
    assert mocks.only(R + "clusterInstance:ClusterInstance").inputs["instanceClass"] == "db.serverless"


def test_random_password_opt_out_stores_secret_under_cmk_and_never_outputs_it(mocks):
    db = build(managed_password=False)
    cluster = mocks.only(R + "cluster:Cluster")
    password = mocks.only("random:index/randomPassword:RandomPassword").outputs["result"]
    assert is_secret(cluster.inputs["masterPassword"])          # still marked secret on the wire
    assert cluster.inputs["masterPassword"]["value"] == password
    assert "manageMasterUserPassword" not in cluster.inputs
    secret = mocks.only("aws:secretsmanager/secret:Secret")
    assert secret.inputs["kmsKeyId"] == mocks.only("aws:kms/key:Key").outputs["arn"]
    version = mocks.only("aws:secretsmanager/secretVersion:SecretVersion").inputs
    assert is_secret(version["secretString"])
    assert json.loads(version["secretString"]["value"])["password"] == password
    assert resolve(db.master_user_secret_arn) == secret.outputs["arn"]
    for attr in ("endpoint", "reader_endpoint", "master_user_secret_arn", "kms_key_arn", "cluster_arn"):
        assert password not in str(resolve(getattr(db, attr)))


def test_backtrack_and_retention_and_given_key(mocks):
    given = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    build(backtrack_hours=24, backup_retention_days=14, kms_key_arn=given, deletion_protection=False)
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert cluster["backtrackWindow"] == 86400 and cluster["backupRetentionPeriod"] == 14
    assert cluster["kmsKeyId"] == given and cluster["deletionProtection"] is False
    assert mocks.resources_of("aws:kms/key:Key") == []


def test_monitoring_off_means_no_role(mocks):
    build(monitoring_interval=0, aws_backup=False)
    assert [r.name for r in mocks.resources_of("aws:iam/role:Role")] == ["db-bootstrap-role"]
    assert "monitoringRoleArn" not in mocks.only(R + "clusterInstance:ClusterInstance").inputs


def test_reader_autoscaling(mocks):
    build(readers=1, reader_autoscaling_max=4, reader_autoscaling_cpu_target=60)
    target = mocks.only("aws:appautoscaling/target:Target").inputs
    cluster_id = mocks.only(R + "cluster:Cluster").outputs["clusterIdentifier"]
    assert target == {**target, "serviceNamespace": "rds", "scalableDimension": "rds:cluster:ReadReplicaCount",
                      "resourceId": f"cluster:{cluster_id}", "minCapacity": 1, "maxCapacity": 4}
    policy = mocks.only("aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]
    assert policy["targetValue"] == 60
    assert policy["predefinedMetricSpecification"]["predefinedMetricType"] == "RDSReaderAverageCPUUtilization"


def test_rds_proxy_requires_tls_and_iam_and_is_linked_to_the_db(mocks):
    """More of the proxy's shape (IAM end to end, roles, read-only endpoint): test_identity.py."""
    db = build(proxy=True)
    proxy = mocks.only(R + "proxy:Proxy").inputs
    assert proxy["requireTls"] is True and proxy["engineFamily"] == "MYSQL"
    assert proxy["defaultAuthScheme"] == "IAM_AUTH" and "auths" not in proxy  # no secret at all
    rule = mocks.only("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    proxy_sg = db.proxy_connections.security_group_ids[0]
    assert rule["referencedSecurityGroupId"] == resolve(proxy_sg) and rule["fromPort"] == 3306
    assert resolve(db.proxy_endpoint).endswith(".rds.amazonaws.com")


def test_protect_flags_follow_the_setting():
    for protect in (True, False):
        mocks = RecordingMocks()
        monitor = RecordingMonitor(mocks, preview=False)
        install_mocks({"aws:region": "eu-west-1"}, mocks=mocks, monitor=monitor)
        build(protect=protect, managed_password=False)
        assert {n: monitor.named(n).protect for n in ("db-cluster", "db-key", "db-master-secret")} == \
            dict.fromkeys(("db-cluster", "db-key", "db-master-secret"), protect)
        assert monitor.named("db-writer").protect is False


def test_two_clusters_do_not_collide(mocks):
    settle(lambda: [AuroraCluster(n, AuroraClusterArgs(vpc_id="vpc-1", subnet_ids=["s1", "s2"],
                                                       availability_zones=AZS[:2])) for n in ("a", "b")])
    names = [(r.type, r.name) for r in mocks.resources if r.custom]
    assert len(names) == len(set(names)) and all(n.startswith(("a-", "b-")) for _, n in names)


@pytest.mark.parametrize("kw,message", [
    ({"engine": "oracle"}, "AuroraClusterArgs.engine = 'oracle': allowed values are aurora-mysql, aurora-postgresql"),
    ({"azs": ("eu-west-1a",)}, "AuroraClusterArgs.availability_zones = .*need ≥ 2 distinct AZs"),
    ({"readers": -1}, "AuroraClusterArgs.readers = -1: must be between 0 and 15"),
    ({"mode": "serverless", "serverless_min_acu": 8, "serverless_max_acu": 4},
     r"AuroraClusterArgs.serverless_min_acu = 8: must not exceed AuroraClusterArgs.serverless_max_acu \(4\)"),
    ({"instance_class": "db.r6g.large", "mode": "serverless"},
     "AuroraClusterArgs.instance_class = 'db.r6g.large': only with AuroraClusterArgs.mode provisioned"),
])
def test_args_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=kw.pop("azs", AZS), **kw)


def test_parameter_group_family():
    assert parameter_group_family("aurora-mysql", "5.7.mysql_aurora.2.12.0") == "aurora-mysql5.7"
    assert parameter_group_family("aurora-postgresql", "15.8") == "aurora-postgresql15"


@pytest.mark.parametrize("engine,logs", [("aurora-mysql", ["audit", "error", "slowquery"]),
                                         ("aurora-postgresql", ["postgresql"])])
def test_exported_log_groups_exist_before_any_instance_encrypted_with_retention(mocks, engine, logs):
    build(engine=engine, log_retention_days=90)
    cluster = mocks.only(R + "cluster:Cluster")
    key = mocks.only("aws:kms/key:Key")
    groups = [g for g in mocks.resources_of("aws:cloudwatch/logGroup:LogGroup") if g.name != "db-bootstrap-logs"]
    ident = cluster.outputs["clusterIdentifier"]   # generated by the provider from the prefix
    assert ident.startswith("db-") and len(ident) == len("db-") + 26
    assert [g.inputs["name"] for g in groups] == [f"/aws/rds/cluster/{ident}/{log}" for log in logs]
    assert all(g.inputs["kmsKeyId"] == key.outputs["arn"] and g.inputs["retentionInDays"] == 90 for g in groups)
    writer = mocks.only(R + "clusterInstance:ClusterInstance")
    assert mocks.resources.index(groups[-1]) < mocks.resources.index(writer)   # no instance, no logs
    logs_statement = [s for s in json.loads(key.inputs["policy"])["Statement"]
                      if s["Principal"].get("Service") == "logs.eu-west-1.amazonaws.com"][0]
    assert logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/rds/cluster/db-*",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/db-*"]  # the bootstrap's logs
    assert mocks.only(R + "clusterParameterGroup:ClusterParameterGroup").inputs["family"].startswith(engine)


def test_default_engine_version_per_engine(mocks):
    build(engine="aurora-postgresql")
    assert mocks.only(R + "cluster:Cluster").inputs["engineVersion"] == "16.6"


@pytest.mark.parametrize("name", ["DB", "1db", "my--db", "db_1", "x" * 51])
def test_component_name_must_make_a_valid_identifier(mocks, name):
    with pytest.raises(ValueError, match="must be lowercase letters, digits and single hyphens"):
        AuroraCluster(name, AuroraClusterArgs(vpc_id="v", subnet_ids=["a", "b"], availability_zones=AZS))
    assert mocks.resources == []


SLR = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def test_key_policy_lets_the_auto_scaling_service_linked_role_launch_encrypted_volumes(mocks):
    """An Auto Scaling group launches the fleet's volumes encrypted with this key: AWS's documented
    statements for its service-linked role, which may not exist yet when the key is created (a
    key policy naming a missing role as Principal is refused), so the role is a condition."""
    from policy.rules.iamdocs import everyone, pins_caller

    build()
    statements = {s.get("Sid"): s for s in json.loads(mocks.only("aws:kms/key:Key").inputs["policy"])["Statement"]}
    use = statements["AllowEc2AutoScalingServiceLinkedRoleUseOfTheKey"]
    grant = statements["AllowEc2AutoScalingServiceLinkedRoleGrantsForAwsResources"]
    caller = {"aws:PrincipalArn": SLR, "kms:CallerAccount": "123456789012"}
    assert use["Effect"] == grant["Effect"] == "Allow" and use["Resource"] == grant["Resource"] == "*"
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*",
                                     "kms:ReEncrypt*"]
    assert use["Condition"] == {"StringEquals": caller}
    assert grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {"StringEquals": caller, "Bool": {"kms:GrantIsForAWSResource": True}}
    for statement in (use, grant):
        assert SLR not in json.dumps(statement["Principal"])  # never a principal that may not exist
        assert everyone(statement["Principal"]) and pins_caller(statement["Condition"])  # not public


def test_the_runbook_gives_byo_key_users_the_statements_the_stacks_key_has():
    from pathlib import Path

    from components.policies import autoscaling_key_statements

    text = (Path(__file__).resolve().parents[2] / "docs" / "DATABASE_RUNBOOK.md").read_text()
    section = text[text.index("## Bring your own key"):]
    block = section[section.index("```json\n") + 8:]
    assert json.loads(block[:block.index("```")]) == autoscaling_key_statements("111122223333", "aws")


def test_backup_and_maintenance_windows_reach_the_cluster_and_every_instance(mocks):
    """One maintenance window for the cluster and its instances (an instance left without one gets
    a random window from RDS); windows that touch are accepted, as RDS accepts them."""
    build(readers=2, backup_window="23:30-00:30", maintenance_window="mon:00:30-mon:01:00")
    cluster = mocks.only(R + "cluster:Cluster").inputs
    assert cluster["preferredBackupWindow"] == "23:30-00:30"
    assert cluster["preferredMaintenanceWindow"] == "mon:00:30-mon:01:00"
    instances = [r.inputs for r in mocks.resources if r.type == R + "clusterInstance:ClusterInstance"]
    assert len(instances) == 3 and {i["preferredMaintenanceWindow"] for i in instances} == {"mon:00:30-mon:01:00"}


@pytest.mark.parametrize("backup,maintenance,clash", [
    ("02:00-03:00", "sun:04:00-sun:05:00", False), ("03:00-03:30", "tue:02:30-tue:03:00", False),
    ("03:00-03:30", "tue:02:30-tue:03:01", True), ("03:00-03:30", "tue:03:29-tue:04:00", True),
    ("22:00-02:00", "fri:01:00-fri:03:00", True), ("10:00-11:00", "mon:00:00-sun:23:59", True)])
def test_windows_apart(backup, maintenance, clash):
    from components.knobs import ArgsError

    kw = dict(vpc_id="v", subnet_ids=["a", "b"], availability_zones=AZS, backup_window=backup,
              maintenance_window=maintenance)
    if clash:
        with pytest.raises(ArgsError, match="backup_window .*overlaps AuroraClusterArgs.maintenance_window"):
            AuroraClusterArgs(**kw)
    else:
        AuroraClusterArgs(**kw)


@pytest.mark.parametrize("klass", ["db.t4g.medium", "db.t3.medium", "db.t4g.large", "db.t3.2xlarge"])
def test_no_burstable_class_where_the_data_api_creates_the_app_user(mocks, klass):
    """AWS: "Data API isn't supported on T DB instance classes" (RDS Data API limitations); the
    bootstrap creates the app user through it on the writer. Refused before anything is built."""
    from components.knobs import ArgsError

    with pytest.raises(ArgsError, match=rf"AuroraClusterArgs.instance_class = '{klass}': is a burstable T class.*"
                                        r"AuroraClusterArgs.app_db_user.*db\.r7g\.large.*AuroraClusterArgs.mode "
                                        r"serverless"):
        build(instance_class=klass)
    assert mocks.resources == []


@pytest.mark.parametrize("kw", [dict(instance_class="db.t4g.medium", app_db_user=None),
                                dict(mode="serverless"), dict(instance_class="db.r6g.large"),
                                dict(instance_class="db.x2g.large"), dict()])
def test_classes_the_data_api_serves_or_no_bootstrap_are_fine(mocks, kw):
    build(**kw)
    klass = "db.serverless" if kw.get("mode") else kw.get("instance_class", "db.r7g.large")
    assert {i.inputs["instanceClass"] for i in mocks.resources_of(R + "clusterInstance:ClusterInstance")} == {klass}
    assert mocks.only(R + "cluster:Cluster").inputs.get("enableHttpEndpoint") is (
        None if kw.get("app_db_user", "app") is None else True)


def test_database_endpoint_is_derived_from_the_cluster(mocks):
    """AppFleetArgs.database comes from the cluster itself: its database name and engine (not a
    caller's copy that can drift, e.g. "app" for a cluster whose database is "shop"), its
    endpoints and, with a proxy, the proxy's."""
    db = build(db_name="shop", engine="aurora-postgresql", engine_version="16.6", proxy=True, readers=1)
    ep = db.database_endpoint
    assert (ep.db_name, ep.engine, ep.port) == ("shop", "aurora-postgresql", 5432)
    assert ep.writer_endpoint is db.endpoint and ep.reader_endpoint is db.reader_endpoint
    assert ep.proxy_endpoint is db.proxy_endpoint and ep.proxy_resource_id is db.proxy_resource_id
    assert build("plain").database_endpoint.proxy_endpoint is None
