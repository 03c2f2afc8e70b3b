"""Fair sharing of one worker process's core between many sessions' runs.

The scheduler owns the runs of one worker. Each turn it picks the stack (runs
that share `trainer.stack_key`) that has waited longest, trains every playing
run of it for one *burst* of generator steps sized to take about
``burst_s`` seconds, then publishes a snapshot of each run whose last one is
older than its frame interval, with its picture already drawn when a viewer
has said how it draws the run (``Slot.view``). Snapshots get a bounded share of the time
(``snap_share``): with many runs the frame interval stretches instead of work
piling up. All timing is measured, so the same code adapts from one run on a
GPU to thirty on a 2-core laptop.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from wgan_core.draw.render import frame_key
from wgan_core.engine.trainer import Run, snapshot_many, stack_key, train

MIN_FRAME_S = 0.07      # fastest snapshot rate of one run (~14/s; the live view redraws at most every 0.08 s)
EXACT_EVERY_S = 1.0     # exact W1 (optimal transport) at most this often per run ...
EXACT_SHARE = 0.10      # ... and at most this share of the worker's time, all runs together
IDLE_PAUSE_S = 180.0    # pause a run nobody has looked at for this long


@dataclass
class Slot:
    """A run and its scheduling state."""

    rid: str
    run: Run
    playing: bool = False
    speed: float = 0.0                 # generator steps/s cap; 0 = as fast as possible
    last_snap: float = 0.0
    last_exact: float = 0.0
    last_seen: float = field(default_factory=time.monotonic)
    want_snap: bool = True
    budget: float = 0.0                # token bucket for the speed cap
    note: str = ""
    version: int = 0
    serial: int = 0
    view: dict | None = None           # how a viewer draws this run (render options); None: nobody said
    refilled: float = field(default_factory=time.monotonic)


class Scheduler:
    def __init__(self, publish: Callable[[str, dict], None], burst_s: float = 0.04, snap_share: float = 0.72,
                 render: Callable[..., bytes] | None = None):
        self.slots: dict[str, Slot] = {}
        self.publish, self.burst_s, self.snap_share, self.render = publish, burst_s, snap_share, render
        self.step_cost: dict[tuple, float] = {}      # seconds per generator step, per stack key (EMA)
        self.snap_cost = 0.01                        # seconds per run snapshot (EMA)
        self.exact_cost = 0.03                       # extra seconds of a snapshot with the exact W1 (EMA)
        self.waited: dict[tuple, float] = {}

    # -- one turn -------------------------------------------------------------------------
    def busy(self) -> bool:
        return any(s.playing and s.run.status == "ok" for s in self.slots.values()) or any(
            s.want_snap for s in self.slots.values())

    def turn(self) -> None:
        now = time.monotonic()
        self._pause_idle(now)
        groups = self._groups(now)
        if groups:
            key = min(groups, key=lambda k: self.waited.get(k, 0.0))
            self.waited[key] = now
            self._burst(key, groups[key])
        self._snapshots(time.monotonic())

    def _groups(self, now: float) -> dict[tuple, list[Slot]]:
        groups: dict[tuple, list[Slot]] = {}
        for s in self.slots.values():
            if not (s.playing and s.run.status == "ok"):
                continue
            if s.speed > 0 and s.budget < 1:
                continue
            groups.setdefault(stack_key(s.run), []).append(s)
        return groups

    def _burst(self, key: tuple, slots: list[Slot]) -> None:
        cost = self.step_cost.get(key, 0.005)
        n = int(np.clip(self.burst_s / max(cost, 1e-5), 1, 200))
        capped = [s.budget for s in slots if s.speed > 0]
        if capped:
            n = max(1, min(n, int(min(capped))))
        t0 = time.perf_counter()
        train([s.run for s in slots], n)
        dt = (time.perf_counter() - t0) / n
        self.step_cost[key] = 0.7 * cost + 0.3 * dt if key in self.step_cost else dt
        for s in slots:
            if s.speed > 0:
                s.budget -= n
            if s.run.status != "ok":
                s.playing, s.want_snap = False, True

    # -- snapshots ------------------------------------------------------------------------
    def frame_interval(self) -> float:
        """Seconds between two snapshots of a run, so that snapshots take <= snap_share of the time.
        (0.72: at 30 runs on one core that leaves ~8 generator steps/s for each and ~2.8 frames/s.)"""
        active = sum(1 for s in self.slots.values() if s.playing) or 1
        return max(MIN_FRAME_S, active * self.snap_cost / self.snap_share)

    def exact_interval(self) -> float:
        """Seconds between two exact-W1 measurements of a run (stretches with the number of runs)."""
        active = sum(1 for s in self.slots.values() if s.playing) or 1
        return max(EXACT_EVERY_S, active * self.exact_cost / EXACT_SHARE)

    def _snapshots(self, now: float) -> None:
        interval, exact_every = self.frame_interval(), self.exact_interval()
        due = [s for s in self.slots.values()
               if s.want_snap or (s.playing and now - s.last_snap >= interval)]
        for s in self.slots.values():                     # refill speed-capped budgets
            if s.speed > 0:
                s.budget = min(s.budget + s.speed * max(now - s.refilled, 0.0), s.speed * 0.5 + 1)
            s.refilled = now
        by_key: dict[tuple, list[Slot]] = {}
        for s in due:
            by_key.setdefault(stack_key(s.run), []).append(s)
        for slots in by_key.values():
            exact = [now - s.last_exact >= exact_every or s.want_snap for s in slots]
            snaps = []
            for flag in (True, False):                   # exact W1 only where due
                group = [s for s, e in zip(slots, exact) if e == flag]
                if group:
                    t0 = time.perf_counter()
                    made = list(zip(group, snapshot_many([s.run for s in group], exact=flag)))
                    for s, snap in made:
                        self._draw(s, snap)
                    snaps += made
                    dt = (time.perf_counter() - t0) / len(group)
                    if flag:
                        self.exact_cost = 0.8 * self.exact_cost + 0.2 * max(dt - self.snap_cost, 0.0)
                    else:
                        self.snap_cost = 0.8 * self.snap_cost + 0.2 * dt
            for s, snap in snaps:
                s.version += 1
                s.last_snap, s.want_snap = now, False
                if snap["metrics"]["exact_w1"] is not None:
                    s.last_exact = now
                snap.update(version=s.version, serial=s.serial, playing=s.playing, note=s.note, speed=s.speed,
                            frame_interval=interval)
                self.publish(s.rid, snap)

    def _draw(self, s: Slot, snap: dict) -> None:
        """Render the frame a viewer of this run will show (its view options), here in the worker:
        the drawing then counts in the snapshots' share of this core, and the server only relays it."""
        if self.render is None or not s.view or snap.get("real") is None:
            return
        snap["frame"] = self.render(snap, **s.view)
        snap["frame_key"] = frame_key(self.render, s.view)

    def _pause_idle(self, now: float) -> None:
        for s in self.slots.values():
            if s.playing and now - s.last_seen > IDLE_PAUSE_S:
                s.playing, s.want_snap = False, True
                s.note = "Paused: nobody was watching for a few minutes. Press play to go on."
