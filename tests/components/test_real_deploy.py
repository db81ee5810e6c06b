"""What a real `pulumi up` needs beyond what mocks accept: ordering the engine cannot infer
(IAM permissions before the resource that uses them), drift AWS causes (AMI releases), values
AWS rejects (PI on small MySQL classes, KMS alias characters) and policies the services check."""
import json
import re
import runpy

import pulumi
import pytest

from components import AuroraCluster, AuroraClusterArgs
from components.database import alias_name
from components.engines import performance_insights_supported, supports_zero_acu
from components.app_fleet import is_graviton

from preflight.mocks import RecordingMocks, install_mocks
from preflight.stackconfig import load_stack_config

from .conftest import ROOT, run_stack, settle

CI = "aws:rds/clusterInstance:ClusterInstance"
AZS = ("eu-west-1a", "eu-west-1b")


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")



def _depends(run, resource, on):
    """Whether `resource` (logical name) lists the URN of `on` (logical name) as a dependency."""
    return any(d.endswith(f"::{on}") for d in run.monitor.named(resource).dependencies)


def test_hosts_wait_for_their_role_permissions_and_ignore_new_amis(prod):
    dev = run_stack("dev")
    for run, hosts in ((prod, "app-fleet"), (dev, "app-instance")):
        assert _depends(run, hosts, "app-ssm-core") and _depends(run, hosts, "app-db-access")
        assert run.monitor.named("app-template").ignore_changes == ["imageId"]


