"""Admission control for database-bound requests (docs/FAILOVER.md, "Admission").

A request waiting on a silent database pins its gunicorn thread for up to the request budget.
Each worker admits at most `threads - 1` such requests at once and answers the rest 503 +
Retry-After at once, so one thread per worker always stays free for `/livez` (the load
balancer's check) and the routes that do not touch Aurora."""
from __future__ import annotations

import threading

from . import gunicorn_conf

RETRY_AFTER = 1  # s: the Retry-After of a refused request


class Busy(RuntimeError):
    """All of this worker's database slots are taken (or the schema check is running)."""


def slots(threads: int) -> int:
    """Database-bound requests one worker admits at once: all its threads but one."""
    return max(1, threads - 1)


class Gate:
    """A non-blocking counting gate: `enter()` takes a slot or raises Busy, never waits."""

    def __init__(self, threads: int = gunicorn_conf.threads):
        self.capacity = slots(threads)
        self._free = threading.BoundedSemaphore(self.capacity)

    def enter(self) -> None:
        if not self._free.acquire(blocking=False):
            raise Busy(f"all {self.capacity} database slots of this worker are in use")

    def leave(self) -> None:
        self._free.release()
