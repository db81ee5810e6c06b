"""`make bench`: preflight's speed and memory, printed as Markdown tables (docs/BENCHMARKS.md).

    venv/bin/python bench/run.py [--runs 3] [--stacks dev,prod] [--sizes 500,2000,5000] [--apps N]
                                 [--sequential] [--suite [--suite-args '-n 2']] [--app]

1. floor: a fresh `python -c "import pulumi, pulumi_aws.ec2, pulumi_aws.rds"` (median of runs);
2. `python -m preflight --stack dev|prod` as fresh processes in the same run: median wall, peak
   RSS of the process tree (preflight + the policy-pack process it starts; see bench/proctree.py)
   and the ratio to the floor;
3. the synthetic platform (bench/platform, stacks s500/s2000/s5000): the whole preflight as a
   fresh process (wall, peak RSS), then bench/phases.py per size: ms per resource for the
   program under mocks, Analyze (a fresh pack, all requests in flight) and AnalyzeStack, and
   each one's growth relative to the smallest size;
4. with --suite: `python -m pytest -q` wall time; with --app: bench/app.py's table.
Figures are for the machine it runs on (printed first); no figure is asserted anywhere.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import measure  # noqa: E402

PY = sys.executable
MIB = 1 << 20
FLOOR_CMD = [PY, "-c", "import pulumi, pulumi_aws.ec2, pulumi_aws.rds"]
# pulumi_aws imports its service packages lazily: the floor above does not load ec2/rds. A
# program that uses them pays this too (informative row, not the target's floor).
LOADED_CMD = [PY, "-c", "import pulumi, pulumi_aws.ec2, pulumi_aws.rds; pulumi_aws.ec2.Instance; "
              "pulumi_aws.rds.Cluster"]
PLATFORM = REPO / "bench" / "platform"
PROD_POLICY = REPO / "policy" / "config" / "prod.json"
TARGETS = {"ratio": 2.0, "policy_s_2000": 1.5, "wall_s_2000": 5.0, "rss_mib": 1024, "suite_s": 90}


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal")) / (1 << 20)
    versions = subprocess.run([PY, "-c", "import importlib.metadata as m;print(' '.join(f'{p} '"
                               "+m.version(p) for p in ('pulumi','pulumi-aws','pulumi-policy')))"],
                              capture_output=True, text=True).stdout.strip()
    return (f"machine: {os.cpu_count()} CPUs ({cpu}), {mem:.1f} GiB RAM, Python "
            f"{platform.python_version()}, {versions}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def table(head: list, rows: list) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


PACK = REPO / "policy"


def fastpath_pack(tmp: str) -> Path:
    """A copy of policy/ whose entry installs bench/pack_fastpath.py and runs without cyclic GC."""
    pack = Path(tmp) / "policy-fastpath"
    shutil.copytree(REPO / "policy", pack, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "bench" / "pack_fastpath.py", pack / "pack_fastpath.py")
    main = (pack / "__main__.py").read_text()
    (pack / "__main__.py").write_text("import gc\nimport pack_fastpath\ngc.disable()\npack_fastpath.install()\n"
                                      + main)
    return pack


def preflight_cmd(stack: str, json_out: str, program: Path = REPO, policy: Path | None = None) -> list:
    # --mode preview: the phase these benchmarks have always measured (the default mode, full,
    # runs the program a second time with mocked update values).
    cmd = [PY, "-m", "preflight", "--stack", stack, "--quiet", "--mode", "preview", "--json", json_out]
    if PACK != REPO / "policy":
        cmd += ["--policy-pack", str(PACK)]
    if program != REPO:
        cmd += ["--program", str(program)]
    if policy:
        cmd += ["--policy-config", str(policy)]
    return cmd


def run_checked(cmd: list, env: dict | None = None) -> "object":
    m = measure(cmd, cwd=str(REPO), env=env)
    if m.returncode not in (0, 1):  # 1 = mandatory violations: still a complete run
        raise SystemExit(f"bench: {' '.join(cmd)} exited {m.returncode}")
    return m


def median_run(cmd: list, runs: int) -> tuple:
    ms = [run_checked(cmd) for _ in range(runs)]
    ms.sort(key=lambda m: m.wall)
    return ms[len(ms) // 2], [m.wall for m in ms]


def bench_stacks(stacks: list, runs: int, floor_runs: int, tmp: str) -> str:
    floor, floor_walls = median_run(FLOOR_CMD, floor_runs)
    loaded, loaded_walls = median_run(LOADED_CMD, floor_runs)
    rows = [["floor: import pulumi, pulumi_aws.ec2, pulumi_aws.rds", f"{floor.wall:.2f}",
             " / ".join(f"{w:.2f}" for w in floor_walls), f"{floor.cpu:.2f}", f"{floor.peak_rss / MIB:.0f}",
             f"{floor.hwm_sum / MIB:.0f}", "1.00", "", ""],
            ["(info) same + ec2/rds loaded (pulumi_aws imports lazily)", f"{loaded.wall:.2f}",
             " / ".join(f"{w:.2f}" for w in loaded_walls), f"{loaded.cpu:.2f}", f"{loaded.peak_rss / MIB:.0f}",
             f"{loaded.hwm_sum / MIB:.0f}", f"{loaded.wall / floor.wall:.2f}", "", ""]]
    for stack in stacks:
        out = os.path.join(tmp, f"{stack}.json")
        m, walls = median_run(preflight_cmd(stack, out), runs)
        t = json.loads(Path(out).read_text())["run"]["timings"]["preview"]
        ratio = m.wall / floor.wall
        rows.append([f"preflight --stack {stack}", f"{m.wall:.2f}", " / ".join(f"{w:.2f}" for w in walls),
                     f"{m.cpu:.2f}", f"{m.peak_rss / MIB:.0f}", f"{m.hwm_sum / MIB:.0f}", f"{ratio:.2f}",
                     "met" if ratio <= TARGETS["ratio"] else "NOT met",
                     ", ".join(f"{k} {v:.2f}" for k, v in t.items())])
    return table(["run", "wall s (median)", "all runs s", "CPU s (tree, median run)", "peak RSS MiB (tree)", "Σ per-process peak MiB",
                  "× floor", f"target ≤ {TARGETS['ratio']:.0f}× floor", "preflight timings s (last run)"], rows)


def bench_platform(sizes: list, apps: int, sequential: bool, tmp: str) -> str:
    rows, base = [], None
    env = dict(os.environ, PLATFORM_APPS=str(apps)) if apps else None
    for size in sizes:
        stack = f"s{size}"
        out = os.path.join(tmp, f"{stack}.json")
        m = measure(preflight_cmd(stack, out, PLATFORM, PROD_POLICY), cwd=str(REPO), env=env)
        if m.returncode not in (0, 1):
            rows.append([f"s{size}", f"preflight exited {m.returncode}"] + [""] * 10)
            continue
        cmd = [PY, str(REPO / "bench" / "phases.py"), "--program", str(PLATFORM), "--stack", stack,
               "--policy-config", str(PROD_POLICY), "--policy-pack", str(PACK)] + (["--sequential"] if sequential else [])
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
        if proc.returncode != 0:  # reported in the table; the other sizes still run
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            rows.append([f"s{size}", f"{m.wall:.2f}", f"{m.cpu:.2f}", f"{m.peak_rss / MIB:.0f}",
                         f"{m.hwm_sum / MIB:.0f}", f"phases.py failed: {last}"] + [""] * 6)
            continue
        ph = json.loads(proc.stdout)
        n = ph["resources"]
        per = {"program": ph["preflight"]["program"] / n * 1e3, "analyze": ph["analyze_concurrent"] / n * 1e3,
               "stack": ph["analyze_stack"] / n * 1e3}
        base = base or per
        policy_s = ph["analyze_concurrent"] + ph["analyze_stack"]
        seq = f"{ph['analyze_sequential'] / n * 1e3:.2f}" if "analyze_sequential" in ph else "-"
        pack_cpu = ph["analyze_pack_cpu"] + ph["analyze_stack_pack_cpu"]
        rows.append([n, f"{m.wall:.2f}", f"{m.cpu:.2f}", f"{m.peak_rss / MIB:.0f}", f"{m.hwm_sum / MIB:.0f}",
                     f"{per['program']:.2f} ({per['program'] / base['program']:.2f}×)",
                     f"{per['analyze']:.2f} ({per['analyze'] / base['analyze']:.2f}×)", seq,
                     f"{per['stack']:.3f} ({per['stack'] / base['stack']:.2f}×)", f"{policy_s:.2f}",
                     f"{ph['analyze_pack_cpu']:.2f} + {ph['analyze_stack_pack_cpu']:.2f} = {pack_cpu:.2f}",
                     ", ".join(f"{k} {v:.2f}" for k, v in ph["preflight"].items())])
    return table(["resources", "preflight wall s", "CPU s (tree)", "peak RSS MiB (tree)", "Σ per-process peak MiB",
                  "program ms/res (growth)", "Analyze ms/res, concurrent (growth)", "Analyze ms/res, sequential",
                  "AnalyzeStack ms/res (growth)", "Analyze + AnalyzeStack wall s",
                  "pack CPU s: Analyze + AnalyzeStack", "preflight timings s (phases.py run)"], rows)


def bench_suite(extra: list) -> str:
    """The suite as `make test` runs it (pytest.ini's addopts) plus --durations for the slowest."""
    cmd = [PY, "-m", "pytest", "-o", "addopts=-p no:cacheprovider", "-q", "--durations=12"] + extra
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    lines = proc.stdout.strip().splitlines()
    summary = next((ln for ln in reversed(lines) if " passed" in ln or " failed" in ln or " error" in ln), "?")
    slow = [ln for ln in lines if ln[:1].isdigit() and "s " in ln[:10]][:12]
    ok = wall <= TARGETS["suite_s"] and proc.returncode == 0
    return table(["test suite", "wall s", f"target ≤ {TARGETS['suite_s']} s", "pytest says"],
                 [[" ".join(["python -m pytest"] + extra), f"{wall:.1f}", "met" if ok else "NOT met",
                   summary.strip("= ")]]) + "\n\nslowest:\n```\n" + "\n".join(slow) + "\n```"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="preflight benchmarks (prints Markdown tables)")
    ap.add_argument("--runs", type=int, default=3, help="fresh preflight runs per stack (median)")
    ap.add_argument("--floor-runs", type=int, default=5)
    ap.add_argument("--stacks", default="dev,prod", help="project stacks to run preflight on")
    ap.add_argument("--sizes", default="500,2000,5000", help="platform sizes (bench/platform/Pulumi.s<N>.yaml)")
    ap.add_argument("--apps", type=int, default=0, help="override the app count of every size (smoke runs)")
    ap.add_argument("--sequential", action="store_true", help="also time one Analyze at a time")
    ap.add_argument("--suite", action="store_true", help="also time the whole test suite")
    ap.add_argument("--suite-args", default="", help="extra pytest arguments, e.g. '-n 2'")
    ap.add_argument("--pack-fastpath", action="store_true",
                    help="run a copy of the pack with bench/pack_fastpath.py (a proposal, see its docstring)")
    ap.add_argument("--app", action="store_true", help="also run bench/app.py (a real MariaDB, ~30 s)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    t0 = time.perf_counter()
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.pack_fastpath:
            global PACK
            PACK = fastpath_pack(tmp)
            print("pack: a copy of policy/ with bench/pack_fastpath.py installed (--pack-fastpath)", flush=True)
        stacks = [s for s in args.stacks.split(",") if s]
        print("\n## Floor and the project's stacks\n\n" + bench_stacks(stacks, args.runs, args.floor_runs, tmp),
              flush=True)
        if sizes:
            print("\n## Synthetic platform (bench/platform, prod settings per app)\n\n"
                  + bench_platform(sizes, args.apps, args.sequential, tmp), flush=True)
    if args.suite:
        print("\n## Test suite\n\n" + bench_suite(args.suite_args.split()), flush=True)
    if args.app:
        print("\n## Web app (bench/app.py)\n", flush=True)
        subprocess.run([PY, str(REPO / "bench" / "app.py")], cwd=REPO, check=True)
    print(f"\nbench: {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
