"""create_app serves the DynamoDB forum beside the SQL guestbook when its tables are configured
(and only then), with the settings the host's env file carries."""
from __future__ import annotations

import uuid

import boto3

from app.settings import ForumTables, Settings
from components.dynamodb import forum_table_specs
from tests.forum.conftest import create_request

URL = "/api/forums/Events/threads/Meetup/comments"


def test_the_forum_is_served_from_env_configured_tables(deployment, aws):
    prefix = f"fa-{uuid.uuid4().hex[:8]}-"  # the package's moto is shared by both engines
    tables = ForumTables(*(prefix + t for t in ("Forum", "Thread", "Comment")))
    ddb = boto3.client("dynamodb", region_name=deployment.settings.region)
    for spec in forum_table_specs():
        ddb.create_table(**create_request(spec, prefix + spec.name))
    ddb.put_item(TableName=tables.forum, Item={"Name": {"S": "Events"}, "Comments": {"N": "0"}})
    ddb.put_item(TableName=tables.thread, Item={"ForumName": {"S": "Events"}, "Subject": {"S": "Meetup"}})
    env = {**deployment.settings.to_env(), "AURORAKIT_DDB_FORUM_TABLE": tables.forum,
           "AURORAKIT_DDB_THREAD_TABLE": tables.thread, "AURORAKIT_DDB_COMMENT_TABLE": tables.comment}
    client = deployment.app(forum_tables=Settings.from_env(env).forum_tables).test_client()
    resp = client.post(URL, json={"posted_by": "ana", "message": "see you there"})
    assert resp.status_code == 201, resp.get_json()
    listed = client.get(URL).get_json()
    assert [c["message"] for c in listed["comments"]] == ["see you there"] and listed["next_page"] is None
    assert client.get("/api/entries?limit=1").status_code == 200  # the SQL side is untouched
    assert resp.headers["X-Content-Type-Options"] == "nosniff"  # the app's headers apply to the forum too


def test_without_forum_tables_there_is_no_forum(client):
    assert client.get(URL).status_code == 404
