"""The forum on DynamoDB (README: "The forum on DynamoDB"): a comment is one TransactWriteItems
(Put if absent + both counters), a listing one Query newest first with an opaque page token."""
from __future__ import annotations

import base64
import json
import logging
import secrets
from datetime import datetime, timezone
from typing import Callable, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

from . import forum_schema as schema
from .settings import ForumTables

log = logging.getLogger("aurorakit.forum")
TOKEN_MAX = 1024
BUSY = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded"}
PK, SK = (k for k, _ in schema.KEYS[schema.COMMENT])
# Refusals that no retry mends: a table missing or not the deployed one, a role without the action
# (a wrong AURORAKIT_DDB_*_TABLE or role policy). 500 "server misconfigured", not 503.
MISCONFIGURED = {"ResourceNotFoundException", "AccessDeniedException", "ValidationException"}
BY = schema.INDEXES[schema.BY_USER_INDEX][1][0]
NAMES = {"#pk": PK, "#sk": SK, "#by": BY, "#msg": "Message"}


class ForumError(Exception):
    status = 503  # DynamoDB unreachable, throttled or refusing: try again


class OutcomeUnknown(ForumError):
    """The write was sent and no answer came (every attempt): it may or may not be stored."""


class Misconfigured(ForumError):
    status = 500


class BadPageToken(ForumError):
    status = 400


class NotFound(ForumError):
    status = 404


class Conflict(ForumError):
    status = 409


