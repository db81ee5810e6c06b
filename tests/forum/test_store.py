"""The forum store against moto DynamoDB: the transaction (all or nothing), the query (order,
projection, range, pagination), page tokens, consumed-capacity logging, the exact calls made."""
from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta

import pytest

from app import forum_schema as schema
from app.forum_store import (
    BadPageToken,
    Conflict,
    ForumStore,
    NotFound,
    decode_token,
    encode_token,
    sort_key_time,
)

from .conftest import T0, TABLES, comment_items, counters, seed_thread

F, S = "Databases", "Partition keys"


def post(store, n, by="ana", forum=F, subject=S):
    return [store.post_comment(forum, subject, by, f"comment {i}") for i in range(n)]


def test_post_writes_the_comment_and_both_counters(ddb, store, caplog):
    seed_thread(ddb, thread_comments=4, forum_comments=9)
    caplog.set_level(logging.INFO, "aurorakit.forum")
    made = store.post_comment(F, S, "ana", "Use the thread as partition key: a secret word xyzzy")
    assert counters(ddb) == (5, 10)
    [item] = comment_items(ddb)
    assert item == {"Id": {"S": f"{F}#{S}"}, "CommentDateTime": {"S": made["id"]}, "PostedBy": {"S": "ana"},
                    "Message": {"S": "Use the thread as partition key: a secret word xyzzy"}}
    assert made["posted_at"] == "2026-11-30T12:00:00.000000Z" and made["id"].startswith(made["posted_at"] + "#")
    assert (made["forum"], made["thread"], made["posted_by"]) == (F, S, "ana")
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("dynamodb transact_write_items items=3 consumed_capacity=") for m in logged)
    store.thread_comments(F, S, limit=5)
    assert caplog.records[-1].getMessage() == "dynamodb query items=1 consumed_capacity={'t-Comment': 1.0}"  # moto's figure
    assert not any("xyzzy" in r.getMessage() or "ana" in r.getMessage() for r in caplog.records)  # no contents


def test_missing_thread_writes_nothing(ddb, store):
    seed_thread(ddb, subject="Other thread", thread_comments=2, forum_comments=2)
    with pytest.raises(NotFound, match="thread 'Partition keys' does not exist in forum 'Databases'"):
        store.post_comment(F, S, "ana", "hello")
    assert comment_items(ddb) == [] and counters(ddb, subject="Other thread") == (2, 2)


def test_missing_forum_writes_nothing_and_leaves_the_thread_counter(ddb, store):
    seed_thread(ddb, thread_comments=3, forum_comments=0)
    ddb.delete_item(TableName=TABLES.forum, Key={"Name": {"S": F}})
    with pytest.raises(NotFound, match="forum 'Databases' does not exist"):
        store.post_comment(F, S, "ana", "hello")
    assert comment_items(ddb) == [] and counters(ddb) == (3, None)


def test_existing_comment_key_fails_the_put_and_neither_counter_moves(ddb):
    seed_thread(ddb, thread_comments=1, forum_comments=1)
    store = ForumStore(TABLES, ddb, clock=lambda: T0, new_id=lambda: "0badcafe")
    first = store.post_comment(F, S, "ana", "first")
    with pytest.raises(Conflict, match="already exists"):
        store.post_comment(F, S, "bob", "second, same key")
    assert counters(ddb) == (2, 2)  # only the first transaction counted
    [item] = comment_items(ddb)
    assert (item["CommentDateTime"]["S"], item["PostedBy"]["S"]) == (first["id"], "ana")  # not overwritten


def test_listing_is_newest_first_projected_and_paged(ddb, store):
    seed_thread(ddb)
    made = post(store, 5)
    ddb.put_item(TableName=TABLES.comment, Item={  # an attribute outside the projection
        "Id": {"S": f"{F}#{S}"}, "CommentDateTime": {"S": "2026-11-29T00:00:00.000000Z#00000000"},
        "PostedBy": {"S": "old"}, "Message": {"S": "oldest"}, "Internal": {"S": "not for clients"}})
    returned = []
    ddb.meta.events.register("after-call.dynamodb.Query", lambda parsed, **_: returned.extend(parsed["Items"]))
    pages, token = [], None
    for _ in range(10):  # bounded: 6 items, 2 per page
        page, token = store.thread_comments(F, S, limit=2, page=token)
        pages.append([c["message"] for c in page])
        if token is None:
            break
    flat = [m for p in pages for m in p]
    assert flat == [f"comment {i}" for i in range(4, -1, -1)] + ["oldest"]
    assert all(len(p) <= 2 for p in pages) and len(pages) >= 3
    assert {frozenset(i) for i in returned} == {frozenset({"Id", "CommentDateTime", "PostedBy", "Message"})}
    assert [c["id"] for c in store.thread_comments(F, S, limit=5)[0]] == [c["id"] for c in reversed(made)]


def test_sort_key_range_is_inclusive_and_pages_stay_inside_it(ddb, store):
    seed_thread(ddb)
    post(store, 6)  # at T0 + 0..5 s
    since, until = T0 + timedelta(seconds=1), T0 + timedelta(seconds=4)
    page, token = store.thread_comments(F, S, limit=3, since=since, until=until)
    rest, end = store.thread_comments(F, S, limit=3, since=since, until=until, page=token)
    assert [c["message"] for c in page + rest] == ["comment 4", "comment 3", "comment 2", "comment 1"]
    only_since = store.thread_comments(F, S, limit=10, since=T0 + timedelta(seconds=5))[0]
    only_until = store.thread_comments(F, S, limit=10, until=T0)[0]
    assert [c["message"] for c in only_since] == ["comment 5"] and [c["message"] for c in only_until] == ["comment 0"]
    with pytest.raises(BadPageToken):  # a token from the unbounded listing points outside [since, until]
        store.thread_comments(F, S, limit=3, since=since, until=until,
                              page=store.thread_comments(F, S, limit=1)[1])


