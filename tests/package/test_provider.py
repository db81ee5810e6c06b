"""Components constructed by the package's provider, as for another language: camelCase inputs,
enums as strings, every number a double (the wire), nested types as dicts and lists of dicts."""
import json

import pulumi
import pytest
from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from components import __version__
from components.provider import COMPONENTS, NAME
from preflight.mocks import install_mocks

from ..components.conftest import settle

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.fixture
def mocks():
    return install_mocks({"aws:region": "eu-west-1"}, stack="test")


@pytest.fixture(scope="module")
def provider():
    return ComponentProvider(list(COMPONENTS), NAME, version=__version__)


def construct(provider, name, component, inputs):
    return provider.construct(name, f"aurorakit:index:{component}", inputs, pulumi.ResourceOptions())


def test_dynamo_tables_from_nested_dicts(mocks, provider):
    inputs = {"kmsKeyArn": KEY, "deletionProtection": False, "tables": [{
        "name": "Thread", "partitionKey": {"name": "ForumName"}, "sortKey": {"name": "Subject"},
        "ttlAttribute": "ExpiresAt",
        "capacity": {"mode": "PROVISIONED", "read": 10.0, "write": 4.0, "autoscalingMax": 40.0},
        "indexes": [{"name": "ByLastPost", "partitionKey": {"name": "ForumName"},
                     "sortKey": {"name": "LastPostDateTime", "type": "N"}, "projection": "ALL"}]}]}
    state = settle(lambda: construct(provider, "forum", "DynamoTables", inputs).state)
    (table,) = mocks.resources_of("aws:dynamodb/table:Table")
    assert table.inputs["billingMode"] == "PROVISIONED" and table.inputs["readCapacity"] == 10
    assert table.inputs["globalSecondaryIndexes"][0]["name"] == "ByLastPost"
    assert {a["name"]: a["type"] for a in table.inputs["attributes"]} == {
        "ForumName": "S", "Subject": "S", "LastPostDateTime": "N"}
    assert len(mocks.resources_of("aws:appautoscaling/policy:Policy")) == 4  # table + index, read + write
    assert set(state) == {"tableNames", "tableArns", "indexArns", "kmsKeyArn", "kmsViaService"}


def test_a_link_from_connections_data(mocks, provider):
    inputs = {"source": {"securityGroupIds": ["sg-0a"], "label": "hosts"},
              "target": {"securityGroupIds": ["sg-0b", "sg-0c"], "defaultPort": 5432.0, "label": "db"}}
    state = settle(lambda: construct(provider, "link", "SecurityGroupLink", inputs).state)
    assert state["port"] == 5432 and isinstance(state["port"], int)
    rules = mocks.resources_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(r.inputs["securityGroupId"] for r in rules) == ["sg-0b", "sg-0c"]
    assert {r.inputs["fromPort"] for r in rules} == {5432}


def test_app_fleet_extra_statements_reach_the_role_verbatim(mocks, provider):
    """`extraStatements` is a list of maps of any value in the schema (IAM statements): keys such
    as Effect/Condition and their nested maps arrive untouched, not camel- or snake-cased."""
    statement = {"Sid": "ForumTables", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
                 "Resource": ["arn:aws:dynamodb:eu-west-1:123456789012:table/Forum"],
                 "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}}
    inputs = {"vpcId": "vpc-1", "subnetIds": ["subnet-1", "subnet-2"], "kmsKeyArn": KEY,
              "database": {"writerEndpoint": "w.example", "readerEndpoint": "r.example", "port": 3306.0,
                           "dbName": "app", "engine": "aurora-mysql", "clusterResourceId": "cluster-ABC"},
              "placement": "public", "ingressCidrs": ["198.51.100.7/32"], "extraStatements": [statement]}
    settle(lambda: construct(provider, "app", "AppFleet", inputs).state)
    (extra,) = [r for r in mocks.resources_of("aws:iam/rolePolicy:RolePolicy") if r.name == "app-extra-access"]
    assert json.loads(extra.inputs["policy"])["Statement"] == [statement]


def test_state_holds_only_serializable_outputs(mocks, provider):
    state = settle(lambda: construct(provider, "net", "Network", {
        "availabilityZones": ["eu-west-1a", "eu-west-1b"], "natMode": "none"}).state)
    assert state["availabilityZones"] == ["eu-west-1a", "eu-west-1b"] and "connections" not in state
    assert all(isinstance(v, (str, int, bool, list, dict, pulumi.Output)) for v in state.values())


def test_a_bad_enum_names_the_input_and_a_bad_value_our_check(mocks, provider):
    with pytest.raises(InputPropertyError, match="natMode"):
        construct(provider, "net", "Network", {"availabilityZones": ["eu-west-1a", "eu-west-1b"], "natMode": "two"})
    with pytest.raises(ComponentInitError, match=r"NetworkArgs.subnet_prefix_length = 29: must be at most 28"):
        construct(provider, "net", "Network", {"availabilityZones": ["eu-west-1a", "eu-west-1b"],
                                               "subnetPrefixLength": 29.0})
    with pytest.raises(ComponentInitError, match=r"AuroraClusterArgs.readers = 1.5: must be a whole number"):
        construct(provider, "db", "AuroraCluster", {"vpcId": "vpc-1", "subnetIds": ["s-1", "s-2"],
                                                    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                                                    "readers": 1.5})
    assert mocks.resources_of("aws:ec2/vpc:Vpc") == []


def test_python_link_forms_keywords_args_or_dict_but_not_both(mocks):
    from components import Connections, SecurityGroupLink, SecurityGroupLinkArgs

    a, b = Connections(["sg-0a"], label="a"), Connections(["sg-0b"], 3306, label="b")
    settle(lambda: (SecurityGroupLink("kw", source=a, target=b),
                    SecurityGroupLink("args", SecurityGroupLinkArgs(source=a, target=b, port=3307)),
                    SecurityGroupLink("dict", {"source": {"security_group_ids": ["sg-0a"]}, "target": b})))
    ports = sorted(r.inputs["fromPort"] for r in mocks.resources_of(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
    assert ports == [3306, 3306, 3307]
    with pytest.raises(ValueError, match="pass either args or source=/target=/port=, not both"):
        SecurityGroupLink("both", SecurityGroupLinkArgs(source=a, target=b), source=a)
    with pytest.raises(ValueError, match="source and target are required"):
        SecurityGroupLink("none", source=a)
