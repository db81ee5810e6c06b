"""Two SQLAlchemy engines (writer, reader) with TLS, pooling, IAM-token credentials and
failover-aware access (dbconnect.py, failover.py)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, create_engine,
                        event, func, insert, inspect, select, text)
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from . import dbconnect, failover
from .credentials import IamTokenCredentials
from .settings import Settings

log = logging.getLogger("aurorakit.db")
NAME_MAX, ADDRESS_MAX = 100, 200
T = TypeVar("T")

metadata = MetaData()
entries = Table(
    "entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("address", String(ADDRESS_MAX), nullable=False),
    Column("created_at", DateTime, nullable=False, server_default=func.current_timestamp()),
)
COLUMNS = (entries.c.id, entries.c.name, entries.c.address, entries.c.created_at)


def is_auth_failure(exc: BaseException) -> bool:
    """MySQL 1045 (access denied) or PostgreSQL 28P01/28000 (bad password / no such role); a
    rejected IAM token on Aurora PostgreSQL reads "PAM authentication failed" (no SQLSTATE)."""
    args = getattr(exc, "args", ())
    if args and args[0] == 1045:
        return True
    if getattr(exc, "sqlstate", None) in ("28P01", "28000"):
        return True
    return "authentication failed" in str(exc)


def signed(dbapi, role: str, sign: Callable[[], T]) -> T:
    """`sign()`'s result (IamTokenCredentials.get/refresh), or the driver's OperationalError when
    it cannot sign (no, expired or refused instance credentials): a connection failure like an
    unreachable server (503, /healthz unavailable, the start not aborted). Only the error's type
    (and AWS error code) is told, never a credential value."""
    try:
        return sign()
    except (BotoCoreError, ClientError) as exc:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        log.error("%s: no IAM token signed (%s%s): check the instance role's credentials", role,
                  type(exc).__name__, f" {code}" if code else "")
        raise dbapi.OperationalError(f"{role}: no IAM database token could be signed ({type(exc).__name__})") from exc


def make_engine(settings: Settings, role: str, creds: IamTokenCredentials) -> Engine:
    host = settings.writer_host if role == "writer" else settings.reader_host
    problem = dbconnect.ca_bundle_problem(settings.ca_bundle) if role == "writer" else None
    if problem:  # once per start; every connection then fails as a connection error (503)
        log.error("%s: every database connection will fail until it is fixed (AURORAKIT_DB_CA_BUNDLE)", problem)
    driver, connect_args = dbconnect.driver_options(settings, role)
    url = URL.create(driver, host=host, port=settings.port, database=settings.db_name)
    pool = {"pool_size": 5, "max_overflow": 10, "pool_timeout": settings.connect_timeout,
            "pool_recycle": 300, "pool_pre_ping": True} if settings.pooling else {"poolclass": NullPool}
    engine = create_engine(url, connect_args=connect_args, hide_parameters=True, **pool)
    failover.install(engine)

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, conn_rec, cargs, cparams):
        dbapi = dialect.loaded_dbapi
        current = signed(dbapi, role, creds.get)
        cparams["user"], cparams["password"] = current
        try:
            return dbconnect.connect(dbapi, cargs, cparams, settings, role)
        except dbapi.OperationalError as exc:
            if not is_auth_failure(exc) or not signed(dbapi, role, lambda: creds.refresh(current)):
                raise
            log.warning("%s: authentication failed; signed a new IAM token and retrying", role)
            cparams["user"], cparams["password"] = signed(dbapi, role, creds.get)
            return dbconnect.connect(dbapi, cargs, cparams, settings, role)

    return engine


class SchemaMissing(RuntimeError):
    """The deploy-time bootstrap (app/bootstrap) has not created the app's tables yet."""


def check_schema(engine: Engine) -> None:
    """The bootstrap owns the schema (the app user may not run DDL); the app only checks it."""
    insp = inspect(engine)
    for table in metadata.sorted_tables:
        found = {c["name"] for c in insp.get_columns(table.name)} if insp.has_table(table.name) else set()
        missing = sorted(set(table.columns.keys()) - found)
        if missing:
            raise SchemaMissing(f"table {table.name!r} is missing or lacks column(s) {', '.join(missing)}: "
                                "the database bootstrap has not run (see README, 'The app's database identity')")


def add_entry(writer: Engine, name: str, address: str) -> dict:
    """Insert on the writer and read it back there (read-after-write), in one transaction."""
    def work(conn: Connection) -> dict:
        new_id = conn.execute(insert(entries).values(name=name, address=address)).inserted_primary_key[0]
        return dict(conn.execute(select(*COLUMNS).where(entries.c.id == new_id)).mappings().one())
    return failover.run_write(writer, work)


def get_entry(engine: Engine, entry_id: int) -> dict | None:
    def work(conn: Connection) -> dict | None:
        row = conn.execute(select(*COLUMNS).where(entries.c.id == entry_id)).mappings().first()
        return dict(row) if row else None
    return failover.run_read(engine, work)


def list_entries(engine: Engine, limit: int) -> list[dict]:
    def work(conn: Connection) -> list[dict]:
        rows = conn.execute(select(*COLUMNS).order_by(entries.c.id.desc()).limit(limit)).mappings()
        return [dict(r) for r in rows]
    return failover.run_read(engine, work)


def node_read_only(conn: Connection) -> bool:
    """Does the node behind `conn` refuse writes?"""
    return bool(conn.execute(text(dbconnect.READ_ONLY_SQL[conn.dialect.name])).scalar())
