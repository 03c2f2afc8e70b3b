"""The sensitivity grid: cells equal runs alone, the budget, the sentence from given outcomes, the grid cap."""
import math

import numpy as np
import pytest
import torch
from wait_util import wait_for as _wait_for

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.trainer import Run, stack_key
from wgan_core.lessons import grid as G
from wgan_core.serve.admission import Admission, Caps
from wgan_core.serve.grid import GridRefused, GridRuns
from wgan_core.serve.pool import GRID_EXACT_S, GRID_SNAP_S, Pool
from wgan_core.serve.scheduler import Scheduler, Slot

SMALL = G.cells(methods=("wgan-gp",), lrs=(5e-4, 2e-3), n_critics=(1, 5))         # 2 lr x 2 n_critic



def wait_for(cond, timeout=60.0, every=0.05):
    return _wait_for(cond, timeout, every)


# --------------------------------------------------------------------------- the cells' runs
def test_the_grid_is_36_runs_of_a_gan_and_two_wgans_in_three_stacks():
    cfgs = G.configs("8gaussians", 3)
    assert len(cfgs) == 36 and set(G.METHODS) == {"nsgan", "wgan-clip", "wgan-gp"}
    assert "ot" not in G.METHODS and all(OBJECTIVES[m] for m in G.METHODS)
    runs = {c: Run(cfg, device="cpu") for c, cfg in cfgs.items()}
    assert len({stack_key(r) for r in runs.values()}) == 3                # only live fields differ per objective
    for c, cfg in cfgs.items():
        assert (cfg.lr_c, cfg.lr_g, cfg.n_critic, cfg.loss) == (c.lr, c.lr, c.n_critic, c.method)
        assert (cfg.width, cfg.batch, cfg.data, cfg.seed) == (64, 128, "8gaussians", 3)
        assert cfg.optimizer == OBJECTIVES[c.method].defaults["optimizer"]
    assert {cfg.clip for c, cfg in cfgs.items() if c.method == "wgan-clip"} == {0.01}


def test_grid_cells_are_bit_identical_to_runs_trained_alone():
    """The engine's stacked-equals-alone guarantee, for a grid: 4 cells trained together in bursts of 20
    steps (as the worker does) end with exactly the weights of each run trained alone in one go."""
    cfgs = G.configs("8gaussians", 0, SMALL)
    together = G.train_grid(cfgs, 50, burst=20, device="cpu")
    for c, cfg in cfgs.items():
        alone = Run(cfg, device="cpu")
        alone.step(50)
        r = together[c]
        assert r.gen_steps == alone.gen_steps == 50 and r.critic_steps == 50 * c.n_critic
        assert torch.equal(r.g_flat, alone.g_flat) and torch.equal(r.c_flat, alone.c_flat), c
    assert G.outcomes_of(together).keys() == cfgs.keys()


@pytest.fixture(scope="module")
def pool():
    p = Pool(n_workers=1)
    yield p
    p.close()


def test_a_grid_in_the_worker_stops_at_its_budget_and_matches_runs_alone(pool):
    """Through the real worker: every cell stops exactly at its budget ("done"), and its last snapshot
    reads the same outcome as the same run trained alone here."""
    cfgs = G.configs("8gaussians", 0, SMALL)
    g = GridRuns(pool, cfgs, steps=30, owner="grid-test")
    try:
        g.play(True)
        wait_for(g.finished)
        outs = {c: G.outcome(h.snapshot()) for c, h in g.handles.items()}
        for c, cfg in cfgs.items():
            alone = Run(cfg, device="cpu")
            alone.step(30)
            want = G.outcome(alone.snapshot(exact=True))
            got = outs[c]
            assert got.steps == 30 and g.handles[c].snapshot()["reason"] == "done"
            assert (got.modes, got.modes_total, got.hq) == (want.modes, want.modes_total, want.hq)
            assert math.isclose(got.w1, want.w1, rel_tol=1e-6)
        assert g.steps_done() == 4 * 30 and not g.playing
        g.tend()
        assert not pool.admission.grid_open(g.gid)                           # finished: its place is free
    finally:
        g.close()


