"""Who may train now: caps on playing runs per server and per client, a queue in arrival order.

Thirty students share one worker core; one script opening two hundred sessions must
not take it from them. Every "play" asks `Admission.request`: a run plays if fewer
than ``Caps.playing`` runs play on the server and fewer than
``Caps.playing_per_client`` from the same client (the address the proxy forwards);
otherwise it waits in line, and its page says so (`queued_note`). When a run stops
(paused, closed, paused by the worker) the first waiting runs that now fit start.

A whole class behind one school router shares one address, so the per-client cap is
well above a class; it stops one machine from taking the server, not a class from
using it. All caps can be set by environment variables (EARTHMOVER_MAX_...).

A sensitivity grid (pages/sensitivity.py) trains up to ``Caps.grid_runs`` runs for one
session, more than ``runs_per_session``. It is admitted as a whole (`open_grid`): one
grid per session, at most ``Caps.grids`` on the server at once, else one plain
sentence. Its runs then play without counting against ``playing`` or
``playing_per_client`` (one grid of 36 would leave a class behind one address four
places): what bounds their cost is the grid cap itself, the worker's fair share (a
grid is one session, so it gets one session's turn, however many runs it holds) and
their slower snapshots (`scheduler`). A grid holds its place while it trains: it gives it
back (`close_grid`) when no cell trains (paused, or every cell finished its budget) or
its session ends, and asks again to go on (`serve.grid.GridRuns`).
Pure bookkeeping, thread-safe, no processes: tests/test_admission.py drives it directly.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass


def _env(name: str, default: int) -> int:
    return int(os.environ.get(f"EARTHMOVER_MAX_{name}", default))


@dataclass(frozen=True)
class Caps:
    playing: int = _env("PLAYING", 64)                            # runs training at once on the server
    playing_per_client: int = _env("PLAYING_PER_CLIENT", 40)      # ... from one address
    runs_per_session: int = _env("RUNS_PER_SESSION", 12)          # runs one session may hold (played or not)
    sessions_per_client: int = _env("SESSIONS_PER_CLIENT", 60)    # open tabs from one address
    grid_runs: int = _env("GRID_RUNS", 36)                        # runs in one sensitivity grid (one per session)
    grids: int = _env("GRIDS", 2)                                 # grids training on the server at once


class Admission:
    """Which runs play and which wait, in arrival order."""

    def __init__(self, caps: Caps | None = None):
        self.caps = caps or Caps()
        self.playing: dict[str, str] = {}                          # rid -> client
        self.waiting: OrderedDict[str, str] = OrderedDict()        # rid -> client, first come first
        self.grids: dict[str, str] = {}                              # grid id -> its session (owner)
        self._lock = threading.Lock()

    def _fits(self, client: str) -> bool:
        mine = sum(1 for c in self.playing.values() if c == client)
        return len(self.playing) < self.caps.playing and mine < self.caps.playing_per_client

    def request(self, rid: str, client: str) -> bool:
        """Run ``rid`` wants to play: True if it may now, False if it waits in line."""
        with self._lock:
            if rid in self.playing:
                return True
            if self._fits(client) and self._first_fitting() in (None, rid):      # nobody who fits is ahead
                self.waiting.pop(rid, None)
                self.playing[rid] = client
                return True
            self.waiting.setdefault(rid, client)
            return False

    def _first_fitting(self) -> str | None:
        return next((r for r, c in self.waiting.items() if self._fits(c)), None)

    def release(self, rid: str) -> list[str]:
        """Run ``rid`` stopped playing or was closed; returns the waiting runs that may play now."""
        with self._lock:
            self.playing.pop(rid, None)
            self.waiting.pop(rid, None)
            admitted = []
            while (nxt := self._first_fitting()) is not None:
                self.playing[nxt] = self.waiting.pop(nxt)
                admitted.append(nxt)
            return admitted

    def is_waiting(self, rid: str) -> bool:
        return rid in self.waiting

    def queued_note(self, rid: str) -> str:
        """The sentence a waiting run's page shows."""
        with self._lock:
            place = list(self.waiting).index(rid) + 1 if rid in self.waiting else 0
            n = len(self.playing)
        return (f"The class is full: {n} runs are training; yours starts when one stops"
                + (f" (you are number {place} in line)." if place else "."))

    # -- grids ------------------------------------------------------------------------------
    def open_grid(self, gid: str, owner: str, n_runs: int) -> str:
        """Session ``owner`` asks for a grid of ``n_runs`` runs: "" when it may train it (or already does),
        else the sentence its page shows."""
        with self._lock:
            if gid in self.grids:
                return ""
            if n_runs > self.caps.grid_runs:
                return (f"A grid may train at most {self.caps.grid_runs} runs on this server; this one asks for "
                        f"{n_runs}.")
            if owner in self.grids.values():
                return "This session already trains a grid: wait until it has finished, or clear it."
            if len(self.grids) >= self.caps.grids:
                return (f"The server is already training {len(self.grids)} "
                        f"grid{'s' if len(self.grids) != 1 else ''} of runs, the most it trains at once beside "
                        "the class's own runs: try again when one has finished (a grid takes a few minutes).")
            self.grids[gid] = owner
            return ""

    def close_grid(self, gid: str) -> None:
        """The grid stopped training (paused, finished, closed): its place is free."""
        with self._lock:
            self.grids.pop(gid, None)

    def grid_open(self, gid: str | None) -> bool:
        return gid is not None and gid in self.grids
