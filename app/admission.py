"""Admission control for database-bound requests (docs/FAILOVER.md, "Admission").

A request waiting on a silent database pins its gunicorn thread for up to the request budget.
Each worker admits at most `threads - 1` such requests at once; beyond that a request waits a
moment for a slot while the database answers (slots turn over) and is answered 503 +
Retry-After at once while it does not, so one thread per worker always stays free for `/livez`
(the load balancer's check) and the routes that do not touch Aurora."""
from __future__ import annotations

import collections
import threading
import time

from . import gunicorn_conf

RETRY_AFTER = 1  # s: the Retry-After of a refused request


class Busy(RuntimeError):
    """All of this worker's database slots are taken (or the schema check is running)."""


def slots(threads: int) -> int:
    """Database-bound requests one worker admits at once: all its threads but one."""
    return max(1, threads - 1)


TURNOVER = 0.25  # s: slots all taken less than this ago mean the database may just be busy
WAIT = 0.05      # s: how long a request then waits for a slot


class Gate:
    """A counting gate that waits only while the database may be answering: `enter()` takes a
    free slot at once; when all are taken it queues (first come, first served) up to WAIT for one,
    but only if the oldest holder entered within TURNOVER (a healthy database turns slots over in
    milliseconds, so a burst queues briefly instead of being refused); when every holder has
    waited longer (a silent database holds its slots for seconds) it raises Busy at once, so the
    spare thread does not sit in waits while `/livez` queues behind it."""

    def __init__(self, threads: int = gunicorn_conf.threads):
        self.capacity = slots(threads)
        self._cond = threading.Condition()
        self._queue: collections.deque = collections.deque()
        self._held: list[float] = []      # entry times of the current holders: one per slot taken

    def _free(self) -> int:
        return self.capacity - len(self._held)

    def enter(self) -> float:
        """Take a slot; returns the entry time, which `leave` gives back."""
        with self._cond:
            if self._free() <= 0 or self._queue:
                self._wait_turn()
            entered = time.monotonic()
            self._held.append(entered)
        return entered

    def _wait_turn(self) -> None:
        """Queue for the next slot (the condition's lock is held); Busy when it does not come."""
        now = time.monotonic()
        if self._held and now - min(self._held) >= TURNOVER:
            raise Busy(f"all {self.capacity} database slots of this worker are in use")
        ticket = object()
        self._queue.append(ticket)
        deadline = now + WAIT
        while not (self._free() > 0 and self._queue[0] is ticket):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._queue.remove(ticket)
                self._cond.notify_all()
                raise Busy(f"all {self.capacity} database slots of this worker are in use")
            self._cond.wait(remaining)
        self._queue.popleft()
        self._cond.notify_all()   # the next in line may have a slot too

    def leave(self, entered: float) -> None:
        """Give back the slot taken at `entered` (what `enter` returned)."""
        with self._cond:
            self._held.remove(entered)
            self._cond.notify_all()
