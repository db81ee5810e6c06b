"""The forum API on DynamoDB, served when AURORAKIT_DDB_*_TABLE are set (README: "The forum on
DynamoDB"). 400 names the field; 404 unknown forum/thread; 503 when DynamoDB is unavailable
(without Retry-After when a post's outcome is unknown); 500 when a table is missing or refused."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, current_app, jsonify, request

from . import security
from .admission import RETRY_AFTER
from .forum_store import ForumError, ForumStore, OutcomeUnknown, make_client
from .settings import Settings

NAME_MAX, USER_MAX, MESSAGE_MAX, PAGE_SIZE, MAX_LIMIT = 100, 50, 2000, 20, 100
bp = Blueprint("forum", __name__, url_prefix="/api")


class Invalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _text(field: str, value, limit: int, multiline: bool = False, key_part: bool = False) -> str:
    """Required, trimmed, 1..limit chars, no control characters (but newlines when `multiline`),
    no '#' in a `key_part` (it joins forum and thread in the Comment key)."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, f"'{field}' is required (a non-empty string)")
    value = value.strip()
    if len(value) > limit:
        raise Invalid(field, f"'{field}' must be at most {limit} characters (got {len(value)})")
    if not security.clean_text(value.replace("\r\n", "\n"), "\n\t" if multiline else ""):
        raise Invalid(field, f"'{field}' must not contain control characters")
    if key_part and "#" in value:
        raise Invalid(field, f"'{field}' must not contain '#'")
    return value


def _args(*moments: str) -> dict:
    """limit, page and the given date-time query parameters (no offset = UTC)."""
    limit = security.parse_positive_int(request.args.get("limit", str(PAGE_SIZE)), MAX_LIMIT)
    if limit is None:
        raise Invalid("limit", f"'limit' must be an integer 1..{MAX_LIMIT} (decimal digits only)")
    out: dict = {"limit": limit, "page": request.args.get("page") or None}
    for name in moments:
        raw = request.args.get(name)
        out[name] = None if raw is None else _moment(name, raw)
    return out


def _moment(name: str, raw: str) -> datetime:
    """An ISO-8601 date-time in UTC (no offset = UTC). One that exists only in its own offset
    (0001-01-01T00:00+01:00, 9999-12-31T23:59-01:00) has no UTC instant: 400, not 500."""
    try:
        value = datetime.fromisoformat(raw)
        return value.replace(tzinfo=value.tzinfo or timezone.utc).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise Invalid(name, f"'{name}' must be an ISO-8601 date-time between years 1 and 9999 in UTC, "
                            "e.g. 2026-11-30T12:00:00Z") from None


def _thread(forum: str, subject: str) -> tuple[str, str]:
    return _text("forum", forum, NAME_MAX, key_part=True), _text("thread", subject, NAME_MAX, key_part=True)


def _store() -> ForumStore:
    return current_app.extensions["aurorakit.forum"]


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    return jsonify(error=str(exc), field=exc.field), 400


@bp.errorhandler(ForumError)
def _refused(exc: ForumError):
    if isinstance(exc, OutcomeUnknown):  # no Retry-After: sending it again may post it twice
        return jsonify(error="DynamoDB did not answer while saving: check the thread before sending it again"), 503
    if exc.status == 503:
        return jsonify(error="DynamoDB unavailable, try again"), 503, {"Retry-After": str(RETRY_AFTER)}
    return jsonify(error=str(exc), **({"field": "page"} if exc.status == 400 else {})), exc.status


@bp.get("/forums/<forum>/threads/<subject>/comments")
def list_comments(forum: str, subject: str):
    forum, subject = _thread(forum, subject)
    args = _args("since", "until")
    if args["since"] and args["until"] and args["since"] > args["until"]:
        raise Invalid("since", "'since' must not be after 'until'")
    comments, next_page = _store().thread_comments(forum, subject, **args)
    return jsonify(comments=comments, next_page=next_page)


@bp.post("/forums/<forum>/threads/<subject>/comments")
def post_comment(forum: str, subject: str):
    forum, subject = _thread(forum, subject)
    data = security.json_body()
    if not isinstance(data, dict):
        raise Invalid("body", "body must be a JSON object with 'posted_by' and 'message'")
    unknown = sorted(set(data) - {"posted_by", "message"})
    if unknown:
        raise Invalid(unknown[0], f"unknown field(s) {', '.join(unknown)}; allowed: posted_by, message")
    posted_by = _text("posted_by", data.get("posted_by"), USER_MAX)
    message = _text("message", data.get("message"), MESSAGE_MAX, multiline=True)
    return jsonify(_store().post_comment(forum, subject, posted_by, message)), 201


@bp.get("/users/<posted_by>/comments")
def user_comments(posted_by: str):
    comments, next_page = _store().user_comments(_text("posted_by", posted_by, USER_MAX), **_args())
    return jsonify(comments=comments, next_page=next_page)


def register(app: Flask, settings: Settings, client=None) -> ForumStore:
    """Serve the forum from `settings.forum_tables` (optionally with the given boto3 client)."""
    if settings.forum_tables is None:
        raise ValueError("forum.register: settings.forum_tables is not set (AURORAKIT_DDB_*_TABLE)")
    app.extensions["aurorakit.forum"] = store = ForumStore(settings.forum_tables, client or make_client(settings.region))
    app.register_blueprint(bp)
    return store
