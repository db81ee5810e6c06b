"""Admission control (app/admission.py): a silent database never starves `/livez` (the load
balancer's check) or the routes that do not use Aurora; database-bound requests beyond a worker's
slots are refused at once (503 + Retry-After); the schema check holds no lock across network I/O.
Also: request data in log lines cannot forge a line."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import boto3
from sqlalchemy.exc import OperationalError

import app.gunicorn_conf as gconf
from app.admission import RETRY_AFTER, TURNOVER, Busy, Gate, slots
from app.settings import ForumTables, Settings
from components.dynamodb import forum_table_specs
from tests.app.dbservers import free_port
from tests.app.forwarder import endpoint_pair
from tests.forum.conftest import create_request

ROOT = Path(__file__).resolve().parents[2]
LIVEZ_BOUND = 1.0  # s: well under the ALB health check's 5 s timeout
CONNECT, READ = 2, 1.0
FAST = 0.5         # s: a refused request (scheduling slack on a busy 2-core machine)

# the app as the unit starts it, with the schema taken as checked before the database went silent
# (the reviewer's case B: requests then wait on the database, not on the schema check)
TARGET = """
import app.db
from app.web import create_app as _create
def create_app():
    check, app.db.check_schema = app.db.check_schema, lambda engine: None
    try:
        return _create()
    finally:
        app.db.check_schema = check
