"""A writer that turns read-only under pooled connections (both engines): the refused write is
503, the refusing connection and its pool mates are dropped, /healthz says "read-only" (it said
200 before: `SELECT 1` works there), /livez and reads keep working. Plus the retry that hides
such a refusal when a writable node is already reachable, the CloudWatch metrics, and the
gunicorn settings against the load balancer's numbers."""
from __future__ import annotations

import dataclasses
import logging
import types

import boto3
import pytest
from sqlalchemy import event

import app.gunicorn_conf as gconf
from app import health
from app.settings import Settings
from tests.app.conftest import REGION
from tests.app.dbservers import APP_USER

DEREGISTRATION_DELAY, ALB_IDLE_TIMEOUT = 30, 60  # what the components must set (docs/FAILOVER.md)


def test_a_read_only_refusal_drops_the_connection_and_its_pool_mates(app_behind, endpoints, read_only):
    writer_endpoint, _ = endpoints
    app = app_behind()
    svc, client = app.extensions["aurorakit"], app.test_client()
    held = [svc.writer.connect() for _ in range(3)]
    pooled = {c.connection.dbapi_connection for c in held}
    for c in held:
        c.close()  # three idle writer connections in the pool
    read_only.demote()
    opened = writer_endpoint.counts().connections
    assert client.post("/api/entries", json={"name": "ro-1", "address": "x"}).status_code == 503
    # one more attempt, on a fresh connection, refused at connect (read-only); nothing further
    assert writer_endpoint.counts().connections == opened + 1
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["status"] == "read-only"
    assert resp.get_json()["writer"] | {"latency_ms": 0} == {"reachable": True, "writable": False, "latency_ms": 0}
    assert client.get("/livez").status_code == 200 and client.get("/api/entries").status_code == 200

    read_only.restore()
    used: list = []
    event.listen(svc.writer, "checkout", lambda dbapi_conn, *_: used.append(dbapi_conn))
    for i in range(3):
        assert client.post("/api/entries", json={"name": f"ro-ok-{i}", "address": "x"}).status_code == 201
    assert used and not pooled & set(used), "a connection pooled before the refusal was used again"


def test_a_refused_write_is_retried_once_on_a_new_connection(app_behind, endpoints, read_only, deployment, caplog):
    """PostgreSQL only: open sessions read-only while new ones are writable (a role setting wins
    over the server's) lets one node stand for both the demoted and the new writer."""
    if deployment.server.engine != "aurora-postgresql":
        pytest.skip("MariaDB has no per-new-session override of read_only")
    writer_endpoint, _ = endpoints
    client = app_behind().test_client()
    assert client.post("/api/entries", json={"name": "retry-warm", "address": "x"}).status_code == 201
    read_only.demote()  # the pooled session is read-only now ...
    deployment.server.sql(f"ALTER ROLE {APP_USER} SET default_transaction_read_only = off")  # ... new ones not
    opened = writer_endpoint.counts().connections
    caplog.set_level(logging.WARNING, "aurorakit.db")
    resp = client.post("/api/entries", json={"name": "retried", "address": "x"})
    assert resp.status_code == 201, resp.get_json()
    assert writer_endpoint.counts().connections == opened + 1
    assert "retrying once" in caplog.text
    assert deployment.server.sql("SELECT count(*) FROM entries WHERE name = 'retried'", in_app_db=True) == [(1,)]


def test_healthz_judges_a_fresh_writer_connection_not_a_stale_pooled_one(app_behind, endpoints, read_only, deployment):
    """PostgreSQL only (as above): the pooled writer connection leads to a demoted node, a new
    one would be writable. /healthz answers for the next write: ok, after dropping the stale one."""
    if deployment.server.engine != "aurora-postgresql":
        pytest.skip("MariaDB has no per-new-session override of read_only")
    writer_endpoint, _ = endpoints
    client = app_behind().test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"  # one writer connection pooled
    read_only.demote()
    deployment.server.sql(f"ALTER ROLE {APP_USER} SET default_transaction_read_only = off")
    opened = writer_endpoint.counts().connections
    resp = client.get("/healthz")
    assert (resp.status_code, resp.get_json()["status"], resp.get_json()["writer"]["writable"]) == (200, "ok", True)
    assert writer_endpoint.counts().connections == opened + 1


def test_metrics_are_published_and_never_raise(app, aws, caplog):
    svc = app.extensions["aurorakit"]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    assert health.publish(svc, cloudwatch) is True
    listed = cloudwatch.list_metrics(Namespace=health.NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in listed} == {"DbWriterReachable", "DbWriterWritable", "DbReaderReachable"}
    assert {(d["Name"], d["Value"]) for m in listed for d in m["Dimensions"]} == {
        ("DbClusterEndpoint", svc.settings.writer_host)}

    class Denied:
        def put_metric_data(self, **_):
            raise RuntimeError("AccessDenied")
    caplog.set_level(logging.WARNING, "aurorakit.health")
    assert health.publish(svc, Denied()) is False
    assert "cloudwatch:PutMetricData" in caplog.text
    # gunicorn's hook never stops a worker, even one whose app failed to load
    assert gconf.post_worker_init(types.SimpleNamespace(wsgi=object())) is None
    stop = health.start_publisher(app, interval=0.05)
    assert stop is not None
    stop.set()


def test_gunicorn_settings_fit_the_load_balancer_and_the_database_budget():
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    worst_request = 2 * defaults["read_timeout"] + defaults["connect_timeout"]
    assert worst_request < gconf.graceful_timeout < DEREGISTRATION_DELAY
    assert worst_request < gconf.timeout
    assert gconf.keepalive > ALB_IDLE_TIMEOUT
    assert gconf.worker_class == "gthread" and gconf.threads > 1
