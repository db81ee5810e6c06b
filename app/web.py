"""Flask application factory: `/` (list + form), `/api/entries` (JSON), `/livez`, `/healthz`."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import (
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import admission, db, failover, forum, health, security
from .credentials import IamTokenCredentials, for_endpoints
from .settings import Settings

log = logging.getLogger("aurorakit")
FIELDS = {"name": db.NAME_MAX, "address": db.ADDRESS_MAX}
PAGE_SIZE, MAX_LIMIT = 50, 500
MAX_ID = 2**31 - 1  # the INTEGER id column's range
SQL_ENDPOINTS = ("index", "add_form", "api_list", "api_add")  # need the schema; /healthz probes only
OUTCOME_UNKNOWN = ("connection lost while saving: check the list before sending it again",
                   "Connection lost while saving: check the list before adding it again.")


class ValidationError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class Services:
    settings: Settings
    creds: dict[str, IamTokenCredentials]  # per endpoint role: "writer", "reader"
    writer: Engine
    reader: Engine
    gate: admission.Gate = field(default_factory=admission.Gate)  # gunicorn_conf.py may resize it
    schema_ready: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure_schema(self) -> None:
        """Check (never create) the schema the deploy-time bootstrap owns; once per process.
        One thread checks; the others are refused (Busy) at once instead of queueing behind a
        check that may wait on a silent database."""
        if self.schema_ready:
            return
        if not self._lock.acquire(blocking=False):
            raise admission.Busy("the database schema is being checked")
        try:
            if not self.schema_ready:
                db.check_schema(self.writer)
                self.schema_ready = True
        finally:
            self._lock.release()


def validate(data) -> dict:
    """Clean {"name", "address"}: required strings, trimmed, 1..max chars, no control or bidi
    override characters (security.clean_text)."""
    if not isinstance(data, dict):
        raise ValidationError("body", "body must be a JSON object with 'name' and 'address'")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], f"unknown field(s) {', '.join(unknown)}; allowed: name, address")
    clean = {}
    for field, limit in FIELDS.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(field, f"'{field}' is required (a non-empty string)")
        value = value.strip()
        if len(value) > limit:
            raise ValidationError(field, f"'{field}' must be at most {limit} characters (got {len(value)})")
        if not security.clean_text(value):
            raise ValidationError(field, f"'{field}' must not contain control characters")
        clean[field] = value
    return clean


def _svc() -> Services:
    return current_app.extensions["aurorakit"]


def _listing(limit: int) -> list[dict]:
    """Plain listing reads go to the reader; fall back to the writer if the reader is down."""
    try:
        return db.list_entries(_svc().reader, limit)
    except SQLAlchemyError as exc:
        log.warning("reader unavailable (%s); listing from the writer", type(exc).__name__)
        return db.list_entries(_svc().writer, limit)


def _json(entry: dict) -> dict:
    return {**entry, "created_at": entry["created_at"].isoformat()}


def create_app(settings: Settings | None = None, *,
               creds: dict[str, IamTokenCredentials] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    creds = creds or for_endpoints(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    svc = Services(settings, creds, db.make_engine(settings, "writer", creds["writer"]),
                   db.make_engine(settings, "reader", creds["reader"]))
    app.extensions["aurorakit"] = svc
    security.install(app)  # headers (CSP, HSTS on HTTPS, ...) and cross-origin write refusal
    if settings.forum_tables:  # the DynamoDB forum API (app/forum.py): off unless its tables are set
        forum.register(app, settings)
    try:
        svc.ensure_schema()
    except (SQLAlchemyError, db.SchemaMissing) as exc:  # checked again on the next request
        log.warning("schema not verified at start (%s); will check again", exc if isinstance(
            exc, db.SchemaMissing) else type(exc).__name__)

    @app.before_request
    def _admit():
        """Routes that wait on a data store (Aurora, or DynamoDB for the forum) hold one of the
        worker's slots for the whole request (released in _release), so a silent store never
        takes the last thread; only the SQL routes run the schema check. /livez and 404s take
        no slot."""
        if request.endpoint in (*SQL_ENDPOINTS, "healthz") or request.blueprint == "forum":
            g.db_slot = (svc.gate, svc.gate.enter())  # Busy when full: 503
            if request.endpoint in SQL_ENDPOINTS:
                svc.ensure_schema()

    @app.teardown_request
    def _release(exc):
        slot = g.pop("db_slot", None)
        if slot is not None:
            gate, entered = slot
            gate.leave(entered)

    @app.errorhandler(admission.Busy)
    def _busy(exc):
        headers = {"Retry-After": str(admission.RETRY_AFTER)}
        if request.endpoint == "healthz":
            return jsonify(status="busy", error="this worker's database slots are in use"), 503, headers
        if request.path.startswith("/api/"):
            return jsonify(error="busy: too many requests are waiting on the database, try again"), 503, headers
        return render_template("index.html", entries=[], error="Busy, try again in a moment.",
                               form={}), 503, headers

    @app.errorhandler(db.SchemaMissing)
    def _no_schema(exc):
        log.error("%s", exc)
        return jsonify(error="database schema missing: the deploy-time bootstrap has not run"), 503

    @app.errorhandler(SQLAlchemyError)
    def _db_down(exc):
        orig = getattr(exc, "orig", None)
        log.error("database error on %s %r: %s %s", request.method, request.path,  # %r: no forged lines
                  type(exc).__name__, orig.args[:1] if orig is not None and orig.args else "")
        api, page = (OUTCOME_UNKNOWN if isinstance(exc, failover.CommitOutcomeUnknown)
                     else ("database unavailable, try again", "Database unavailable, try again."))
        if request.path.startswith("/api/"):
            return jsonify(error=api), 503
        return render_template("index.html", entries=[], error=page, form={}), 503

    @app.get("/")
    def index():
        added = security.parse_positive_int(request.args.get("added"), MAX_ID)
        entries = _listing(PAGE_SIZE)
        if added and all(e["id"] != added for e in entries):
            new = db.get_entry(svc.writer, added)  # read-after-write: the reader may lag
            entries = ([new] if new else []) + entries
        return render_template("index.html", entries=entries, added=added, form={})

    @app.post("/")
    def add_form():
        form = {k: request.form.get(k, "") for k in FIELDS}
        try:
            entry = db.add_entry(svc.writer, **validate(form))
        except ValidationError as exc:
            return render_template("index.html", entries=_listing(PAGE_SIZE), error=str(exc),
                                   form=form), 400
        return redirect(url_for("index", added=entry["id"]), code=303)

    @app.get("/api/entries")
    def api_list():
        raw = request.args.get("limit", str(PAGE_SIZE))
        limit = security.parse_positive_int(raw, MAX_LIMIT)
        if limit is None:
            return jsonify(error=f"'limit' must be an integer 1..{MAX_LIMIT} (decimal digits only); "
                                 f"got {raw[:20]!r}", field="limit"), 400
        return jsonify(entries=[_json(e) for e in _listing(limit)])

    @app.post("/api/entries")
    def api_add():
        try:
            clean = validate(security.json_body())
        except ValidationError as exc:
            return jsonify(error=str(exc), field=exc.field), 400
        return jsonify(_json(db.add_entry(svc.writer, **clean))), 201

    @app.get("/livez")
    def livez():
        return jsonify(status="ok")

    @app.get("/healthz")
    def healthz():
        body, code = health.report(svc.writer, svc.reader)
        return jsonify(body), code

    return app