def make_client(region: str, endpoint_url: Optional[str] = None, max_attempts: int = 3):
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=Config(
        connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": max_attempts}))


def sort_key_time(moment: datetime) -> str:
    """UTC with microseconds and a 4-digit year (years 1-9999): lexical order is time order.
    (strftime's %Y does not zero-pad years before 1000 on Linux: 999 would sort after 2026.)"""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


def encode_token(key: dict) -> str:
    raw = json.dumps({"v": 1, "k": {n: v["S"] for n, v in key.items()}}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, names: set, partition: tuple, low: Optional[str] = None,
                 high: Optional[str] = None) -> dict:
    """The ExclusiveStartKey in `token`: exactly `names`, all strings, the query's partition value
    and a sort key inside [low, high]; else BadPageToken (never an error from DynamoDB)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) if len(token) <= TOKEN_MAX else 0
        key = data["k"] if isinstance(data, dict) and data.get("v") == 1 else None
    except (ValueError, KeyError, TypeError):  # binascii, JSON and UTF-8 errors are ValueErrors
        key = None
    if (not isinstance(key, dict) or set(key) != names
            or not all(isinstance(v, str) and 0 < len(v) <= TOKEN_MAX for v in key.values())
            or key[partition[0]] != partition[1] or (low and key[SK] < low) or (high and key[SK] > high)):
        raise BadPageToken("'page' is not a token this listing returned")
    return {n: {"S": v} for n, v in key.items()}


def _s(value: str) -> dict:
    return {"S": value}


def _refused(operation: str, exc: ClientError) -> ForumError:
    code = exc.response.get("Error", {}).get("Code")
    if code in MISCONFIGURED:  # the code only: the message names the role and table ARNs
        log.error("dynamodb %s refused: %s (check the AURORAKIT_DDB_*_TABLE names and the role's policy)",
                  operation, code)
        return Misconfigured("server misconfigured: the forum's tables are missing or not accessible")
    log.warning("dynamodb %s refused: %s %s", operation, code,
                [r.get("Code") for r in exc.response.get("CancellationReasons", [])])
    return ForumError("refused")


class ForumStore:
    def __init__(self, tables: ForumTables, client, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 new_id: Callable[[], str] = lambda: secrets.token_hex(4)):
        self.tables, self.client, self.clock, self.new_id = tables, client, clock, new_id

    def post_comment(self, forum: str, subject: str, posted_by: str, message: str) -> dict:
        item = {PK: f"{forum}#{subject}", SK: f"{sort_key_time(self.clock())}#{self.new_id()}", BY: posted_by,
                "Message": message}
        (fk, _), ((tk, _), (ts, _)) = schema.KEYS[schema.FORUM][0], schema.KEYS[schema.THREAD]

        def count(table: str, key: dict) -> dict:  # the parent must exist; its counter goes up by one
            return {"Update": {"TableName": table, "Key": key, "ConditionExpression": "attribute_exists(#k)",
                               "UpdateExpression": "ADD #c :one", "ExpressionAttributeValues": {":one": {"N": "1"}},
                               "ExpressionAttributeNames": {"#k": next(iter(key)), "#c": "Comments"}}}
        items = [{"Put": {"TableName": self.tables.comment, "Item": {k: _s(v) for k, v in item.items()},
                          "ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": PK}}},
                 count(self.tables.thread, {tk: _s(forum), ts: _s(subject)}),
                 count(self.tables.forum, {fk: _s(forum)})]
        try:
            self._call("transact_write_items", TransactItems=items)
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            failed = {i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if len(reasons) != 3 or BUSY & set(reasons) or not failed:
                raise _refused("TransactWriteItems", exc) from exc
            raise (NotFound(f"forum {forum!r} does not exist") if 2 in failed else
                   NotFound(f"thread {subject!r} does not exist in forum {forum!r}") if 1 in failed else
                   Conflict("a comment with this key already exists; post it again")) from exc
        return self._comment(item)

    def thread_comments(self, forum: str, subject: str, limit: int, page: Optional[str] = None,
                        since: Optional[datetime] = None, until: Optional[datetime] = None) -> tuple:
        """A thread's comments newest first, optionally only those posted in [since, until]."""
        thread = f"{forum}#{subject}"
        low = sort_key_time(since) if since else None
        high = sort_key_time(until) + "#~" if until else None  # '~' sorts after the id's hex digits
        bounds = {":lo": low, ":hi": high}
        condition = "#pk = :pk" + (" AND #sk BETWEEN :lo AND :hi" if low and high else
                                   " AND #sk >= :lo" if low else " AND #sk <= :hi" if high else "")
        start = decode_token(page, {PK, SK}, (PK, thread), low, high) if page else None
        return self._query(start, limit, KeyConditionExpression=condition, ExpressionAttributeValues={
            ":pk": _s(thread), **{k: _s(v) for k, v in bounds.items() if v}})

    def user_comments(self, posted_by: str, limit: int, page: Optional[str] = None) -> tuple:
        """A user's comments over all threads, newest first (the PostedBy index)."""
        start = decode_token(page, {PK, SK, BY}, (BY, posted_by)) if page else None
        return self._query(start, limit, IndexName=schema.BY_USER_INDEX, KeyConditionExpression="#by = :by",
                           ExpressionAttributeValues={":by": _s(posted_by)})

    def _query(self, start: Optional[dict], limit: int, **request) -> tuple:
        try:
            response = self._call("query", TableName=self.tables.comment, ProjectionExpression="#pk, #sk, #by, #msg",
                                  ExpressionAttributeNames=NAMES, ScanIndexForward=False, Limit=limit,
                                  **({"ExclusiveStartKey": start} if start else {}), **request)
        except ClientError as exc:
            if start and exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise BadPageToken("'page' is not a token this listing returned") from exc  # DynamoDB refused it
            raise _refused("Query", exc) from exc
        last = response.get("LastEvaluatedKey")
        return ([self._comment({k: v.get("S", "") for k, v in i.items()}) for i in response.get("Items", [])],
                encode_token(last) if last else None)

    def _call(self, method: str, **request) -> dict:
        """One call with ReturnConsumedCapacity, logged (tables and units, never item contents)."""
        try:
            response = getattr(self.client, method)(ReturnConsumedCapacity="TOTAL", **request)
        except BotoCoreError as exc:  # unreachable, timed out, no credentials
            log.error("dynamodb %s failed: %s", method, type(exc).__name__)
            if method == "transact_write_items" and isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
                raise OutcomeUnknown("unknown") from exc  # sent; the answer was lost
            raise ForumError("unavailable") from exc
        used = response.get("ConsumedCapacity") or []
        log.info("dynamodb %s items=%d consumed_capacity=%s", method,
                 len(response.get("Items", request.get("TransactItems", []))),
                 {c.get("TableName"): c.get("CapacityUnits") for c in (used if isinstance(used, list) else [used])})
        return response

    @staticmethod
    def _comment(item: dict) -> dict:
        forum, _, subject = item.get(PK, "").partition("#")
        return {"id": item.get(SK, ""), "forum": forum, "thread": subject, "posted_at": item.get(SK, "").split("#")[0],
                "posted_by": item.get(BY, ""), "message": item.get("Message", "")}
