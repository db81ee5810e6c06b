"""Another program importing the components (the README example): two full sets side by side."""
from components import AppFleet, AppFleetArgs, AuroraCluster, AuroraClusterArgs, Network, NetworkArgs, SecurityGroupLink

from .conftest import resolve, settle

AZS = ("eu-west-1a", "eu-west-1b")
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def environment(prefix: str):
    net = Network(f"{prefix}-net", NetworkArgs(availability_zones=AZS, nat_mode="single"))
    db = AuroraCluster(f"{prefix}-db", AuroraClusterArgs(
        vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids, availability_zones=AZS,
        engine="aurora-postgresql", readers=1))
    host = AppFleet(f"{prefix}-app", AppFleetArgs(
        vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids, kms_key_arn=db.kms_key_arn,
        load_balancer_subnet_ids=net.public_subnet_ids, certificate_arn=CERT, s3_endpoint_id=net.s3_endpoint_id,
        database=db.database_endpoint))
    SecurityGroupLink(f"{prefix}-app-to-db", source=host.connections, target=db.connections)
    return host


def test_two_environments_in_one_program(mocks):
    blue, green = settle(lambda: (environment("blue"), environment("green")))
    custom = [(r.type, r.name) for r in mocks.resources if r.custom]
    assert len(custom) == len(set(custom))
    assert all(name.startswith(("blue-", "green-")) for _, name in custom)
    assert len(mocks.resources_of("aws:rds/cluster:Cluster")) == 2
    assert resolve(blue.url) != resolve(green.url)
    ports = {r.inputs["fromPort"] for r in mocks.resources_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.name.endswith("app-to-db-ingress")}
    assert ports == {5432}


def test_component_tags_are_checked_like_the_stacks_tags():
    """A tag AWS refuses (or one granting the policy pack's aurorakit: opt-ins to every resource)
    is an argument error before anything is created; the stack's own keys may come in."""
    import pytest

    from components import NetworkArgs
    from components.knobs import ArgsError

    azs = ("eu-west-1a", "eu-west-1b")
    base = {"Project": "shop", "Stack": "prod", "ManagedBy": "pulumi", "Name": "x", "team": "db"}
    assert NetworkArgs(availability_zones=azs, tags=base).tags == base
    for tags, text in (({"aws:cloudformation:x": "1"}, "the prefixes aws:, aurorakit: are reserved"),
                       ({"aurorakit:allow-plain-http": "true"}, "are reserved"),
                       ({"team": "db<script>"}, "only letters, digits, spaces"),
                       ({"k" * 129: "v"}, "keys are 1-128 characters"),
                       ({f"t{i}": "v" for i in range(45)}, "at most 44 tags")):
        with pytest.raises(ArgsError, match="NetworkArgs.tags") as info:
            NetworkArgs(availability_zones=azs, tags=tags)
        assert text in str(info.value), str(info.value)
        with pytest.raises(ArgsError, match="AuroraClusterArgs.tags"):
            AuroraClusterArgs(vpc_id="v", subnet_ids=["a", "b"], availability_zones=azs, tags=tags)
