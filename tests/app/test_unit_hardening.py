"""The host's systemd unit: `systemd-analyze security` exposure <= 2.0, and its seccomp sandbox
(reproduced by tests/app/unit_sandbox.py) really restricts while the app's stack still works.
test_packed_app.py serves the packed app through gunicorn inside the same sandbox."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from app.cloud_init import ENV_FILE, INSTALL_DIR, UNIT
from tests.app import unit_sandbox

MAX_EXPOSURE = 2.0
# What the unit must forbid, and what the app needs (gunicorn forks workers and starts threads;
# psycopg's binary build, PyMySQL over ssl, ctypes callbacks under MemoryDenyWriteExecute).
PROBE = r"""
import errno, json, mmap, os, socket, threading
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
attempt("setuid", lambda: os.setuid(0))                                    # @privileged
attempt("setaffinity", lambda: os.sched_setaffinity(0, {0}))               # @resources
attempt("wx-mmap", lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())
attempt("proc-meminfo", lambda: open("/proc/meminfo").close())             # ProcSubset=pid
attempt("proc-self", lambda: open("/proc/self/status").close())
attempt("inet6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close())
def stack():
    import ctypes, ssl
    import boto3, flask, gunicorn.app.wsgiapp, psycopg, pymysql, sqlalchemy
    from psycopg import pq
    assert pq.__impl__ == "binary", pq.__impl__
    assert ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)(41) == 42
    ssl.create_default_context()
    t = threading.Thread(target=lambda: None); t.start(); t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
attempt("app-stack", stack)
print(json.dumps(out))
"""
RESTRICTED = {"setuid": "EPERM", "setaffinity": "EPERM", "wx-mmap": "EPERM", "netlink": "EAFNOSUPPORT",
              "proc-meminfo": "ENOENT"}
NEEDED = {"proc-self": "ok", "inet6": "ok", "app-stack": "ok"}


@pytest.fixture(scope="module")
def unit_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("unit") / "aurorakit.service"
    path.write_text(UNIT.format(env_file=ENV_FILE, d=INSTALL_DIR, app_port=80))
    return path


def test_systemd_analyze_security_exposure_is_at_most_2(unit_file):
    result = subprocess.run(["systemd-analyze", "security", "--no-pager", "--offline=true",
                             f"--threshold={int(MAX_EXPOSURE * 10)}", str(unit_file)],
                            check=False, capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for aurorakit\.service: (\d+\.\d) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE and match.group(2) in ("OK", "SAFE", "PERFECT"), match.group(0)
    assert result.returncode == 0, result.stdout + result.stderr  # --threshold: above it exits non-zero
    for line in result.stdout.splitlines():  # every syscall group the review named is filtered
        if "SystemCallFilter=" in line or "MemoryDenyWriteExecute=" in line or "ProcSubset" in line:
            assert line.startswith("✓"), line


def test_the_sandbox_restricts_and_the_app_stack_still_works(unit_file):
    def probe(*sandbox):
        out = subprocess.run([*sandbox, sys.executable, "-c", PROBE], check=False, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout)

    free = probe()
    assert all(v == "ok" for v in free.values()), free  # outside: nothing is refused (root, full /proc)
    sandboxed = probe(sys.executable, unit_sandbox.__file__, str(unit_file), "--")
    assert sandboxed == {**RESTRICTED, **NEEDED}, sandboxed


def test_of_link_local_addresses_only_imds_and_the_vpc_resolver_are_reachable():
    lines = UNIT.splitlines()
    assert "IPAddressDeny=link-local multicast" in lines
    assert "IPAddressAllow=169.254.169.254 169.254.169.253" in lines
    assert not any(line.startswith("IPAddressDeny=any") for line in lines)  # see the unit's comment
