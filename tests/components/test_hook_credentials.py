"""The cluster's before_delete hook calls AWS with the provider's settings (aws:region, aws:profile,
aws:assumeRoles, shared files …), checks it acts in the cluster's account, and refuses clearly
what it cannot follow (components/aws_session.py, components/db_hooks.py)."""
import asyncio
import json

import boto3
import pulumi
import pytest
from moto import mock_aws

from preflight.mocks import install_mocks

from .conftest import settle

REGION = "eu-west-1"
OTHER = "111122223333"


@pytest.fixture
def aws(monkeypatch):
    """moto with one cluster (a writer and an autoscaled reader) in account 123456789012."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("rds", region_name=REGION)
        cluster = client.create_db_cluster(DBClusterIdentifier="db-1", Engine="aurora-mysql",
                                           MasterUsername="dbadmin", MasterUserPassword="p" * 16)["DBCluster"]
        for ident in ("db-writer", "application-autoscaling-0f1e2d3c"):
            client.create_db_instance(DBInstanceIdentifier=ident, DBClusterIdentifier="db-1",
                                      Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
        yield client, cluster


def run_hook(cluster, config: dict):
    """The hook as the program registers it, with `config` as the stack's config, run on delete."""
    from components.db_hooks import ManagedInstances, unmanaged_instances_hook

    install_mocks({"aws:region": REGION, **config}, stack="test")
    managed = ManagedInstances()
    hook = settle(lambda: unmanaged_instances_hook("db", managed, poll=0))
    managed._known(["db-writer"])
    args = pulumi.ResourceHookArgs(urn="urn:pulumi:test::aurorakit::aws:rds/cluster:Cluster::db-cluster",
                                   id="db-1", name="db-cluster", type="aws:rds/cluster:Cluster",
                                   old_outputs={"clusterIdentifier": "db-1", "arn": cluster["DBClusterArn"]})
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(hook.callback(args))
    finally:
        loop.close()


def members(client):
    return sorted(m["DBInstanceIdentifier"] for m in
                  client.describe_db_clusters(DBClusterIdentifier="db-1")["DBClusters"][0]["DBClusterMembers"])


def test_the_hook_assumes_the_providers_roles_in_order(aws):
    """aws:assumeRoles is followed: a chain that ends in another account is refused (before the
    fix the hook used the environment's credentials and deleted in whatever account they were)."""
    client, cluster = aws
    chain = [{"roleArn": "arn:aws:iam::123456789012:role/jump", "sessionName": "ops"},
             {"roleArn": f"arn:aws:iam::{OTHER}:role/deploy", "externalId": "x-1", "duration": "1h"}]
    with pytest.raises(RuntimeError, match=f"credentials are for account {OTHER}, the cluster is in 123456789012"):
        run_hook(cluster, {"aws:assumeRoles": json.dumps(chain)})
    assert members(client) == ["application-autoscaling-0f1e2d3c", "db-writer"]   # nothing deleted
    run_hook(cluster, {"aws:assumeRoles": json.dumps(chain[:1])})   # the cluster's own account
    assert members(client) == ["db-writer"]


def test_the_clients_act_as_the_last_assumed_role(aws):
    from components.aws_session import AwsSettings, Clients

    settings = AwsSettings(region=REGION, assume_roles=(
        {"roleArn": "arn:aws:iam::123456789012:role/jump"},
        {"roleArn": f"arn:aws:iam::{OTHER}:role/deploy", "sessionName": "pulumi"}))
    who = Clients(settings, None).client("sts").get_caller_identity()
    assert who["Account"] == OTHER and who["Arn"].endswith(":assumed-role/deploy/pulumi")
    assert Clients(settings, "eu-central-1").client("rds").meta.region_name == "eu-central-1"   # the cluster's


