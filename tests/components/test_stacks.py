"""The real program (__main__.py) for the dev and prod stacks, end to end under mocks."""
import pytest
import yaml

from .conftest import run_stack

EXPORTS = {"app_url", "cluster_endpoint", "cluster_reader_endpoint", "master_user_secret_arn",
           "vpc_id", "ssm_session_command", "dynamodb_table_names"}
HOST_EXPORT = {"dev": "app_instance_id", "prod": "app_auto_scaling_group"}
LT = "aws:ec2/launchTemplate:LaunchTemplate"


def user_data(run) -> str:
    import base64
    import gzip
    return gzip.decompress(base64.b64decode(run.mocks.only(LT).inputs["userData"])).decode()
CI = "aws:rds/clusterInstance:ClusterInstance"
ING = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGR = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exports_exactly_and_resolved(stack, request):
    run = request.getfixturevalue(stack)
    assert set(run.outputs) == EXPORTS | {HOST_EXPORT[stack]}
    o = run.outputs
    assert o["vpc_id"].startswith("vpc-0")
    assert ".cluster-" in o["cluster_endpoint"] and ".cluster-ro-" in o["cluster_reader_endpoint"]
    assert o["master_user_secret_arn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!")
    assert o["ssm_session_command"].startswith("aws ssm start-session --region eu-west-1 --target ")
    if stack == "dev":
        assert o["app_instance_id"].startswith("i-0") and o["ssm_session_command"].endswith(o["app_instance_id"])
    else:
        assert o["app_auto_scaling_group"].startswith("app-fleet-") and o["app_auto_scaling_group"] in o["ssm_session_command"]


def test_dev_is_cheap_with_explicit_opt_ins(dev):
    m = dev.mocks
    assert m.resources_of("aws:ec2/natGateway:NatGateway") == []
    writer = m.only(CI).inputs
    assert writer["instanceClass"] == "db.serverless"
    assert m.only("aws:rds/cluster:Cluster").inputs["deletionProtection"] is False
    assert not any(dev.monitor.named(n).protect for n in ("db-cluster", "db-key", "network-flow-logs-key"))
    host = m.only("aws:ec2/instance:Instance").inputs  # dev: one public host, no fleet, no ALB
    assert "networkInterfaces" not in m.only(LT).inputs  # the public IP: the public subnet's auto-assign
    public = {s.id for s in m.resources_of("aws:ec2/subnet:Subnet") if s.name.startswith("network-public-")}
    assert host["subnetId"] in public
    assert dev.outputs["app_url"].startswith("http://ec2-")
    assert m.resources_of("aws:lb/loadBalancer:LoadBalancer") == []
    assert m.resources_of("aws:autoscaling/group:Group") == []


def test_prod_is_multi_az_protected_and_private(prod):
    m = prod.mocks
    instances = m.resources_of(CI)
    assert len(instances) == 3
    assert len({i.inputs["availabilityZone"] for i in instances}) == 3
    assert len(m.resources_of("aws:ec2/natGateway:NatGateway")) == 3
    for name in ("db-cluster", "db-key", "network-flow-logs-key"):
        assert prod.monitor.named(name).protect is True, name
    cluster = m.only("aws:rds/cluster:Cluster").inputs
    assert cluster["backupRetentionPeriod"] == 14 and cluster["backtrackWindow"] == 86400
    assert cluster["deletionProtection"] is True
    assert m.resources_of("aws:ec2/instance:Instance") == []  # prod: a fleet over every AZ
    assert m.only(LT).inputs["networkInterfaces"][0]["associatePublicIpAddress"] == "false"
    group = m.only("aws:autoscaling/group:Group").inputs
    private = [s.id for s in m.resources_of("aws:ec2/subnet:Subnet") if s.name.startswith("network-private-")]
    assert sorted(group["vpcZoneIdentifiers"]) == sorted(private) and len(private) == 3
    assert group["minSize"] >= 2 and group["healthCheckType"] == "ELB"
    assert m.only("aws:lb/loadBalancer:LoadBalancer") and prod.outputs["app_url"] == "https://app.example.com"
    listeners = {li.inputs["port"]: li.inputs for li in m.resources_of("aws:lb/listener:Listener")}
    assert listeners[443]["certificateArn"] == m.only("aws:acm/certificate:Certificate").outputs["arn"]
    assert listeners[80]["defaultActions"][0]["type"] == "redirect"  # no plain HTTP in prod


