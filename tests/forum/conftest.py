"""DynamoDB served by moto, with the forum's tables created from the component's own specs
(components.dynamodb.forum_table_specs), so the app is tested against the tables we deploy."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from app.forum_store import ForumStore
from app.settings import ForumTables
from components.dynamodb import forum_table_specs

REGION = "eu-west-1"
TABLES = ForumTables(forum="t-Forum", thread="t-Thread", comment="t-Comment")
PHYSICAL = {"Forum": TABLES.forum, "Thread": TABLES.thread, "Comment": TABLES.comment}
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
SESSION = boto3.session.Session()  # one botocore loader: a new client then costs milliseconds


def create_request(spec, name: str) -> dict:
    """create_table kwargs for a component TableSpec (on-demand)."""
    keys = [(spec.partition_key, "HASH"), (spec.sort_key, "RANGE")]
    request = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
               "KeySchema": [{"AttributeName": k.name, "KeyType": kind} for k, kind in keys if k],
               "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in spec.attributes().items()]}
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [{
            "IndexName": i.name,
            "KeySchema": [{"AttributeName": k.name, "KeyType": kind}
                          for k, kind in ((i.partition_key, "HASH"), (i.sort_key, "RANGE")) if k],
            "Projection": {"ProjectionType": i.projection,
                           **({"NonKeyAttributes": list(i.non_key_attributes)} if i.non_key_attributes else {})}}
            for i in spec.indexes]
    return request


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def ddb(aws_env):
    """A moto DynamoDB client with the forum tables (empty)."""
    with mock_aws():
        client = SESSION.client("dynamodb", region_name=REGION)
        for spec in forum_table_specs():
            client.create_table(**create_request(spec, PHYSICAL[spec.name]))
        yield client


class Clock:
    """A controllable clock: each call returns the current time, then advances by `step`."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(seconds=1)):
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        value, self.now = self.now, self.now + self.step
        return value


def seed_thread(client, forum="Databases", subject="Partition keys", thread_comments=0, forum_comments=0):
    client.put_item(TableName=TABLES.forum, Item={"Name": {"S": forum}, "Comments": {"N": str(forum_comments)},
                                                  "Threads": {"N": "1"}})
    client.put_item(TableName=TABLES.thread, Item={"ForumName": {"S": forum}, "Subject": {"S": subject},
                                                   "Comments": {"N": str(thread_comments)}})


def counters(client, forum="Databases", subject="Partition keys") -> tuple:
    f = client.get_item(TableName=TABLES.forum, Key={"Name": {"S": forum}}).get("Item")
    t = client.get_item(TableName=TABLES.thread, Key={"ForumName": {"S": forum}, "Subject": {"S": subject}}).get("Item")
    return (int(t["Comments"]["N"]) if t else None, int(f["Comments"]["N"]) if f else None)


def comment_items(client) -> list[dict]:
    return client.scan(TableName=TABLES.comment)["Items"]


@pytest.fixture
def store(ddb):
    return ForumStore(TABLES, ddb, clock=Clock())

