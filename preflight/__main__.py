"""`python -m preflight --stack dev|prod`: engine-free preview + policy check.

Exit 0: no mandatory violation; 1: mandatory violations; 2: usage, config, pack or program
error (one line on stderr; the traceback only with --debug).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + line by default)
        sys.stderr.write(f"preflight: error: {message} (see --help)\n")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m preflight",
                description="Run a Pulumi stack under recording mocks and check it with the policy pack "
                            "over the real analyzer protocol, without the Pulumi CLI or cloud credentials.",
                epilog="exit status: 0 no mandatory violation, 1 mandatory violations, "
                       "2 usage/config/pack/program error")
    p.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml (dev, prod)")
    p.add_argument("--program", default=None, metavar="DIR", help="program directory (default: the repository root)")
    p.add_argument("--policy-pack", default=None, metavar="DIR", help="policy pack directory (default: policy/)")
    p.add_argument("--policy-config", default=None, metavar="FILE",
                   help="policy pack config JSON (default: <pack>/config/<stack>.json if present)")
    p.add_argument("--json", metavar="FILE", help="write the JSON report (preflight/report.schema.json)")
    p.add_argument("--diagram", metavar="FILE", help="write an architecture diagram (.svg, .png or .dot)")
    p.add_argument("--no-preview", action="store_true",
                   help="give resources their mocked AWS outputs (like an update) instead of unknowns")
    p.add_argument("--quiet", action="store_true", help="only mandatory violations and the verdict")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        from .run import REPO, PreflightError, run

        if args.diagram and Path(args.diagram).suffix.lower() not in (".svg", ".png", ".dot"):
            raise PreflightError(f"--diagram {args.diagram}: use a .svg, .png or .dot file name")
        result = run(args.stack, program_dir=args.program or REPO, pack_dir=args.policy_pack,
                     policy_config=args.policy_config or "default", preview=not args.no_preview)
        from rich.console import Console

        from .report import print_report, to_json

        print_report(result, Console(highlight=False), quiet=args.quiet)
        if args.json:
            Path(args.json).write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
        if args.diagram:
            from .diagram import write_diagram

            write_diagram(result, args.diagram)
        return result.exit_code
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and exit 2
        if args.debug:
            import traceback

            traceback.print_exc()
        lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
        for line in lines or [type(exc).__name__]:  # one line per problem (e.g. each invalid setting)
            sys.stderr.write(f"preflight: error: {line}\n")
        return 2


if __name__ == "__main__":
    # A short-lived process: no cyclic GC (a run's objects live to its end anyway) and no
    # interpreter teardown, which takes ~1 s once pulumi_aws's service packages are loaded
    # (docs/BENCHMARKS.md). By now the pack is stopped and every file is closed; flush and go.
    gc.disable()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
