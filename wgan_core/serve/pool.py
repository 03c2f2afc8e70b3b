"""The server's side of training: worker processes in three lanes, admission, and what they publish.

`Pool` starts worker processes with `subprocess`, each running
``python -m wgan_core.serve.worker FD NICE`` with one torch thread, and talks to
each over its own end of a `socket.socketpair` handed down with ``pass_fds``:
no port is listened on, so no other process can reach a worker's channel.

Lanes, so that one student's heavy work never stalls the class:

- ``train``: the training workers (default one fewer than the cores, niced 5, below
  the server); they share their time per session (`scheduler`);
- ``heavy``: one process at nice 15 for runs whose estimated step would hold a
  training worker for more than ``cost.HEAVY_S`` (a huge network trains slowly
  there instead of freezing everyone's view); started on first use;
- ``jobs``: one process at nice 15 for the lessons' experiments (`jobs`), one at a
  time, each under a time cap (a job over it is stopped and its process restarted);
  the default experiments are computed once at start-up (`warm`), so most visitors
  never wait.

A reader thread per worker keeps the newest snapshot of every run and its last
``FRAMES_KEPT`` frames; drawing never waits for training. If a worker dies, a new
one is started (outside the pool's lock) and its runs are created afresh from their
latest settings and play state; the worker's snapshots say so. Every "play" goes
through `Admission` (caps per server and per client, a queue). Nothing here imports
streamlit; `RunHandle` (`wgan_core.serve.handle`) is what a page holds.
"""
from __future__ import annotations

import collections
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

from wgan_core.engine import cost
from wgan_core.engine.config import TrainConfig
from wgan_core.serve.admission import Admission, Caps
from wgan_core.serve.jobs import JobLane

log = logging.getLogger("earthmover.pool")
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
FRAMES_KEPT = 64         # frames kept per run for its views (a few seconds at the fastest snapshot rate)
# A sensitivity grid's cell (its small picture is the newest frame only): a snapshot at most every
# GRID_SNAP_S, an exact W1 at most every GRID_EXACT_S, one frame kept. 36 cells, measured: ~3.5 ms a light
# snapshot and ~33 ms an exact one per cell (stacks of 12), so ~6 % and ~4 % of the worker's core.
GRID_SNAP_S, GRID_EXACT_S, GRID_FRAMES_KEPT = 2.0, 30.0, 1
NICE = {"train": 5, "heavy": 15, "jobs": 15}


class WorkerProc:
    def __init__(self, proc: subprocess.Popen, conn: Connection, lane: str):
        self.proc, self.conn, self.lane = proc, conn, lane
        self.lock = threading.Lock()
        self.runs: set[str] = set()
        self.alive = True


