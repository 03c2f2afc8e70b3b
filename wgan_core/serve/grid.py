"""`GridRuns`: a sensitivity grid's runs as a page holds them (pages/sensitivity.py, `lessons.grid`).

A grid is many small runs for one session: one per cell, each with a budget of
generator steps (``stop_at``: the worker stops it exactly there, ``reason="done"``).
It is admitted as a whole (`Admission.open_grid`: one per session, ``Caps.grids`` on
the server, at most ``Caps.grid_runs`` runs), so its runs do not count against the
class's per-run caps; they share the session's owner, so the worker gives the whole
grid one session's turn, and their runs of one objective train in one stack. The
place is given back when every cell has finished (`tend`) or the grid is closed, and
asked for again when it is played after that.
"""
from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Hashable

from wgan_core.engine.config import TrainConfig
from wgan_core.serve.handle import RunHandle

SEEN_EVERY_S = 10.0        # tell the worker someone is looking (its idle pause is minutes)


class GridRefused(ValueError):
    """The server has no place for this grid now; the message is the sentence for the page."""


class GridRuns:
    """One run per cell (``cfgs``: cell -> its config), each stopping at ``steps`` generator steps."""

    def __init__(self, pool, cfgs: dict[Hashable, TrainConfig], steps: int, owner: str, client: str = "local"):
        self.pool, self.gid, self.steps = pool, uuid.uuid4().hex, int(steps)
        self.owner, self.n = owner, len(cfgs)
        self._ask()
        self.handles = {c: RunHandle(pool, cfg, owner=owner, client=client, grid=self.gid, stop_at=self.steps)
                        for c, cfg in cfgs.items()}
        self._seen = 0.0

    def _ask(self) -> None:
        note = self.pool.admission.open_grid(self.gid, self.owner, self.n)
        if note:
            raise GridRefused(note)

    # -- commands ---------------------------------------------------------------------------
    def play(self, on: bool) -> None:
        """Start (GridRefused when the server has no place for a grid now) or pause every unfinished cell."""
        if on:
            self._ask()
        for h in self.handles.values():
            if not on or h.reason != "done":
                h.play(on)

    def reset(self) -> None:
        """Every cell afresh at step 0, paused (same settings and seeds)."""
        for h in self.handles.values():
            h.reset()

    def tend(self, now: float | None = None) -> None:
        """Call while a page shows the grid: says so to the worker now and then, restarts the cells the worker
        paused because nobody looked (if the server has a place), and gives the grid's place back while no
        cell trains (paused, or every cell finished)."""
        now = time.monotonic() if now is None else now
        if now - self._seen >= SEEN_EVERY_S:
            self._seen = now
            for h in self.handles.values():
                h.seen()
            idle = [h for h in self.handles.values() if h.reason == "idle"]
            if idle:
                with contextlib.suppress(GridRefused):
                    self._ask()
                    for h in idle:
                        h.play(True)
        if not self.playing:
            self.pool.admission.close_grid(self.gid)

    def close(self) -> None:
        for h in self.handles.values():
            h.close()
        self.pool.admission.close_grid(self.gid)

    # -- what the worker says -----------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return any(h.playing for h in self.handles.values())

    def finished(self) -> bool:
        return all(h.reason == "done" for h in self.handles.values())

    def snapshots(self) -> dict[Hashable, dict | None]:
        return {c: h.snapshot() for c, h in self.handles.items()}

    def steps_done(self) -> int:
        """Generator steps done by all cells together (at most ``steps`` each)."""
        return sum(min(self.steps, s["gen_steps"]) for s in self.snapshots().values() if s is not None)