def test_a_grid_needs_a_place_and_its_runs_skip_the_per_run_caps(pool):
    cfgs = G.configs("8gaussians", 0, SMALL)
    old = pool.admission.caps
    pool.admission.caps = Caps(playing=2, playing_per_client=2, grids=1, grid_runs=4)
    try:
        g = GridRuns(pool, cfgs, steps=10_000, owner="a")
        with pytest.raises(GridRefused, match="already training 1 grid"):
            GridRuns(pool, cfgs, steps=10, owner="b")
        g.play(True)                                                          # 4 runs over a cap of 2
        wait_for(lambda: all(h.snapshot() and h.snapshot()["playing"] for h in g.handles.values()))
        assert not pool.admission.playing and not pool.admission.waiting
        g.play(False)
        wait_for(lambda: not g.playing)
        g.tend()
        assert not pool.admission.grid_open(g.gid)                           # paused: the place is free
        other = GridRuns(pool, cfgs, steps=10, owner="b")                     # ... so another grid may train
        with pytest.raises(GridRefused):
            g.play(True)                                                      # and this one waits its turn
        other.close()
        g.close()
    finally:
        pool.admission.caps = old


# --------------------------------------------------------------------------- the admission's grid cap
def test_the_grid_cap_answers_with_a_sentence():
    a = Admission(Caps(grids=2, grid_runs=36))
    assert a.open_grid("g1", "s1", 36) == "" and a.open_grid("g1", "s1", 36) == ""
    assert "already trains a grid" in a.open_grid("g2", "s1", 36)           # one per session
    assert "at most 36 runs" in a.open_grid("g3", "s3", 37)
    assert a.open_grid("g4", "s4", 36) == ""
    full = a.open_grid("g5", "s5", 36)
    assert full.startswith("The server is already training 2 grids") and "try again" in full
    a.close_grid("g1")
    assert a.open_grid("g5", "s5", 36) == "" and a.grid_open("g5") and not a.grid_open("g1")


# --------------------------------------------------------------------------- the scheduler's budget
def test_the_scheduler_stops_a_budgeted_run_exactly_at_its_budget():
    published = []
    sched = Scheduler(lambda rid, snap: published.append((rid, snap)))
    run = Run(TrainConfig(batch=16, width=8, data="8gaussians"), device="cpu")
    sched.slots["r"] = Slot("r", run, owner="o", playing=True, stop_at=37)
    for _ in range(50):
        sched.turn()
    assert run.gen_steps == 37 and not sched.slots["r"].playing and sched.slots["r"].reason == "done"
    last = published[-1][1]
    assert last["reason"] == "done" and last["gen_steps"] == 37 and last["metrics"]["exact_w1"] is not None


def test_slow_snapshot_runs_leave_the_others_interval_as_it_was():
    sched = Scheduler(lambda rid, snap: None)
    sched.snap_cost = 0.01
    for i in range(30):
        sched.slots[f"s{i}"] = Slot(f"s{i}", None, playing=True)
    before = sched.frame_interval()
    assert before == pytest.approx(30 * 0.01 / 0.5)
    for i in range(36):
        sched.slots[f"g{i}"] = Slot(f"g{i}", None, playing=True, snap_every=GRID_SNAP_S, exact_every=GRID_EXACT_S)
    after = sched.frame_interval()
    assert before < after < 1.6 * before                          # a grid's 36 runs: +56 %, where as many
    assert 30 * 0.01 / 0.5 * 2 < 66 * 0.01 / 0.5                  # runs of the class's kind would add 120 %


# --------------------------------------------------------------------------- outcomes and the sentence
def o(modes, hq=0.5, w1=0.3, steps=2000, k=8):
    return G.Outcome(steps=steps, modes=modes, modes_total=k, hq=hq, w1=w1, floor=(0.07, 0.19))


def grid_of(works: dict[str, int], every: dict[str, int] | None = None, steps=2000, k=8) -> dict:
    """12 outcomes per objective: the first every[m] cover all k modes, the next up to works[m] cover
    most of them (at least 3/4), the rest fewer."""
    every = every or works
    most = G.most_of(k)
    return {c: o(k if i < every[c.method] else most if i < works[c.method] else most - 1, steps=steps, k=k)
            for m in works for i, c in enumerate(G.cells(methods=(m,)))}


def test_the_sentence_counts_the_settings_that_worked():
    outs = grid_of({"nsgan": 3, "wgan-clip": 0, "wgan-gp": 6}, {"nsgan": 1, "wgan-clip": 0, "wgan-gp": 2})
    s = G.sentence(outs, 2000, "8gaussians", finished=True)
    assert s.startswith("Here, after 2,000 generator steps on 8 Gaussians on a ring, WGAN-GP covered at least 6 of "
                        "the 8 modes in 6 of 12 settings (all 8 in 2), the GAN in 3 (1) and WGAN-clip in 0 (0):")
    assert "WGAN-clip was more sensitive to its learning rate and n_critic than the GAN" in s
    assert "WGAN-GP was less sensitive to its learning rate and n_critic than the GAN" in s
    assert "holds for WGAN-GP here, not for every WGAN" in s and s.endswith(".")
    assert G.counts(outs)["nsgan"] == (1, 12) and G.counts(outs, 6)["nsgan"] == (3, 12)


