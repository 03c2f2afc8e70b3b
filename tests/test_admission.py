"""One student cannot hurt the class: admission caps, the queue's sentence, fair shares, heavy runs, slow jobs."""
import time

import numpy as np
import pytest
import torch
from wait_util import wait_for

from wgan_core.engine import cost
from wgan_core.engine.config import TrainConfig
from wgan_core.serve.admission import Admission, Caps
from wgan_core.serve.handle import RunHandle
from wgan_core.serve.pool import Pool
from wgan_core.serve.scheduler import Scheduler, Slot


# --------------------------------------------------------------------------- the bookkeeping
def test_the_server_cap_queues_in_arrival_order_and_frees_places():
    a = Admission(Caps(playing=2, playing_per_client=10))
    assert a.request("r1", "x") and a.request("r2", "y")
    assert not a.request("r3", "z") and not a.request("r4", "x")
    assert "The class is full: 2 runs are training; yours starts when one stops" in a.queued_note("r3")
    assert "number 2 in line" in a.queued_note("r4")
    assert a.release("r1") == ["r3"]                           # first come, first served
    assert a.release("r3") == ["r4"] and not a.waiting


def test_one_client_cannot_take_every_place():
    a = Admission(Caps(playing=10, playing_per_client=3))
    assert all(a.request(f"bot{i}", "10.0.0.9") for i in range(3))
    assert not any(a.request(f"bot{i}", "10.0.0.9") for i in range(3, 200))
    assert a.request("student", "10.0.0.5")                     # another address still gets a place at once
    assert len(a.playing) == 4 and len(a.waiting) == 197


def test_a_waiting_run_that_leaves_is_forgotten():
    a = Admission(Caps(playing=1))
    a.request("r1", "x")
    a.request("r2", "x")
    a.release("r2")
    assert a.release("r1") == [] and not a.playing


# --------------------------------------------------------------------------- fair shares in the worker
def test_time_is_shared_per_session_not_per_run():
    """A session with five runs in five stacks gets as much time as a one-run session: as many bursts (of
    equal cost here), each of its stacks a fifth of them."""
    sched = Scheduler(lambda rid, snap: None)
    turns = []

    def burst(key, slots, *_):
        turns.append({s.owner for s in slots})
        time.sleep(0.004)                                   # what the scheduler charges: the burst's time
    sched._burst = burst
    objectives = ("gan", "nsgan", "wgan-clip", "wgan-gp", "wgan-lp")
    from wgan_core.engine.trainer import Run
    for i, loss in enumerate(objectives):
        sched.slots[f"c{i}"] = Slot(f"c{i}", Run(TrainConfig(loss=loss, batch=16, width=8), device="cpu"),
                                    owner="compare-session", playing=True)
    sched.slots["t"] = Slot("t", Run(TrainConfig(batch=32, width=8, depth=1), device="cpu"), owner="train-session",
                            playing=True)
    sched._snapshots = lambda now, asked_only=False: None
    for _ in range(20):
        sched.turn()
    got = [o for t in turns for o in t]
    assert 8 <= got.count("train-session") <= 12 and 8 <= got.count("compare-session") <= 12, got


def test_a_burst_asked_to_stop_ends_after_that_step_and_trains_as_if_it_were_planned():
    """The worker ends a burst when a command waits (`train`'s ``stop``, asked after each iteration): it
    returns how many ran, and the runs are bit for bit those of a burst planned that long."""
    from wgan_core.engine.trainer import Run, train
    cfg = TrainConfig(loss="wgan-gp", optimizer="adam", batch=16, width=8, depth=1)
    asked: list[int] = []
    cut, planned = Run(cfg, device="cpu"), Run(cfg, device="cpu")
    assert train([cut], 10, stop=lambda: asked.append(1) or len(asked) == 3) == 3
    assert train([planned], 3) == 3 and train([], 5) == 0
    assert cut.gen_steps == planned.gen_steps == 3
    assert torch.equal(cut.c_flat, planned.c_flat) and torch.equal(cut.g_flat, planned.g_flat)
    np.testing.assert_array_equal(np.array(cut.stats), np.array(planned.stats))


def test_a_waiting_command_ends_the_burst_and_seen_is_sent_seldom():
    """A live change or a Pause waits at most one generator step, not the rest of a burst: the worker's
    scheduler asks ``pending`` after each step. So that only commands end bursts, a page's "someone looks"
    goes to the worker at most every SEEN_EVERY_S (it ran with every view's run, 3 a second per student)."""
    from wgan_core.engine.trainer import Run, stack_key
    from wgan_core.serve.handle import SEEN_EVERY_S, RunHandle
    waiting = [False]
    sched = Scheduler(lambda rid, snap: None, pending=lambda: waiting[0])
    slot = Slot("t", Run(TrainConfig(batch=16, width=8, depth=1), device="cpu"), playing=True)
    sched._burst(stack_key(slot.run), [slot])
    planned = slot.run.gen_steps
    assert planned > 2                                     # a 40 ms burst of a tiny network: several steps
    waiting[0] = True
    sched._burst(stack_key(slot.run), [slot])
    assert slot.run.gen_steps == planned + 1

    class Pool:                                            # what a handle tells the worker
        sent: list = []

        def create(self, *args, **kwargs) -> None:
            pass

        def send(self, rid, verb, payload=None) -> None:
            self.sent.append(verb)

    h = RunHandle(Pool(), TrainConfig())
    for _ in range(50):
        h.seen()
    assert Pool.sent == [] and 1.0 <= SEEN_EVERY_S <= 45.0   # a new run counts as seen; far below the idle pause
    h._seen_at -= SEEN_EVERY_S
    h.seen(), h.seen()
    assert Pool.sent == ["seen"]


