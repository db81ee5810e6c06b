"""The forum HTTP API (app/forum.py) on moto DynamoDB: valid requests, one clear 400 per bad
input, 404/409, tampered page tokens (400, never 500), and 503 when DynamoDB is down or refuses."""
from __future__ import annotations

import logging
import socket
from urllib.parse import quote

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import forum
from app.forum_store import make_client
from app.settings import Settings

from .conftest import REGION, SESSION, TABLES, comment_items, counters, seed_thread

URL = "/api/forums/Databases/threads/Partition%20keys/comments"
SETTINGS = Settings(region=REGION, db_user="app",
                    writer_host="w", reader_host="r", port=3306, db_name="app", engine="aurora-mysql",
                    forum_tables=TABLES)


def make_app(client) -> Flask:
    app = Flask(__name__)
    forum.register(app, SETTINGS, client=client)
    return app


@pytest.fixture
def api(ddb):
    seed_thread(ddb)
    return make_app(ddb).test_client()


def test_post_then_list_newest_first_with_pages(api, ddb):
    for i in range(3):
        resp = api.post(URL, json={"posted_by": " ana ", "message": f"line one\nline two {i}"})
        assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["forum"], body["thread"], body["posted_by"], body["message"]) == \
        ("Databases", "Partition keys", "ana", "line one\nline two 2")
    assert counters(ddb) == (3, 3)
    first = api.get(URL + "?limit=2").get_json()
    assert [c["message"][-1] for c in first["comments"]] == ["2", "1"] and first["next_page"]
    second = api.get(URL + "?limit=2&page=" + quote(first["next_page"])).get_json()
    assert [c["message"][-1] for c in second["comments"]] == ["0"]
    mine = api.get("/api/users/ana/comments?limit=10").get_json()
    assert [c["message"][-1] for c in mine["comments"]] == ["2", "1", "0"] and mine["next_page"] is None


@pytest.mark.parametrize("path,payload,field,message", [
    (URL, {"message": "hi"}, "posted_by", "'posted_by' is required"),
    (URL, {"posted_by": "ana", "message": "   "}, "message", "'message' is required"),
    (URL, {"posted_by": "a" * 51, "message": "hi"}, "posted_by", "at most 50 characters"),
    (URL, {"posted_by": "ana", "message": "m" * 2001}, "message", "at most 2000 characters"),
    (URL, {"posted_by": "ana", "message": "hi", "admin": True}, "admin", "allowed: posted_by, message"),
    (URL, {"posted_by": 7, "message": "hi"}, "posted_by", "non-empty string"),
    (URL, {"posted_by": "ana", "message": "bell\x07"}, "message", "control characters"),
    (URL, ["not", "an", "object"], "body", "JSON object"),
    ("/api/forums/Data%23bases/threads/x/comments", {"posted_by": "a", "message": "m"}, "forum", "'#'"),
    ("/api/forums/Databases/threads/" + "t" * 101 + "/comments", {"posted_by": "a", "message": "m"}, "thread",
     "at most 100"),
])
def test_invalid_posts_get_one_clear_400_and_write_nothing(api, ddb, path, payload, field, message):
    resp = api.post(path, json=payload)
    assert resp.status_code == 400 and resp.get_json()["field"] == field, resp.get_json()
    assert message in resp.get_json()["error"]
    assert comment_items(ddb) == [] and counters(ddb) == (0, 0)


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("since=yesterday", "since"),
    ("until=2026-13-01", "until"), ("since=2026-11-30T12:00:00Z&until=2026-11-30T11:00:00Z", "since"),
    ("page=%21%21", "page"), ("limit=%C2%B2", "limit"), ("limit=%D9%A5", "limit"), ("limit=+5", "limit"),
    ("since=0001-01-01T00:00:00%2B01:00", "since"), ("until=9999-12-31T23:59:00-01:00", "until"),
])
def test_invalid_listings_get_one_clear_400(api, query, field):
    resp = api.get(f"{URL}?{query}")
    assert resp.status_code == 400 and resp.get_json()["field"] == field, resp.get_json()


def test_unknown_thread_is_404_and_malformed_json_is_400(api):
    resp = api.post("/api/forums/Databases/threads/Nope/comments", json={"posted_by": "a", "message": "m"})
    assert resp.status_code == 404 and "does not exist" in resp.get_json()["error"]
    assert api.post(URL, data="{", content_type="application/json").status_code == 400


