"""A critic-free baseline (issue #17, B): the generator minimises the exact minibatch W1 (objective "ot").

Its loss is POT's W1 of the batch, its gradient autograd's with the assignment held fixed; it trains,
stacks bit for bit, has no critic anywhere (no critic steps, no critic figures, no heatmap), and shows
in Train live and Compare.
"""
from __future__ import annotations

import io
import time

import numpy as np
import ot
import pytest
import torch
from apptest_util import open_page, page_path, worker_snapshot

from ui import session
from wgan_core.engine import cost, objectives, ot_step, recipes, transport
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import MLPSpec, Net
from wgan_core.engine.tables import last_measured
from wgan_core.engine.trainer import Run, train
from wgan_core.lessons import compare

torch.set_num_threads(1)
OT = TrainConfig(loss="ot", data="seed3", width=32, batch=64, optimizer="adam", lr_g=1e-3)


def _gen(S: int, seed: int = 0, act: str = "relu") -> Net:
    spec = MLPSpec(2, 2, 16, 2, act)
    return Net(spec, torch.cat([spec.init(torch.Generator().manual_seed(seed + s)) for s in range(S)]))


def _reals(S: int, B: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    return [torch.randn(B, 2, generator=g) * 1.5 + 2.0 for _ in range(S)]


def test_the_loss_is_pots_w1_of_the_batch():
    G, reals = _gen(2), _reals(2, 48)
    z = torch.randn(2, 48, 2, generator=torch.Generator().manual_seed(3))
    _, loss = ot_step.grads_at(G, z, reals)
    with torch.no_grad():
        x = G(z).double().numpy()
    a = np.full(48, 1 / 48)
    for s in range(2):
        y = reals[s].double().numpy()
        assert abs(float(loss[s]) - ot.emd2(a, a, ot.dist(x[s], y, metric="euclidean"))) < 1e-6


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_the_gradient_is_autograds_with_the_assignment_fixed(act):
    G, reals = _gen(3, act=act), _reals(3, 40)
    z = torch.randn(3, 40, 2, generator=torch.Generator().manual_seed(4))
    grad, _ = ot_step.grads_at(G, z, reals)
    with torch.enable_grad():
        x = G(z)
        plans = [transport.assignment(x[s].detach().double().numpy(), reals[s].double().numpy())[0] for s in range(3)]
        ref = sum((x[s] - reals[s][torch.as_tensor(p)]).norm(dim=-1).mean() for s, p in enumerate(plans))
        want = G.flat_grad(torch.autograd.grad(ref, G.params))
    torch.testing.assert_close(grad, want, rtol=1e-5, atol=1e-7)
    _, dx, _ = transport.minibatch_w1(np.zeros((2, 2)), np.zeros((2, 2)))    # a point on its partner: 0
    assert np.array_equal(dx, np.zeros((2, 2)))


def test_a_short_run_on_seed3_reduces_the_exact_w1_and_has_no_critic():
    r = Run(OT, device="cpu")
    before = r.snapshot(exact=True)
    c0 = r.c_flat.clone()
    r.step(150)
    after = r.snapshot(exact=True)
    assert after["metrics"]["exact_w1"] < 0.5 * before["metrics"]["exact_w1"]
    assert r.critic_steps == 0 and torch.equal(r.c_flat, c0) and r.status == "ok"   # never a critic step
    stats = np.array(r.stats)
    assert np.isnan(stats[:, 1:4]).all() and np.isfinite(stats[:, 4]).all()        # no critic stats; the loss
    m = after["metrics"]
    assert all(m[k] is None for k in ("critic_w1_estimate", "critic_w1_estimate_se", "lipschitz_bound",
                                      "w_corrected", "w_over_lipschitz", "largest_slope_seen"))
    assert m["modes_total"] == 3 and m["modes_covered"] >= 1
    assert "grid" not in after and "arrows" not in after and after["manifold"] is not None
    assert sorted(after["plan"]) == list(range(400)) and np.isfinite(after["curves"]["gen_loss"]).any()


def test_it_stacks_bit_identically_with_itself():
    cfgs = [OT.replace(seed=s, lr_g=1e-3 * (s + 1), n_critic=n, lr_c=1e-4 * (s + 1)) for s, n in ((0, 5), (1, 2))]
    stacked = [Run(c, device="cpu") for c in cfgs]
    train(stacked, 5)
    for c, r in zip(cfgs, stacked):
        alone = Run(c, device="cpu")
        alone.step(5)
        assert torch.equal(r.g_flat, alone.g_flat) and torch.equal(r.c_flat, alone.c_flat)
        assert torch.equal(r.g_opt.m, alone.g_opt.m) and torch.equal(r.g_opt.v, alone.g_opt.v)
        np.testing.assert_array_equal(np.array(r.stats), np.array(alone.stats))
        assert r.gen_steps == 5 and r.critic_steps == 0


def test_a_checkpoint_round_trip_continues_identically():
    r = Run(OT, device="cpu")
    r.step(3)
    buf = io.BytesIO()
    torch.save(r.state_dict(), buf)
    buf.seek(0)
    fresh = Run(OT, device="cpu")
    fresh.load_state_dict(torch.load(buf, weights_only=True))         # NaN critic columns are a critic-free run's
    r.step(2), fresh.step(2)
    assert torch.equal(r.g_flat, fresh.g_flat)
    np.testing.assert_array_equal(np.array(fresh.stats), np.array(r.stats))
    wgan = Run(OT.replace(loss="wgan-gp"), device="cpu").state_dict()
    wgan["stats"] = torch.as_tensor(np.array(r.stats))                # ... not a WGAN's
    with pytest.raises(ValueError, match="finite"):
        Run(OT.replace(loss="wgan-gp"), device="cpu").load_state_dict({**wgan, "gen_steps": 5})


def test_its_registry_entry_and_compare_settings():
    obj = objectives.get("ot")
    assert obj.critic_free and not obj.wasserstein and obj.knobs == frozenset()
    with pytest.raises(ValueError, match="no critic"):
        obj.gen_loss(torch.zeros(1, 3))
    cfg = recipes.compare_config("ot", "8gaussians", 0, "classroom")
    assert cfg.optimizer == "adam" and cfg.lr_g == recipes.CLASSROOM["lr_g"] and cfg.batch == recipes.CLASSROOM["batch"]
    assert recipes.compare_config("ot", "8gaussians", 0, "seed").optimizer == "adam"
    big = cfg.replace(batch=1024)                                      # the assignment's ~B^2.2: its own process
    assert cost.step_seconds(big) > cost.HEAVY_S > cost.step_seconds(cfg) == cost.step_seconds(cfg.replace(n_critic=20))


def test_step_rate_measures_generator_steps_per_second():
    hist: list = []
    assert compare.step_rate(hist, 10.0, 0) is None
    compare.step_rate(hist, 10.5, 40)
    assert compare.step_rate(hist, 11.0, 100) == pytest.approx(100.0)
    assert compare.step_rate(hist, 11.2, 100) == pytest.approx(100.0)             # paused: the last rate
    assert compare.step_rate(hist, 11.4, 5) is None and hist == [(11.4, 5)]        # a reset starts afresh
    assert compare.step_rate(hist, 30.0, 50) is None and hist == [(30.0, 50)]      # after a long pause too
    rows = compare.summary_rows({"ot": Run(OT, device="cpu").snapshot()}, {"ot": 250.0})
    assert rows[0]["generator steps/s"] == 250.0 and rows[0]["critic's estimate"] is None


def test_train_live_trains_it_and_disables_the_critics_controls():
    at = open_page(page_path("train_live"), {"loss": "ot", "data": "seed3"})
    assert not at.exception
    assert at.select_slider(key="tl.lr_c").disabled and at.slider(key="tl.n_critic").disabled
    assert at.select_slider(key="tl.clip").disabled and at.select_slider(key="tl.lam").disabled
    assert not at.select_slider(key="tl.lr_g").disabled
    worker_snapshot(at, "tl.rid", lambda s: s["config"]["loss"] == "ot")
    at.button(key="tl.play").click().run()                                                     # play
    # exact W1 is measured about once a second: the newest snapshot may be a light one, so read it as the page does
    snap = worker_snapshot(at, "tl.rid", lambda s: s["gen_steps"] > 20 and last_measured(s, "exact_w1") is not None)
    at.run()
    session.pool().pause(at.session_state["tl.rid"])
    assert not at.exception and snap["critic_steps"] == 0
    labels = [m.label for m in at.metric]
    assert "W1, 400 vs 400 points" in labels and "Critic's estimate" not in labels and "Lower bound" not in labels
    assert any("No critic at all" in md.value for md in at.markdown)
    assert any("transport plan" in c.value for c in at.caption)


def test_compare_shows_it_beside_the_wgans_with_its_speed():
    at = open_page(page_path("compare"), {"methods": "wgan-gp,ot", "data": "seed3"})
    assert not at.exception
    assert any("Why not exact OT for images?" in c.value for c in at.caption)
    rids = at.session_state["cmp.rids"]
    rates = lambda: at.session_state["cmp.rates"] if "cmp.rates" in at.session_state else {}   # noqa: E731
    try:
        next(b for b in at.button if b.label == "Start").click().run()
        end = time.monotonic() + 60
        while time.monotonic() < end and len(rates()) < 2:                          # both runs measured
            time.sleep(0.4)
            at.run()
        assert set(rates()) == {"wgan-gp", "ot"} and all(r > 0 for r in rates().values())
        assert any(" steps/s · exact W1" in c.value for c in at.caption)
        next(b for b in at.button if b.label == "Pause").click().run()
        at.run()
        assert not at.exception
        table = next(d for d in at.dataframe if "generator steps/s" in d.value.columns)
        assert table.value["generator steps/s"].notna().all()
        assert not [md.value for md in at.markdown if md.value in ("`None`", "`True`")]   # no stray magic output
    finally:
        for rid in rids.values():
            session.pool().pause(rid)
