"""Flask application factory: `/` (list + form), `/api/entries` (JSON), `/livez`, `/healthz`."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import (
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import db, failover, health
from .credentials import SecretCredentials
from .settings import Settings

log = logging.getLogger("aurorakit")
FIELDS = {"name": db.NAME_MAX, "address": db.ADDRESS_MAX}
PAGE_SIZE, MAX_LIMIT = 50, 500
OUTCOME_UNKNOWN = ("connection lost while saving: check the list before sending it again",
                   "Connection lost while saving: check the list before adding it again.")


class ValidationError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class Services:
    settings: Settings
    creds: SecretCredentials
    writer: Engine
    reader: Engine
    schema_ready: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure_schema(self) -> None:
        if not self.schema_ready:
            with self._lock:
                if not self.schema_ready:
                    db.ensure_schema(self.writer)
                    self.schema_ready = True


def validate(data) -> dict:
    """Clean {"name", "address"}: required strings, trimmed, 1..max chars, printable."""
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
        if not value.isprintable():
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


def create_app(settings: Settings | None = None, *, creds: SecretCredentials | None = None) -> Flask:
    settings = settings or Settings.from_env()
    creds = creds or SecretCredentials(settings.secret_arn, settings.region)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    svc = Services(settings, creds, db.make_engine(settings, "writer", creds),
                   db.make_engine(settings, "reader", creds))
    app.extensions["aurorakit"] = svc
    try:
        svc.ensure_schema()
    except SQLAlchemyError as exc:  # DB not reachable yet: retried on the first request
        log.warning("schema not created at start (%s); will retry", type(exc).__name__)

    @app.before_request
    def _schema():
        if request.endpoint not in ("healthz", "livez"):
            svc.ensure_schema()

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                "frame-ancestors 'none'")
        return resp

    @app.errorhandler(SQLAlchemyError)
    def _db_down(exc):
        orig = getattr(exc, "orig", None)
        log.error("database error on %s %s: %s %s", request.method, request.path,
                  type(exc).__name__, orig.args[:1] if orig is not None and orig.args else "")
        api, page = (OUTCOME_UNKNOWN if isinstance(exc, failover.CommitOutcomeUnknown)
                     else ("database unavailable, try again", "Database unavailable, try again."))
        if request.path.startswith("/api/"):
            return jsonify(error=api), 503
        return render_template("index.html", entries=[], error=page, form={}), 503

    @app.get("/")
    def index():
        added = request.args.get("added", type=int)
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
        limit = request.args.get("limit", str(PAGE_SIZE))
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            return jsonify(error=f"'limit' must be an integer 1..{MAX_LIMIT}", field="limit"), 400
        return jsonify(entries=[_json(e) for e in _listing(int(limit))])

    @app.post("/api/entries")
    def api_add():
        try:
            clean = validate(request.get_json(silent=True))
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
