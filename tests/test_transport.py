"""Earth moving in 2D (issue #17, A): the exact optimal assignment behind exact_w1, drawn as a transport layer.

A full snapshot's ``plan`` sends fake[i] to real[plan[i]] (i < N_W1); the mean length of those lines is the
snapshot's exact W1 (one solve) and POT's; light snapshots repeat it; it travels in the frame and is drawn
in the Pillow exports.
"""
from __future__ import annotations

import numpy as np
import ot
import pytest
import torch

from wgan_core.draw import render
from wgan_core.engine import metrics, transport, wire
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.trainer import Run, snapshot_many
from wgan_core.engine.views import N_SHOW, N_W1
from wgan_core.files.export import FrameRing
from wgan_core.serve.scheduler import Scheduler, Slot

torch.set_num_threads(1)
SMALL = TrainConfig(data="8gaussians", width=16, batch=32)


def emd2(x: np.ndarray, y: np.ndarray) -> float:
    a = np.full(len(x), 1.0 / len(x))
    return float(ot.emd2(a, a, ot.dist(x, y, metric="euclidean"), numItermax=1_000_000))


def lines(snap: dict) -> np.ndarray:
    """|fake[i] - real[plan[i]]| in float64, on the snapshot's own points."""
    p = snap["plan"]
    fake, real = snap["fake"][:len(p)].astype(np.float64), snap["real"].astype(np.float64)
    return np.linalg.norm(fake - real[p], axis=1)


@pytest.fixture(scope="module")
def trained() -> Run:
    r = Run(SMALL, device="cpu")
    r.step(20)
    return r


def test_the_plan_is_a_permutation_whose_mean_line_is_the_exact_w1(trained):
    snap = trained.snapshot(exact=True)
    p = snap["plan"]
    assert p.shape == (N_W1,) and np.array_equal(np.sort(p), np.arange(N_W1))
    assert snap["real"].shape == (N_SHOW, 2) and p.max() < len(snap["real"])   # indices into the frame's real
    w1 = snap["metrics"]["exact_w1"]
    assert abs(lines(snap).mean() - w1) < 1e-9
    x, y = snap["fake"][:N_W1].astype(np.float64), snap["real"][:N_W1].astype(np.float64)
    assert abs(emd2(x, y) - w1) < 1e-9 and abs(metrics.exact_w1(x, y) - w1) < 1e-9
    assert lines(snap).std() > 0                                      # (a real plan, not one length for all)


def test_no_other_assignment_is_shorter():
    """Optimal: scipy's Hungarian solver finds the same total; a random permutation is longer."""
    from scipy.optimize import linear_sum_assignment
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + [1.0, 0.0]
    plan, w1 = transport.assignment(x, y)
    cost = metrics.euclidean_cost(x, y)
    r, c = linear_sum_assignment(cost)
    assert abs(cost[r, c].mean() - w1) < 1e-12
    assert cost[np.arange(60), rng.permutation(60)].mean() > w1
    with pytest.raises(ValueError):
        transport.assignment(x, y[:59])
    with pytest.raises(ValueError):
        transport.assignment(np.full((3, 2), np.nan), y[:3])


def test_a_light_snapshot_repeats_the_last_plan():
    r = Run(SMALL, device="cpu")
    assert r.snapshot(exact=False)["plan"] is None                     # none measured yet
    full = r.snapshot(exact=True)
    r.step(30)                                                          # the points move on
    light = snapshot_many([r], exact=False)[0]
    assert light["metrics"]["exact_w1"] is None and np.array_equal(light["plan"], full["plan"])
    assert not np.array_equal(light["fake"], full["fake"])
    fresh = r.snapshot(exact=True)                                      # a full one measures afresh
    assert abs(lines(fresh).mean() - fresh["metrics"]["exact_w1"]) < 1e-9


def test_the_published_frame_carries_the_plan(trained):
    """The scheduler's frame holds the plan (exact: u16 indices); fake[:N_W1] are exact_w1's fake points."""
    sent = []
    sched = Scheduler(lambda rid, snap: sent.append(snap))
    slot = Slot("r", trained)
    snap = trained.snapshot(exact=True)
    plan, fake = snap["plan"].copy(), snap["fake"].copy()
    packed = sched._packed(slot, snap, now=1.0, interval=0.1)
    assert "plan" not in packed
    f = wire.decode_frame(packed["frame"])
    assert np.array_equal(f["plan"], plan)
    step = wire.point_step(wire.padded_box(f["extent"]))
    assert (np.abs(f["fake"] - fake).max(0) <= step / 2 + 1e-6).all()
    fr = wire.encode_frame(serial=1, run=1, t=0.0, extent=snap["extent"], fake=fake, plan=plan)
    assert np.array_equal(wire.decode_frame(fr)["plan"], plan)


def test_the_export_draws_the_transport_layer(trained):
    snap = trained.snapshot(exact=True)
    base = ("real", "fake")
    assert render.frame_png(snap, base + ("transport",), size=320) != render.frame_png(snap, base, size=320)
    assert "transport" in render.LAYERS
    ring = FrameRing()                                                  # the GIF's compact frames keep it
    ring.add(snap, now=0.0)
    kept = ring.frames[-1]
    assert np.array_equal(kept["plan"], snap["plan"])
    with_lines = np.asarray(render.render_frame(kept, base + ("transport",), size=320))
    assert (with_lines != np.asarray(render.render_frame(kept, base, size=320))).any()
    with pytest.raises(ValueError, match="plan"):
        render.frame_png({**snap, "plan": np.arange(N_W1) + N_SHOW}, base + ("transport",))
