"""A training worker process: ``python -m wgan_core.serve.worker FD [NICE]``.

Started by `wgan_core.serve.pool.Pool` with `subprocess` (never multiprocessing's
spawn, which would re-run the Streamlit script in the child). ``FD`` is its end
of a socket pair made by the server (no port is listened on). It says "ready",
then alternates between answering commands and one scheduler turn. It trains
with one torch thread. Commands are tuples ``(verb, run_id,
payload)``; everything it sends back is plain data (snapshots, checkpoints as
bytes, errors as one sentence). Errors in one run are logged with their
traceback on stderr (the server's log) and reported to that run only.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

import torch

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import from_points
from wgan_core.engine.device import configure_threads
from wgan_core.engine.trainer import Run
from wgan_core.files import checkpoint
from wgan_core.serve import jobs
from wgan_core.serve.scheduler import Scheduler, Slot

RESTARTED_NOTE = ("The training process restarted, so this run started again from step 0 with its latest "
                  "settings.")


class Worker:
    def __init__(self, conn: Connection):
        self.conn = conn
        # a burst ends early when a command waits (a live change, Pause): it is answered sooner
        self.sched = Scheduler(self._publish, pending=lambda: self.conn.poll(0))
        self.serial = 0                              # one number per run created: a new run, a new number

    def _publish(self, rid: str, snap: dict) -> None:
        self.conn.send(("snap", rid, snap))

    def serve(self) -> None:
        while True:
            timeout = 0.0 if self.sched.busy() else 0.5
            while self.conn.poll(timeout):
                msg = self.conn.recv()
                if msg[0] == "exit":
                    return
                self.handle(*msg)
                timeout = 0.0
            self.sched.turn()

    def handle(self, verb: str, rid: str, payload) -> None:
        try:
            getattr(self, "do_" + verb)(rid, payload)
        except ValueError as err:                    # the user's input: say what is wrong
            self.conn.send(("error", rid, str(err)))
        except Exception:                            # our fault: log it, say one plain sentence
            traceback.print_exc(file=sys.stderr)
            self.conn.send(("error", rid, "Something went wrong in the training process; "
                                          "the error was logged. Try reset."))

    # -- commands -------------------------------------------------------------------------
    def do_create(self, rid: str, payload: dict) -> None:
        """A new run (or a fresh one in place of ``rid``'s), playing or not as the payload says; a worker
        restart sends ``reason="restarted"``, which the snapshots carry until the run is played again."""
        cfg = TrainConfig.from_dict(payload["config"])[0].validate()
        points = payload.get("points")
        dataset = None
        if points is not None:           # MNIST's rows are pictures: the view shows them as such
            dataset = from_points(points, name=cfg.data, pixels=cfg.data == "mnist")
        old = self.sched.slots.get(rid)
        slot = Slot(rid, Run(cfg, dataset=dataset, device=payload.get("device")))
        self.serial += 1
        slot.serial = self.serial
        slot.playing, slot.cmd = bool(payload.get("playing")), int(payload.get("cmd", 0))
        slot.speed, slot.reason = max(0.0, float(payload.get("speed", 0.0))), payload.get("reason", "")
        slot.owner, slot.note = str(payload.get("owner", rid)), payload.get("note", "")
        slot.stop_at = max(0, int(payload.get("stop_at", 0)))                 # a grid cell's budget (scheduler)
        slot.snap_every, slot.exact_every = (max(0.0, float(payload.get(k, 0.0))) for k in ("snap_every", "exact_every"))
        if slot.reason == "restarted":
            slot.note = RESTARTED_NOTE
        if old is not None:
            slot.version = old.version
        self.sched.slots[rid] = slot

    def do_config(self, rid: str, payload: dict) -> None:
        slot = self.sched.slots[rid]
        cfg = TrainConfig.from_dict(payload)[0].validate()
        if not slot.run.apply(cfg):
            raise ValueError("structural change sent as a live change")
        slot.ask(light=True)

    def do_play(self, rid: str, payload: dict) -> None:
        slot = self.sched.slots[rid]
        slot.playing = bool(payload["on"]) and slot.run.status == "ok"
        slot.note, slot.reason = "", ""
        slot.ask()
        if payload.get("queued"):                            # the class is full: waiting for a place
            slot.reason, slot.note = "queued", str(payload["queued"])
        if payload.get("cmd") is not None:                   # None: the server's own pause, not a page's command
            slot.cmd = int(payload["cmd"])
        slot.last_seen = time.monotonic()

    def do_speed(self, rid: str, payload: float) -> None:
        self.sched.slots[rid].speed = max(0.0, float(payload))

    def do_step(self, rid: str, payload: dict) -> None:
        slot = self.sched.slots[rid]
        slot.playing, slot.cmd, slot.note, slot.reason = False, int(payload["cmd"]), "", ""
        if slot.run.status == "ok":
            {"critic": slot.run.critic_only, "generator": slot.run.generator_only}.get(
                payload["mode"], lambda: slot.run.step(1))()
        slot.ask()

    def do_resume(self, rid: str, payload) -> None:
        slot = self.sched.slots[rid]
        slot.run.resume()
        slot.reason, slot.note = "", ""
        slot.ask()

    def do_seen(self, rid: str, payload) -> None:
        """Someone looks at this run: it is not idle."""
        slot = self.sched.slots.get(rid)
        if slot is not None:
            slot.last_seen = time.monotonic()

    def do_close(self, rid: str, payload) -> None:
        self.sched.drop(rid)

    def do_job(self, rid: str, payload: dict) -> None:
        """A named lesson experiment (`wgan_core.jobs`); its result goes back as plain data."""
        self.conn.send(("job", rid, jobs.run(payload["name"], dict(payload.get("kwargs", {})))))

    def do_stats(self, rid: str, payload) -> None:
        """Runs held, how many play, resident memory (bytes) and threads of this process."""
        self.conn.send(("stats", rid, {"runs": len(self.sched.slots),
                                       "playing": sum(s.playing for s in self.sched.slots.values()),
                                       "rss": _rss_bytes(), "threads": threading.active_count()}))

    def do_save(self, rid: str, payload) -> None:
        buf = io.BytesIO()
        torch.save(self.sched.slots[rid].run.state_dict(), buf)
        self.conn.send(("saved", rid, buf.getvalue()))

    def do_load(self, rid: str, payload: bytes) -> None:
        """Load a checkpoint's ``run.pt`` into one run: read under size bounds, validated completely,
        then applied; any failure is one plain sentence for this run only (its run is unchanged)."""
        slot = self.sched.slots[rid]
        try:
            state = checkpoint.load_run_state(payload, slot.run.device)
            slot.run.load_state_dict(state)
        except ValueError:
            raise                                    # already one plain sentence
        except Exception as err:                     # MemoryError, RecursionError, a torch error: this file only
            traceback.print_exc(file=sys.stderr)
            raise ValueError("This checkpoint could not be loaded; your run is unchanged.") from err
        slot.playing = False
        slot.ask()
        self.conn.send(("loaded", rid, None))


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


NICE = 5     # below the server: the page a student looks at comes first, training takes the rest of the CPU


def main(argv: list[str]) -> None:
    """``FD`` (this end of the socket pair) and ``NICE`` (below the server: 5 for training, 15 for the heavy
    and jobs lanes)."""
    configure_threads(1)
    with contextlib.suppress(OSError, AttributeError, IndexError, ValueError):    # not on every platform
        os.nice(int(argv[1]) if len(argv) > 1 else NICE)
    conn = Connection(int(argv[0]))
    try:
        conn.send("ready")
        Worker(conn).serve()
    except (EOFError, ConnectionError, BrokenPipeError, OSError):
        pass                                         # the server went away: exit quietly


if __name__ == "__main__":
    main(sys.argv[1:])
