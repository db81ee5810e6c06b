"""Driver connections: TLS, bounded connect and reads, keepalives, statement limits; a writer
connection that reaches a read-only node is closed, never pooled (docs/FAILOVER.md). An unusable
CA bundle is a connection failure on both engines (libpq reports it; PyMySQL raises OSError /
ssl.SSLError while building its TLS context, before its own error wrapping)."""
from __future__ import annotations

import socket
import ssl

import psycopg
import pymysql

from .settings import Settings

KEEPALIVE = {"TCP_KEEPIDLE": 15, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3}  # silent peer dropped after ~30 s
READ_ONLY_SQL = {
    "mysql": "SELECT @@global.read_only OR @@global.innodb_read_only",
    "postgresql": "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
}
_WAIT_TIMEOUT = psycopg.errors._WaitTimeout  # raised by psycopg's wait(timeout=...)


def ca_bundle_problem(path: str) -> str | None:
    """Why the CA bundle at `path` cannot verify a server (missing, unreadable, no certificate,
    corrupt PEM), or None when it loads."""
    try:
        ssl.create_default_context(cafile=path)
    except OSError as exc:  # ssl.SSLError is an OSError
        return f"CA bundle {path!r} unusable: {type(exc).__name__} ({exc.strerror or getattr(exc, 'reason', None) or exc})"
    return None


def statement_limit(settings: Settings) -> float:
    """Server-side statement / lock-wait limit (s): the server gives up well before the client."""
    return max(settings.read_timeout / 2, settings.read_timeout - 2)


def driver_options(settings: Settings, role: str) -> tuple[str, dict]:
    """SQLAlchemy driver name and connect args for `role` (writer | reader)."""
    if settings.engine == "aurora-mysql":
        # PyMySQL bounds the TLS + login handshake by read_timeout: connect_timeout until prepared
        return "mysql+pymysql", {
            "ssl_ca": settings.ca_bundle, "ssl_verify_cert": True, "ssl_verify_identity": True,
            "connect_timeout": settings.connect_timeout, "read_timeout": settings.connect_timeout,
            "write_timeout": settings.read_timeout, "program_name": f"aurorakit-{role}", "charset": "utf8mb4"}
    ms = int(statement_limit(settings) * 1000)
    return "postgresql+psycopg", {
        "sslmode": "verify-full", "sslrootcert": settings.ca_bundle,
        "connect_timeout": settings.connect_timeout, "application_name": f"aurorakit-{role}",
        "keepalives": 1, "keepalives_idle": KEEPALIVE["TCP_KEEPIDLE"],
        "keepalives_interval": KEEPALIVE["TCP_KEEPINTVL"], "keepalives_count": KEEPALIVE["TCP_KEEPCNT"],
        "tcp_user_timeout": int(settings.read_timeout * 1000),
        "options": f"-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={ms * 6}"}


class DeadlineConnection(psycopg.Connection):
    """libpq has no read timeout: each wait ends after read_timeout, closing the connection."""
    read_timeout: float | None = None

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        timeout = self.read_timeout if timeout is None else timeout
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except _WAIT_TIMEOUT:
            self.pgconn.finish()
            raise psycopg.OperationalError(f"no answer from the server within {timeout:g} s") from None


def set_keepalive(sock: socket.socket, settings: Settings) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in {**KEEPALIVE, "TCP_USER_TIMEOUT": int(settings.read_timeout * 1000)}.items():
        if hasattr(socket, name):  # Linux names
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def connect(dbapi, cargs: tuple, cparams: dict, settings: Settings, role: str):
    mysql = settings.engine == "aurora-mysql"
    try:
        raw = dbapi.connect(*cargs, **cparams) if mysql else DeadlineConnection.connect(*cargs, **cparams)
    except OSError as exc:  # PyMySQL's TLS context from a bad CA bundle (libpq: an OperationalError)
        raise pymysql.err.OperationalError(2026, f"SSL connection error: {ca_bundle_problem(settings.ca_bundle) or exc}") \
            from exc
    try:
        limit = statement_limit(settings)
        with raw.cursor() as cur:
            if mysql:
                raw._read_timeout = settings.read_timeout  # handshake done: the read budget applies
                set_keepalive(raw._sock, settings)
                maria = "MariaDB" in raw.get_server_info()  # the tests' servers; Aurora is MySQL 8
                cur.execute(f"SET SESSION {'max_statement_time' if maria else 'max_execution_time'} = %s,"
                            " innodb_lock_wait_timeout = %s", (limit if maria else int(limit * 1000), max(1, int(limit))))
            else:
                raw.read_timeout = settings.read_timeout
            read_only = False
            if role == "writer":
                cur.execute(READ_ONLY_SQL["mysql" if mysql else "postgresql"])
                read_only = bool(cur.fetchone()[0])
        raw.rollback()
        if read_only:
            message = "the writer endpoint leads to a read-only node (failover, stale DNS?)"
            raise pymysql.err.OperationalError(1836, message) if mysql else \
                psycopg.errors.ReadOnlySqlTransaction(message)
        return raw
    except BaseException:
        raw.close()
        raise