def test_a_json_body_nested_past_the_parser_is_a_400_naming_the_body(api):
    resp = api.post(URL, data="[" * 8000 + "]" * 8000, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["field"] == "body", resp.get_json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(min_size=1, max_size=300) | st.binary(max_size=200).map(
    lambda b: __import__("base64").urlsafe_b64encode(b).decode()))
def test_any_page_token_is_a_400_or_a_page_never_a_500(api, token):
    resp = api.get(URL + "?limit=2&page=" + quote(token, safe=""))
    assert resp.status_code in (200, 400), (token, resp.status_code)
    if resp.status_code == 400:
        assert resp.get_json() == {"error": "'page' is not a token this listing returned", "field": "page"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dynamodb_unreachable_is_503_with_retry_after(aws_env, caplog):
    client = make_client(REGION, endpoint_url=f"http://127.0.0.1:{_closed_port()}", max_attempts=1)
    app = make_app(client).test_client()
    caplog.set_level(logging.ERROR, "aurorakit.forum")
    for resp in (app.get(URL), app.post(URL, json={"posted_by": "ana", "message": "hunter2"}),
                 app.get("/api/users/ana/comments")):
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
        assert resp.get_json() == {"error": "DynamoDB unavailable, try again"}
    assert "EndpointConnectionError" in caplog.text and "hunter2" not in caplog.text


@pytest.mark.parametrize("operation,code,reasons", [
    ("query", "ProvisionedThroughputExceededException", None),
    ("query", "ExpiredTokenException", None),
    ("transact_write_items", "TransactionCanceledException",
     [{"Code": "None"}, {"Code": "ThrottlingError"}, {"Code": "None"}]),
    ("transact_write_items", "TransactionCanceledException",
     [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]),
    ("transact_write_items", "InternalServerError", None),
])
def test_throttling_and_refusals_are_503(aws_env, operation, code, reasons):
    client = SESSION.client("dynamodb", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, http_status_code=400,
                              modeled_fields={"CancellationReasons": reasons} if reasons else None)
        app = make_app(client).test_client()
        resp = app.get(URL) if operation == "query" else app.post(URL, json={"posted_by": "a", "message": "m"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1", (code, resp.get_json())


@pytest.mark.parametrize("operation,code", [
    (op, code) for op in ("query", "transact_write_items")
    for code in ("ResourceNotFoundException", "AccessDeniedException", "ValidationException")])
def test_a_missing_or_forbidden_table_is_500_misconfigured_without_retry_after(aws_env, caplog, operation, code):
    """No retry mends a wrong table name or role policy: 500 with JSON, not 503 + Retry-After;
    the log names the AWS error code, never its message (it holds the role and table ARNs)."""
    client = SESSION.client("dynamodb", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, service_message="arn:aws:iam::123456789012:role/x",
                              http_status_code=400)
        app = make_app(client).test_client()
        resp = app.get(URL) if operation == "query" else app.post(URL, json={"posted_by": "a", "message": "m"})
    assert resp.status_code == 500 and "Retry-After" not in resp.headers, (code, resp.get_json())
    assert resp.get_json() == {"error": "server misconfigured: the forum's tables are missing or not accessible"}
    assert code in caplog.text and "123456789012" not in caplog.text


def test_a_post_without_an_answer_says_check_before_sending_again(aws_env):
    """The transaction was sent and every attempt timed out: it may be stored. No Retry-After,
    the SQL side's wording; a listing that times out is a plain 503 (reads are safe to repeat)."""
    client = make_client(REGION, endpoint_url=f"http://127.0.0.1:{_closed_port()}", max_attempts=1)

    def no_answer(request, **kwargs):
        raise ReadTimeoutError(endpoint_url=request.url)
    client.meta.events.register("before-send.dynamodb.TransactWriteItems", no_answer)
    client.meta.events.register("before-send.dynamodb.Query", no_answer)
    app = make_app(client).test_client()
    posted = app.post(URL, json={"posted_by": "ana", "message": "m"})
    assert posted.status_code == 503 and "Retry-After" not in posted.headers
    assert posted.get_json() == {
        "error": "DynamoDB did not answer while saving: check the thread before sending it again"}
    listed = app.get(URL)
    assert listed.status_code == 503 and listed.headers["Retry-After"] == "1"


def test_the_forum_is_not_served_without_its_tables():
    from dataclasses import replace
    with pytest.raises(ValueError, match="AURORAKIT_DDB"):
        forum.register(Flask(__name__), replace(SETTINGS, forum_tables=None))
