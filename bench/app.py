"""Benchmark the web app against a local TLS MariaDB: pooled vs. a fresh connection per request.

    venv/bin/python bench/app.py [--requests 400] [--concurrency 4]

Starts a throwaway MariaDB (the test fixtures' library, tests/app/dbservers.py), Secrets Manager
via moto, and the app in a threaded werkzeug server on 127.0.0.1; drives GET / and
POST /api/entries over HTTP keep-alive from N client threads; prints requests/s and p50/p99.
The same TLS + Secrets Manager code path as on the host; absolute numbers are for this machine.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402
import requests  # noqa: E402
from moto import mock_aws  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app.web import create_app  # noqa: E402
from tests.app.dbservers import MariaDbServer, make_pki, provision  # noqa: E402

REGION = "eu-west-1"


def drive(url: str, method: str, total: int, concurrency: int) -> tuple[float, list[float]]:
    """Run `total` requests from `concurrency` threads; returns (wall seconds, latencies in ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // concurrency

    def client(worker: int):
        session, mine = requests.Session(), []
        for i in range(per_thread):
            start = time.perf_counter()
            if method == "GET":
                resp = session.get(url, timeout=30)
            else:
                resp = session.post(url, json={"name": f"bench {worker}-{i}", "address": "1 Bench St"}, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
            if resp.status_code >= 300:
                raise RuntimeError(f"{method} {url}: HTTP {resp.status_code}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per case (default 400)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request access log
    pki = make_pki(Path(tempfile.mkdtemp(prefix="aurorakit-bench-")) / "pki")
    server = MariaDbServer(pki).start()
    rows = []
    try:
        with mock_aws():
            settings, _, _ = provision(server, boto3.client("secretsmanager", region_name=REGION), pki, REGION)
            for pooling in (True, False):
                app = create_app(replace(settings, pooling=pooling))
                http = make_server("127.0.0.1", 0, app, threaded=True)
                threading.Thread(target=http.serve_forever, daemon=True).start()
                base = f"http://127.0.0.1:{http.server_port}"
                for method, path in (("POST", "/api/entries"), ("GET", "/")):
                    drive(base + path, method, 20, 2)  # warm-up
                    wall, lat = drive(base + path, method, args.requests, args.concurrency)
                    rows.append(("pooled" if pooling else "fresh conn", f"{method} {path}",
                                 len(lat) / wall, pct(lat, 50), pct(lat, 99)))
                http.shutdown()
                for engine in (app.extensions["aurorakit"].writer, app.extensions["aurorakit"].reader):
                    engine.dispose()
    finally:
        server.destroy()
    print(f"\naurorakit app bench: MariaDB {server.host} over TLS, {args.requests} requests/case, "
          f"{args.concurrency} client threads, werkzeug threaded server\n")
    print(f"{'connections':<12} {'request':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for mode, req, rps, p50, p99 in rows:
        print(f"{mode:<12} {req:<20} {rps:>8.0f} {p50:>8.2f} {p99:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
