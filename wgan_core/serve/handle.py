"""`RunHandle`: one session's training run, as a page sees it.

A page holds a handle per run. It sends config changes (live ones in place,
structural ones as a new run, after checking the new set-up's cost), play/pause,
steps and checkpoints to the run's worker through the `Pool`, and reads back what
the worker publishes: the newest snapshot, the last few frames for the live view.

The worker owns the run's status: every snapshot says whether the run plays and,
if not, why (``reason``: "" when paused by the student, "idle", "restarted",
"diverged", "failed", "done" when a budgeted run reached its budget, or "queued"
while it waits for a place in a full class).
The handle shows what the newest snapshot says, or what its last command asked for
until a snapshot has answered it (``cmd``: the number of the last command the
worker applied), so a click shows at once and the page never contradicts the worker.
"""
from __future__ import annotations

import time
import uuid

from wgan_core.engine import cost, wire
from wgan_core.engine.config import TrainConfig
from wgan_core.serve.scheduler import IDLE_PAUSE_S

# "someone looks" goes to the worker at most this often (every view's run said so, 3 a second per student,
# and each message now ends the worker's burst: a command waits); the worker pauses a run after IDLE_PAUSE_S
SEEN_EVERY_S = min(5.0, IDLE_PAUSE_S / 4)


class RunHandle:
    """One session's training run. ``owner``: the session it belongs to, ``client``: its address
    (the worker shares its time per owner; admission caps count per client). ``grid``: the admitted
    grid it is a cell of (`serve.grid`), ``stop_at``: its budget of generator steps (0: none)."""

    def __init__(self, pool, config: TrainConfig, points=None, owner: str = "", client: str = "",
                 grid: str = "", stop_at: int = 0):
        self.pool, self.rid = pool, uuid.uuid4().hex
        self.owner, self.client = owner or self.rid, client or "local"
        self.grid, self.stop_at = grid, stop_at
        self.config, self.points = config, points
        self._cmd, self._want = 0, False             # last play/pause/step command sent, and what it asked
        self._run_cmd = 0                            # the command that made the current run (older snaps: stale)
        self._speed = 0.0
        self._seen_at = time.monotonic()             # the run is new: as good as seen
        pool.create(self.rid, config, points, owner=self.owner, client=self.client, grid=grid, stop_at=stop_at)

    # -- the status, as the worker says it --------------------------------------------------
    def _answered(self, snap: dict | None) -> bool:
        return snap is not None and snap.get("cmd", 0) >= self._cmd

    @property
    def playing(self) -> bool:
        """Training, or waiting in line to (a queued run counts: its button offers Pause, i.e. cancel)."""
        snap = self.snapshot()
        if not self._answered(snap):
            return self._want
        return bool(snap.get("playing")) or snap.get("reason") == "queued"

    @property
    def reason(self) -> str:
        """Why the run does not train: "" (paused by the student, or training), "idle", "restarted",
        "diverged", "failed", "queued", "done" (its budget reached); "" too while a command is on its way."""
        snap = self.snapshot()
        return snap.get("reason", "") if self._answered(snap) else ""

    def _command(self, verb: str, payload: dict) -> None:
        self._cmd += 1
        self.pool.send(self.rid, verb, {**payload, "cmd": self._cmd})

    # -- commands -----------------------------------------------------------------------------
    def set_config(self, config: TrainConfig, points=None) -> str:
        """'same', 'live' (applied to the running training) or 'restart' (a fresh run). ValueError with a
        plain sentence, and nothing changed, when the new set-up is too large for the server."""
        same_points = (points is None and self.points is None) or (
            points is not None and self.points is not None and points is self.points)
        if config == self.config and same_points:
            return "same"
        cost.check(config)
        if not config.structural_diff(self.config) and same_points:
            self.config = config
            self.pool.send(self.rid, "config", config.to_dict())
            return "live"
        playing = self.playing
        self.config, self.points = config, points
        self._new_run(playing)
        return "restart"

    def _new_run(self, playing: bool) -> None:
        self._cmd += 1
        self._want, self._run_cmd = playing, self._cmd
        self.pool.create(self.rid, self.config, self.points, playing=playing, cmd=self._cmd, speed=self._speed,
                         owner=self.owner, client=self.client, grid=self.grid, stop_at=self.stop_at)

    def reset(self) -> None:
        """A fresh run with the same settings and seed, paused at step 0."""
        self._new_run(False)

    def play(self, on: bool) -> None:
        self._want = bool(on)
        self._command("play", {"on": bool(on)})

    def step(self, mode: str = "iteration") -> None:
        self._want = False
        self._command("step", {"mode": mode})

    def speed(self, steps_per_s: float) -> None:
        if steps_per_s != self._speed:
            self._speed = steps_per_s
            self.pool.send(self.rid, "speed", steps_per_s)

    def resume(self) -> None:
        self.pool.send(self.rid, "resume")

    def seen(self) -> None:
        """Someone is looking (so the run is not idle); tells the worker at most every ``SEEN_EVERY_S``."""
        now = time.monotonic()
        if now - self._seen_at >= SEEN_EVERY_S:
            self._seen_at = now
            self.pool.send(self.rid, "seen")

    # -- what the worker published --------------------------------------------------------------
    def snapshot(self) -> dict | None:
        """The newest snapshot of the current run (None until its first one: a snapshot of the run it
        replaced may still arrive after a restart, and is not shown)."""
        snap = self.pool.snaps.get(self.rid)
        return None if snap is None or snap.get("cmd", 0) < self._run_cmd else snap

    def wait_applied(self, timeout: float = 1.0) -> bool:
        """After a live change: wait (at most ``timeout`` s) for the worker's snapshot that carries the new
        settings, so that the page run that sent them already shows them (the worker answers a change with
        a light snapshot once its current generator step is done: ~10-50 ms; under a crowd of 60 on 2 cores,
        now and then more than 0.6 s). True once it is there."""
        want, end = self.config.to_dict(), time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if snap is None or snap.get("config") == want:
                return snap is not None
            if time.monotonic() >= end:
                return False
            time.sleep(0.003)                 # ~20 looks in a typical wait; each one is a dict lookup

    def frames(self, after: int = 0) -> list[tuple[int, bytes]]:
        """The current run's kept frames newer than version ``after``: [(version, frame bytes)], oldest first."""
        if self.snapshot() is None:
            return []
        return [f for f in list(self.pool.frames.get(self.rid, ())) if f[0] > after]

    def arrays(self) -> dict | None:
        """The newest snapshot with its frame decoded into arrays (``fake``, ``grid``, ``arrows``,
        ``manifold``, float32; ``plan``, int) and its run's ``real`` points: what an export draws. None before
        the first."""
        snap = self.snapshot()
        if snap is None or snap.get("frame") is None:
            return snap
        f = wire.decode_frame(snap["frame"])
        return {**snap, **{k: f[k] for k in ("fake", "grid", "arrows", "manifold", "plan") if f.get(k) is not None}}

    def error(self) -> str | None:
        return self.pool.errors.pop(self.rid, None)

    def save(self) -> bytes:
        return self.pool.request(self.rid, "save")

    def load(self, data: bytes) -> None:
        """Load a checkpoint's state into the run (the worker pauses it)."""
        self._want = False
        self.pool.request(self.rid, "load", data)

    def close(self) -> None:
        self.pool.release(self.rid)
