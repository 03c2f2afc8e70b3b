"""Fair sharing of one worker process's core between many sessions' runs.

The scheduler owns the runs of one worker. Each turn it picks a stack (runs that
share `trainer.stack_key`), the one whose neediest session (``Slot.owner``) has used
the least of its share of training time (`_pick`), trains every playing run of that
stack for one *burst* of generator steps sized to take about ``burst_s`` seconds,
charges the burst's time to the sessions in the stack, each by its runs there
(`_charge`), then publishes a snapshot of each run whose last one is
older than its frame interval: its numbers, and its arrays as one compact frame
(`wire`) that the browser draws; nothing is drawn here. Snapshots get a bounded
share of the time (``snap_share``): with many runs the frame interval stretches
instead of work piling up. All timing is measured, so the same code adapts from one run on a
GPU to thirty on a 2-core laptop.

A run may carry a budget (``Slot.stop_at``: a sensitivity grid's cell trains exactly that many
generator steps, then stops with ``reason="done"``) and slower snapshots of its own
(``snap_every``, ``exact_every``: a grid's 36 small pictures need a new frame every second or two,
not 25 a second); such runs take their measured share of the snapshot budget first and the other
runs' frame interval is computed from what is left (`_interval`).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from wgan_core.engine import wire
from wgan_core.engine.trainer import MODES_EVERY_S, Run, snapshot_many, stack_key, train

MIN_FRAME_S = 1 / 30    # fastest snapshot rate of one run (30/s: the browser tweens between them)
MAX_BURST_S = 0.1       # no burst holds the worker longer (controls and pauses are answered between bursts)
EXACT_EVERY_S = 1.0     # exact W1 (optimal transport) at most this often per run ...
EXACT_SHARE = 0.10      # ... and at most this share of the worker's time, all runs together
IDLE_PAUSE_S = float(os.environ.get("EARTHMOVER_IDLE_PAUSE_S", 180.0))   # pause a run nobody has looked at for this long
SLACK_S = 0.2           # a session back from a pause may claim at most this much training time it missed
FAILED_NOTE = "This run stopped because of an error in the training process (it was logged); press Reset."
log = logging.getLogger("earthmover.scheduler")


@dataclass
class Slot:
    """A run and its scheduling state."""

    rid: str
    run: Run
    owner: str = ""                    # the session the run belongs to: time is shared per owner
    playing: bool = False
    speed: float = 0.0                 # generator steps/s cap; 0 = as fast as possible
    last_snap: float = 0.0
    last_exact: float = 0.0
    last_seen: float = field(default_factory=time.monotonic)
    want_snap: bool = True             # a snapshot at once (a command's answer), with exact W1 ...
    quick: bool = False                # ... or a light one: only live changes asked (exact W1 keeps its pace)
    budget: float = 0.0                # token bucket for the speed cap
    note: str = ""                     # a sentence for the student (why it paused, a restart)
    reason: str = ""                   # why it does not play: "", "idle", "restarted", "diverged", "failed", "queued"
    cmd: int = 0                       # the number of the last play/pause/step command applied
    version: int = 0
    serial: int = 0
    real_sent: bool = False            # the run's real points went out with a snapshot already
    refilled: float = field(default_factory=time.monotonic)
    stop_at: int = 0                   # stop (reason "done") at this many generator steps; 0 = no budget
    snap_every: float = 0.0            # at most one snapshot per this many seconds (0: the worker's interval)
    exact_every: float = 0.0           # at most one exact W1 per this many seconds (0: the worker's interval)

    def ask(self, light: bool = False) -> None:
        """A snapshot at once: a full one (exact W1), or a light one (~1 ms instead of ~15) when every ask
        since the last is ``light`` (a live change: the page waits for the snapshot that carries it)."""
        self.quick = light and (self.quick or not self.want_snap)
        self.want_snap = True


def _average(costs: dict, key: tuple, seconds: float) -> None:
    """costs[key] <- an exponential moving average of the measured ``seconds`` (the first one as it is)."""
    costs[key] = 0.7 * costs[key] + 0.3 * seconds if key in costs else seconds


class Scheduler:
    def __init__(self, publish: Callable[[str, dict], None], burst_s: float = 0.04, snap_share: float = 0.5,
                 pending: Callable[[], bool] | None = None):
        self.slots: dict[str, Slot] = {}
        self.publish, self.burst_s, self.snap_share = publish, burst_s, snap_share
        self.pending = pending                       # a command waits: a burst ends after its current step
        # per stack key (EMAs): seconds of a burst's first step (stacking and buffers included), and of
        # each further step; a burst's length is first + (n - 1) x step
        self.first_cost: dict[tuple, float] = {}
        self.step_cost: dict[tuple, float] = {}
        self.snap_cost = 0.01                        # seconds per run snapshot (EMA)
        self.exact_cost = 0.03                       # extra seconds of a snapshot with the exact W1 (EMA)
        self.waited: dict[tuple, float] = {}         # stack key -> when it last trained
        self.usage: dict[tuple, float] = {}         # (owner, stack key) -> training seconds charged (`_charge`)
        self.stacks_of: dict[str, int] = {}         # owner -> how many stacks it trains now
        self.vtime = 0.0                             # the least usage of a pair with runs to train (monotone)

    # -- one turn -------------------------------------------------------------------------
    def busy(self) -> bool:
        return any(s.playing and s.run.status == "ok" for s in self.slots.values()) or any(
            s.want_snap for s in self.slots.values())

    def turn(self) -> None:
        now = time.monotonic()
        if any(s.want_snap for s in self.slots.values()):   # a command's answer (a live change, Pause) first,
            self._snapshots(now, asked_only=True)             # not after another burst, nor after others' due ones
        self._pause_idle(now)
        groups = self._groups(now)
        if groups:
            key = self._pick(groups)
            self.waited[key] = now
            t0 = time.perf_counter()
            self._burst(key, groups[key], self._until_due(now))
            self._charge(key, groups[key], time.perf_counter() - t0)
        self._snapshots(time.monotonic())

    def _charge(self, key: tuple, slots: list[Slot], seconds: float) -> None:
        """The burst of stack ``key`` took ``seconds``: each session in it pays its runs' part of them, times
        the number of stacks it trains (its time is split evenly between them): `_pick`."""
        runs: dict[str, int] = {}
        for s in slots:
            runs[s.owner] = runs.get(s.owner, 0) + 1
        for owner, k in runs.items():
            pair = (owner, key)
            self.usage[pair] = self.usage.get(pair, self.vtime) + seconds * k / len(slots) * self.stacks_of.get(owner, 1)

    def _until_due(self, now: float) -> float | None:
        """Seconds until the next playing run's snapshot is due: a burst ends then, so that frames leave at
        their interval instead of at the next burst boundary (40 ms bursts had cut 25 frames/s to ~17). Only
        while the worker is not crowded (frames at their fastest); a crowded worker's frame interval is many
        bursts long, and shorter bursts would only add overhead."""
        interval = self.frame_interval()
        if interval > 1.5 * MIN_FRAME_S:
            return None
        due = [s.last_snap + max(interval, s.snap_every) - now for s in self.slots.values() if s.playing]
        return max(min(due), 0.0) if due else None

    def _pick(self, groups: dict[tuple, list[Slot]]) -> tuple:
        """Time is shared per session, not per run. Each session's time is split evenly between the stacks it
        trains, and each (session, stack) pair is charged its part of every burst of that stack (`_charge`);
        the stack whose neediest pair has used the least goes next (ties: the one that waited longest). A page
        with five runs of five objectives gets about as much time as a page with one run, and a stack that
        twelve sessions share is served twelve sessions' worth (with turns per session, Compare's GAN and
        WGAN-clip runs, whose sessions a shared WGAN-GP stack always "served", never trained). A new pair
        starts at the least usage of the others; one back from a pause claims at most ``SLACK_S`` of the time
        it missed."""
        stacks: dict[str, int] = {}
        pairs: dict[tuple, list[tuple]] = {}
        for key, slots in groups.items():
            owners = list(dict.fromkeys(s.owner for s in slots))
            pairs[key] = [(o, key) for o in owners]
            for o in owners:
                stacks[o] = stacks.get(o, 0) + 1
        self.stacks_of = stacks
        live = [p for ps in pairs.values() for p in ps]
        for p in live:
            self.usage[p] = max(self.usage.get(p, self.vtime), self.vtime - SLACK_S)
        self.vtime = max(self.vtime, min(self.usage[p] for p in live))
        if len(self.usage) > 4 * len(live) + 64:          # forget pairs of stacks that no longer train
            self.usage = {p: self.usage[p] for p in live}
        return min(groups, key=lambda k: (min(self.usage[p] for p in pairs[k]), self.waited.get(k, 0.0)))

    def _groups(self, now: float) -> dict[tuple, list[Slot]]:
        groups: dict[tuple, list[Slot]] = {}
        for s in self.slots.values():
            if s.playing and s.stop_at and s.run.gen_steps >= s.stop_at:
                self._done(s)
            if not (s.playing and s.run.status == "ok"):
                continue
            if s.speed > 0 and s.budget < 1:
                continue
            groups.setdefault(stack_key(s.run), []).append(s)
        return groups

    def _span(self) -> float:
        """A burst's length: ``burst_s``, or, while the worker is crowded (frames slower than their
        fastest), up to 3/4 of the frame interval, at most MAX_BURST_S: a stack of 30 runs spends ~25 ms
        stacking and making its buffers before its first step, so 40 ms bursts held one step each."""
        return min(MAX_BURST_S, max(self.burst_s, 0.75 * self.frame_interval()))

    def _burst(self, key: tuple, slots: list[Slot], until: float | None = None) -> None:
        first = self.first_cost.get(key, 0.005)
        cost = self.step_cost.get(key, first)
        span = self._span() if until is None else min(self._span(), max(until, 0.004))
        n = int(np.clip(1 + (span - first) / max(cost, 1e-5), 1, 200))
        capped = [s.budget for s in slots if s.speed > 0]
        if capped:
            n = max(1, min(n, int(min(capped))))
        left = [s.stop_at - s.run.gen_steps for s in slots if s.stop_at]
        if left:                                         # a budgeted run stops exactly at its budget
            n = max(1, min(n, min(left)))
        timing: dict = {}
        try:
            n = train([s.run for s in slots], n, timing=timing, stop=self.pending) or n
            failed = False
        except Exception:                                # one bad run must not take the worker down
            log.exception("a burst of %d runs failed; they are paused", len(slots))
            failed = True
        if "first" in timing:
            _average(self.first_cost, key, timing["first"])
            if n > 1:
                _average(self.step_cost, key, timing["rest"] / (n - 1))
        for s in slots:
            if s.speed > 0:
                s.budget -= n
            if failed:
                s.playing, s.reason, s.note = False, "failed", FAILED_NOTE
                s.ask()
            elif s.run.status != "ok":
                s.playing, s.reason = False, s.run.status
                s.ask()
            elif s.stop_at and s.run.gen_steps >= s.stop_at:
                self._done(s)

    @staticmethod
    def _done(s: Slot) -> None:
        """A budgeted run reached its budget: it stops, and its next snapshot (a full one) says so."""
        s.playing, s.reason = False, "done"
        s.ask()
        s.note = f"Finished: {s.stop_at:,} generator steps, its budget."

    # -- snapshots ------------------------------------------------------------------------
    def frame_interval(self) -> float:
        """Seconds between two snapshots of a run, so that snapshots take <= snap_share of the time
        (the rest trains): ``max(MIN_FRAME_S, playing runs x cost of one snapshot / snap_share)``."""
        return self._interval(MIN_FRAME_S, self.snap_cost, self.snap_share, "snap_every")

    def exact_interval(self) -> float:
        """Seconds between two exact-W1 measurements of a run (stretches with the number of runs)."""
        return self._interval(EXACT_EVERY_S, self.exact_cost, EXACT_SHARE, "exact_every")

    def _interval(self, least: float, cost: float, share: float, own: str) -> float:
        """``max(least, n x cost / (share - slow))`` over the n playing runs without an interval of their own;
        ``slow``: the share the others take (cost / their interval each), at most half of ``share``.
        Without such runs: ``max(least, playing runs x cost / share)``."""
        playing = [getattr(s, own) for s in self.slots.values() if s.playing]
        fast = sum(1 for every in playing if not every) or 1
        slow = sum(cost / every for every in playing if every)
        return max(least, fast * cost / max(share - slow, share / 2))

    def _snapshots(self, now: float, asked_only: bool = False) -> None:
        """Publish the snapshots due: those a command asked for (``asked_only``: only those, and the cost
        estimates that set the frame interval are left as they are), and those of playing runs whose interval
        is up."""
        interval, exact_every = self.frame_interval(), self.exact_interval()
        due = [s for s in self.slots.values() if s.want_snap or (
            not asked_only and s.playing and now - s.last_snap >= max(interval, s.snap_every))]
        for s in self.slots.values():                     # refill speed-capped budgets
            if s.speed > 0:
                s.budget = min(s.budget + s.speed * max(now - s.refilled, 0.0), s.speed * 0.5 + 1)
            s.refilled = now
        by_key: dict[tuple, list[Slot]] = {}
        for s in due:
            by_key.setdefault(stack_key(s.run), []).append(s)
        for slots in by_key.values():
            exact = [now - s.last_exact >= max(exact_every, s.exact_every) or (s.want_snap and not s.quick)
                     for s in slots]
            snaps = []
            for flag in (True, False):                   # exact W1 only where due
                group = [s for s, e in zip(slots, exact) if e == flag]
                if group:
                    t0 = time.perf_counter()
                    try:
                        snaps += list(zip(group, snapshot_many([s.run for s in group], exact=flag,
                                                               modes_every_s=MODES_EVERY_S, now=now)))
                    except Exception:                    # one bad run must not take the worker down
                        log.exception("a snapshot of %d runs failed; they are paused", len(group))
                        for s in group:
                            s.playing, s.want_snap, s.reason, s.note = False, False, "failed", FAILED_NOTE
                        continue
                    if asked_only:                       # the costs model the periodic snapshots, batched per
                        continue                         # stack; a command's answer alone costs more per run
                    dt = (time.perf_counter() - t0) / len(group)
                    if flag:
                        self.exact_cost = 0.8 * self.exact_cost + 0.2 * max(dt - self.snap_cost, 0.0)
                    else:
                        self.snap_cost = 0.8 * self.snap_cost + 0.2 * dt
            for s, snap in snaps:
                self.publish(s.rid, self._packed(s, snap, now, interval))

    def _packed(self, s: Slot, snap: dict, now: float, interval: float) -> dict:
        """What goes to the server: the snapshot's numbers, and for 2D data its arrays as one compact frame
        (`wire.encode_frame`, a few KB, drawn by the browser; the transport plan, 800 bytes, only when it is new). The run's
        real points go with its first snapshot only (they never change), the curves with full snapshots only
        (about once a second; light snapshots have none: `snapshot_many` does not compute them). A run on pictures
        (its data set has `pictures`) sends them as a pictures frame (`wire.encode_pictures`), and their vectors
        (for the page's quality figures) with full snapshots only."""
        s.version += 1
        s.last_snap, s.want_snap, s.quick, first = now, False, False, not s.real_sent
        full = snap["metrics"]["exact_w1"] is not None
        if full:
            s.last_exact = now
        plan = snap.pop("plan", None)                     # the exact assignment of fake[:N_W1] to real[:N_W1]
        plan = plan if (full or first) else None          # new on full snapshots only: the browser keeps the last
        if snap.get("manifold") is not None:              # 2D data (a critic-free run has no grid, no arrows)
            snap["frame"] = wire.encode_frame(
                serial=s.version, run=s.serial, t=now, gen_steps=snap["gen_steps"], status=snap["status"],
                extent=snap["extent"], fake=snap.pop("fake"), grid=snap.pop("grid", None),
                arrows=snap.pop("arrows", None), manifold=snap.pop("manifold"), plan=plan)
            snap.pop("grad_norms", None)
        elif s.run.dataset.pictures is not None:          # pictures: 64 of them as bytes of ink (4 KB for digits)
            snap["frame"] = wire.encode_pictures(
                serial=s.version, run=s.serial, t=now, gen_steps=snap["gen_steps"], status=snap["status"],
                pictures=s.run.dataset.pictures(snap["fake"]))
            if not (full or first):                       # the page scores them about once a second: full ones
                snap.pop("fake")
        if s.real_sent:                                   # the real points never change: sent once per run
            snap.pop("real", None)
        s.real_sent = True
        if not (full or first):
            snap.pop("curves", None)
        snap.update(version=s.version, serial=s.serial, playing=s.playing, reason=s.reason, cmd=s.cmd,
                    note=s.note, speed=s.speed, frame_interval=interval, t=now)
        return snap

    def drop(self, rid: str) -> None:
        """Forget a closed run (and its session's charged time, once it has no run left here)."""
        s = self.slots.pop(rid, None)
        if s is not None and not any(o.owner == s.owner for o in self.slots.values()):
            self.usage = {p: u for p, u in self.usage.items() if p[0] != s.owner}

    def _pause_idle(self, now: float) -> None:
        for s in self.slots.values():
            if s.playing and now - s.last_seen > IDLE_PAUSE_S:
                s.playing, s.reason = False, "idle"
                s.ask()
                s.note = "Paused: nobody was watching for a few minutes. Press play to go on."
