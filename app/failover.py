"""Failover-aware units of work; the rules and why they are safe: docs/FAILOVER.md."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

log = logging.getLogger("aurorakit.db")
T = TypeVar("T")


class CommitOutcomeUnknown(SQLAlchemyError):
    """The connection was lost while COMMIT was in flight: the write may or may not be stored."""


def is_read_only(exc: BaseException) -> bool:
    """Is `exc` (a DBAPI error, or SQLAlchemy's wrapper of one) a read-only node's refusal?"""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) == "25006":
        return True
    code, *message = getattr(orig, "args", ()) or (None,)
    # 1290 is also --secure-file-priv etc.: only its read-only variants count
    return code == 1836 or code == 1290 and any(w in str(message).lower() for w in ("read-only", "read_only"))


def install(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _read_only_is_a_disconnect(ctx):
        if is_read_only(ctx.original_exception):
            ctx.is_disconnect = True  # SQLAlchemy invalidates the connection and the pool


def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work` in one transaction, committed; once more only when nothing was applied."""
    for attempt in (1, 2):
        conn = engine.connect()  # no connection at all: raised, not retried
        committing = False
        try:
            with conn:
                tx = conn.begin()
                result = work(conn)
                committing = True
                tx.commit()
            return result
        except DBAPIError as exc:
            if committing and exc.connection_invalidated and not is_read_only(exc):
                raise CommitOutcomeUnknown("connection lost during COMMIT: the write may or may not be stored") from exc
            if attempt == 2 or not (exc.connection_invalidated or is_read_only(exc)):
                raise
            log.warning("write failed before commit (%s); retrying once on a new connection",
                        "read-only node" if is_read_only(exc) else "connection lost")
    raise AssertionError("unreachable")


def run_read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work` (read-only); once more after a lost connection (reads are idempotent)."""
    for attempt in (1, 2):
        conn = engine.connect()
        try:
            with conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
            log.warning("read lost its connection; retrying once on a new connection")
    raise AssertionError("unreachable")
