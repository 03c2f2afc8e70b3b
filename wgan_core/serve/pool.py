"""The server's side of training: worker processes and per-session run handles.

`Pool` starts a bounded number of worker processes (default: one fewer than
the CPU cores, at least one) with `subprocess`, each running
``python -m wgan_core.worker`` with one torch thread, and talks to them over
authenticated local sockets. A reader thread per worker keeps the newest
snapshot of every run; drawing never waits for training. If a worker dies, it
is restarted and its runs are created afresh from their configs, with a note.

`RunHandle` is what a page holds for one training run of one session: it sends
config changes (live ones in place, structural ones as a new run), play/pause,
steps, checkpoints, and renders the newest snapshot to PNG once per snapshot.
Nothing here imports streamlit.
"""
from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from multiprocessing.connection import Connection, Listener
from pathlib import Path

from wgan_core.draw.render import frame_key
from wgan_core.engine.config import TrainConfig

log = logging.getLogger("earthmover.pool")
ROOT = Path(__file__).resolve().parents[2]


class WorkerProc:
    def __init__(self, proc: subprocess.Popen, conn: Connection):
        self.proc, self.conn = proc, conn
        self.lock = threading.Lock()
        self.runs: set[str] = set()
        self.alive = True


class Pool:
    """Worker processes shared by every session of the server."""

    def __init__(self, n_workers: int | None = None, device: str | None = None):
        n = n_workers or int(os.environ.get("EARTHMOVER_WORKERS", 0)) or max(1, (os.cpu_count() or 2) - 1)
        self.device = device
        self._key = os.urandom(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._lock = threading.Lock()
        self.snaps: dict[str, dict] = {}
        self.errors: dict[str, str] = {}
        self.replies: dict[str, queue.Queue] = {}
        self.created: dict[str, dict] = {}
        self.owner: dict[str, WorkerProc] = {}
        self.workers = [self._start() for _ in range(n)]
        self.closed = False

    # -- processes ------------------------------------------------------------------------
    def _start(self) -> WorkerProc:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   EARTHMOVER_WORKER_KEY=self._key.hex(), PYTHONPATH=str(ROOT))
        host, port = self._listener.address
        proc = subprocess.Popen([sys.executable, "-m", "wgan_core.serve.worker", host, str(port)],
                                cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL)
        box: list[Connection] = []
        t = threading.Thread(target=lambda: box.append(self._listener.accept()), daemon=True)
        t.start()
        t.join(60)
        if not box:
            proc.kill()
            raise RuntimeError("a training worker did not start within 60 s")
        w = WorkerProc(proc, box[0])
        threading.Thread(target=self._read, args=(w,), daemon=True, name="earthmover-reader").start()
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
                payload["received"] = time.monotonic()
                self.snaps[rid] = payload
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

    def _reply(self, rid: str, item) -> None:
        q = self.replies.get(rid)
        if q is not None:
            q.put(item)

    def _replace(self, dead: WorkerProc) -> None:
        log.error("training worker %s exited with %s; restarting it", dead.proc.pid, dead.proc.poll())
        with self._lock:
            new = self._start()
            self.workers[self.workers.index(dead)] = new
        for rid in list(dead.runs):
            if rid in self.created:
                self._send_to(new, "create", rid, self.created[rid])
                new.runs.add(rid)
                self.owner[rid] = new
                self.errors[rid] = "The training process restarted; this run started again from its settings."

    # -- messages -------------------------------------------------------------------------
    def _send_to(self, w: WorkerProc, verb: str, rid: str, payload=None) -> None:
        with w.lock:
            try:
                w.conn.send((verb, rid, payload))
            except (OSError, ValueError):
                log.warning("could not reach worker %s", w.proc.pid)

    def send(self, rid: str, verb: str, payload=None) -> None:
        w = self.owner.get(rid)
        if w is not None:
            self._send_to(w, verb, rid, payload)

    def create(self, rid: str, config: TrainConfig, points=None, keep_playing: bool = False) -> None:
        payload = {"config": config.to_dict(), "points": points, "device": self.device,
                   "keep_playing": keep_playing}
        with self._lock:
            w = self.owner.get(rid) or min(self.workers, key=lambda x: len(x.runs))
            w.runs.add(rid)
            self.owner[rid] = w
            self.created[rid] = payload
            self.replies.setdefault(rid, queue.Queue())
        self.snaps.pop(rid, None)
        self._send_to(w, "create", rid, payload)

    def release(self, rid: str) -> None:
        self.send(rid, "close")
        with self._lock:
            w = self.owner.pop(rid, None)
            if w is not None:
                w.runs.discard(rid)
            for d in (self.snaps, self.errors, self.replies, self.created):
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

    def job(self, name: str, timeout: float = 120.0, **kwargs):
        """Run a named experiment of `wgan_core.jobs` in a worker and wait for its result."""
        rid = "job-" + uuid.uuid4().hex
        with self._lock:
            w = min(self.workers, key=lambda x: len(x.runs))
            self.owner[rid] = w
        try:
            return self.request(rid, "job", {"name": name, "kwargs": kwargs}, timeout=timeout)
        finally:
            with self._lock:
                self.owner.pop(rid, None)
                self.replies.pop(rid, None)
                self.errors.pop(rid, None)

    def worker_stats(self) -> list[dict]:
        """Each worker's own account: runs held, playing, RSS bytes, threads."""
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
        return {"workers": len(self.workers), "alive": sum(w.alive for w in self.workers),
                "runs": sum(len(w.runs) for w in self.workers), "pids": [w.proc.pid for w in self.workers]}

    def close(self) -> None:
        self.closed = True
        for w in self.workers:
            self._send_to(w, "exit", "")
        for w in self.workers:
            try:
                w.proc.wait(5)
            except subprocess.TimeoutExpired:
                w.proc.kill()
        self._listener.close()