def test_the_sentence_says_when_both_or_neither_wgan_did_better():
    both = G.sentence(grid_of({"nsgan": 2, "wgan-clip": 5, "wgan-gp": 12}), 2000, "25gaussians", True)
    assert "holds for both" in both and "WGAN-GP covered at least 6 of the 8 modes in 12 of 12 settings" in both
    neither = G.sentence(grid_of({"nsgan": 6, "wgan-clip": 6, "wgan-gp": 1}), 2000, "seed3", True)
    assert "WGAN-clip was about as sensitive to its learning rate and n_critic as the GAN" in neither
    assert "no WGAN was less sensitive than the GAN" in neither
    none = G.sentence(grid_of({"nsgan": 0, "wgan-clip": 0, "wgan-gp": 0}), 2000, "8gaussians", True)
    assert none == ("Here, after 2,000 generator steps on 8 Gaussians on a ring, no setting covered at least 6 of the "
                    "8 modes (the most any run covered: 5 of 8), so the grid does not tell the objectives apart "
                    "within this budget.")


def test_one_setting_either_way_is_a_tie():
    s = G.sentence(grid_of({"nsgan": 1, "wgan-clip": 0, "wgan-gp": 2}), 2000, "8gaussians", True)
    assert s.count("about as sensitive") == 2 and "no WGAN was less sensitive" in s


def test_with_three_modes_most_means_all():
    assert (G.most_of(3), G.most_of(8), G.most_of(25)) == (3, 6, 19)
    s = G.sentence(grid_of({"nsgan": 4, "wgan-clip": 1, "wgan-gp": 9}, k=3), 2000, "seed3", True)
    assert "WGAN-GP covered all 3 modes in 9 of 12 settings, the GAN in 4 and WGAN-clip in 1:" in s


def test_the_sentence_is_provisional_while_the_grid_trains():
    outs = grid_of({"nsgan": 1, "wgan-clip": 0, "wgan-gp": 3}, steps=800)
    outs[next(iter(outs))] = o(8, steps=650)
    s = G.sentence(outs, 2000, "8gaussians", finished=False)
    assert s.startswith("So far (every cell at step 650 or more of 2,000), WGAN-GP covered at least 6 of the 8 "
                        "modes in 3 of 12 settings")
    assert s.endswith("(provisional: the cells are still training).")
    assert G.sentence({c: None for c in G.cells()}, 2000, "8gaussians", False).startswith("The grid has no outcome")


def test_the_colour_of_a_cell():
    x = o(6, hq=0.42, w1=0.19)
    assert x.colour("modes") == 0.75 and x.colour("hq") == 0.42 and x.colour("w1") == 1.0
    assert o(8, w1=1.9).colour("w1") == pytest.approx(0.0) and 0 < o(8, w1=0.6).colour("w1") < 1
    assert G.Outcome(steps=0).colour("modes") is None and G.Outcome(steps=0).colour("w1") is None
    assert x.lines() == ["6/8 modes", "hq 42%", "W1 0.19 (floor 0.07–0.19)"]
    with pytest.raises(ValueError):
        x.colour("loss")


def test_the_outcome_is_read_from_a_snapshot():
    snap = Run(TrainConfig(batch=16, width=8, data="8gaussians"), device="cpu").snapshot()
    out = G.outcome(snap)
    assert out.steps == 0 and out.modes_total == 8 and 0 <= out.hq <= 1 and out.w1 > 0
    assert out.floor[0] < out.floor[1] and G.outcome(None) is None


def test_the_rate_and_the_time_left():
    r = G.Rate(window=10)
    assert r.rate() is None
    for t in range(0, 30):
        r.add(float(t), 5.0 * t)
    assert r.rate() == pytest.approx(5.0) and r.seen[0][0] >= 18
    assert G.eta_s(100, 2000, r.rate()) == pytest.approx(380) and G.eta_s(100, 2000, None) is None
    r.add(31.0, 0.0)                                                          # a reset
    assert r.rate() is None and np.isclose(r.seen[0][1], 0.0)
