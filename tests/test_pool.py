"""Worker processes and run handles: live changes, restarts, checkpoints, clean-up, crash recovery."""
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from wait_util import wait_for

from wgan_core.engine.config import TrainConfig
from wgan_core.serve.handle import RunHandle
from wgan_core.serve.pool import Pool


@pytest.fixture(scope="module")
def pool():
    p = Pool(n_workers=1)
    yield p
    p.close()


def test_training_runs_in_another_process_and_publishes_snapshots(pool):
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        first = wait_for(h.snapshot)
        assert first["gen_steps"] == 0
        h.play(True)
        snap = wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] > 20 and s)
        assert snap["status"] == "ok" and h.arrays()["fake"].shape[1] == 2
        assert pool.workers[0].proc.pid != os.getpid()
    finally:
        h.close()


def test_live_change_reaches_the_trainer_without_reset(pool):
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        h.play(True)
        before = wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] > 10 and s)["gen_steps"]
        assert h.set_config(h.config.replace(lr_c=2e-4, lam=1.0, n_critic=3)) == "live"
        snap = wait_for(lambda: (s := h.snapshot()) and s["config"]["lr_c"] == 2e-4 and s)
        assert snap["config"]["lam"] == 1.0 and snap["config"]["n_critic"] == 3
        assert snap["gen_steps"] >= before                 # not reset
    finally:
        h.close()


def test_structural_change_starts_a_fresh_run(pool):
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        h.play(True)
        wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] > 10)
        assert h.set_config(h.config.replace(data="8gaussians")) == "restart"
        snap = wait_for(lambda: (s := h.snapshot()) and s["config"]["data"] == "8gaussians" and s)
        assert snap["metrics"]["modes_total"] == 8
    finally:
        h.close()


def test_single_steps_and_modes(pool):
    h = RunHandle(pool, TrainConfig(batch=64, width=32, n_critic=5))
    try:
        wait_for(h.snapshot)
        h.step("critic")
        s = wait_for(lambda: (s := h.snapshot()) and s["critic_steps"] == 1 and s)
        assert s["gen_steps"] == 0
        h.step("generator")
        s = wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] == 1 and s)
        assert s["critic_steps"] == 1
        h.step("iteration")
        s = wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] == 2 and s)
        assert s["critic_steps"] == 6
    finally:
        h.close()


def test_checkpoint_round_trip_and_bad_files(pool):
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        h.step("iteration")
        wait_for(lambda: (s := h.snapshot()) and s["gen_steps"] == 1)
        data = h.save()
        assert isinstance(data, bytes) and len(data) > 1000
        h.load(data)
        with pytest.raises(ValueError, match="not an Earthmover checkpoint"):
            h.load(b"not a checkpoint at all")
        other = RunHandle(pool, TrainConfig(batch=64, width=64))
        try:
            wait_for(other.snapshot)
            with pytest.raises(ValueError, match="different set-up|does not fit"):
                other.load(data)
        finally:
            other.close()
    finally:
        h.close()


def test_divergence_pauses_with_a_message(pool):
    h = RunHandle(pool, TrainConfig(loss="wgan-clip", optimizer="sgd", lr_c=1.0, lr_g=1.0, clip=10.0, batch=64))
    try:
        h.play(True)
        snap = wait_for(lambda: (s := h.snapshot()) and s["status"] == "diverged" and s)
        assert "diverged" in snap["message"] and not snap["playing"] and snap["reason"] == "diverged"
        assert not h.playing and h.reason == "diverged"
    finally:
        h.close()


def test_two_hundred_sessions_open_and_close_without_leaks(pool):
    wait_for(lambda: pool.worker_stats()[0]["runs"] == 0)
    start = pool.worker_stats()[0]
    for i in range(200):
        h = RunHandle(pool, TrainConfig(batch=64, width=32, seed=i))
        h.play(True)
        if i % 20 == 0:
            wait_for(h.snapshot)
        h.close()
    end = wait_for(lambda: (s := pool.worker_stats()[0]) and s["runs"] == 0 and s)
    assert end["playing"] == 0
    assert end["threads"] == start["threads"]
    assert end["rss"] <= 1.2 * start["rss"]
    assert not pool.snaps and not pool.created