class Pool:
    """Worker processes shared by every session of the server."""

    def __init__(self, n_workers: int | None = None, device: str | None = None, caps: Caps | None = None):
        n = n_workers or int(os.environ.get("EARTHMOVER_WORKERS", 0)) or max(1, (os.cpu_count() or 2) - 1)
        self.device = device
        self._lock = threading.Lock()
        self.snaps: dict[str, dict] = {}
        self.frames: dict[str, collections.deque] = {}   # rid -> its last frames (version, bytes), newest last
        self.errors: dict[str, str] = {}
        self.replies: dict[str, queue.Queue] = {}
        self.created: dict[str, dict] = {}               # rid -> its create payload, kept up to date (restarts)
        self.clients: dict[str, str] = {}                # rid -> client address (admission)
        self.grid_of: dict[str, str] = {}                # rid -> the grid it belongs to (admission)
        self.owner: dict[str, WorkerProc] = {}
        self.admission = Admission(caps)
        self.closed = False
        self.workers = [self._start("train") for _ in range(n)]
        self._lanes: dict[str, WorkerProc] = {}
        self.jobs = JobLane(self)

    # -- processes ------------------------------------------------------------------------
    def _start(self, lane: str) -> WorkerProc:
        ours, theirs = socket.socketpair()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        try:
            proc = subprocess.Popen([sys.executable, "-m", "wgan_core.serve.worker", str(theirs.fileno()),
                                     str(NICE[lane])], cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL,
                                    pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        if not conn.poll(START_TIMEOUT_S):           # the worker says "ready" once torch is imported
            proc.kill()
            conn.close()
            raise RuntimeError(f"a training worker did not start within {START_TIMEOUT_S:.0f} s")
        conn.recv()
        w = WorkerProc(proc, conn, lane)
        threading.Thread(target=self._read, args=(w,), daemon=True, name=f"earthmover-{lane}").start()
        return w

    def lane(self, lane: str) -> WorkerProc:
        """The heavy or jobs process, started on first use."""
        with self._lock:
            w = self._lanes.get(lane)
        if w is None or not w.alive or w.proc.poll() is not None:
            w = self._start(lane)
            with self._lock:
                self._lanes[lane] = w
        return w

    def _read(self, w: WorkerProc) -> None:
        while True:
            try:
                kind, rid, payload = w.conn.recv()
            except (EOFError, OSError):
                break
            if rid not in self.owner:
                continue                             # a late message for a released run
            if kind == "snap":
                self._keep(rid, payload)
            elif kind == "error":
                self.errors[rid] = payload
                self._reply(rid, ("error", payload))
            else:
                self._reply(rid, (kind, payload))
        w.alive = False
        try:
            code = w.proc.wait(2)
        except subprocess.TimeoutExpired:
            code = None
        if not self.closed and code not in (-signal.SIGTERM, -signal.SIGINT):   # stopped on purpose: stay down
            self._replace(w)

    def _keep(self, rid: str, snap: dict) -> None:
        """The newest snapshot of a run (with the last curves, real points and picture vectors it carried), and its last
        ``FRAMES_KEPT`` frames, for the views to play. A run the worker stopped leaves the admission."""
        snap["received"] = time.monotonic()
        old = self.snaps.get(rid)
        same_run = old is not None and old.get("serial") == snap.get("serial")
        for key in ("curves", "real", "fake"):          # fake: a run on pictures sends its vectors ~1/s
            if key not in snap and same_run and key in old:
                snap[key] = old[key]
        frame = snap.get("frame")
        if frame is not None:
            ring = self.frames.get(rid)
            if ring is None or not same_run:
                keep = GRID_FRAMES_KEPT if rid in self.grid_of else FRAMES_KEPT
                ring = self.frames[rid] = collections.deque(maxlen=keep)
            ring.append((snap["version"], frame))
        self.snaps[rid] = snap
        made = self.created.get(rid)
        answered = made is not None and snap.get("cmd", 0) >= made.get("cmd", 0)   # not an older, in-flight state
        if answered and not snap.get("playing") and snap.get("reason") != "queued" and rid in self.admission.playing:
            self._admit(self.admission.release(rid))         # the worker stopped it (idle, diverged, failed)

    def _reply(self, rid: str, item) -> None:
        q = self.replies.get(rid)
        if q is not None:
            q.put(item)

    def _replace(self, dead: WorkerProc) -> None:
        """Start a new worker (no lock held while it starts) and recreate the dead one's runs on it, each
        with its latest settings and play state."""
        log.error("%s worker %s exited with %s; restarting it", dead.lane, dead.proc.pid, dead.proc.poll())
        dead.conn.close()
        if dead.lane == "jobs":                          # a job that was stopped: start afresh on next use
            return
        for attempt in range(3):
            try:
                new = self._start(dead.lane)
                break
            except (RuntimeError, OSError):
                log.exception("restart attempt %d failed", attempt + 1)
        else:
            return
        with self._lock:
            if dead in self.workers:
                self.workers[self.workers.index(dead)] = new
            else:
                self._lanes[dead.lane] = new
            moved = [rid for rid in dead.runs if rid in self.created]
            for rid in moved:
                new.runs.add(rid)
                self.owner[rid] = new
        for rid in moved:
            self._send_to(new, "create", rid, {**self.created[rid], "reason": "restarted"})

    def attach(self, rid: str, w: WorkerProc) -> None:
        """Route messages for ``rid`` (a job's or a stats request's id) to and from worker ``w``."""
        with self._lock:
            self.owner[rid] = w

    def detach(self, rid: str) -> None:
        with self._lock:
            for d in (self.owner, self.replies, self.errors):
                d.pop(rid, None)

    # -- runs -----------------------------------------------------------------------------
    def _send_to(self, w: WorkerProc, verb: str, rid: str, payload=None) -> None:
        with w.lock:
            try:
                w.conn.send((verb, rid, payload))
            except (OSError, ValueError):
                log.warning("could not reach worker %s", w.proc.pid)

    def send(self, rid: str, verb: str, payload=None) -> None:
        """A command for run ``rid``. A "play" goes through the admission first (a run that must wait is told
        so, and starts when a place frees); live settings and play state are written back into the run's
        create payload, so that a restarted worker recreates the run as it was."""
        if verb == "play":
            payload = self._admitted(rid, payload)
        elif verb == "step":
            self._admit(self.admission.release(rid))
        made = self.created.get(rid)
        if made is not None:
            if verb == "config":
                made["config"] = payload
            elif verb in ("play", "step"):
                made["playing"] = verb == "play" and payload["on"]
                made["cmd"] = made["cmd"] if payload.get("cmd") is None else payload["cmd"]
            elif verb == "speed":
                made["speed"] = payload
        w = self.owner.get(rid)
        if w is not None:
            self._send_to(w, verb, rid, payload)

    def _admitted(self, rid: str, payload: dict) -> dict:
        if not payload["on"]:
            self._admit(self.admission.release(rid))
            return payload
        if self.admission.grid_open(self.grid_of.get(rid)):      # an admitted grid's place covers its runs
            return payload
        if self.admission.request(rid, self.clients.get(rid, "local")):
            return payload
        return {**payload, "on": False, "queued": self.admission.queued_note(rid)}

    def _admit(self, rids: list[str]) -> None:
        """Runs that waited in line may play now."""
        for rid in rids:
            self.send(rid, "play", {"on": True, "cmd": None})

    def create(self, rid: str, config: TrainConfig, points=None, playing: bool = False, cmd: int = 0,
               speed: float = 0.0, owner: str = "", client: str = "local", grid: str = "",
               stop_at: int = 0) -> None:
        """A new run (or a fresh one in place of ``rid``'s): in the heavy lane when its steps are slow.
        ``grid``: its grid (`Admission.open_grid`); ``stop_at``: its budget of generator steps."""
        lane = "heavy" if cost.step_seconds(config) > cost.HEAVY_S else "train"
        self.clients[rid] = client
        payload = {"config": config.to_dict(), "points": points, "device": self.device, "playing": False,
                   "cmd": cmd, "speed": speed, "owner": owner or rid, "stop_at": stop_at}
        if grid:
            self.grid_of[rid] = grid
            payload.update(snap_every=GRID_SNAP_S, exact_every=GRID_EXACT_S)
        if playing:
            queued = self._admitted(rid, {"on": True})
            payload["playing"] = queued["on"]
            if not queued["on"]:
                payload["reason"], payload["note"] = "queued", queued["queued"]
        else:
            self._admit(self.admission.release(rid))
        old = self.owner.get(rid)
        w = old if old is not None and old.lane == lane else None
        if w is None:
            w = self.lane(lane) if lane != "train" else min(self.workers, key=lambda x: len(x.runs))
        with self._lock:
            w.runs.add(rid)
            self.owner[rid] = w
            self.created[rid] = payload
            self.replies.setdefault(rid, queue.Queue())
        if old is not None and old is not w:
            self._send_to(old, "close", rid)
            old.runs.discard(rid)
        self.snaps.pop(rid, None)
        self.frames.pop(rid, None)
        self._send_to(w, "create", rid, payload)

    def pause(self, rid: str) -> None:
        """Pause run ``rid`` on the server's behalf (its page sees it paused in the next snapshot)."""
        self.send(rid, "play", {"on": False, "cmd": None})

    def release(self, rid: str) -> None:
        self.send(rid, "close")
        self._admit(self.admission.release(rid))
        with self._lock:
            w = self.owner.pop(rid, None)
            if w is not None:
                w.runs.discard(rid)
            for d in (self.snaps, self.frames, self.errors, self.replies, self.created, self.clients, self.grid_of):
                d.pop(rid, None)

    def request(self, rid: str, verb: str, payload=None, timeout: float = 30.0):
        """Send and wait for the worker's answer (checkpoints)."""
        q = self.replies.setdefault(rid, queue.Queue())
        while not q.empty():
            q.get_nowait()
        self.send(rid, verb, payload)
        kind, value = q.get(timeout=timeout)
        if kind == "error":
            raise ValueError(value)
        return value

    # -- lesson jobs (serve/jobs.py) ---------------------------------------------------------------
    def job(self, name: str, timeout: float | None = None, **kwargs):
        """A named experiment in the jobs lane (see `jobs.JobLane.run`)."""
        return self.jobs.run(name, timeout, **kwargs)

    def warm(self, jobs: list[tuple[str, dict]]) -> threading.Thread:
        """Compute these jobs once, in the background (see `jobs.JobLane.warm`)."""
        return self.jobs.warm(jobs)

    # -- accounts -------------------------------------------------------------------------
    def worker_stats(self) -> list[dict]:
        """Each training worker's own account: runs held, playing, RSS bytes, threads."""
        out = []
        for w in self.workers:
            rid = "stats-" + uuid.uuid4().hex
            self.owner[rid] = w
            try:
                out.append(self.request(rid, "stats", timeout=30))
            finally:
                self.owner.pop(rid, None)
                self.replies.pop(rid, None)
        return out

    def stats(self) -> dict:
        procs = self.workers + list(self._lanes.values())
        return {"workers": len(self.workers), "alive": sum(w.alive for w in self.workers),
                "runs": sum(len(w.runs) for w in procs), "pids": [w.proc.pid for w in procs],
                "playing": len(self.admission.playing), "waiting": len(self.admission.waiting)}

    def close(self) -> None:
        self.closed = True
        procs = self.workers + list(self._lanes.values())
        for w in procs:
            self._send_to(w, "exit", "")
        for w in procs:
            try:
                w.proc.wait(5)
            except subprocess.TimeoutExpired:
                w.proc.kill()
            w.conn.close()