def test_pinned_ami_is_not_ignored():
    run = run_stack("dev", {"hostAmiId": "ami-0123456789abcdef0"})
    assert run.mocks.only("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == "ami-0123456789abcdef0"
    assert run.monitor.named("app-template").ignore_changes == []


def test_ec2_trust_has_no_source_condition_flow_logs_trust_has_one(prod):
    ec2 = json.loads(prod.mocks.by_name("app-role").inputs["assumeRolePolicy"])["Statement"]
    assert ec2 == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": "ec2.amazonaws.com"}}]
    flow = json.loads(prod.mocks.by_name("network-flow-logs-role").inputs["assumeRolePolicy"])
    assert flow["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_db_instances_wait_for_the_monitoring_policy_and_inherit_the_version(prod):
    for inst in prod.mocks.resources_of(CI):
        assert _depends(prod, inst.name, "db-monitoring-policy"), inst.name
        assert "engineVersion" not in inst.inputs, inst.name
        assert inst.inputs["monitoringRoleArn"] == prod.mocks.by_name("db-monitoring-role").outputs["arn"]


def test_flow_log_waits_for_its_write_policy_which_lists_groups_account_wide(prod):
    assert _depends(prod, "network-flow-log", "network-flow-logs-write")
    doc = json.loads(prod.mocks.by_name("network-flow-logs-write").inputs["policy"])["Statement"]
    group = prod.mocks.by_name("network-flow-logs").inputs["name"]
    prefix = "arn:aws:logs:eu-west-1:123456789012:log-group:"
    assert doc[0]["Resource"] == [prefix + group, prefix + group + ":*"]
    assert "logs:DescribeLogGroups" not in doc[0]["Action"]
    assert doc[1] == {"Sid": "ListGroups", "Effect": "Allow", "Resource": [prefix + "*"],
                      "Action": ["logs:DescribeLogGroups"]}


def test_cluster_key_lets_cloudwatch_alarms_publish_to_the_encrypted_topic(prod):
    key = prod.mocks.by_name("db-key")
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["EnableIamPolicies"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    alarms = statements["AllowCloudWatchAlarmsToEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    logs = statements["AllowCloudWatchLogsForDbLogExports"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    topic = prod.mocks.only("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == key.outputs["arn"]


def test_dynamic_parameters_apply_at_once_static_ones_at_reboot(prod):
    # ModifyDBClusterParameterGroup: "immediate" only for dynamic parameters, "pending-reboot" for both.
    params = prod.mocks.only("aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs["parameters"]
    assert {p["name"]: p["applyMethod"] for p in params} == {
        "require_secure_transport": "immediate", "server_audit_logging": "immediate",
        "server_audit_events": "immediate", "slow_query_log": "immediate", "log_output": "immediate"}
    pg = run_stack("prod", {"dbEngine": "aurora-postgresql", "dbEngineVersion": "16.6", "dbBacktrackHours": 0})
    params = pg.mocks.only("aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs["parameters"]
    assert params == [{"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"}]


def test_prod_alb_has_deletion_protection(prod):
    assert prod.mocks.only("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True
    run = run_stack("prod", {"protect": False})
    assert run.mocks.only("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False


@pytest.mark.parametrize("engine,klass,ok", [
    ("aurora-mysql", "db.t3.medium", False), ("aurora-mysql", "db.t4g.small", False),
    ("aurora-mysql", "db.t4g.medium", True), ("aurora-mysql", "db.r7g.large", True),
    ("aurora-mysql", "db.serverless", True), ("aurora-postgresql", "db.t3.medium", True),
])
def test_performance_insights_support(engine, klass, ok):
    assert performance_insights_supported(engine, klass) is ok


def test_no_performance_insights_where_aws_rejects_it(mocks):
    # A burstable class only without the app user's bootstrap (no RDS Data API on T classes).
    settle(lambda: AuroraCluster("db", AuroraClusterArgs(
        vpc_id="vpc-0123456789abcdef0", subnet_ids=["subnet-0a", "subnet-0b"], availability_zones=AZS,
        instance_class="db.t3.medium", readers=1, app_db_user=None)))
    instances = mocks.resources_of(CI)
    assert len(instances) == 2
    for inst in instances:
        # Off, with an empty key and retention: the provider then sends neither (it would resend
        # the old values of a class change from a PI class, which RDS refuses with PI off).
        assert inst.inputs["performanceInsightsEnabled"] is False
        assert inst.inputs["performanceInsightsKmsKeyId"] == "" and inst.inputs["performanceInsightsRetentionPeriod"] == 0


def test_proxy_waits_for_its_connect_policy():
    run = run_stack("prod", {"dbProxy": True})
    assert _depends(run, "db-proxy", "db-proxy-connect")


def test_kms_alias_name_only_has_allowed_characters():
    assert alias_name("aurorakit", "prod", "db") == "alias/aurorakit-prod-db"
    assert alias_name("aurorakit", "team.prod", "db") == "alias/aurorakit-team-prod-db"


@pytest.mark.parametrize("itype,arm", [("a1.large", True), ("t4g.small", True), ("c7gn.large", True),
                                       ("t3.micro", False), ("m7i.large", False)])
def test_graviton_types_get_the_arm64_ami(itype, arm):
    assert is_graviton(itype) is arm


@pytest.mark.parametrize("engine,version,ok", [
    ("aurora-mysql", "8.0.mysql_aurora.3.08.2", True), ("aurora-mysql", "8.0.mysql_aurora.3.07.1", False),
    ("aurora-mysql", "5.7.mysql_aurora.2.12.4", False), ("aurora-postgresql", "16.3", True),
    ("aurora-postgresql", "16.2", False), ("aurora-postgresql", "15.7", True),
    ("aurora-postgresql", "17.4", True), ("aurora-postgresql", "16", False),
])
def test_zero_acu_needs_an_auto_pause_version(engine, version, ok):
    assert supports_zero_acu(engine, version) is ok


def test_zero_acu_on_a_supported_version_is_accepted():
    run = run_stack("dev", {"dbServerlessMinAcu": 0})
    scaling = run.mocks.only("aws:rds/cluster:Cluster").inputs["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == 0


def test_cluster_name_leaves_room_for_derived_names():
    from components.database import identifier_prefix
    longest = "a" * 36
    assert identifier_prefix(longest) == longest + "-"
    assert len(identifier_prefix(longest) + "0" * 26) <= 63   # the provider's prefix + 26 characters
    assert len(f"{longest}-reader-15-abcdefg") <= 63 and len(f"{longest}-monitoring-role-abcdefg") <= 64
    with pytest.raises(ValueError, match="≤ 36 chars"):
        identifier_prefix("a" * 37)


def test_mysql_slow_log_is_written_to_file_so_the_export_has_data(prod):
    params = prod.mocks.only("aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs["parameters"]
    values = {p["name"]: p["value"] for p in params}
    assert values["slow_query_log"] == "1" and values["log_output"] == "FILE"
    assert "slowquery" in prod.mocks.only("aws:rds/cluster:Cluster").inputs["enabledCloudwatchLogsExports"]


SG_DESCRIPTION = r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{1,255}"   # EC2 rejects anything else


@pytest.mark.parametrize("stack,overrides", [("dev", {}), ("prod", {"dbProxy": True}),
                                             ("dev", {"hostKeyPairName": "ops", "hostAdminCidr": "198.51.100.7/32"})])
def test_descriptions_use_only_characters_aws_accepts(stack, overrides):
    m = run_stack(stack, overrides).mocks
    types = ("aws:ec2/securityGroup:SecurityGroup",
             "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
             "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    for r in [r for t in types for r in m.resources_of(t)]:
        assert re.fullmatch(SG_DESCRIPTION, r.inputs["description"]), (r.name, r.inputs["description"])
    for r in m.resources_of("aws:iam/role:Role"):
        assert re.fullmatch(r"[\t\n\r\x20-\x7e\xa1-\xff]{0,1000}", r.inputs.get("description", "")), r.name


def test_cluster_key_outlives_the_stack_like_the_final_snapshot_it_encrypts(prod):
    # dev opts out (dbKeepOnDestroy: false): tests/components/test_database_day2.py
    assert prod.monitor.named("db-key").retain_on_delete is True
    assert prod.mocks.only("aws:rds/cluster:Cluster").inputs["skipFinalSnapshot"] is False
    assert prod.monitor.named("db-cluster").retain_on_delete is False


@pytest.mark.parametrize("arn", ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                                 "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"])
def test_given_kms_key_arn_single_or_multi_region_is_used_everywhere(arn):
    m = run_stack("dev", {"dbKmsKeyArn": arn}).mocks
    assert m.resources_of("aws:kms/key:Key") == [m.by_name("network-flow-logs-key")]
    assert m.only("aws:rds/cluster:Cluster").inputs["kmsKeyId"] == arn
    template = m.only("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["blockDeviceMappings"][0]["ebs"]["kmsKeyId"] == arn


class _ChinaMocks(RecordingMocks):
    """The mocks, answering getPartition as the aws-cn partition does."""

    def call(self, args):
        result, failures = super().call(args)
        if args.token == "aws:index/getPartition:getPartition":
            result = {**result, "partition": "aws-cn", "dnsSuffix": "amazonaws.com.cn",
                      "reverseDnsPrefix": "cn.com.amazonaws"}
        return result, failures


def test_service_names_follow_the_partition():
    config = load_stack_config("prod", ROOT).with_overrides(
        {"aws:region": "cn-north-1", "availabilityZones": ["cn-north-1a", "cn-north-1b"], "natMode": "single",
         "dbProxy": True})
    m = _ChinaMocks(region="cn-north-1")
    install_mocks(config, stack="prod", mocks=m)

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    program()
    endpoints = sorted(r.inputs["serviceName"] for r in m.resources_of("aws:ec2/vpcEndpoint:VpcEndpoint"))
    assert "cn.com.amazonaws.cn-north-1.s3" in endpoints and "cn.com.amazonaws.cn-north-1.ssm" in endpoints
    assert "cn.com.amazonaws.cn-north-1.dynamodb" in endpoints
    flow_key = json.loads(m.by_name("network-flow-logs-key").inputs["policy"])["Statement"]
    assert flow_key[0]["Principal"] == {"AWS": "arn:aws-cn:iam::123456789012:root"}
    assert flow_key[1]["Principal"] == {"Service": "logs.cn-north-1.amazonaws.com.cn"}
    doc = json.loads(m.by_name("db-bootstrap-policy").inputs["policy"])["Statement"]
    via = [s["Condition"]["StringEquals"]["kms:ViaService"] for s in doc if "Condition" in s]
    assert via == ["secretsmanager.cn-north-1.amazonaws.com.cn"]
    # the hosts connect to the cluster and the proxy; the proxy to the cluster
    assert m.by_name("app-db-access").inputs["policy"].count("arn:aws-cn:rds-db:cn-north-1:") == 1
    assert m.by_name("app-proxy-access").inputs["policy"].count("arn:aws-cn:rds-db:cn-north-1:") == 1
    assert m.by_name("db-proxy-connect").inputs["policy"].count("arn:aws-cn:rds-db:cn-north-1:") == 1


def test_aws_minor_upgrades_are_not_reverted(prod):
    # RDS auto-applies minor versions and cannot downgrade: a diff back to the configured
    # version would fail every later `up` (pulumi-aws#5756, terraform-aws-rds-aurora#228).
    assert prod.monitor.named("db-cluster").ignore_changes == [
        "engineVersion", "dbInstanceParameterGroupName", "clusterIdentifierPrefix"]
    assert all(i.inputs["autoMinorVersionUpgrade"] is True for i in prod.mocks.resources_of(CI))


@pytest.mark.parametrize("stack,hosts,route", [("dev", "app-instance", "network-public-default"),
                                               ("prod", "app-fleet", "network-private-default-0")])
def test_host_first_boot_waits_for_its_internet_route(stack, hosts, route, prod):
    run = prod if stack == "prod" else run_stack("dev")
    assert _depends(run, hosts, route)
    assert _depends(run, hosts, "network-private-rta-0" if stack == "prod" else "network-public-rta-0")


def test_internet_facing_alb_waits_for_the_internet_gateway_route(prod):
    """AWS rejects an internet-facing ALB in a VPC without an attached gateway (InvalidSubnet)."""
    assert _depends(prod, "app-alb", "network-public-default")
    assert all(_depends(prod, "app-alb", f"network-public-rta-{i}") for i in range(3))


def test_alb_access_logs_are_an_option(prod):
    assert "accessLogs" not in prod.mocks.only("aws:lb/loadBalancer:LoadBalancer").inputs
    lb = run_stack("prod", {"albAccessLogsBucket": "acme-alb-logs"}).mocks.only("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["accessLogs"] == {"bucket": "acme-alb-logs", "prefix": "app-alb", "enabled": True}


def test_monitoring_role_trusts_rds_monitoring_of_this_account_only(prod):
    trust = json.loads(prod.mocks.by_name("db-monitoring-role").inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                      "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    attached = prod.mocks.by_name("db-monitoring-policy").inputs["policyArn"]
    assert attached == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def test_per_az_nat_keeps_private_traffic_in_its_own_az(prod):
    # Cross-AZ NAT routing costs data transfer and dies with the other AZ.
    m = prod.mocks
    subnets = {s.id: s.inputs["availabilityZone"] for s in m.resources_of("aws:ec2/subnet:Subnet")}
    nat_az = {n.id: subnets[n.inputs["subnetId"]] for n in m.resources_of("aws:ec2/natGateway:NatGateway")}
    route_nat = {r.inputs["routeTableId"]: r.inputs["natGatewayId"]
                 for r in m.resources_of("aws:ec2/route:Route") if "natGatewayId" in r.inputs}
    private = [a for a in m.resources_of("aws:ec2/routeTableAssociation:RouteTableAssociation")
               if a.name.startswith("network-private-rta-")]
    assert len(private) == len(nat_az) == 3
    for assoc in private:
        assert nat_az[route_nat[assoc.inputs["routeTableId"]]] == subnets[assoc.inputs["subnetId"]], assoc.name
