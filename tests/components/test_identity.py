"""The app's database identity under mocks: the bootstrap (Lambda + Data API + Invocation), its
role's exact documents, the RDS Proxy with end-to-end IAM, and the host's rds-db:connect ARNs."""
import base64
import gzip
import json

import pytest

from app.bootstrap.sql import digest, statements
from components import (
    AppFleet,
    AppFleetArgs,
    AuroraCluster,
    AuroraClusterArgs,
    DatabaseEndpoint,
    Network,
    NetworkArgs,
    SecurityGroupLink,
)
from components.db_bootstrap import code_digest, data_api_supported, package_sources

from .conftest import resolve, run_stack, settle

AZS = ("eu-west-1a", "eu-west-1b")
ACCOUNT = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:"


def build_db(**kw):
    return settle(lambda: AuroraCluster("db", AuroraClusterArgs(
        vpc_id="vpc-0123456789abcdef0", subnet_ids=["subnet-0a", "subnet-0b"], availability_zones=AZS, **kw)))


def doc(resource) -> list:
    return json.loads(resource.inputs["policy"])["Statement"]


def test_bootstrap_lambda_and_its_role_documents_exactly(mocks):
    db = build_db(engine="aurora-postgresql", app_db_user="webapp")
    cluster = mocks.only("aws:rds/cluster:Cluster")
    assert cluster.inputs["enableHttpEndpoint"] is True
    key = mocks.only("aws:kms/key:Key").outputs["arn"]
    secret = resolve(db.master_user_secret_arn)
    logs = mocks.by_name("db-bootstrap-logs")
    assert logs.inputs["name"] == f"/aws/lambda/{cluster.outputs['clusterIdentifier']}-bootstrap"
    assert logs.inputs["kmsKeyId"] == key and logs.inputs["retentionInDays"] == 30
    role = mocks.by_name("db-bootstrap-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
    assert doc(mocks.by_name("db-bootstrap-policy")) == [
        {"Sid": "ReadTheMasterSecretForTheDataApi", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret]},
        {"Sid": "DecryptItViaSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key],
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}},
        {"Sid": "RunSqlOnThisCluster", "Effect": "Allow",
         "Action": ["rds-data:BatchExecuteStatement", "rds-data:ExecuteStatement"],
         "Resource": [cluster.outputs["arn"]]},
        {"Sid": "WriteItsOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [f"{logs.outputs['arn']}:*"]}]
    fn = mocks.only("aws:lambda/function:Function").inputs
    assert (fn["runtime"], fn["handler"], fn["role"], fn["timeout"]) == (
        "python3.13", "bootstrap.handler.handler", role.outputs["arn"], 300)
    assert "vpcConfig" not in fn  # outside the VPC: the Data API needs no network path
    assert fn["environment"]["variables"] == {"CLUSTER_ARN": cluster.outputs["arn"], "SECRET_ARN": secret,
                                              "ENGINE": "aurora-postgresql", "DB_NAME": "app", "APP_USER": "webapp"}
    assert fn["loggingConfig"]["logGroup"] == logs.outputs["name"]
    run = mocks.only("aws:lambda/invocation:Invocation").inputs
    assert run["lifecycleScope"] == "CREATE_ONLY" and run["functionName"] == mocks.only(
        "aws:lambda/function:Function").outputs["name"]
    assert run["triggers"] == {
        "clusterResourceId": cluster.outputs["clusterResourceId"], "engine": "aurora-postgresql",
        "database": "app", "user": "webapp", "statements": digest(statements("aurora-postgresql", "app", "webapp")),
        "code": code_digest()}


def test_bootstrap_waits_for_the_writer_and_packages_the_sql_module():
    run = run_stack("dev")
    deps = run.monitor.named("db-bootstrap").dependencies
    assert any(d.endswith("clusterInstance:ClusterInstance::db-writer") for d in deps), deps
    assert set(package_sources()) == {"bootstrap/__init__.py", "bootstrap/sql.py", "bootstrap/handler.py"}


def test_no_app_user_means_no_bootstrap_and_no_data_api(mocks):
    build_db(app_db_user=None)
    assert "enableHttpEndpoint" not in mocks.only("aws:rds/cluster:Cluster").inputs
    assert mocks.resources_of("aws:lambda/function:Function") == []


@pytest.mark.parametrize("kw,message", [
    ({"app_db_user": "dbadmin"}, r"app_db_user = 'dbadmin': must not be the master user \(AuroraClusterArgs.master_username\)"),
    ({"app_db_user": "Bad-Name"}, "app_db_user = 'Bad-Name': 1-16 lowercase letters"),
    ({"app_db_user": "root"}, "app_db_user = 'root': .*reserved"),
    ({"engine_version": "8.0.mysql_aurora.3.05.2"},
     r"app_db_user = 'app': the RDS Data API .* \(AuroraClusterArgs.engine_version is 8.0.mysql_aurora.3.05.2\)"),
    ({"engine": "aurora-postgresql", "engine_version": "15.2"},
     r"the RDS Data API .* \(AuroraClusterArgs.engine_version is 15.2\)"),
    ({"proxy": True, "app_db_user": None}, "proxy = True: needs AuroraClusterArgs.app_db_user"),
])
def test_identity_args_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        AuroraClusterArgs(vpc_id="v", subnet_ids=[], availability_zones=AZS, **kw)


@pytest.mark.parametrize("engine,version,ok", [
    ("aurora-mysql", "8.0.mysql_aurora.3.07.0", True), ("aurora-mysql", "8.0.mysql_aurora.3.06.1", False),
    ("aurora-mysql", "8.0.mysql_aurora.3.08.2", True), ("aurora-mysql", "5.7.mysql_aurora.2.12.4", False),
    ("aurora-postgresql", "16.1", True), ("aurora-postgresql", "16.0", False), ("aurora-postgresql", "13.11", True),
    ("aurora-postgresql", "14.7", False), ("aurora-postgresql", "17.4", True), ("aurora-postgresql", "18", True),
    ("aurora-postgresql", "16", False), ("aurora-postgresql", "12.20", False),
])
def test_data_api_engine_versions(engine, version, ok):
    assert data_api_supported(engine, version) is ok


def wired(proxy: bool, readers: int = 1):
    """A composition that hands the proxy to the host (what components/stack.py should do)."""
    net = Network("net", NetworkArgs(availability_zones=AZS, nat_mode="none"))
    db = AuroraCluster("db", AuroraClusterArgs(vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
                                               availability_zones=AZS, readers=readers, proxy=proxy))
    host = AppFleet("app", AppFleetArgs(
        vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids, kms_key_arn=db.kms_key_arn,
        load_balancer_subnet_ids=net.public_subnet_ids, load_balancer_allow_http=True,
        database=db.database_endpoint))
    SecurityGroupLink("app-to-db", source=host.connections, target=db.connections)
    if proxy:
        SecurityGroupLink("app-to-proxy", source=host.connections, target=db.proxy_connections)
    return db, host


def env_of(mocks) -> dict:
    import yaml
    text = gzip.decompress(base64.b64decode(mocks.only("aws:ec2/launchTemplate:LaunchTemplate").inputs["userData"]))
    files = {f["path"]: f for f in yaml.safe_load(text)["write_files"]}
    return dict(line.split("=", 1) for line in files["/etc/aurorakit/app.env"]["content"].splitlines())


def test_proxy_shape_end_to_end_iam_and_the_hosts_connect_arns(mocks):
    db, host = settle(lambda: wired(proxy=True))
    cluster = mocks.only("aws:rds/cluster:Cluster").outputs
    proxy = mocks.only("aws:rds/proxy:Proxy")
    assert proxy.inputs["defaultAuthScheme"] == "IAM_AUTH" and "auths" not in proxy.inputs
    assert proxy.inputs["requireTls"] is True
    role = mocks.by_name("db-proxy-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "rds.amazonaws.com"},
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    assert doc(mocks.by_name("db-proxy-connect")) == [
        {"Sid": "IamDbAuthToTheClusterAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
         "Resource": [f"{ACCOUNT}{cluster['clusterResourceId']}/app"]}]
    ro = mocks.only("aws:rds/proxyEndpoint:ProxyEndpoint")
    assert ro.inputs["targetRole"] == "READ_ONLY" and ro.inputs["dbProxyName"] == proxy.outputs["name"]
    assert ro.inputs["vpcSecurityGroupIds"] == proxy.inputs["vpcSecurityGroupIds"]
    prx = proxy.outputs["arn"].rsplit(":", 1)[1]
    assert prx.startswith("prx-") and resolve(db.proxy_resource_id) == prx
    # the host: connect as `app` on the cluster and, in a policy of its own, on the proxy (and
    # publish its health metrics, tests/components/test_app_fleet.py), nothing else; no secret
    assert doc(mocks.by_name("app-db-access"))[0] == {
        "Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
        "Resource": [f"{ACCOUNT}{cluster['clusterResourceId']}/app"]}
    assert [s["Sid"] for s in doc(mocks.by_name("app-db-access"))] == ["IamDbAuthAsAppUser",
                                                                      "PublishTheAppsDbHealthMetrics"]
    assert doc(mocks.by_name("app-proxy-access")) == [
        {"Sid": "IamDbAuthToTheProxyAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
         "Resource": [f"{ACCOUNT}{prx}/app"]}]
    assert mocks.by_name("app-proxy-access").inputs["role"] == mocks.by_name("app-role").id
    env = env_of(mocks)
    assert (env["AURORAKIT_DB_WRITER_HOST"], env["AURORAKIT_DB_READER_HOST"], env["AURORAKIT_DB_USER"]) == (
        proxy.outputs["endpoint"], ro.outputs["endpoint"], "app")
    # SG links: host -> proxy and proxy -> cluster on 3306 (and host -> cluster for direct use)
    sg = {r.name: r.id for r in mocks.resources_of("aws:ec2/securityGroup:SecurityGroup")}
    ingress = {(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"])
               for r in mocks.resources_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs.get("referencedSecurityGroupId")}
    assert {(sg["db-proxy-sg"], sg["app-sg"], 3306), (sg["db-sg"], sg["db-proxy-sg"], 3306),
            (sg["db-sg"], sg["app-sg"], 3306)} <= ingress
    egress = {(r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"])
              for r in mocks.resources_of("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert {(sg["app-sg"], sg["db-proxy-sg"], 3306), (sg["db-proxy-sg"], sg["db-sg"], 3306)} <= egress
    assert [e for e in egress if e[0] == sg["db-proxy-sg"]] == [(sg["db-proxy-sg"], sg["db-sg"], 3306)]


def test_without_readers_the_proxy_has_no_read_only_endpoint_and_reads_use_its_default(mocks):
    settle(lambda: wired(proxy=True, readers=0))
    assert mocks.resources_of("aws:rds/proxyEndpoint:ProxyEndpoint") == []
    env = env_of(mocks)
    assert env["AURORAKIT_DB_READER_HOST"] == env["AURORAKIT_DB_WRITER_HOST"] == \
        mocks.only("aws:rds/proxy:Proxy").outputs["endpoint"]


def test_without_the_proxy_the_host_uses_the_cluster_and_connects_only_there(mocks):
    db, _ = settle(lambda: wired(proxy=False))
    assert mocks.resources_of("aws:rds/proxy:Proxy") == [] and db.proxy_resource_id is None
    cluster = mocks.only("aws:rds/cluster:Cluster").outputs
    assert doc(mocks.by_name("app-db-access"))[0]["Resource"] == [f"{ACCOUNT}{cluster['clusterResourceId']}/app"]
    assert "app-proxy-access" not in {p.name for p in mocks.resources_of("aws:iam/rolePolicy:RolePolicy")}
    env = env_of(mocks)
    assert (env["AURORAKIT_DB_WRITER_HOST"], env["AURORAKIT_DB_READER_HOST"]) == (
        cluster["endpoint"], cluster["readerEndpoint"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_role_but_the_bootstrap_may_read_the_master_secret(stack):
    run = run_stack(stack, {"dbProxy": True})
    secret = run.outputs["master_user_secret_arn"]
    readers = sorted(p.name for p in run.mocks.resources_of("aws:iam/rolePolicy:RolePolicy")
                     if secret in p.inputs["policy"] or "secretsmanager" in p.inputs["policy"])
    assert readers == ["db-bootstrap-policy"]


def test_database_endpoint_proxy_fields_come_together():
    base = dict(writer_endpoint="w", reader_endpoint="r", port=3306, db_name="app", engine="aurora-mysql",
                cluster_resource_id="cluster-X")
    with pytest.raises(ValueError, match="proxy_endpoint and proxy_resource_id: set both"):
        DatabaseEndpoint(**base, proxy_endpoint="p")
    with pytest.raises(ValueError, match="proxy_read_only_endpoint: needs proxy_endpoint"):
        DatabaseEndpoint(**base, proxy_read_only_endpoint="ro")


def test_hosts_launch_once_they_may_connect_to_the_proxy(recording):
    settle(lambda: wired(proxy=True))
    _, monitor = recording
    waits = {d.split("::")[-1] for d in monitor.named("app-fleet").dependencies}
    assert {"app-db-access", "app-proxy-access"} <= waits, waits