def test_a_session_sharing_a_stack_with_others_still_gets_its_own_stacks_trained():
    """Two sessions with one run each in stack A; a third with a run in A and one in B (Compare's WGAN-GP beside
    Train live's, and its GAN). Turns per session starved B: the third session was always "served" by A's
    bursts. Charged by their share, B gets its part: A's pairs pay a third of a burst, the third session's
    time is split over its two stacks, so B trains once for every six bursts of A."""
    from wgan_core.engine.trainer import Run, stack_key
    sched = Scheduler(lambda rid, snap: None)
    a, b = TrainConfig(batch=16, width=8, depth=1), TrainConfig(loss="gan", batch=16, width=8, depth=1)
    for rid, cfg, owner in (("t1", a, "s1"), ("t2", a, "s2"), ("c1", a, "s3"), ("c2", b, "s3")):
        sched.slots[rid] = Slot(rid, Run(cfg, device="cpu"), owner=owner, playing=True)
    trained = []

    def burst(key, slots, *_):
        trained.append(key)
        time.sleep(0.003)                                    # every burst costs about the same
    sched._burst, sched._snapshots = burst, lambda now, asked_only=False: None
    for _ in range(35):
        sched.turn()
    key_b = stack_key(sched.slots["c2"].run)
    assert 3 <= trained.count(key_b) <= 8, trained.count(key_b)          # 5 of 35 when bursts cost the same


# --------------------------------------------------------------------------- costs
def test_a_huge_network_is_refused_with_its_reason_and_a_large_one_goes_to_the_heavy_lane():
    huge = TrainConfig(width=512, depth=6, batch=1024, n_critic=20)
    with pytest.raises(ValueError, match="too large for the shared server: one generator step would take about"):
        cost.check(huge)
    assert cost.step_seconds(TrainConfig(width=512, depth=2, batch=256, n_critic=5)) > cost.HEAVY_S
    assert cost.step_seconds(TrainConfig(width=64, depth=2, batch=128, n_critic=2)) < 0.01 * cost.HEAVY_S


@pytest.fixture(scope="module")
def small_pool():
    p = Pool(n_workers=1, caps=Caps(playing=2, playing_per_client=2, runs_per_session=3))
    yield p
    p.close()


def test_a_full_class_queues_a_run_and_says_so_then_starts_it(small_pool):
    hs = [RunHandle(small_pool, TrainConfig(batch=32, width=16, seed=i), client=f"c{i}") for i in range(3)]
    try:
        for h in hs:
            h.play(True)
        snap = wait_for(lambda: (s := hs[2].snapshot()) and s.get("reason") == "queued" and s)
        assert not snap["playing"] and hs[2].playing and hs[2].reason == "queued"   # waiting counts as wanting
        assert "The class is full: 2 runs are training" in snap["note"]
        before = hs[2].snapshot()["gen_steps"]
        hs[0].play(False)                                                   # a place frees: the queued run starts
        wait_for(lambda: (s := hs[2].snapshot()) and s["playing"] and s["gen_steps"] > before)
        assert small_pool.stats()["playing"] == 2
    finally:
        for h in hs:
            h.close()


def test_set_config_refuses_a_huge_network_and_keeps_the_run(small_pool):
    h = RunHandle(small_pool, TrainConfig(batch=32, width=16))
    try:
        with pytest.raises(ValueError, match="too large"):
            h.set_config(TrainConfig(width=512, depth=6, batch=1024, n_critic=50))
        assert h.config == TrainConfig(batch=32, width=16)
    finally:
        h.close()


def test_a_large_network_trains_in_the_heavy_lane_without_stalling_the_class(small_pool):
    light = RunHandle(small_pool, TrainConfig(batch=32, width=16))
    heavy = RunHandle(small_pool, TrainConfig(width=512, depth=2, batch=256, n_critic=5))
    try:
        assert small_pool.owner[heavy.rid].lane == "heavy" and small_pool.owner[light.rid].lane == "train"
        heavy.play(True)
        light.play(True)
        start = wait_for(lambda: (s := light.snapshot()) and s["gen_steps"] > 0 and s)["gen_steps"]
        time.sleep(2.0)
        assert light.snapshot()["gen_steps"] - start > 100                 # the light run keeps training
        wait_for(lambda: (s := heavy.snapshot()) and s["gen_steps"] > 0, timeout=60)
    finally:
        light.close()
        heavy.close()


def test_a_job_over_its_time_cap_is_stopped_with_a_sentence_and_the_next_one_runs():
    p = Pool(n_workers=1)
    try:
        with pytest.raises(ValueError, match="took longer than the server allows"):
            p.job("lipschitz_experiment", timeout=1.0, data="8gaussians", steps=2000, seed=3)
        small = p.job("layer_gradients", data="seed3", steps=2, seed=0, width=8, depth=2)
        assert len(small["norms"]) == 4
    finally:
        p.close()
