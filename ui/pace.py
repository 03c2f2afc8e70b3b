"""Server-wide pacing of the live views: how often may each viewer's picture be redrawn?

The training worker already stretches its frame interval with its load (see
`wgan_core.scheduler`). The Streamlit process has a budget too: every redraw is
a fragment run, and all sessions' runs share one interpreter lock with the event
loop that talks to the browsers. Measured with 30 sessions on 2 cores: when
fragment runs asked for more than the process could give, the event loop got the
lock too rarely, new students' pages never arrived and every session froze
(0 frames/s) instead of slowing down.

So the process measures what a fragment run costs it (its CPU time over the
fragment runs it served, everything included) and spaces each viewer's redraws
so that all viewers together use at most ``share`` of one core:

    tick >= viewers * RUNS_PER_TICK * cost / share

``RUNS_PER_TICK`` counts the view's own run (its side panel runs with it) plus the
slower curves (one run per ``CURVES_EVERY`` ticks under load).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

CURVES_EVERY = 4                    # under load the curves redraw every 4th tick of the view
RUNS_PER_TICK = 1.0 + 1.0 / CURVES_EVERY
WINDOW_S = 2.0          # cost is re-measured over windows of about this length
MIN_RUNS = 10
VIEWER_S = 3.0          # a viewer counts while its view ran within this many seconds


class Pace:
    def __init__(self, share: float = 0.65, cost: float = 0.005,
                 clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.process_time):
        self.share, self.cost, self.clock, self.cpu = share, cost, clock, cpu
        self._lock = threading.Lock()
        self._viewers: dict[str, float] = {}
        self._runs = 0
        self._t0, self._cpu0 = clock(), cpu()

    def ran(self, viewer: str | None = None) -> None:
        """A fragment run finished; ``viewer``: the run whose live view it drew (keeps it counted)."""
        with self._lock:
            self._runs += 1
            now = self.clock()
            if viewer is not None:
                self._viewers[viewer] = now
            if now - self._t0 >= WINDOW_S:
                if self._runs >= MIN_RUNS:               # too few runs: a page load would look like their cost
                    measured = (self.cpu() - self._cpu0) / self._runs
                    self.cost = 0.5 * self.cost + 0.5 * measured
                self._runs, self._t0, self._cpu0 = 0, now, self.cpu()

    def viewers(self) -> int:
        now = self.clock()
        with self._lock:
            for k in [k for k, t in self._viewers.items() if now - t > VIEWER_S]:
                del self._viewers[k]
            return len(self._viewers)

    def min_tick(self) -> float:
        """Seconds between two redraws of one live view so that all of them fit in ``share``."""
        return max(1, self.viewers()) * RUNS_PER_TICK * self.cost / self.share
