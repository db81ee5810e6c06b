"""Smoke tests of the benchmark scripts: they run and print their tables (no timing asserted)."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from proctree import measure  # noqa: E402

MIB = 1 << 20
# A parent that starts a child holding 64 MiB, waits for it, then exits 3.
TREE = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
        "'import time; b = bytearray(64 << 20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(0.3)']); "
        "sys.exit(3)")


def test_measure_counts_the_whole_process_tree():
    m = measure([sys.executable, "-c", TREE])
    assert m.returncode == 3
    assert m.processes >= 2
    assert m.wall >= 0.3
    assert 0 < m.cpu < m.wall + 1         # the child's CPU counts (it was reaped)
    assert m.hwm_sum >= 64 * MIB          # the child's peak is included
    assert m.peak_rss >= 64 * MIB         # seen while both were alive
    parent = m.hwm[m.pid][1]
    assert parent < 64 * MIB              # the parent alone stayed small...
    assert m.main_maxrss >= 64 * MIB      # ...but wait4's ru_maxrss includes the reaped child


def test_run_prints_the_floor_table():
    # The platform and preflight rows take seconds each; `make bench` runs them (not the suite).
    out = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--runs", "1", "--floor-runs", "1",
                          "--stacks", "", "--sizes", ""],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "pulumi 3." in lines[0]
    header = next(ln for ln in lines if ln.startswith("| run |"))
    assert "× floor" in header
    floor = next(ln for ln in lines if ln.startswith("| floor: import pulumi"))
    cells = [c.strip() for c in floor.strip("|").split("|")]
    assert float(cells[1]) > 0 and float(cells[2]) > 0 and float(cells[4]) > 0 and cells[6] == "1.00"


def test_pack_ab_documents_itself():
    out = subprocess.run([sys.executable, str(REPO / "bench" / "pack_ab.py"), "--help"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--rounds" in out.stdout, out.stderr


def test_the_platform_stacks_pass_the_stack_config_and_the_settings():
    """A stack-config or settings change that breaks `make bench` fails here (the project is
    aurorakit-platform, the settings are aurorakit:..., the size platform:apps); the program
    itself runs in `make bench`, too slow for the suite."""
    import pulumi

    from components.settings import load_settings
    from preflight.mocks import install_mocks
    from preflight.stackconfig import load_stack_config

    program = REPO / "bench" / "platform"
    for stack in ("s500", "s2000", "s5000"):
        config = load_stack_config(stack, program)
        assert int(config["platform:apps"]) > 0
        install_mocks(config, project=config.project, stack=stack)

        @pulumi.runtime.test
        def settings():
            assert load_settings().database.readers == 2
        settings()
