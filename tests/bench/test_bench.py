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
    assert m.hwm_sum >= 64 * MIB          # the child's peak is included
    assert m.peak_rss >= 64 * MIB         # seen while both were alive
    parent = m.hwm[m.pid][1]
    assert parent < 64 * MIB              # the parent alone stayed small...
    assert m.main_maxrss >= 64 * MIB      # ...but wait4's ru_maxrss includes the reaped child


def test_run_prints_the_platform_table_for_one_app():
    out = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--runs", "1", "--floor-runs", "1",
                          "--stacks", "", "--sizes", "500", "--apps", "1"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("machine: ")
    floor = next(ln for ln in lines if ln.startswith("| floor: import pulumi"))
    assert float(floor.split("|")[2]) > 0
    row = next(ln for ln in lines if ln.startswith("| 96 |"))  # 1 app = 93 resources + stack + 2 providers
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 11 and float(cells[1]) > 0 and cells[4].endswith("(1.00×)")
