"""Worker processes and run handles: live changes, restarts, checkpoints, clean-up, crash recovery."""
import os
import signal
import time

import pytest

from wgan_core.engine.config import TrainConfig
from wgan_core.serve.pool import Pool, RunHandle


def wait_for(cond, timeout=30.0, every=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


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
        assert snap["status"] == "ok" and snap["fake"].shape[1] == 2
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
        assert "diverged" in snap["message"] and not snap["playing"]
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


def test_a_crashed_worker_is_replaced_and_its_runs_restart():
    p = Pool(n_workers=1)
    try:
        h = RunHandle(p, TrainConfig(batch=64, width=32))
        wait_for(h.snapshot)
        os.kill(p.workers[0].proc.pid, signal.SIGKILL)
        wait_for(lambda: p.workers[0].alive and p.workers[0].proc.poll() is None, timeout=60)
        assert "restarted" in wait_for(h.error, timeout=60)
        p.snaps.pop(h.rid, None)
        assert wait_for(h.snapshot, timeout=60)["gen_steps"] == 0
    finally:
        p.close()


def test_the_worker_draws_the_frame_its_viewer_asked_for(pool):
    """seen(**view) makes the worker render each snapshot's picture itself; the handle then serves
    those bytes, identical to rendering the same snapshot in the server."""
    from wgan_core.draw import render
    view = {"layers": ("critic", "real", "fake"), "size": 300, "presenter": False}
    h = RunHandle(pool, TrainConfig(batch=64, width=32))
    try:
        h.play(True)
        h.seen(**view)
        snap = wait_for(lambda: (s := h.snapshot()) and s.get("frame") is not None and s)
        assert snap["frame_key"] == render.frame_key(render.frame_jpeg, view)
        jpg, same = h.frame_png(render.frame_jpeg, **view)
        assert same is snap and jpg is snap["frame"] and jpg[:2] == b"\xff\xd8"      # a JPEG, not re-rendered
        assert jpg == render.frame_jpeg(snap, **view)
        other, _ = h.frame_png(render.frame_jpeg, **{**view, "size": 200})           # another view: drawn here
        assert other != jpg and other[:2] == b"\xff\xd8"
    finally:
        h.close()