def test_a_crashed_worker_is_replaced_and_its_runs_restart_as_they_were():
    """After a SIGKILL the new worker recreates each run with its latest live settings and play state,
    and every snapshot says so (reason "restarted") until the run is played or paused again."""
    p = Pool(n_workers=1)
    try:
        playing = RunHandle(p, TrainConfig(batch=64, width=32))
        paused = RunHandle(p, TrainConfig(batch=64, width=32, seed=1))
        playing.play(True)
        playing.speed(60.0)
        assert playing.set_config(playing.config.replace(lr_c=3e-4, n_critic=3)) == "live"
        wait_for(lambda: (s := playing.snapshot()) and s["config"]["lr_c"] == 3e-4 and s["gen_steps"] > 5)
        wait_for(paused.snapshot)
        old = p.workers[0].proc.pid
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: p.workers[0].proc.pid != old and p.workers[0].alive, timeout=60)
        # (the snapshots from before the crash say reason ""; a paused run's "restarted" one is its only one,
        # and may already be here: nothing is dropped before waiting for it)
        snap = wait_for(lambda: (s := playing.snapshot()) and s["reason"] == "restarted" and s, timeout=60)
        assert snap["config"]["lr_c"] == 3e-4 and snap["config"]["n_critic"] == 3 and snap["speed"] == 60.0
        assert snap["playing"] and playing.playing and "restarted" in snap["note"]
        other = wait_for(lambda: (s := paused.snapshot()) and s["reason"] == "restarted" and s, timeout=60)
        assert not other["playing"] and not paused.playing and other["gen_steps"] == 0
        paused.play(True)                                    # the note lasts until the run is played again
        wait_for(lambda: (s := paused.snapshot()) and s["playing"] and s["reason"] == "" and not s["note"])
    finally:
        p.close()


def test_the_status_follows_the_worker_after_an_idle_pause(monkeypatch):
    """The worker pauses a run nobody watches; the handle (and so the page's button) says so."""
    monkeypatch.setenv("EARTHMOVER_IDLE_PAUSE_S", "1.0")
    p = Pool(n_workers=1)
    try:
        h = RunHandle(p, TrainConfig(batch=64, width=32))
        h.play(True)
        assert h.playing                                       # at once, before the worker answers
        snap = wait_for(lambda: (s := h.snapshot()) and s["reason"] == "idle" and s, timeout=30)
        assert not snap["playing"] and not h.playing and h.reason == "idle" and "nobody" in snap["note"]
    finally:
        p.close()


def test_no_port_is_listened_on_for_workers():
    """The worker channel is a socket pair: neither the server nor a worker holds a listening socket."""
    p = Pool(n_workers=1)
    try:
        h = RunHandle(p, TrainConfig(batch=64, width=32))
        wait_for(h.snapshot)
        for pid in (os.getpid(), p.workers[0].proc.pid):
            assert not _listening_sockets(pid)
    finally:
        p.close()


def _listening_sockets(pid: int) -> set[str]:
    """Inodes of the TCP sockets that process ``pid`` holds open in the LISTEN state."""
    held = set()
    for f in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(f)
        except OSError:                                                       # closed meanwhile
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    listening = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A":                                               # 0A: LISTEN
                listening.add(cols[9])
    return held & listening


def test_the_worker_publishes_compact_frames_and_draws_nothing(pool):
    """Each snapshot of a 2D run carries its arrays as one compact frame (a few KB; the browser draws it);
    the real points come once per run; the pool keeps the last frames for the views to play."""
    from wgan_core.engine import wire
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        h.play(True)
        wait_for(lambda: len(h.frames()) >= 5)
        frames = h.frames()
        versions = [v for v, _ in frames]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        assert all(len(f) <= 9 * 1024 for _, f in frames)          # <= 9 KB with a new transport plan (8,692 B)
        light = [f for _, f in frames if wire.decode_frame(f).get("plan") is None]
        assert light and all(len(f) <= 8 * 1024 for f in light)    # <= 8 KB otherwise: the plan goes when new
        decoded = [wire.decode_frame(f) for _, f in frames]
        assert all(d["run"] == decoded[0]["run"] for d in decoded)                 # one run
        assert [d["t"] for d in decoded] == sorted(d["t"] for d in decoded)         # its training clock
        assert decoded[-1]["fake"].shape == (1000, 2) and decoded[-1]["grid"].shape == (48, 48)
        plans = [d["plan"] for d in decoded if d.get("plan") is not None]
        assert plans and sorted(plans[-1]) == list(range(400))                       # the transport plan
        snap = h.snapshot()
        assert "fake" not in snap and "grid" not in snap and snap["real"].shape == (1000, 2)
        assert h.frames(after=versions[-2]) == [frames[-1]] or h.frames(after=versions[-2])[0] == frames[-1]
        arrays = h.arrays()
        assert arrays["fake"].dtype == np.float32 and np.isfinite(arrays["fake"]).all()
    finally:
        h.close()
