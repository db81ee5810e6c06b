"""A failover-like restart, against the real servers, bounded in time (credential renewal:
test_identity.py)."""
from __future__ import annotations

import threading
import time
import uuid


def test_restart_during_writes_loses_no_acknowledged_write(deployment, app):
    """Stop the server mid-stream, keep writing, start it again: every 2xx write is stored,
    /healthz is 503 while it's down, and writes succeed again within seconds (no app restart)."""
    server, client = deployment.server, app.test_client()
    events, acked, health_while_down = {}, [], []
    down, restarting, back = threading.Event(), threading.Event(), threading.Event()

    def fault():
        time.sleep(0.3)
        server.stop()
        events["down"] = time.monotonic()
        down.set()
        time.sleep(1.0)
        restarting.set()
        server.start()
        events["up"] = time.monotonic()
        back.set()

    worker = threading.Thread(target=fault)
    worker.start()
    deadline, attempts, after_restart, first_ok_after = time.monotonic() + 30, 0, 0, None
    while time.monotonic() < deadline and attempts < 2000 and after_restart < 20:
        attempts += 1
        name = f"fo-{uuid.uuid4().hex[:12]}"
        resp = client.post("/api/entries", json={"name": name, "address": "failover"})
        if 200 <= resp.status_code < 300:
            acked.append(name)
            if back.is_set():
                after_restart += 1
                first_ok_after = first_ok_after or time.monotonic()
        else:
            assert resp.status_code == 503, resp.get_data(as_text=True)
            if down.is_set() and not restarting.is_set():
                health = client.get("/healthz").status_code
                if not restarting.is_set():  # the server was down for the whole health check
                    health_while_down.append(health)
        time.sleep(0.01)
    worker.join(timeout=30)

    assert after_restart == 20, f"no recovery: {attempts} attempts, {len(acked)} acked"
    assert len(acked) > after_restart  # writes were acknowledged before the fault too
    assert first_ok_after - events["up"] < 5.0
    assert health_while_down and set(health_while_down) == {503}
    stored = {row[0] for row in server.sql("SELECT name FROM entries WHERE address = %s", ("failover",), in_app_db=True)}
    missing = [n for n in acked if n not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost"
    assert client.get("/healthz").status_code == 200