@pytest.mark.parametrize("year", [1, 9, 99, 999, 1000])
def test_a_range_bound_before_year_1000_keeps_time_order(ddb, store, year):
    """strftime('%Y') writes year 999 as '999', which sorts after '2026': since=0999 found nothing,
    until=0999 everything. Keys have 4-digit years for every year the API accepts (1-9999)."""
    seed_thread(ddb)
    post(store, 2)
    early, late = T0.replace(year=year), T0.replace(year=9999)
    assert sort_key_time(early) < sort_key_time(T0) < sort_key_time(late)
    assert sort_key_time(early)[:4] == f"{year:04d}"
    assert len(store.thread_comments(F, S, limit=10, since=early)[0]) == 2
    assert store.thread_comments(F, S, limit=10, until=early)[0] == []
    assert len(store.thread_comments(F, S, limit=10, since=early, until=late)[0]) == 2


def test_user_comments_use_the_index_across_threads(ddb, store):
    seed_thread(ddb)
    seed_thread(ddb, subject="Capacity")
    post(store, 2, by="ana")
    post(store, 2, by="bob", subject="Capacity")
    post(store, 1, by="ana", subject="Capacity")
    page, token = store.user_comments("ana", limit=2)
    more, end = store.user_comments("ana", limit=2, page=token)
    got = [(c["thread"], c["message"]) for c in page + more]
    assert got == [("Capacity", "comment 0"), (S, "comment 1"), (S, "comment 0")]
    assert all(c["posted_by"] == "ana" and c["forum"] == F for c in page + more)
    with pytest.raises(BadPageToken):  # ana's token is not bob's
        store.user_comments("bob", limit=2, page=token)


def _tok(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


GOOD = {"Id": f"{F}#{S}", "CommentDateTime": "2026-11-30T12:00:01.000000Z#0a0b0c0d"}
TAMPERED = [
    "", "!!!", "not-base64-at-all~", base64.urlsafe_b64encode(b"\xff\xfe").decode(), _tok([1, 2]), _tok({"k": GOOD}),
    _tok({"v": 2, "k": GOOD}), _tok({"v": 1, "k": {**GOOD, "Id": "Databases#Other"}}),
    _tok({"v": 1, "k": {**GOOD, "Extra": "x"}}), _tok({"v": 1, "k": {"Id": GOOD["Id"]}}),
    _tok({"v": 1, "k": {**GOOD, "CommentDateTime": 5}}), _tok({"v": 1, "k": {**GOOD, "CommentDateTime": ""}}),
    _tok({"v": 1, "k": {**GOOD, "CommentDateTime": "x" * 2000}}), "A" * 5000,
]


@pytest.mark.parametrize("token", TAMPERED)
def test_tampered_tokens_are_refused_before_any_call(token):
    with pytest.raises(BadPageToken):
        decode_token(token, {"Id", "CommentDateTime"}, ("Id", f"{F}#{S}"))


def test_a_token_round_trips_exactly():
    key = {k: {"S": v} for k, v in GOOD.items()}
    assert decode_token(encode_token(key), set(GOOD), ("Id", GOOD["Id"])) == key


def test_a_start_key_dynamodb_rejects_is_a_bad_token_not_an_outage(ddb):
    from botocore.stub import Stubber
    store = ForumStore(TABLES, ddb)
    with Stubber(ddb) as stub:
        stub.add_client_error("query", service_error_code="ValidationException",
                              service_message="The provided starting key is invalid")
        with pytest.raises(BadPageToken):
            store.thread_comments(F, S, limit=2, page=encode_token({k: {"S": v} for k, v in GOOD.items()}))


def test_the_app_calls_exactly_the_actions_its_iam_statement_allows(ddb, store):
    """Every DynamoDB action the store performs (TransactWriteItems authorizes each item by its
    own action) equals forum_schema.TABLE_ACTIONS / INDEX_ACTIONS, the input of the IAM statement."""
    seed_thread(ddb)
    physical = {TABLES.forum: schema.FORUM, TABLES.thread: schema.THREAD, TABLES.comment: schema.COMMENT}
    seen: set = set()

    def record(params, model, **_):
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                seen.add((physical[body["TableName"]], None, f"dynamodb:{kind}Item"))
        else:
            seen.add((physical[params["TableName"]], params.get("IndexName"), f"dynamodb:{model.name}"))
    ddb.meta.events.register("provide-client-params.dynamodb.*", record)
    post(store, 3)
    page, token = store.thread_comments(F, S, limit=2)
    store.thread_comments(F, S, limit=2, page=token, since=T0)
    store.user_comments("ana", limit=2)
    declared = {(t, None, a) for t, actions in schema.TABLE_ACTIONS.items() for a in actions}
    declared |= {(schema.INDEXES[i][0], i, a) for i, actions in schema.INDEX_ACTIONS.items() for a in actions}
    assert seen == declared

