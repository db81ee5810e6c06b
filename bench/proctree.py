"""Run a command and measure it: wall time and peak memory of its whole process tree.

`measure(cmd)` starts `cmd`, samples /proc every `interval` seconds until it exits, and returns
a `Measurement`:

- `wall`: seconds from start to exit (reaped with os.wait4);
- `peak_rss`: the largest SUM of VmRSS over the process and all its descendants seen in one
  sample (the tree's concurrent peak; sampling can miss a spike shorter than `interval`);
- `hwm_sum`: the sum over every process seen of its last VmHWM (each process's own peak RSS,
  as the kernel records it) - an upper bound of the tree's peak that sampling cannot miss,
  unless a process lives less than one interval;
- `cpu`: user + system CPU seconds of the child and every descendant it reaped (os.wait4),
  the tree's total work: unlike `wall`, it barely changes when other jobs load the machine;
- `main_maxrss`: ru_maxrss from os.wait4 of the direct child: on Linux the largest peak of that
  process and of every descendant it reaped - a max over single processes, not a sum.
All sizes are bytes. Linux only (/proc).
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Measurement:
    cmd: list
    pid: int
    returncode: int
    wall: float
    peak_rss: int
    hwm_sum: int
    main_maxrss: int
    processes: int
    cpu: float
    hwm: dict = field(default_factory=dict)  # pid -> (comm, VmHWM bytes)


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def _status(pid: int) -> tuple[str, int, int]:
    """(name, VmRSS, VmHWM) in bytes; ('', 0, 0) once the process is gone or a zombie."""
    name, rss, hwm = "", 0, 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key == "Name":
                name = val.strip()
            elif key == "VmRSS":
                rss = int(val.split()[0]) * 1024
            elif key == "VmHWM":
                hwm = int(val.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return name, rss, hwm


def measure(cmd: list, *, env: dict | None = None, cwd: str | None = None,
            interval: float = 0.005, stdout=subprocess.DEVNULL, stderr=None) -> Measurement:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=stderr)
    peak, hwm = 0, {}
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            wall = time.perf_counter() - t0
            break
        total, todo = 0, [proc.pid]
        while todo:
            p = todo.pop()
            name, rss, high = _status(p)
            if high:
                total += rss
                hwm[p] = (name, max(high, hwm.get(p, ("", 0))[1]))
            todo += _children(p)
        peak = max(peak, total)
        time.sleep(interval)
    proc.returncode = os.waitstatus_to_exitcode(status)
    main_max = usage.ru_maxrss * 1024
    if proc.pid not in hwm:  # exited before the first sample
        hwm[proc.pid] = ("", main_max)
    return Measurement(list(cmd), proc.pid, proc.returncode, wall, peak, sum(h for _, h in hwm.values()),
                       main_max, len(hwm), usage.ru_utime + usage.ru_stime, hwm)
