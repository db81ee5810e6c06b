"""The app against real TLS MariaDB and PostgreSQL servers (same tests for both engines)."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from app.dbconnect import driver_options
from tests.app.dbservers import APP_USER, HOST, READER_HOST
from tests.app.forwarder import Forwarder

UNNAMED_HOST = "127.0.0.3"  # a loopback address the server's certificate does not name


def unique(prefix="n"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_api_add_then_list_and_page(client):
    name = unique()
    resp = client.post("/api/entries", json={"name": f"  {name} ", "address": "1 Main St <b>"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["name"] == name and body["address"] == "1 Main St <b>" and body["id"] > 0
    listed = client.get("/api/entries?limit=500").get_json()["entries"]
    assert any(e["id"] == body["id"] and e["name"] == name for e in listed)
    page = client.get("/").get_data(as_text=True)
    assert name in page and "1 Main St &lt;b&gt;" in page  # escaped, never raw HTML


def test_form_post_redirects_and_shows_new_entry(client):
    name = unique("form")
    resp = client.post("/", data={"name": name, "address": "2 Side Rd"})
    assert resp.status_code == 303
    assert re.search(r"/\?added=\d+$", resp.headers["Location"])
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'<tr class="added"><td>\d+</td><td>{name}</td><td>2 Side Rd</td>', page)


def test_invalid_input_gets_one_clear_400(client, server):
    cases = [
        ({"address": "x"}, "name", "'name' is required"),
        ({"name": "a", "address": "  "}, "address", "'address' is required"),
        ({"name": "a" * 101, "address": "x"}, "name", "at most 100 characters"),
        ({"name": "a", "address": "x" * 201}, "address", "at most 200 characters"),
        ({"name": "a", "address": "x", "email": "e"}, "email", "allowed: name, address"),
        ({"name": 5, "address": "x"}, "name", "non-empty string"),
        ({"name": "a\x00b", "address": "x"}, "name", "control characters"),
        (["not", "an", "object"], "body", "JSON object"),
    ]
    count = lambda: server.sql("SELECT COUNT(*) FROM entries", in_app_db=True)[0][0]  # the API caps at 500
    before = count()
    for payload, field, message in cases:
        resp = client.post("/api/entries", json=payload)
        assert resp.status_code == 400, payload
        assert resp.get_json()["field"] == field and message in resp.get_json()["error"], payload
    assert client.post("/api/entries", data="{", content_type="application/json").status_code == 400
    assert client.get("/api/entries?limit=0").status_code == 400
    assert client.get("/api/entries?limit=abc").get_json()["field"] == "limit"
    page = client.post("/", data={"name": "", "address": "x"})
    assert page.status_code == 400 and "&#39;name&#39; is required" in page.get_data(as_text=True)
    assert count() == before  # nothing half-made


def routing_problems(deployment, **overrides) -> list[str]:
    """Add an entry and list it with a fresh app; report what is seen OUTSIDE the app: traffic
    through the reader endpoint (the forwarder on READER_HOST) and the peer address of each
    statement in the server's own log (the writer endpoint is the server's HOST)."""
    server, reader, app = deployment.server, deployment.reader, deployment.app(**overrides)
    client, name, problems = app.test_client(), unique("route"), []
    try:
        mark, before = len(server.statements()), reader.counts()
        assert client.post("/api/entries", json={"name": name, "address": "3 Route Ave"}).status_code == 201
        written = reader.counts()
        if written != before:
            problems.append(f"the insert went through the reader endpoint: {before} -> {written}")
        for path in ("/api/entries", "/"):
            resp = client.get(path)
            assert resp.status_code == 200 and name in resp.get_data(as_text=True), path
        read = reader.counts()
        if not (read.connections > written.connections and read.bytes_up > written.bytes_up
                and read.bytes_down > written.bytes_down):
            problems.append(f"the listings did not connect through the reader endpoint: {written} -> {read}")
        stmts = server.statements()[mark:]
        inserts = {peer for peer, sql in stmts if re.match(r"INSERT INTO entries", sql, re.I)}
        listings = {peer for peer, sql in stmts if re.match(r"SELECT .* FROM entries ORDER BY", sql, re.I)}
        if inserts != {HOST}:
            problems.append(f"the server saw the INSERT from {sorted(inserts)}, not the writer endpoint {HOST}")
        if listings != {READER_HOST}:
            problems.append(f"the server saw the listings from {sorted(listings)}, not the reader endpoint {READER_HOST}")
        return problems
    finally:
        for engine in (app.extensions["aurorakit"].writer, app.extensions["aurorakit"].reader):
            engine.dispose()


def test_reads_go_to_the_reader_and_writes_to_the_writer(deployment):
    assert routing_problems(deployment) == []
    # TLS end to end: what crossed the reader endpoint never shows the data in clear text
    assert b"3 Route Ave" not in deployment.reader.transcript()


def test_the_routing_check_catches_swapped_endpoints(deployment):
    """The mutation the check above exists for: reader and writer endpoints swapped."""
    s = deployment.settings
    problems = routing_problems(deployment, writer_host=s.reader_host, reader_host=s.writer_host)
    assert [p.split(" ")[1:3] for p in problems] == [
        ["insert", "went"], ["listings", "did"], ["server", "saw"], ["server", "saw"]], problems


def test_healthz_reports_both_endpoints(client, deployment):
    before = deployment.reader.counts()
    resp = client.get("/healthz")
    after = deployment.reader.counts()
    assert resp.status_code == 200
    assert after.bytes_up > before.bytes_up and after.bytes_down > before.bytes_down  # pinged the reader endpoint
    body = resp.get_json()
    assert {k: body[k].pop("latency_ms") >= 0 for k in ("writer", "reader")} == {"writer": True, "reader": True}
    assert body == {"status": "ok", "writer": {"reachable": True, "writable": True}, "reader": {"reachable": True}}


def probe_without_name_check(deployment, host: str) -> None:
    """Connect as the app would (same driver options and CA) but without the host-name check."""
    s = deployment.settings
    driver, args = driver_options(s, "probe")
    args.update({"ssl_verify_identity": False} if s.engine == "aurora-mysql" else {"sslmode": "verify-ca"})
    url = URL.create(driver, username=APP_USER, password=deployment.tokens()[0], host=host, port=s.port,
                     database=s.db_name)
    engine = create_engine(url, connect_args=args, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_tls_verification_fails_closed(deployment, pki):
    """An unknown CA, or a host name the certificate doesn't cover, must not connect, although
    the server is reachable there and would accept the login (so only verification can refuse)."""
    port = deployment.settings.port
    # 127.0.0.3 is not in the certificate; relayed from 127.0.0.1, which the server accepts
    unnamed = Forwarder((UNNAMED_HOST, port), (HOST, port), source=HOST)
    try:
        for bad, endpoint in (({"ca_bundle": str(pki.other_ca_file)}, deployment.reader),
                              ({"writer_host": UNNAMED_HOST, "reader_host": UNNAMED_HOST}, unnamed),
                              ({"writer_host": "localhost", "reader_host": "localhost"}, None)):
            before = endpoint.counts().connections if endpoint else 0
            client = deployment.app(**bad).test_client()
            health = client.get("/healthz")
            assert health.status_code == 503 and health.get_json()["status"] == "unavailable", bad
            for role in ("writer", "reader"):
                assert health.get_json()[role] | {"latency_ms": 0} == {
                    "reachable": False, "error": "OperationalError", "latency_ms": 0,
                    **({"writable": False} if role == "writer" else {})}, (bad, role)
            resp = client.post("/api/entries", json={"name": unique("tls"), "address": "x"})
            assert resp.status_code == 503 and resp.get_json() == {"error": "database unavailable, try again"}
            if endpoint:  # the server was reached: refused by verification, not by the network
                assert endpoint.counts().connections > before, bad
        # positive controls: the right CA and names work; via 127.0.0.3 only the name check refuses
        assert deployment.app().test_client().get("/healthz").status_code == 200
        probe_without_name_check(deployment, UNNAMED_HOST)
    finally:
        unnamed.close()


def test_a_second_app_finds_the_bootstrapped_schema(deployment, client):
    assert client.post("/api/entries", json={"name": unique(), "address": "x"}).status_code == 201
    again = deployment.app().test_client()  # a second app (e.g. another gunicorn worker) starts fine
    assert again.get("/api/entries").status_code == 200


def test_listing_falls_back_to_the_writer_when_the_reader_is_down(deployment, client):
    name = unique("fallback")
    assert client.post("/api/entries", json={"name": name, "address": "x"}).status_code == 201
    degraded = deployment.app(reader_host=UNNAMED_HOST).test_client()  # nothing listens there
    health = degraded.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "degraded"
    assert health.get_json()["reader"]["reachable"] is False
    listed = degraded.get("/api/entries").get_json()["entries"]
    assert name in [e["name"] for e in listed]