def test_the_hook_uses_the_providers_profile_and_shared_credentials_file(aws, tmp_path, monkeypatch):
    from components.aws_session import AwsSettings, Clients

    creds = tmp_path / "credentials"
    creds.write_text("[ops]\naws_access_key_id = AKIAOPSPROFILE000001\naws_secret_access_key = s3cr3t\n")
    install_mocks({"aws:region": REGION, "aws:profile": "ops",
                   "aws:sharedCredentialsFiles": json.dumps([str(creds)])}, stack="test")
    settings = AwsSettings.from_config()
    assert (settings.profile, settings.credentials_file) == ("ops", str(creds))
    assert "s3cr3t" not in repr(settings)
    clients = Clients(settings, REGION)
    assert clients.session.get_credentials().access_key == "AKIAOPSPROFILE000001"   # not the environment's
    client, cluster = aws
    run_hook(cluster, {"aws:profile": "ops", "aws:sharedCredentialsFiles": json.dumps([str(creds)])})
    assert members(client) == ["db-writer"]


def test_settings_it_cannot_follow_stop_the_hook_with_one_message(aws):
    client, cluster = aws
    with pytest.raises(RuntimeError, match=r"db: the hook .* cannot follow the AWS provider's settings "
                                           r"\(aws:noProxy set\); unset them"):
        run_hook(cluster, {"aws:noProxy": "10.0.0.0/8"})
    with pytest.raises(RuntimeError, match=r"aws:sharedConfigFiles lists 2 files"):
        run_hook(cluster, {"aws:sharedConfigFiles": json.dumps(["/a", "/b"])})
    assert members(client) == ["application-autoscaling-0f1e2d3c", "db-writer"]


@pytest.mark.parametrize("key,value,problem", [
    ("assumeRoles", json.dumps(["arn:aws:iam::123456789012:role/ops"]), "aws:assumeRoles (an object or a list"),
    ("endpoints", json.dumps("https://rds.example.internal"), "aws:endpoints (an object or a list"),
    ("assumeRoleWithWebIdentity", "{not json", "aws:assumeRoleWithWebIdentity (not valid JSON)")])
def test_malformed_provider_settings_are_named_not_raised(key, value, problem):
    """A shape the provider would refuse too is one named problem (the hook then stops with it),
    never a bare ValueError from inside the settings."""
    from components.aws_session import AwsSettings

    install_mocks({"aws:region": REGION, f"aws:{key}": value}, stack="test")
    settings = AwsSettings.from_config()
    assert settings.problem is not None and problem in settings.problem


def test_connection_settings_reach_the_clients():
    from components.aws_session import AwsSettings, Clients

    install_mocks({"aws:region": REGION, "aws:stsRegion": "us-east-1", "aws:useFipsEndpoint": "true",
                   "aws:endpoints": json.dumps([{"rds": "https://rds.example.internal"}]),
                   "aws:httpsProxy": "http://proxy.example.internal:3128"}, stack="test")
    settings = AwsSettings.from_config()
    assert settings.problem is None
    clients = Clients(settings, None)
    rds, sts = clients.client("rds"), clients.client("sts")
    assert rds.meta.endpoint_url == "https://rds.example.internal" and rds.meta.region_name == REGION
    assert sts.meta.region_name == "us-east-1" and "fips" in sts.meta.endpoint_url
    assert rds.meta.config.proxies == {"https": "http://proxy.example.internal:3128"}


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("15m", 900), ("1h30m", 5400), ("900s", 900), (None, None)])
def test_durations(text, seconds):
    from components.aws_session import duration_seconds

    assert duration_seconds(text) == seconds


def test_role_request_maps_the_providers_fields():
    from components.aws_session import role_request

    assert role_request({"roleArn": "arn:aws:iam::123456789012:role/r", "externalId": "e", "duration": "20m",
                         "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "tags": {"team": "db"},
                         "transitiveTagKeys": ["team"], "sourceIdentity": "me"}) == {
        "RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "aurorakit-hook", "ExternalId": "e",
        "DurationSeconds": 1200, "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "Tags": [{"Key": "team", "Value": "db"}], "TransitiveTagKeys": ["team"], "SourceIdentity": "me"}