"""


def _get(url: str, timeout: float = 40) -> tuple[int, dict, float]:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), time.monotonic() - start
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), time.monotonic() - start


def test_livez_answers_while_more_requests_than_threads_wait_on_a_black_holed_database(tmp_path, pki):
    """Real gunicorn with app/gunicorn_conf.py (2 workers x 4 threads) and the app's default
    timeouts; writer and reader endpoints accept TCP and never answer."""
    writer, reader = endpoint_pair(("127.0.0.1", 9), ("127.0.0.1", 9))
    writer.black_hole()
    reader.black_hole()
    (tmp_path / "target.py").write_text(TARGET)
    port = free_port()
    settings = Settings(region="eu-west-1", writer_host=writer.address[0], reader_host=reader.address[0],
                        port=writer.address[1], db_name="app", engine="aurora-mysql", db_user="app_user",
                        ca_bundle=str(pki.ca_file))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **settings.to_env()}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(ROOT / "app/gunicorn_conf.py"),
                             "--bind", f"127.0.0.1:{port}", "target:create_app()"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    flood: list[tuple[int, dict, float]] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert _get(f"{base}/livez", timeout=2)[0] == 200
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.1)
        workers = gconf.workers * gconf.threads  # more database requests than the host has threads
        threads = [threading.Thread(target=lambda: flood.append(_get(f"{base}/api/entries")))
                   for _ in range(2 * workers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10  # until a worker's slots are pinned on the black hole
        while reader.counts().connections < slots(gconf.threads):
            assert time.monotonic() < deadline, reader.counts()
            time.sleep(0.05)
        livez = [_get(f"{base}/livez", timeout=10) for _ in range(10)]
        for t in threads:
            t.join(timeout=40)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
        writer.close()
        reader.close()
    assert "Using worker: gthread" in out, out
    assert [code for code, _, _ in livez] == [200] * 10, livez
    assert max(took for _, _, took in livez) < LIVEZ_BOUND, livez
    # every listing ends in 503: at most the slots of both workers waited (reader connect + writer
    # connect = 6 s, within the documented 23 s), all others were refused at once
    assert len(flood) == 2 * workers and {code for code, _, _ in flood} == {503}, flood
    waited = [took for _, headers, took in flood if "Retry-After" not in headers]
    refused = [took for _, headers, took in flood if headers.get("Retry-After") == str(RETRY_AFTER)]
    assert len(waited) + len(refused) == len(flood), flood
    assert 1 <= len(waited) <= gconf.workers * slots(gconf.threads), flood
    assert max(waited) < 2 * 10 + 3, waited
    assert len(refused) >= len(flood) - gconf.workers * slots(gconf.threads)
    print(f"livez max {max(t for *_, t in livez):.3f} s; {len(waited)} waited "
          f"(max {max(waited):.2f} s); {len(refused)} refused (max {max(refused):.3f} s)")


def test_one_thread_checks_the_schema_the_others_are_refused_at_once(app_behind, endpoints):
    """The reviewer's case A: the schema not yet checked when the database goes silent. Before,
    every request queued behind one lock held across the connect (8 x 2 s here)."""
    writer, reader = endpoints
    app = app_behind(connect_timeout=CONNECT, read_timeout=READ)
    app.extensions["aurorakit"].schema_ready = False
    writer.black_hole()
    reader.black_hole()
    results: list[tuple[int, str | None, float]] = []

    def listing():
        start = time.monotonic()
        resp = app.test_client().get("/api/entries")
        results.append((resp.status_code, resp.headers.get("Retry-After"), time.monotonic() - start))

    threads = [threading.Thread(target=listing) for _ in range(8)]
    for t in threads:
        t.start()
    start = time.monotonic()
    assert app.test_client().get("/livez").status_code == 200 and time.monotonic() - start < FAST
    for t in threads:
        t.join(timeout=30)
    checked = [r for r in results if r[1] is None]
    refused = [r for r in results if r[1] == str(RETRY_AFTER)]
    assert len(results) == 8 and {code for code, *_ in results} == {503}, results
    assert len(checked) == 1 and CONNECT <= checked[0][2] < 2 * READ + CONNECT + 1, results  # the one check
    assert len(refused) == 7 and max(took for *_, took in refused) < FAST, results


def test_routes_without_aurora_never_touch_it(app_behind, endpoints, deployment, aws):
    """A 404, the DynamoDB forum and /livez answer at once with Aurora silent and the schema
    unchecked; before, each ran the schema check first (503 "database unavailable" after the
    connect timeout)."""
    prefix = f"adm-{uuid.uuid4().hex[:8]}-"
    ddb = boto3.client("dynamodb", region_name=deployment.settings.region)
    for spec in forum_table_specs():
        ddb.create_table(**create_request(spec, prefix + spec.name))
    tables = ForumTables(*(prefix + t for t in ("Forum", "Thread", "Comment")))
    writer, reader = endpoints
    app = app_behind(connect_timeout=CONNECT, read_timeout=READ, forum_tables=tables)
    app.extensions["aurorakit"].schema_ready = False
    writer.black_hole()
    reader.black_hole()
    opened = writer.counts().connections, reader.counts().connections
    client = app.test_client()
    for path, code in (("/no-such-page", 404), ("/api/forums/Events/threads/Meetup/comments", 200),
                       ("/api/users/ana/comments", 200), ("/livez", 200)):
        start = time.monotonic()
        resp = client.get(path)
        assert resp.status_code == code and time.monotonic() - start < FAST, (path, resp.get_json())
    assert (writer.counts().connections, reader.counts().connections) == opened  # Aurora untouched
    # The forum waits on DynamoDB: it takes a slot like the SQL routes (a silent DynamoDB must not
    # take the last thread either), so with every slot held long enough it is refused at once.
    gate = app.extensions["aurorakit"].gate
    holders = [threading.Thread(target=gate.enter) for _ in range(gate.capacity)]
    for t in holders:
        t.start()
    for t in holders:
        t.join(5)
    time.sleep(TURNOVER)
    resp = client.get("/api/forums/Events/threads/Meetup/comments")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == str(RETRY_AFTER), resp.get_json()
    assert client.get("/livez").status_code == 200


def test_request_data_cannot_forge_a_log_line(app_behind, caplog):
    """A %0D%0A in the path (URL-decoded by the time it is logged) stays inside its own line."""
    app = app_behind()

    @app.get("/adm-broken/<name>")
    def broken(name: str):
        raise OperationalError("SELECT 1", {}, Exception(2013, "Lost connection"))
    caplog.set_level(logging.ERROR, "aurorakit")
    forged = "x%0D%0A2026-11-30 00:00:00 CRITICAL admin logged in"
    assert app.test_client().get(f"/adm-broken/{forged}").status_code == 503
    [record] = [r for r in caplog.records if "database error" in r.getMessage()]
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line and "admin logged in" in line, line


def test_the_slots_follow_the_running_thread_count_and_leave_one_free():
    assert slots(gconf.threads) == gconf.threads - 1 and slots(1) == 1
    gate = Gate()
    held = [gate.enter() for _ in range(gate.capacity)]
    start = time.monotonic()
    try:
        gate.enter()
        raise AssertionError("a full gate admitted a request")
    except Busy:
        assert time.monotonic() - start < 0.1  # refused, not queued
    gate.leave(held[0])
    gate.enter()  # a freed slot is usable again
    svc = SimpleNamespace(settings=None)
    worker = SimpleNamespace(wsgi=SimpleNamespace(extensions={"aurorakit": svc}), cfg=SimpleNamespace(threads=8))
    with mock.patch("app.health.start_publisher"):
        gconf.post_worker_init(worker)
    assert svc.gate.capacity == 7


def test_a_healthy_database_burst_queues_briefly_instead_of_being_refused():
    """Four threads (a saturated gthread worker) each run 50 short database calls through a
    three-slot gate: slots turn over in milliseconds, so nothing is refused (before: a quarter
    of them were 503s with a healthy database). A gate whose slots were just taken again by
    requests that hang refuses after WAIT, and with no recent turnover at once."""
    import threading

    from app import admission

    gate, refused = Gate(4), []

    def client():
        for _ in range(50):
            try:
                entered = gate.enter()
            except Busy:
                refused.append(1)
                continue
            try:
                time.sleep(0.002)  # a query against a healthy database
            finally:
                gate.leave(entered)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert refused == []
    holders = [threading.Thread(target=gate.enter) for _ in range(gate.capacity)]
    for t in holders:                # every slot now held by requests on a silent database
        t.start()
    for t in holders:
        t.join(5)
    start = time.monotonic()
    try:
        gate.enter()
        raise AssertionError("a full gate admitted a request")
    except Busy:
        waited = time.monotonic() - start
    assert waited < admission.WAIT + 0.2  # held for less than TURNOVER: a short wait, then refused
    time.sleep(admission.TURNOVER)
    start = time.monotonic()
    try:
        gate.enter()
        raise AssertionError("a full gate admitted a request")
    except Busy:
        assert time.monotonic() - start < 0.02  # no turnover: refused at once