class RunHandle:
    """One session's training run, as seen from a page."""

    def __init__(self, pool: Pool, config: TrainConfig, points=None):
        self.pool, self.rid = pool, uuid.uuid4().hex
        self.config, self.points = config, points
        self.playing = False
        self._frame: tuple | None = None
        pool.create(self.rid, config, points)

    def set_config(self, config: TrainConfig, points=None) -> str:
        """'same', 'live' (applied to the running training) or 'restart' (a fresh run)."""
        same_points = (points is None and self.points is None) or (
            points is not None and self.points is not None and points is self.points)
        if config == self.config and same_points:
            return "same"
        if not config.structural_diff(self.config) and same_points:
            self.config = config
            self.pool.send(self.rid, "config", config.to_dict())
            return "live"
        self.config, self.points = config, points
        self.pool.create(self.rid, config, points, keep_playing=self.playing)
        self._frame = None
        return "restart"

    def reset(self) -> None:
        self.pool.create(self.rid, self.config, self.points, keep_playing=False)
        self.playing, self._frame = False, None

    def play(self, on: bool) -> None:
        self.playing = on
        self.pool.send(self.rid, "play", on)

    def step(self, mode: str = "iteration") -> None:
        self.playing = False
        self.pool.send(self.rid, "step", mode)

    def speed(self, steps_per_s: float) -> None:
        self.pool.send(self.rid, "speed", steps_per_s)

    def resume(self) -> None:
        self.pool.send(self.rid, "resume")

    def seen(self, **view) -> None:
        """Someone is looking (so the run is not idle); ``view``: the options of ``render.frame_jpeg``
        the viewer draws it with, so that the worker renders each snapshot's frame itself."""
        self.pool.send(self.rid, "seen", view or None)

    def snapshot(self) -> dict | None:
        snap = self.pool.snaps.get(self.rid)
        if snap is not None and snap.get("status") != "ok":
            self.playing = False
        return snap

    def error(self) -> str | None:
        return self.pool.errors.pop(self.rid, None)

    def save(self) -> bytes:
        return self.pool.request(self.rid, "save")

    def load(self, data: bytes) -> None:
        self.pool.request(self.rid, "load", data)
        self.playing = False

    def frame_png(self, render, **view) -> tuple[bytes | None, dict | None]:
        """The newest snapshot's picture: the worker's (when it drew exactly this), else rendered here
        once per (snapshot version, view options)."""
        snap = self.snapshot()
        if snap is None:
            return None, None
        if snap.get("frame") is not None and snap.get("frame_key") == frame_key(render, view):
            return snap["frame"], snap
        key = (snap.get("version"), snap.get("gen_steps"), tuple(sorted(view.items())))
        if self._frame is None or self._frame[0] != key:
            self._frame = (key, render(snap, **view))
        return self._frame[1], snap

    def close(self) -> None:
        self.pool.release(self.rid)