def test_prod_hosts_need_no_nat_to_boot():
    """natMode none: no NAT gateway and no default route in the private tier, yet the hosts boot:
    everything they fetch is in the stack's bucket, read through the S3 gateway endpoint that is
    on every private route table (dnf's AL2023 repositories are S3 buckets too)."""
    run = run_stack("prod", {"natMode": "none"})
    m = run.mocks
    assert m.resources_of("aws:ec2/natGateway:NatGateway") == []
    private_rts = {r.id for r in m.resources_of("aws:ec2/routeTable:RouteTable") if "-private-rt-" in r.name}
    assert not [r for r in m.resources_of("aws:ec2/route:Route") if r.inputs["routeTableId"] in private_rts]
    s3 = next(e for e in m.resources_of("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["serviceName"].endswith(".s3"))
    assert private_rts <= set(s3.inputs["routeTableIds"])
    bucket = m.only("aws:s3/bucket:Bucket").outputs["bucket"]
    files = {f["path"]: f["content"] for f in yaml.safe_load(user_data(run))["write_files"]}
    uris = [line.split(" ")[1] for line in files["/opt/aurorakit/artifacts.txt"].splitlines()]
    assert uris and all(u.startswith(f"s3://{bucket}/") for u in uris)
    script = files["/opt/aurorakit/install.sh"]
    assert "curl" not in script and "https://" not in script and "--no-index" in script
    policy = m.only("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    assert s3.id in policy  # the hosts' reads must come through that endpoint
    waits = {d.split("::")[-1] for d in run.monitor.named("app-fleet").dependencies}
    assert "app-artifacts-policy" in waits  # ... which exists (with its routes) before any host


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_host_to_db_link_and_db_sg_has_no_cidr_sources(stack, request):
    run = request.getfixturevalue(stack)
    m = run.mocks
    db_sg = m.by_name("db-sg").id
    host_sg = m.by_name("app-sg").id
    to_db = [r.inputs for r in m.resources_of(ING) if r.inputs["securityGroupId"] == db_sg]
    assert len(to_db) == 1 and to_db[0]["referencedSecurityGroupId"] == host_sg
    assert to_db[0]["fromPort"] == to_db[0]["toPort"] == 3306 and "cidrIpv4" not in to_db[0]
    from_host = [r.inputs for r in m.resources_of(EGR) if r.inputs.get("referencedSecurityGroupId") == db_sg]
    assert from_host[0]["securityGroupId"] == host_sg and from_host[0]["fromPort"] == 3306


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_db_subnets_are_isolated_and_host_waits_for_cluster_only(stack, request):
    run = request.getfixturevalue(stack)
    m = run.mocks
    isolated = [s.id for s in m.resources_of("aws:ec2/subnet:Subnet") if s.name.startswith("network-isolated-")]
    assert m.only("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == isolated
    deps = run.monitor.named("app-template").dependencies
    assert any(d.endswith("rds/cluster:Cluster::db-cluster") for d in deps), deps
    assert not any("clusterInstance:ClusterInstance" in d for d in deps), deps
    text = user_data(run)
    assert text.startswith("#cloud-config")
    assert run.outputs["master_user_secret_arn"] not in text  # the host reads no secret at all
    assert "AURORAKIT_DB_USER=app" in text                     # it signs IAM tokens as `app`


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_security_group_and_rule_is_described_and_no_inline_rules(stack, request):
    m = request.getfixturevalue(stack).mocks
    for r in m.resources_of("aws:ec2/securityGroup:SecurityGroup") + m.resources_of(ING) + m.resources_of(EGR):
        assert r.inputs.get("description"), r.name
    for r in m.resources_of("aws:ec2/securityGroup:SecurityGroup"):
        assert not r.inputs.get("ingress") and not r.inputs.get("egress"), r.name
    world = [r.name for r in m.resources_of(ING)
             if r.inputs.get("cidrIpv4") == "0.0.0.0/0" and r.inputs["fromPort"] in (22, 3306, 5432, 3389)]
    assert world == []


def test_random_password_variant_never_leaks_into_outputs_or_user_data():
    run = run_stack("dev", {"dbManagedPassword": False})
    password = run.mocks.only("random:index/randomPassword:RandomPassword").outputs["result"]
    assert password not in repr(run.outputs)
    assert password not in user_data(run)
    secret = run.mocks.only("aws:secretsmanager/secret:Secret")
    assert run.outputs["master_user_secret_arn"] == secret.outputs["arn"]


def test_postgres_prod_variant_runs():
    run = run_stack("prod", {"dbEngine": "aurora-postgresql", "dbEngineVersion": "16.6",
                             "dbBacktrackHours": 0, "dbProxy": True})
    m = run.mocks
    assert m.only("aws:rds/cluster:Cluster").inputs["port"] == 5432
    assert m.only("aws:rds/proxy:Proxy").inputs["engineFamily"] == "POSTGRESQL"
    proxy_sg = m.by_name("db-proxy-sg").id
    assert [r.inputs["fromPort"] for r in m.resources_of(ING) if r.inputs["securityGroupId"] == proxy_sg] == [5432]
