"""Database reachability and writability for `/healthz` and CloudWatch (docs/FAILOVER.md)."""
from __future__ import annotations

import logging
import threading
import time

import boto3
from botocore.config import Config
from sqlalchemy.exc import SQLAlchemyError

from . import db, failover
from .metric_names import DIMENSION, NAMESPACE, READER_REACHABLE, WRITER_REACHABLE, WRITER_WRITABLE

log = logging.getLogger("aurorakit.health")
CODES = {"ok": 200, "degraded": 200, "read-only": 503, "unavailable": 503}
INTERVAL = 60.0


def probe(engine, writer: bool = False) -> dict:
    """Never raises. A writer engine refuses a read-only node at connect (still reachable); a
    pooled one found read-only is dropped with its pool, and a new one judged."""
    start = time.monotonic()
    try:
        for attempt in (1, 2):
            with engine.connect() as conn:
                out = {"reachable": True, "writable": not db.node_read_only(conn)}
                if out["writable"] or not writer or attempt == 2:
                    break
                conn.invalidate()
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - a probe reports every failure
        ro = isinstance(exc, SQLAlchemyError) and failover.is_read_only(exc)
        out = {"reachable": ro, "writable": False, **({} if ro else {"error": type(exc).__name__})}
    return {**out, "latency_ms": round((time.monotonic() - start) * 1000)}


def report(writer, reader) -> tuple[dict, int]:
    """Both endpoints probed concurrently: the `/healthz` body and its HTTP status."""
    found: dict = {}
    side = threading.Thread(target=lambda: found.update(reader=probe(reader)), daemon=True)
    side.start()
    w = probe(writer, writer=True)
    side.join()
    r = found["reader"]
    r.pop("writable")  # a reader is read-only by design
    status = ("unavailable" if not w["reachable"] else "read-only" if not w["writable"]
              else "ok" if r["reachable"] else "degraded")
    return {"status": status, "writer": w, "reader": r}, CODES[status]


def metric_data(body: dict, cluster_endpoint: str) -> list[dict]:
    dims = [{"Name": DIMENSION, "Value": cluster_endpoint}]
    return [{"MetricName": name, "Dimensions": dims, "Value": float(ok), "Unit": "Count"}
            for name, ok in ((WRITER_REACHABLE, body["writer"]["reachable"]),
                             (WRITER_WRITABLE, body["writer"]["writable"]),
                             (READER_REACHABLE, body["reader"]["reachable"]))]


def publish(svc, client) -> bool:
    """One report -> PutMetricData; never raises."""
    try:
        body, _ = report(svc.writer, svc.reader)
        client.put_metric_data(Namespace=NAMESPACE, MetricData=metric_data(body, svc.settings.writer_host))
        return True
    except Exception as exc:  # noqa: BLE001 - best effort
        log.warning("database metrics not published (%s): needs cloudwatch:PutMetricData on %s "
                    "and a route to CloudWatch", type(exc).__name__, NAMESPACE)
        return False


def start_publisher(app, interval: float = INTERVAL) -> threading.Event | None:
    """Publish every `interval` s from a daemon thread until the returned event is set."""
    try:
        svc, stop = app.extensions["aurorakit"], threading.Event()
        client = boto3.client("cloudwatch", region_name=svc.settings.region, config=Config(
            connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}))
    except Exception as exc:  # noqa: BLE001
        log.warning("database metrics not published: %s", type(exc).__name__)
        return None

    def loop() -> None:
        while not stop.wait(interval):
            publish(svc, client)
    threading.Thread(target=loop, name="aurorakit-metrics", daemon=True).start()
    return stop
