"""The user data's own archive, env file and ExecStart line serve the app under real gunicorn,
inside the unit's own seccomp sandbox (tests/app/unit_sandbox.py)."""
from __future__ import annotations

import io
import json
from pathlib import Path
import os
import shlex
import subprocess
import sys
import tarfile
import time
import urllib.request

import yaml

from app.boot_artifacts import manifest
from app.cloud_init import render_user_data
from tests.app import unit_sandbox
from tests.app.dbservers import APP_USER, free_port

# The host's EnvironmentFile + the instance role: the test's fixed AWS credentials come in the
# environment, and this launcher freezes botocore's clock at the test's signing time in the
# gunicorn master (workers fork from it), so the app's IAM tokens are the ones the servers
# accept; everything else is the rendered user data.
LAUNCHER = """
import datetime, json, os, sys
from unittest import mock
frozen = datetime.datetime.fromisoformat(os.environ.pop("SIGNING_TIME"))
mock.patch("botocore.auth.get_current_datetime", lambda remove_tzinfo=True: frozen).start()
from gunicorn.app.wsgiapp import run
sys.argv = json.loads(os.environ.pop("GUNICORN_ARGV"))
run()
"""


def _get(url: str, data: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_packed_app_runs_under_gunicorn_with_the_unit_command(tmp_path, deployment, pki):
    s = deployment.settings
    artifacts = manifest("x86_64")
    user_data = render_user_data(region=s.region, db_user=s.db_user, writer_endpoint=s.writer_host,
                                 reader_endpoint=s.reader_host, port=s.port, db_name=s.db_name,
                                 engine=s.engine, app_port=free_port(), bucket="app-artifacts-test",
                                 artifacts=artifacts)
    files = {f["path"]: f for f in yaml.safe_load(user_data)["write_files"]}
    root = tmp_path / "opt-aurorakit"  # stands in for /opt/aurorakit
    (archive,) = [a.source for a in artifacts if a.dest == "app.tar"]  # what the host fetches from S3
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    env = dict(line.split("=", 1) for line in files["/etc/aurorakit/app.env"]["content"].splitlines())
    env["AURORAKIT_DB_CA_BUNDLE"] = str(pki.ca_file)  # the host fetches the RDS bundle instead
    unit = files["/etc/systemd/system/aurorakit.service"]["content"]
    argv = shlex.split(next(l for l in unit.splitlines() if l.startswith("ExecStart=")).split("=", 1)[1])
    assert argv[0] == "/opt/aurorakit/venv/bin/gunicorn"
    port = int(argv[argv.index("--bind") + 1].rsplit(":", 1)[1])
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"  # loopback only in tests
    config = argv[argv.index("--config") + 1]
    assert config == "/opt/aurorakit/app/gunicorn_conf.py"
    argv[argv.index("--config") + 1] = str(root / Path(config).relative_to("/opt/aurorakit"))

    proc_env = {"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
                "SIGNING_TIME": deployment.clock.now.isoformat(),
                "GUNICORN_ARGV": json.dumps(["gunicorn", *argv[1:]]), **env}
    assert env["AURORAKIT_DB_USER"] == APP_USER
    unit_file = tmp_path / "aurorakit.service"
    unit_file.write_text(unit)
    # --kill: a syscall outside the unit's allow list kills the process (the unit says EPERM),
    # so even a use that the app would survive shows up here
    sandbox = [sys.executable, unit_sandbox.__file__, "--kill", str(unit_file), "--"]
    proc = subprocess.Popen([*sandbox, sys.executable, "-c", LAUNCHER], cwd=root, env=proc_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.1)
        assert (status, body["status"], body["writer"]["writable"]) == (200, "ok", True)
        assert _get(f"http://127.0.0.1:{port}/livez") == (200, {"status": "ok"})
        before = deployment.reader.counts()  # the env file's reader endpoint (a forwarder)
        status, created = _get(f"http://127.0.0.1:{port}/api/entries", {"name": "gunicorn", "address": "unit"})
        assert status == 201 and created["name"] == "gunicorn"
        assert deployment.reader.counts() == before  # the write did not touch the reader endpoint
        status, listed = _get(f"http://127.0.0.1:{port}/api/entries")
        assert created["id"] in [e["id"] for e in listed["entries"]]
        assert deployment.reader.counts().bytes_down > before.bytes_down  # the listing did
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert "Booting worker" in out and "Using worker: gthread" in out, out  # gunicorn_conf.py applied
    assert not any(token in out for token in deployment.tokens())
