"""Bounded waits on both drivers: keepalives and limits on every connection, a silent server ends
a query after read_timeout, and a black-holed writer endpoint (accepts TCP, never answers) fails
requests within the configured timeouts while the process keeps serving everything else."""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.admission import Gate
from app.dbconnect import KEEPALIVE

CONNECT, READ = 2, 1.0         # the tests' budgets (PostgreSQL's connect minimum is 2 s)
BUDGET = 2 * READ + CONNECT    # one request's worst case (docs/FAILOVER.md)
SLACK = 1.0                    # scheduling on a busy 2-core machine


def raw_socket(dbapi_conn) -> socket.socket:
    if hasattr(dbapi_conn, "pgconn"):  # psycopg: a duplicate of libpq's socket
        return socket.socket(fileno=os.dup(dbapi_conn.pgconn.socket))
    return dbapi_conn._sock


def test_every_connection_has_keepalives_and_server_side_limits(app_behind, deployment):
    svc = app_behind(connect_timeout=CONNECT, read_timeout=READ).extensions["aurorakit"]
    for engine in (svc.writer, svc.reader):
        with engine.connect() as conn:
            sock = raw_socket(conn.connection.dbapi_connection)
            try:
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                for name, value in {**KEEPALIVE, "TCP_USER_TIMEOUT": int(READ * 1000)}.items():
                    assert sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, name)) == value, name
            finally:
                if deployment.server.engine == "aurora-postgresql":
                    sock.close()
    # the server ends a slow statement first (at READ / 2 here), and the connection stays usable
    with svc.writer.connect() as conn:
        start = time.monotonic()
        sleep = "SELECT pg_sleep(5)" if conn.dialect.name == "postgresql" else "SELECT SLEEP(5)"
        with pytest.raises(DBAPIError) as err:
            conn.execute(text(sleep))
        assert READ / 2 <= time.monotonic() - start < 5
        # the server's own "statement timeout" (not the client's read deadline)
        assert getattr(err.value.orig, "sqlstate", None) == "57014" or err.value.orig.args[0] == 1969, err.value
        assert not err.value.connection_invalidated
        conn.rollback()
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_black_holed_writer_fails_within_the_timeouts_and_the_process_keeps_serving(app_behind, endpoints, deployment):
    writer, _ = endpoints
    app = app_behind(connect_timeout=CONNECT, read_timeout=READ)
    # about timeouts, not admission (test_admission.py): room for its 6 concurrent database requests
    app.extensions["aurorakit"].gate = Gate(threads=8)
    client = app.test_client()
    assert client.post("/api/entries", json={"name": "bh-warm", "address": "x"}).status_code == 201
    held = app.extensions["aurorakit"].writer.connect()  # a connection in use when it goes silent
    writer.black_hole()  # TCP stays up (the kernel ACKs), nothing ever answers again
    results: dict[str, list] = {"post": [], "healthz": [], "query": []}

    def timed(kind, call):
        start = time.monotonic()
        try:
            outcome = call()
        except OperationalError as exc:
            outcome = ("invalidated" if exc.connection_invalidated else "kept", type(exc.orig).__name__)
        results[kind].append((outcome, time.monotonic() - start))

    def post():
        resp = app.test_client().post("/api/entries", json={"name": f"bh-{uuid.uuid4().hex[:8]}", "address": "x"})
        return resp.status_code

    def health():
        resp = app.test_client().get("/healthz")
        return resp.status_code, resp.get_json()["status"], resp.get_json()["writer"]["reachable"]

    calls = [("post", post)] * 4 + [("healthz", health), ("query", lambda: held.execute(text("SELECT 1")))]
    threads = [threading.Thread(target=timed, args=call) for call in calls]
    for t in threads:
        t.start()
    # while those wait on the black hole, the same app answers its load balancer and reads at once
    for path in ("/livez", "/api/entries"):
        start = time.monotonic()
        assert client.get(path).status_code == 200, path
        assert time.monotonic() - start < 0.5, path
    assert all(t.is_alive() for t in threads[:5]), "the requests did not wait on the black hole"
    for t in threads:
        t.join(timeout=BUDGET + 10)
    held.close()

    # a query in flight ends after the read timeout, and its connection is never pooled again
    [(outcome, took)] = results["query"]
    assert outcome[0] == "invalidated" and READ <= took < READ + SLACK, results["query"]
    # requests fail with 503 within the budget, having really waited (connect timeout at least)
    assert [code for code, _ in results["post"]] == [503] * 4, results["post"]
    assert all(CONNECT <= took < BUDGET + SLACK for _, took in results["post"]), results["post"]
    [(outcome, took)] = results["healthz"]
    assert outcome == (503, "unavailable", False) and took < BUDGET + SLACK, results["healthz"]

    writer.switch((deployment.server.host, deployment.server.port))  # the endpoint answers again
    assert client.post("/api/entries", json={"name": "bh-back", "address": "x"}).status_code == 201


def test_a_connection_lost_during_commit_is_not_retried(app_behind, endpoints):
    """The one ambiguous case: COMMIT sent, no answer. The app must neither retry blindly nor
    claim failure: 503 "check before sending again", and no second attempt on any connection."""
    writer, _ = endpoints
    app = app_behind(connect_timeout=CONNECT, read_timeout=READ)
    client = app.test_client()
    assert client.post("/api/entries", json={"name": "commit-warm", "address": "x"}).status_code == 201
    event.listen(app.extensions["aurorakit"].writer, "commit", lambda conn: writer.black_hole())
    opened = writer.counts().connections
    start = time.monotonic()
    resp = client.post("/api/entries", json={"name": "commit-lost", "address": "x"})
    assert resp.status_code == 503 and "check the list before sending it again" in resp.get_json()["error"]
    assert READ <= time.monotonic() - start < READ + SLACK
    assert writer.counts().connections == opened  # no retry
