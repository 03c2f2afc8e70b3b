"""Light snapshots for the live view (issue #13): the same pictures for less work. The generator runs on the
N_SHOW points drawn unless mode statistics are due, mode statistics at most every ``modes_every_s`` per run
(the clock injected), no curves; full snapshots and the default (``modes_every_s=0``) measure everything."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from wgan_core.engine import metrics
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import Net
from wgan_core.engine.trainer import MODES_EVERY_S, Run, snapshot_many
from wgan_core.engine.views import N_ARROWS, N_EVAL, N_SHOW

torch.set_num_threads(1)
SMALL = TrainConfig(data="8gaussians", width=16, batch=32)
MODES = ("modes_covered", "modes_visited", "modes_total", "hq_fraction")


def generated(r: Run) -> np.ndarray:
    with torch.no_grad():
        return Net(r.g_spec, r.g_flat)(r.z_eval[None])[0].numpy()       # (N_EVAL, 2)


def fresh_modes(r: Run) -> dict:
    ms = metrics.mode_stats(generated(r), r.dataset.centers, r.dataset.std)
    return {k: ms[k] for k in MODES}


def live(runs: list, now: float) -> list[dict]:
    return snapshot_many(runs, exact=False, modes_every_s=MODES_EVERY_S, now=now)


def test_light_snapshots_draw_the_same_arrays_as_full_ones():
    """Everything drawn (points, grid, arrows, manifold) agrees with a snapshot that runs the generator on
    all N_EVAL points; the light one has no curves."""
    r = Run(SMALL, device="cpu")
    r.step(30)
    full = r.snapshot(exact=True)
    live([r], now=0.0)                                                  # measures the modes once
    light = live([r], now=0.1)[0]                                       # not due: N_SHOW points only
    assert "curves" in full and "curves" not in light
    assert light["fake"].shape == full["fake"].shape == (N_SHOW, 2)
    for key in ("fake", "real", "grid", "arrows", "manifold", "grad_norms"):
        np.testing.assert_allclose(light[key], full[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert light["arrows"].shape == (N_ARROWS, 2)
    assert light["config"] == full["config"] == r.config.to_dict()


def test_mode_statistics_are_repeated_until_due():
    r = Run(SMALL, device="cpu")
    r.step(5)
    first = live([r], now=10.0)[0]["metrics"]
    assert {k: first[k] for k in MODES} == fresh_modes(r)
    before = fresh_modes(r)
    r.step(200)                                                          # the generator moves on
    moved = fresh_modes(r)
    assert moved != before                                              # (else the test proves nothing)
    repeated = live([r], now=10.0 + MODES_EVERY_S / 2)[0]["metrics"]
    assert {k: repeated[k] for k in MODES} == before                    # not due: the last values
    due = live([r], now=10.0 + MODES_EVERY_S * 1.01)[0]["metrics"]
    assert {k: due[k] for k in MODES} == moved
    assert {k: r.snapshot(exact=False)["metrics"][k] for k in MODES} == moved   # default: every time
    r.step(20)
    full = snapshot_many([r], exact=True, modes_every_s=MODES_EVERY_S, now=10.0 + MODES_EVERY_S * 1.1)[0]
    assert {k: full["metrics"][k] for k in MODES} == fresh_modes(r)      # full snapshots: always fresh


def test_stacked_runs_with_and_without_modes_due():
    """Two stacked runs, one due and one not: each gets its own, and its points match the run alone."""
    a, b = Run(SMALL, device="cpu"), Run(SMALL.replace(seed=3), device="cpu")
    a.step(40), b.step(40)
    live([a], now=0.0)
    live([b], now=0.2)
    b_before = {k: live([b], now=0.21)[0]["metrics"][k] for k in MODES}
    a.step(100), b.step(100)
    sa, sb = live([a, b], now=0.3)                                       # a due (0.3 s), b not (0.1 s)
    assert {k: sa["metrics"][k] for k in MODES} == fresh_modes(a)
    assert {k: sb["metrics"][k] for k in MODES} == b_before
    for r, snap in ((a, sa), (b, sb)):
        np.testing.assert_allclose(snap["fake"], generated(r)[:N_SHOW], rtol=1e-5, atol=1e-6)
        alone = r.snapshot(exact=False)
        np.testing.assert_allclose(snap["grid"], alone["grid"], rtol=1e-5, atol=1e-6)


def test_data_without_modes_and_not_2d():
    sw = Run(TrainConfig(data="swissroll", width=16, batch=32), device="cpu")
    sw.step(5)
    sw.snapshot(exact=True)
    light = live([sw], now=1.0)[0]
    assert light["metrics"]["modes_total"] is None and light["fake"].shape == (N_SHOW, 2)
    assert light["metrics"]["precision"] is not None                     # the last full snapshot's, repeated
    np.testing.assert_allclose(light["fake"], generated(sw)[:N_SHOW], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("exact", [True, False])
def test_the_first_snapshot_checks_the_critic_on_all_points(exact):
    r = Run(SMALL, device="cpu")
    r.step(3)
    m = live([r], now=0.0)[0]["metrics"] if not exact else r.snapshot(exact=True)["metrics"]
    with torch.no_grad():
        C = Net(r.c_spec, r.c_flat)
        est = float(C(r.real_eval[None]).mean() - C(torch.as_tensor(generated(r))[None]).mean())
    assert m["critic_w1_estimate"] == pytest.approx(est, rel=1e-4, abs=1e-6)   # all N_EVAL points
    assert len(r.real_eval) == N_EVAL and m["w_corrected"] is not None


def test_a_live_change_is_answered_with_a_light_snapshot_and_a_pause_with_a_full_one():
    """The worker answers a command at once. A live change only needs the snapshot that carries the new
    settings: a light one (~1 ms, not ~15: the page that sent it waits for it); exact W1 keeps its pace.
    Any other ask since the last snapshot (Pause, Step, a status change) makes it a full one."""
    from wgan_core.serve.scheduler import Scheduler, Slot
    sent: list[dict] = []
    sched = Scheduler(lambda rid, snap: sent.append(snap))
    slot = Slot("r", Run(SMALL, device="cpu"), playing=True)
    sched.slots["r"] = slot
    slot.run.step(5)

    def answer(*asks: bool) -> dict:
        slot.want_snap = slot.quick = False
        slot.last_snap = slot.last_exact = 100.0                     # nothing due by the clock at 100.01
        for light in asks:
            slot.ask(light=light)
        sent.clear()
        sched._snapshots(100.01)
        assert len(sent) == 1 and not slot.want_snap and not slot.quick
        return sent[0]["metrics"]

    assert answer(True)["exact_w1"] is None                           # a live change: light
    assert answer(False)["exact_w1"] is not None                      # Pause: exact W1 at that moment
    assert answer(True, False)["exact_w1"] is not None                # both: full
    assert answer(False, True)["exact_w1"] is not None
    slot.run.apply(TrainConfig(data="8gaussians", width=16, batch=32, lr_c=2e-4))
    answer(True)
    assert sent[0]["config"]["lr_c"] == 2e-4                          # it carries the new settings
    # the answer goes out before other runs' snapshots that are due by the clock (at N = 60: many)
    other = sched.slots["o"] = Slot("o", Run(SMALL, device="cpu"), playing=True, want_snap=False)
    slot.ask(light=True)
    sent.clear()
    sched._snapshots(100.5, asked_only=True)
    assert [s["config"]["lr_c"] for s in sent] == [2e-4] and other.last_snap == 0.0
    sched._snapshots(100.5)
    assert other.last_snap == 100.5
