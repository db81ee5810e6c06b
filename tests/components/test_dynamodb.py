"""DynamoTables under mocks: table hardening per configuration (prod-like, dev-like, on-demand),
keys/indexes/TTL, auto scaling, outputs, and the app role's IAM statements exactly."""
from __future__ import annotations

import json

import pytest

from app import forum_schema as schema
from components.dynamodb import (Capacity, DynamoTables, DynamoTablesArgs, GlobalIndex, Key, TableSpec,
                                 app_access_statements, forum_table_specs)
from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor

from .conftest import resolve, settle

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
TABLE = "aws:dynamodb/table:Table"
TARGET, POLICY = "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy"
ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/aurorakit-test-forum-"
PROD = dict(capacity=Capacity("PROVISIONED", 5, 5, autoscaling_max=50, autoscaling_target=60), protect=True,
            tags={"team": "forum"})
DEV = dict(capacity=Capacity("PROVISIONED", 1, 1), deletion_protection=False)


@pytest.fixture
def monitor():
    mocks = RecordingMocks()
    mon = RecordingMonitor(mocks, preview=False)
    install_mocks({"aws:region": "eu-west-1"}, stack="test", mocks=mocks, monitor=mon)
    return mon


def build(name="forum", tables=None, **kw) -> DynamoTables:
    return settle(lambda: DynamoTables(name, DynamoTablesArgs(
        tables=forum_table_specs() if tables is None else tables, kms_key_arn=KEY_ARN, **kw)))


def tables(monitor) -> dict:
    return {r.name: r.inputs for r in monitor.mocks.resources_of(TABLE)}


