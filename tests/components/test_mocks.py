"""RecordingMocks: AWS-like computed outputs, invokes, recording helpers."""
import re

import pulumi
import pulumi_aws as aws
import pytest

from preflight.mocks import RecordingMocks, install_mocks


@pulumi.runtime.test
def test_vpc_subnet_ids_and_arns_look_like_aws(mocks):
    vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
    subnet = aws.ec2.Subnet("s", vpc_id=vpc.id, cidr_block="10.0.0.0/24",
                            availability_zone="eu-west-1b")

    def check(args):
        vpc_id, arn, subnet_id, subnet_vpc = args
        assert re.fullmatch(r"vpc-0[0-9a-f]{16}", vpc_id)
        assert arn == f"arn:aws:ec2:eu-west-1:123456789012:vpc/{vpc_id}"
        assert re.fullmatch(r"subnet-0[0-9a-f]{16}", subnet_id)
        assert subnet_vpc == vpc_id
        rec = mocks.only("aws:ec2/subnet:Subnet")
        assert rec.inputs["cidrBlock"] == "10.0.0.0/24"   # camelCase inputs recorded
        assert rec.outputs["availabilityZone"] == "eu-west-1b"
    return pulumi.Output.all(vpc.id, vpc.arn, subnet.id, subnet.vpc_id).apply(check)


@pulumi.runtime.test
def test_cluster_endpoints_port_and_managed_secret(mocks):
    key = aws.kms.Key("k", enable_key_rotation=True)
    pg = aws.rds.Cluster("db", engine="aurora-postgresql", manage_master_user_password=True,
                         master_username="appadmin", master_user_secret_kms_key_id=key.arn)
    my = aws.rds.Cluster("db2", engine="aurora-mysql", master_username="appadmin",
                         master_password="not-managed-here")

    def check(args):
        endpoint, reader, port, secrets, key_arn, my_port, my_secrets = args
        assert re.fullmatch(r"db-[0-9a-f]{7}\.cluster-[0-9a-f]{12}\.eu-west-1\.rds\.amazonaws\.com",
                            endpoint)
        assert ".cluster-ro-" in reader and reader.split(".")[0] == endpoint.split(".")[0]
        assert port == 5432 and my_port == 3306
        assert secrets[0]["secret_arn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-")
        assert secrets[0]["kms_key_id"] == key_arn and secrets[0]["secret_status"] == "active"
        assert my_secrets == []
    return pulumi.Output.all(pg.endpoint, pg.reader_endpoint, pg.port, pg.master_user_secrets,
                             key.arn, my.port, my.master_user_secrets).apply(check)


@pulumi.runtime.test
def test_instance_public_ip_only_when_requested(mocks):
    public = aws.ec2.Instance("pub", ami="ami-1", instance_type="t3.micro",
                              associate_public_ip_address=True)
    private = aws.ec2.Instance("priv", ami="ami-1", instance_type="t3.micro")

    def check(args):
        pub_ip, pub_dns, priv_ip, priv_id = args
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", pub_ip) and pub_dns.startswith("ec2-")
        assert priv_ip == "" and re.fullmatch(r"i-0[0-9a-f]{16}", priv_id)
    return pulumi.Output.all(public.public_ip, public.public_dns, private.public_ip,
                             private.id).apply(check)


def test_ids_are_deterministic():
    a, b = RecordingMocks(), RecordingMocks()
    from pulumi.runtime.mocks import MockResourceArgs
    args = MockResourceArgs("aws:ec2/vpc:Vpc", "v", {"cidrBlock": "10.0.0.0/16"}, custom=True)
    assert a.new_resource(args) == b.new_resource(args)


@pulumi.runtime.test
def test_invokes_answered(mocks):
    azs = aws.get_availability_zones(state="available")
    ami = aws.ssm.get_parameter(
        name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    ident = aws.get_caller_identity()
    assert azs.names == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert re.fullmatch(r"ami-0[0-9a-f]{16}", ami.value)
    assert ident.account_id == "123456789012"
    assert aws.get_partition().partition == "aws"
    assert aws.get_region().region == "eu-west-1"
    assert [c.token for c in mocks.calls][:2] == [
        "aws:index/getAvailabilityZones:getAvailabilityZones", "aws:ssm/getParameter:getParameter"]


def test_unknown_invoke_is_a_clear_error(mocks):
    with pytest.raises(Exception, match="no answer for invoke 'aws:ec2/getVpc:getVpc'"):
        aws.ec2.get_vpc(default=True)


def test_only_reports_counts(mocks):
    with pytest.raises(AssertionError, match="expected exactly one aws:ec2/vpc:Vpc, found 0"):
        mocks.only("aws:ec2/vpc:Vpc")


def test_install_uses_config_region_and_sets_config():
    mocks = install_mocks({"aws:region": "us-east-2", "aurorakit:x": "1"}, stack="s")
    assert mocks.region == "us-east-2"
    assert pulumi.Config("aurorakit").get("x") == "1"
    assert pulumi.get_stack() == "s"


@pulumi.runtime.test
def test_first_cluster_instance_is_the_writer_and_zone_ids_follow_the_region(mocks):
    cluster = aws.rds.Cluster("c", engine="aurora-mysql")
    first = aws.rds.ClusterInstance("w", cluster_identifier=cluster.id, instance_class="db.r7g.large",
                                    engine="aurora-mysql")
    second = aws.rds.ClusterInstance("r", cluster_identifier=cluster.id, instance_class="db.r7g.large",
                                     engine="aurora-mysql", opts=pulumi.ResourceOptions(depends_on=[first]))
    subnet = aws.ec2.Subnet("s", vpc_id="vpc-1", cidr_block="10.0.0.0/24", availability_zone="eu-west-1c")

    def check(args):
        assert args[:2] == [True, False]
        assert args[2] == "euw1-az3"
    return pulumi.Output.all(first.writer, second.writer, subnet.availability_zone_id).apply(check)
