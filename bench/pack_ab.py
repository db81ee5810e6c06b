"""Per-resource cost of policy packs, A/B, robust to other load on the machine.

    venv/bin/python bench/pack_ab.py --rounds 4 /tmp/old/policy policy      # old vs this tree

Records the platform program once (preview, `--size` resources), then for each pack directory
starts the pack exactly as the engine does (a fresh process, the policy config of prod) and
replays every Analyze (pipelined, as preflight sends them) and one AnalyzeStack `--rounds`
times. Prints the pack process's own CPU seconds per phase — the minimum over the rounds, which
other processes can only inflate — and ms per resource. `git worktree add` or
`git archive <rev> policy | tar -x -C /tmp/old` gives an old pack to compare with.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pulumi.runtime.proto import analyzer_pb2  # noqa: E402

from preflight.analyzer import PolicyPack, analyze_request, stack_resource  # noqa: E402
from preflight.policyconfig import load_policy_config  # noqa: E402
from preflight.run import run  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SIZES = {500: "s500", 2000: "s2000", 5000: "s5000"}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def replay(pack_dir: str, requests: list, stack_request, rounds: int) -> dict:
    """Each pack with its own prod levels (config/prod.json next to it)."""
    best = {"analyze": float("inf"), "analyze_stack": float("inf")}
    own = Path(pack_dir) / "config" / "prod.json"
    config = load_policy_config(str(own if own.exists() else REPO / "policy/config/prod.json"))
    with PolicyPack(pack_dir, project="platform", stack="bench") as pack:
        pack.configure(config)
        for _ in range(rounds):
            start = cpu_seconds(pack.pid)
            pending = []
            for request in requests:
                pack._window.acquire()
                future = pack._stub.Analyze.future(request)
                future.add_done_callback(lambda _done: pack._window.release())
                pending.append(future)
            diagnostics = sum(len(f.result().diagnostics) for f in pending)
            middle = cpu_seconds(pack.pid)
            diagnostics += len(pack._rpc("AnalyzeStack", stack_request).diagnostics)
            end = cpu_seconds(pack.pid)
            best["analyze"] = min(best["analyze"], middle - start)
            best["analyze_stack"] = min(best["analyze_stack"], end - middle)
    total = best["analyze"] + best["analyze_stack"]
    return {"pack": pack_dir, **{k: round(v, 2) for k, v in best.items()},
            "ms_per_resource": round(1000 * total / len(requests), 3), "diagnostics": diagnostics}


def main(argv=None) -> int:
    gc.disable()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packs", nargs="+", help="policy pack directories to compare")
    ap.add_argument("--size", type=int, default=2000, choices=sorted(SIZES))
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args(argv)
    result = run(SIZES[args.size], program_dir=REPO / "bench" / "platform",
                 pack_dir=str(REPO / "policy"), policy_config=str(REPO / "policy/config/prod.json"))
    providers = {r.urn: r for r in result.registrations if r.type.startswith("pulumi:providers:")}
    requests = [analyze_request(r.as_resource("analyze", providers)) for r in result.registrations]
    stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
        stack_resource(r.as_resource("stack", providers)) for r in result.registrations])
    print(f"{len(requests)} resources, {args.rounds} rounds, pack CPU seconds (min over rounds)")
    for pack_dir in args.packs:
        print(json.dumps(replay(pack_dir, requests, stack_request, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