def test_prod_like_tables_are_hardened_protected_and_auto_scaled(monitor):
    build(**PROD)
    got = tables(monitor)
    assert sorted(got) == ["forum-Comment", "forum-Forum", "forum-Thread"]
    for name, t in got.items():
        logical = name.split("-", 1)[1]
        assert t["name"] == f"aurorakit-test-forum-{logical}"
        assert t["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY_ARN}
        assert t["pointInTimeRecovery"] == {"enabled": True}
        assert t["deletionProtectionEnabled"] is True
        assert (t["billingMode"], t["readCapacity"], t["writeCapacity"]) == ("PROVISIONED", 5, 5)
        assert t["tags"] == {"team": "forum", "Name": t["name"]}
        reg = monitor.named(name)
        assert reg.protect is True
        assert reg.ignore_changes == ["readCapacity", "writeCapacity", "globalSecondaryIndexes[*].readCapacity",
                                      "globalSecondaryIndexes[*].writeCapacity"]
    # target tracking on reads and writes of every table and of the index
    targets = {(r.inputs["resourceId"], r.inputs["scalableDimension"]): r.inputs
               for r in monitor.mocks.resources_of(TARGET)}
    scaled = [f"table/aurorakit-test-forum-{t}" for t in schema.TABLES]
    scaled.append("table/aurorakit-test-forum-Comment/index/PostedBy-index")
    expected = {(rid, f"dynamodb:{'index' if '/index/' in rid else 'table'}:{d}CapacityUnits")
                for rid in scaled for d in ("Read", "Write")}
    assert set(targets) == expected
    assert all((t["serviceNamespace"], t["minCapacity"], t["maxCapacity"]) == ("dynamodb", 5, 50)
               for t in targets.values())
    policies = monitor.mocks.resources_of(POLICY)
    assert len(policies) == len(expected)
    for p in policies:
        cfg = p.inputs["targetTrackingScalingPolicyConfiguration"]
        dim = "Read" if "Read" in p.inputs["scalableDimension"] else "Write"
        assert (p.inputs["policyType"], cfg["targetValue"]) == ("TargetTrackingScaling", 60)
        assert cfg["predefinedMetricSpecification"] == {"predefinedMetricType": f"DynamoDB{dim}CapacityUtilization"}
        assert (p.inputs["resourceId"], p.inputs["scalableDimension"]) in expected


def test_dev_like_tables_are_free_tier_sized_without_scaling_or_protection(monitor):
    build(**DEV)
    for name, t in tables(monitor).items():
        assert (t["billingMode"], t["readCapacity"], t["writeCapacity"]) == ("PROVISIONED", 1, 1)
        assert t["deletionProtectionEnabled"] is False  # the explicit dev opt-out
        assert t["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEY_ARN}  # never relaxed
        assert t["pointInTimeRecovery"] == {"enabled": True}
        reg = monitor.named(name)
        assert reg.protect is False and reg.ignore_changes == []
    index = tables(monitor)["forum-Comment"]["globalSecondaryIndexes"][0]
    assert (index["readCapacity"], index["writeCapacity"]) == (1, 1)
    assert monitor.mocks.resources_of(TARGET) == [] and monitor.mocks.resources_of(POLICY) == []


def test_defaults_are_on_demand_encrypted_recoverable_and_deletion_protected(monitor):
    build()
    for name, t in tables(monitor).items():
        assert t["billingMode"] == "PAY_PER_REQUEST"
        assert "readCapacity" not in t and "writeCapacity" not in t
        assert all("readCapacity" not in i for i in t.get("globalSecondaryIndexes", []))
        assert t["deletionProtectionEnabled"] is True and t["pointInTimeRecovery"] == {"enabled": True}
        assert t["serverSideEncryption"]["kmsKeyArn"] == KEY_ARN
        assert monitor.named(name).protect is False


def test_point_in_time_recovery_is_an_explicit_opt_out(monitor):
    build(point_in_time_recovery=False)
    assert {t["pointInTimeRecovery"]["enabled"] for t in tables(monitor).values()} == {False}


def test_forum_keys_index_and_ttl_follow_the_schema(monitor):
    build()
    got = tables(monitor)
    assert (got["forum-Forum"]["hashKey"], got["forum-Forum"].get("rangeKey")) == ("Name", None)
    assert (got["forum-Thread"]["hashKey"], got["forum-Thread"]["rangeKey"]) == ("ForumName", "Subject")
    comment = got["forum-Comment"]
    assert (comment["hashKey"], comment["rangeKey"]) == ("Id", "CommentDateTime")
    assert comment["attributes"] == [{"name": n, "type": "S"} for n in ("Id", "CommentDateTime", "PostedBy")]
    assert comment["globalSecondaryIndexes"] == [{
        "name": "PostedBy-index", "projectionType": "INCLUDE", "nonKeyAttributes": ["Message"],
        "keySchemas": [{"attributeName": "PostedBy", "keyType": "HASH"},
                       {"attributeName": "CommentDateTime", "keyType": "RANGE"}]}]
    assert all(t["ttl"] == {"enabled": False} for t in got.values())


def test_ttl_number_keys_and_a_per_table_capacity(monitor):
    spec = TableSpec("Session", Key("UserId", "N"), Key("StartedAt", "N"),
                     (GlobalIndex("Device-index", Key("Device"), projection="ALL"),),
                     ttl_attribute="ExpiresAt", capacity=Capacity("PROVISIONED", 2, 3))
    build(name="app-sessions", tables=[spec], name_prefix="shared-")
    t = tables(monitor)["app-sessions-Session"]
    assert t["name"] == "shared-Session" and t["ttl"] == {"attributeName": "ExpiresAt", "enabled": True}
    assert t["attributes"] == [{"name": "UserId", "type": "N"}, {"name": "StartedAt", "type": "N"},
                               {"name": "Device", "type": "S"}]
    assert (t["billingMode"], t["readCapacity"], t["writeCapacity"]) == ("PROVISIONED", 2, 3)
    assert t["globalSecondaryIndexes"][0]["keySchemas"] == [{"attributeName": "Device", "keyType": "HASH"}]


def test_outputs_name_every_table_and_index_for_iam(monitor):
    tbl = build()
    names = {k: resolve(v) for k, v in tbl.table_names.items()}
    assert names == {t: f"aurorakit-test-forum-{t}" for t in schema.TABLES}
    arns = {k: resolve(v) for k, v in tbl.table_arns.items()}
    assert arns == {r.name.split("-", 1)[1]: r.outputs["arn"] for r in monitor.mocks.resources_of(TABLE)}
    assert resolve(tbl.index_arns["Comment"]["PostedBy-index"]) == ARN + "Comment/index/PostedBy-index"
    assert tbl.index_arns["Forum"] == {} and resolve(tbl.kms_key_arn) == KEY_ARN
    component = next(r for r in monitor.registrations if r.type == "aurorakit:index:DynamoTables")
    assert component.name == "forum"


def test_table_arns_are_known_in_preview():
    mocks = RecordingMocks()
    install_mocks({"aws:region": "eu-west-1"}, stack="test", preview=True, mocks=mocks,
                  monitor=RecordingMonitor(mocks, preview=True))
    seen = {}

    def program():
        tbl = DynamoTables("forum", DynamoTablesArgs(tables=forum_table_specs(), kms_key_arn=KEY_ARN))
        return app_access_statements(tbl).apply(lambda s: seen.setdefault("s", s))
    settle(program)
    assert seen["s"][0]["Resource"] == [ARN + "Comment"]  # a preview can policy-check the role


def test_app_statements_are_exactly_the_apps_calls_on_these_tables(monitor):
    statements = resolve(app_access_statements(build()))
    assert statements == [
        {"Sid": "DynamoDbPutItemQuery", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Query"],
         "Resource": [ARN + "Comment"]},
        {"Sid": "DynamoDbUpdateItem", "Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
         "Resource": [ARN + "Forum", ARN + "Thread"]},
        {"Sid": "DynamoDbQuery", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": [ARN + "Comment/index/PostedBy-index"]},
        {"Sid": "DynamoDbTableKey", "Effect": "Allow",
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
         "Resource": [KEY_ARN], "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}}]
    text = json.dumps(statements)
    assert "*" not in text and "dynamodb:Scan" not in text and "BatchWriteItem" not in text


def test_app_statements_refuse_tables_without_the_forum_model(monitor):
    other = build(tables=[TableSpec("Comment", Key("Id"))])
    with pytest.raises(ValueError, match="no 'Thread' table"):
        app_access_statements(other)


@pytest.mark.parametrize("make,message", [
    (lambda: Capacity("ON_DEMAND"), "Capacity.mode = 'ON_DEMAND': allowed values are PAY_PER_REQUEST, PROVISIONED"),
    (lambda: Capacity("PROVISIONED", read=0), "Capacity.read = 0: must be between 1 and 40000"),
    (lambda: Capacity(autoscaling_max=10), "Capacity.autoscaling_max = 10: only with Capacity.mode PROVISIONED"),
    (lambda: Capacity("PROVISIONED", 5, 8, autoscaling_max=6),
     "Capacity.autoscaling_max = 6: must be 0 (off) or max(Capacity.read, Capacity.write)=8..40000"),
    (lambda: Capacity("PROVISIONED", autoscaling_max=10, autoscaling_target=95),
     "Capacity.autoscaling_target = 95: must be between 20 and 90"),
    (lambda: Key("Id", "L"), "Key.type 'L' (attribute Id): allowed values are S, N, B"),
    (lambda: GlobalIndex("by-x", Key("X"), projection="INCLUDE"), "required with projection INCLUDE"),
    (lambda: GlobalIndex("by-x", Key("X"), projection="SOME"), "GlobalIndex.projection 'SOME'"),
    (lambda: TableSpec("T", Key("Id"), indexes=(GlobalIndex("by-id", Key("Id", "N")),)),
     "attribute Id is used as S and as N"),
    (lambda: TableSpec("bad name", Key("Id")), "TableSpec.name 'bad name'"),
    (lambda: DynamoTablesArgs(tables=[TableSpec("T", Key("Id"))] * 2, kms_key_arn=KEY_ARN),
     "at least one table, logical names unique"),
])
def test_bad_arguments_get_one_clear_error(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)


def test_a_prefix_that_makes_an_invalid_table_name_is_refused(monitor):
    with pytest.raises(ValueError, match=r"table name 'a/Forum' must be 3..255"):
        DynamoTables("forum", DynamoTablesArgs(tables=forum_table_specs()[:1], kms_key_arn=KEY_ARN,
                                               name_prefix="a/"))
