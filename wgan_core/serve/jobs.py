"""Named experiments the lessons run in the jobs process: name -> "module:function", and its lane.

A page asks for a job by name with keyword arguments of plain data; the jobs
process (nice 15, apart from the training workers) imports the function from this
registry (nothing a user sends is executed or unpickled) and returns its
plain-data result. `JobLane` runs one job at a time under a time cap (a job over
it is stopped and its process replaced), refuses more than a few waiting with a
sentence, and serves the results of jobs computed at start-up (`warm`) at once;
the page caches the rest, so thirty students asking for the same figure cost one
computation and never stall training.
"""
from __future__ import annotations

import importlib
import logging
import os
import queue
import threading
import uuid
from typing import Any

log = logging.getLogger("earthmover.jobs")
JOB_TIMEOUT_S = float(os.environ.get("EARTHMOVER_JOB_TIMEOUT_S", 90.0))
JOBS_WAITING_MAX = 8     # lesson experiments waiting for the jobs process; more are refused with a sentence
BUSY_NOTE = "The lesson experiments are busy right now; try again in a minute."
SLOW_NOTE = "This experiment took longer than the server allows ({:.0f} s); try fewer steps."

JOBS: dict[str, str] = {
    "dual1d": "wgan_core.lessons.lessons1d:dual_trajectory",
    "lipschitz_experiment": "wgan_core.lessons.lab:lipschitz_experiment",
    "layer_gradients": "wgan_core.lessons.lab:layer_gradients",
}


def run(name: str, kwargs: dict[str, Any]) -> Any:
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}")
    module, func = JOBS[name].split(":")
    return getattr(importlib.import_module(module), func)(**kwargs)


class JobLane:
    """The pool's jobs process seen from the server: one job at a time, each under a time cap, at most
    ``JOBS_WAITING_MAX`` waiting; results of `warm` jobs are kept and served at once."""

    def __init__(self, pool):
        self.pool = pool
        self._gate = threading.Semaphore(JOBS_WAITING_MAX)
        self._lock = threading.Lock()                # one job at a time in the jobs process
        self.warmed: dict[tuple, object] = {}       # (name, sorted kwargs) -> result, computed once

    def run(self, name: str, timeout: float | None = None, **kwargs):
        """A named experiment of `wgan_core.serve.jobs`, in the jobs process (one at a time, under a time
        cap): its result, or ValueError with one plain sentence when it is busy or too slow."""
        key = (name, tuple(sorted(kwargs.items())))
        if key in self.warmed:
            return self.warmed[key]
        if not self._gate.acquire(blocking=False):
            raise ValueError(BUSY_NOTE)
        try:
            with self._lock:
                if key in self.warmed:
                    return self.warmed[key]
                return self._run(name, kwargs, timeout or JOB_TIMEOUT_S)
        finally:
            self._gate.release()

    def _run(self, name: str, kwargs: dict, timeout: float):
        w = self.pool.lane("jobs")
        rid = "job-" + uuid.uuid4().hex
        self.pool.attach(rid, w)
        try:
            return self.pool.request(rid, "job", {"name": name, "kwargs": kwargs}, timeout=timeout)
        except queue.Empty:
            log.warning("job %s over %.0f s: stopping the jobs process", name, timeout)
            w.alive = False                          # the next job starts a fresh process
            w.proc.kill()
            w.proc.wait()
            raise ValueError(SLOW_NOTE.format(timeout)) from None
        finally:
            self.pool.detach(rid)

    def warm(self, jobs: list[tuple[str, dict]]) -> threading.Thread:
        """Compute these jobs once, in the background (at start-up): later requests get them at once."""
        def run():
            for name, kwargs in jobs:
                try:
                    with self._lock:
                        self.warmed[(name, tuple(sorted(kwargs.items())))] = self._run(name, kwargs, JOB_TIMEOUT_S)
                except Exception:                    # a failed warm-up only means someone waits later
                    log.exception("warming job %s failed", name)
        t = threading.Thread(target=run, daemon=True, name="earthmover-warm")
        t.start()
        return t
