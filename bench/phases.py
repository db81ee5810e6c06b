"""One stack's preflight phases, timed separately (run as a fresh process by bench/run.py).

    venv/bin/python bench/phases.py --program bench/platform --stack s2000 \
        --policy-config policy/config/prod.json [--sequential]

1. `preflight.run.run(...)`: the program under the recording mocks, with the pack analyzing in
   the background as preflight does; its `timings` (pack_start, program, analyze_wait,
   analyze_stack, total) are reported as measured inside preflight.
2. A second, fresh pack process replays the recorded resources with nothing else running:
   every Analyze issued at once (futures, as preflight pipelines them), then - with
   --sequential - one Analyze at a time (the engine's order, comparable to AWSGuard's figure),
   then AnalyzeStack once. Each is wall time on the client side, gRPC included, plus the pack
   process's own CPU time for it (from /proc/<pid>/stat; robust to other load on the machine).
The process runs without cyclic GC, as `python -m preflight` does. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from preflight.analyzer import PolicyPack  # noqa: E402
from preflight.policyconfig import load_policy_config  # noqa: E402
from preflight.run import run  # noqa: E402
from preflight.stackconfig import load_stack_config  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (the pack's own work, unaffected by other load)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main(argv=None) -> int:
    gc.disable()  # as `python -m preflight` runs (preflight/__main__.py); see docs/BENCHMARKS.md
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--program", default=str(REPO))
    ap.add_argument("--stack", required=True)
    ap.add_argument("--policy-config", default=None)
    ap.add_argument("--policy-pack", default=str(REPO / "policy"))
    ap.add_argument("--sequential", action="store_true", help="also time one Analyze at a time")
    args = ap.parse_args(argv)
    program = Path(args.program).resolve()
    pcfg = args.policy_config or "default"
    result = run(args.stack, program_dir=program, pack_dir=args.policy_pack, policy_config=pcfg)
    regs = result.registrations
    providers = {r.urn: r for r in regs if r.type.startswith("pulumi:providers:")}
    out = {"stack": args.stack, "resources": len(regs), "exit_code": result.exit_code,
           "diagnostics": len(result.diagnostics), "preflight": result.timings}

    cfg = load_stack_config(args.stack, program)
    file_config = load_policy_config(args.policy_config) if args.policy_config else None
    analyze_in = [r.as_resource("analyze", providers) for r in regs]
    stack_in = [r.as_resource("stack", providers) for r in regs]
    with PolicyPack(args.policy_pack, project=cfg.project, stack=args.stack, config=cfg,
                    secret_keys=cfg.secret_keys) as pack:
        t = time.perf_counter()
        pack.configure(file_config)
        out["configure"] = time.perf_counter() - t  # includes waiting for the pack to listen
        t, c = time.perf_counter(), cpu_seconds(pack.pid)
        pending = [pack.analyze_async(r) for r in analyze_in]
        n_diag = sum(len(p.result()) for p in pending)
        out["analyze_concurrent"] = time.perf_counter() - t
        out["analyze_pack_cpu"] = cpu_seconds(pack.pid) - c
        if args.sequential:
            t = time.perf_counter()
            for r in analyze_in:
                pack.analyze(r)
            out["analyze_sequential"] = time.perf_counter() - t
        t, c = time.perf_counter(), cpu_seconds(pack.pid)
        n_diag += len(pack.analyze_stack(stack_in))
        out["analyze_stack"] = time.perf_counter() - t
        out["analyze_stack_pack_cpu"] = cpu_seconds(pack.pid) - c
        out["replay_diagnostics"] = n_diag
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
