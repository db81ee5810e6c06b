"""`python -m preflight --stack STACK`: engine-free preview + policy check of a Pulumi stack.

Exit 0: no failing finding; 1: a mandatory violation (an advisory one too with --fail-on
advisory) or an expired waiver; 2: usage, config, pack or program error (one line on stderr;
the traceback only with --debug). The JSON/SARIF/JUnit files asked for are written on every
exit, also 2 (then they carry the error), so CI always keeps an artifact.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Optional


class _Parser(argparse.ArgumentParser):
    argv: Optional[list[str]] = None

    def error(self, message):  # one line, exit 2 (argparse prints usage + line by default)
        sys.stderr.write(f"preflight: error: {message} (see --help)\n")
        _usage_error_reports(sys.argv[1:] if self.argv is None else self.argv, f"{message} (see --help)")
        sys.exit(2)


def _usage_error_reports(argv: list[str], message: str) -> None:
    """A usage error still writes the reports it can name (--json/--sarif/--junit): CI keeps an
    artifact on every exit."""
    lenient = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    for flag in ("--stack", "--json", "--sarif", "--junit"):
        lenient.add_argument(flag)
    try:
        known, _ = lenient.parse_known_args(argv)
    except argparse.ArgumentError:
        return
    if known.json or known.sarif or known.junit:
        args = argparse.Namespace(stack=known.stack or "(none)", fail_on="mandatory", json=known.json,
                                  sarif=known.sarif, junit=known.junit)
        _write_error_reports(args, "full", message)


def _parser() -> _Parser:
    p = _Parser(prog="python -m preflight",
                description="Run a Pulumi stack under recording mocks and check it with the policy pack "
                            "over the real analyzer protocol, without the Pulumi CLI or cloud credentials.",
                epilog="modes: full (default) = preview, then an update with mocked AWS outputs that judges "
                       "what preview could not; preview = like `pulumi preview` only; update = mocked "
                       "outputs only. exit status: 0 passed, 1 failing findings or an expired waiver, "
                       "2 usage/config/pack/program error")
    p.add_argument("--stack", required=True,
                   help="stack name: reads Pulumi.<stack>.yaml of the program (any stack it has)")
    p.add_argument("--program", default=None, metavar="DIR", help="program directory (default: the repository root)")
    p.add_argument("--policy-pack", default=None, metavar="DIR", help="policy pack directory (default: policy/)")
    p.add_argument("--policy-config", default=None, metavar="FILE",
                   help="policy pack config JSON (default: <pack>/config/<stack>.json if present)")
    p.add_argument("--mode", choices=("full", "preview", "update"), default=None,
                   help="full (default): preview, then judge what it could not with mocked update values")
    p.add_argument("--no-preview", action="store_true", help="same as --mode update")
    p.add_argument("--waivers", default=None, metavar="FILE",
                   help="waiver file (default: <pack>/waivers/<stack>.yaml if present)")
    p.add_argument("--fail-on", choices=("mandatory", "advisory"), default="mandatory",
                   help="lowest level of violation that fails the run (default: mandatory)")
    p.add_argument("--json", metavar="FILE", help="write the JSON report (preflight/report.schema.json)")
    p.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0 (GitHub code scanning)")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one test case per rule x resource)")
    p.add_argument("--diagram", metavar="FILE", help="write an architecture diagram (.svg, .png or .dot)")
    p.add_argument("--quiet", action="store_true", help="only failing findings and the verdict")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _console():
    """A terminal wraps to its width; a pipe or a CI log gets whole lines (no wrap at 80)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=100_000, soft_wrap=True)


def _write(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


def _write_reports(args, check) -> None:
    from .report import to_json

    if args.json:
        _write(args.json, json.dumps(to_json(check), indent=2, ensure_ascii=False) + "\n")
    if args.sarif:
        from .sarif import to_sarif
        _write(args.sarif, json.dumps(to_sarif(check), indent=2, ensure_ascii=False) + "\n")
    if args.junit:
        from .junit import to_junit, write
        write(to_junit(check), args.junit)


def _write_error_reports(args, mode: str, message: str) -> None:
    """Best effort: an unwritable path must not hide the original error."""
    from .junit import error_junit, write
    from .report import error_json
    from .sarif import error_sarif

    for path, make in ((args.json, lambda p: _write(p, json.dumps(error_json(
                            args.stack, mode, args.fail_on, message), indent=2) + "\n")),
                       (args.sarif, lambda p: _write(p, json.dumps(error_sarif(args.stack, message),
                                                                   indent=2) + "\n")),
                       (args.junit, lambda p: write(error_junit(args.stack, message), p))):
        if path:
            try:
                make(path)
            except OSError:
                pass


def main(argv=None) -> int:
    parser = _parser()
    parser.argv = argv
    args = parser.parse_args(argv)
    mode = "update" if args.no_preview else (args.mode or "full")
    try:
        from .check import check, env_today
        from .run import REPO, PreflightError
        from .stackconfig import plain_stack_name

        args.stack = plain_stack_name(args.stack, args.program or REPO)
        if args.no_preview and args.mode not in (None, "update"):
            raise PreflightError(f"--no-preview contradicts --mode {args.mode}")
        if args.diagram and Path(args.diagram).suffix.lower() not in (".svg", ".png", ".dot"):
            raise PreflightError(f"--diagram {args.diagram}: use a .svg, .png or .dot file name")
        result = check(args.stack, mode=mode, program_dir=args.program or REPO, pack_dir=args.policy_pack,
                       policy_config=args.policy_config or "default", waivers=args.waivers or "default",
                       fail_on=args.fail_on, today=env_today())
        from .report import print_report

        print_report(result, _console(), quiet=args.quiet)
        _write_reports(args, result)
        if args.diagram:
            from .diagram import write_diagram

            write_diagram(result.primary, args.diagram)
        return result.exit_code
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and exit 2
        if args.debug:
            import traceback

            traceback.print_exc()
        lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
        lines = lines or [type(exc).__name__]  # one line per problem (e.g. each invalid setting)
        _write_error_reports(args, mode, "\n".join(lines))
        for line in lines:
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
