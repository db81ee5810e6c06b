"""The policy pack's wildcard matcher (policy/rules/glob.py) and the breadth checks built on it
(policy/rules/breadth.py) on hostile inputs of 10k and 100k characters, next to fnmatch (what
the rules used before) run in a child process with a time limit.

    venv/bin/python bench/glob.py [--sizes 10000,100000] [--fnmatch-timeout 10]

Prints a Markdown table: CPU milliseconds per call (best of 3). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from policy.rules.breadth import broad_resource, service_wide  # noqa: E402
from policy.rules.glob import match  # noqa: E402


def cases(n: int) -> list[tuple[str, str, str]]:
    """(name, pattern, text) of about n characters each."""
    half = n // 2
    return [
        ("`*?` repeated vs a run of `a`", "*?" * half, "a" * n),
        ("`*a` repeated + `b` vs `a`s (backtracking)", "*a" * half + "b", "a" * n),
        ("`[` repeated (fnmatch: a class)", "[" * n, "[" * n),
        ("`*` + `?a` repeated + `b*` vs 2n `a`s (one long `?` segment: the O(n·m/w) case)",
         "*" + "?a" * half + "b*", "a" * (2 * n)),
        ("(`*` + `?a`×32 + `b`) repeated + `*` (`?` segments of 65)",
         ("*" + "?a" * 32 + "b") * (n // 65) + "*", "a" * n),
        ("IAM ARN with `*?*?` name", "arn:aws:iam::123:role/" + "*?" * half, "arn:aws:iam::123:role/" + "x" * n),
    ]


def cpu_ms(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best * 1000


def fnmatch_ms(pattern_expr: str, text_expr: str, timeout: float) -> str:
    code = ("import fnmatch,time,re;fnmatch._compile_pattern.cache_clear();"
            f"p={pattern_expr};t={text_expr};s=time.process_time();"
            "fnmatch.fnmatchcase(t,p);print((time.process_time()-s)*1000)")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"> {timeout:g} s (stopped)"
    if out.returncode != 0:
        return "error: " + (out.stderr.strip().splitlines() or ["?"])[-1]
    return f"{float(out.stdout):.1f}"


EXPRS = {  # the same inputs as source text for the fnmatch child process
    "`*?` repeated vs a run of `a`": ('"*?"*{h}', '"a"*{n}'),
    "`*a` repeated + `b` vs `a`s (backtracking)": ('"*a"*{h}+"b"', '"a"*{n}'),
    "`[` repeated (fnmatch: a class)": ('"["*{n}', '"["*{n}'),
    "`*` + `?a` repeated + `b*` vs 2n `a`s (one long `?` segment: the O(n·m/w) case)": (
        '"*"+"?a"*{h}+"b*"', '"a"*(2*{n})'),
    "(`*` + `?a`×32 + `b`) repeated + `*` (`?` segments of 65)": (
        '("*"+"?a"*32+"b")*({n}//65)+"*"', '"a"*{n}'),
    "IAM ARN with `*?*?` name": ('"arn:aws:iam::123:role/"+"*?"*{h}',
                                 '"arn:aws:iam::123:role/"+"x"*{n}'),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--fnmatch-timeout", type=float, default=10.0)
    args = ap.parse_args()
    print("| input | n | glob.match ms | fnmatch ms |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        for name, pattern, text in cases(n):
            ms = cpu_ms(lambda p=pattern, t=text: match(p, t))
            p_expr, t_expr = (e.format(n=n, h=n // 2) for e in EXPRS[name])
            print(f"| {name} | {n:,} | {ms:.1f} | {fnmatch_ms(p_expr, t_expr, args.fnmatch_timeout)} |")
    print()
    print("| breadth check (policy/rules/breadth.py) | n | ms |")
    print("|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        half = n // 2
        for name, fn, arg in (
                ("broad_resource(`arn:aws:iam::1:role/` + `*?`…)", broad_resource,
                 "arn:aws:iam::1:role/" + "*?" * half),
                ("broad_resource(`arn:aws:s3:::` + `?`… + `/*`)", broad_resource,
                 "arn:aws:s3:::" + "?" * n + "/*"),
                ("broad_resource(`*:` + `[`…)", broad_resource, "*:" + "[" * n),
                ("broad_resource(`arn:` + `*a`… )", broad_resource, "arn:" + "*a" * half),
                ("service_wide(`?` + `*?`…)", service_wide, "?" + "*?" * half),
                ("service_wide(`s3:` + `*?`…)", service_wide, "s3:" + "*?" * half)):
            print(f"| {name} | {n:,} | {cpu_ms(lambda f=fn, a=arg: f(a)):.1f} |")


if __name__ == "__main__":
    main()
