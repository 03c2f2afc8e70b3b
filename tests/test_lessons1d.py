"""wgan_core.lessons.lessons1d: the 1D lessons' data against closed forms and scipy, the dual-critic job, the chart specs."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from wgan_core.draw import lesson_specs as V
from wgan_core.lessons import lessons1d as L
from wgan_core.lessons import theory
from wgan_core.lessons.dist1d import w1_between
from wgan_core.serve import jobs

LOG2 = math.log(2.0)


# --------------------------------------------------------------------------- distributions
def test_side_maps_the_sliders_to_the_right_laws():
    g = L.side("gaussian", mu=1.0, sd=2.0, mu2=9.0, w=0.1, width=5.0)
    assert (g.base, g.locs, g.scales) == ("normal", (1.0,), (2.0,))
    m = L.side("mixture", mu=-2.0, sd=0.5, mu2=3.0, w=0.3)
    assert m.locs == (-2.0, 3.0) and m.scales == (0.5, 0.5) and m.weights == pytest.approx((0.3, 0.7))
    u = L.side("uniform", mu=1.0, width=4.0)                     # centre 1, width 4: U[-1, 3]
    assert u.cdf(-1.0) == 0.0 and u.cdf(1.0) == pytest.approx(0.5) and u.cdf(3.0) == 1.0
    with pytest.raises(ValueError):
        L.side("cauchy")


def test_draw_is_reproducible_and_plot_range_covers_the_samples():
    p, q = L.side("gaussian"), L.side("uniform", mu=5.0, width=1.0)
    a1, b1 = L.draw(p, q, 50, seed=3)
    a2, b2 = L.draw(p, q, 50, seed=3)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2) and a1.shape == (50,)
    lo, hi = L.plot_range(p, q, a1, b1)
    assert lo <= min(a1.min(), b1.min()) and hi >= max(a1.max(), b1.max())


# --------------------------------------------------------------------------- Why GANs fail
def test_parallel_lines_curves_match_the_closed_forms():
    c = L.parallel_lines_curves(1.0, 201)
    assert 0.0 not in c["theta"]
    assert np.allclose(c["JS"], LOG2) and np.allclose(c["TV"], 1.0) and np.allclose(c["KL"], L.KL_CAP)
    assert np.allclose(c["W1"], np.abs(c["theta"]))
    assert set(np.unique(c["side"])) == {0, 1} and np.all((c["theta"] > 0) == (c["side"] == 1))


@pytest.mark.parametrize("m, s", [(0.0, 1.0), (1.0, 1.0), (3.0, 0.6), (8.0, 1.0)])
def test_gaussians_view_against_theory(m, s):
    g = L.gaussians_view(m, s)
    p = np.exp(-0.5 * (g["x"] / s) ** 2) / (s * math.sqrt(2 * math.pi))
    assert np.allclose(g["p"], p)
    assert np.allclose(g["d_star"], g["p"] / (g["p"] + g["q"]))
    # D* at the fake mean, independently: p(m) / (p(m) + q(m)) with q(m) = 1 / (s sqrt(2 pi))
    pm, qm = math.exp(-0.5 * (m / s) ** 2), 1.0
    assert g["d_at_fake"] == pytest.approx(pm / (pm + qm), rel=1e-9)
    assert g["w1"] == pytest.approx(m) and g["wgan_push"] == (1.0 if m else 0.0)
    assert 0.0 <= g["js"] <= LOG2 + 1e-12


def test_gan_push_vanishes_while_the_critic_push_stays_one():
    c = L.push_vs_distance(1.0, m_max=10.0, n=101)
    peak = int(np.argmax(c["gan"]))
    assert 1.0 < c["m"][peak] < 2.5                              # theory: peaks near d ~ 1.6
    assert np.all(np.diff(c["gan"][peak:]) < 0) and c["gan"][-1] < 1e-5
    assert c["wgan"][0] == 0.0 and np.all(c["wgan"][1:] == 1.0)


# --------------------------------------------------------------------------- Wasserstein in 1D
@pytest.mark.parametrize("n, m", [(7, 7), (50, 80), (1000, 300)])
def test_empirical_cdf_area_is_scipys_w1(n, m):
    rng = np.random.default_rng(n)
    xp, xq = rng.normal(size=n), rng.gamma(2.0, size=m)
    e = L.empirical_cdfs(xp, xq)
    assert e["area"] == pytest.approx(wasserstein_distance(xp, xq), rel=1e-12, abs=1e-12)
    assert e["Fp"][-1] == 1.0 and e["Fq"][-1] == 1.0 and np.all(np.diff(e["x"]) >= 0)
    thin = L.empirical_cdfs(xp, xq, max_points=100)
    assert thin["area"] == e["area"] and thin["x"].size <= 100 and thin["x"][-1] == e["x"][-1]


@pytest.mark.parametrize("p, q", [(("gaussian", 0.0, 1.0), ("gaussian", 2.5, 0.6)),
                                  (("gaussian", 0.0, 1.0), ("mixture", -2.0, 0.5)),
                                  (("uniform", 0.0, 1.0), ("gaussian", 1.0, 0.3))])
def test_optimal_critic_reaches_w1_with_slope_one(p, q):
    P, Q = L.side(p[0], mu=p[1], sd=p[2]), L.side(q[0], mu=q[1], sd=q[2], mu2=3.0, w=0.3)
    x = np.linspace(-8, 8, 40_001)
    f = L.optimal_critic(x, P.cdf(x), Q.cdf(x))
    slopes = np.abs(np.diff(f) / np.diff(x))
    assert slopes.max() <= 1.0 + 1e-9                             # 1-Lipschitz
    gap = np.trapezoid(f * (P.pdf(x) - Q.pdf(x)), x)              # E_p f - E_q f
    assert gap == pytest.approx(w1_between(P, Q), rel=1e-3)


@pytest.mark.parametrize("q", [("gaussian", 2.5, 0.6), ("mixture", -2.0, 0.5), ("uniform", 1.0, 1.0)])
def test_sand_fills_both_piles_and_costs_w1(q):
    P, Q = L.side("gaussian"), L.side(q[0], mu=q[1], sd=q[2], mu2=3.0, w=0.3, width=2.0)
    g = L.sand(P, Q)
    assert g["cost"] == pytest.approx(w1_between(P, Q), rel=0.01)
    assert np.all((g["y0"] >= 0) & (g["y0"] <= P.pdf(g["x0"]))) and np.all(g["y1"] <= Q.pdf(g["x1"]) + 1e-12)
    start, end, mid = L.sand_at(g, 0.0), L.sand_at(g, 1.0), L.sand_at(g, 0.5)
    assert np.array_equal(start["x"], g["x0"]) and np.allclose(end["x"], g["x1"])
    assert mid["moved"] == pytest.approx(0.5 * g["cost"]) and L.sand_at(g, 7.0)["moved"] == g["cost"]
    assert np.array_equal(mid["right"] == 1, g["x1"] >= g["x0"])


def test_moments_are_recorded_steps():
    m = L._moments(400, 10, 12)
    assert m[0] == 0 and m[-1] == 400 and all(v % 10 == 0 for v in m) and m == sorted(set(m))
    assert 8 <= len(m) <= 12


# --------------------------------------------------------------------------- the dual-critic job
@pytest.fixture
def one_thread():
    """As in a worker process (one torch thread): on a busy 2-core machine, more threads are many times slower."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SPECS = {"shift": (("kind", "gaussian"), ("mu", 0.0), ("sd", 1.0)),
         "narrow": (("kind", "gaussian"), ("mu", 2.5), ("sd", 0.6)),
         "mixture": (("kind", "mixture"), ("mu", -2.0), ("sd", 0.5), ("mu2", 3.0), ("w", 0.3))}


@pytest.mark.parametrize("q", ["narrow", "mixture"])
def test_dual_trajectory_gap_reaches_w1(q, one_thread):
    """The stated tolerance: the penalty-adjusted gap ends within 5 % of W1; the raw gap near W + W^2/(2 lambda)."""
    t = L.dual_trajectory(SPECS["shift"], SPECS[q])
    w = w1_between(L.side(**dict(SPECS["shift"])), L.side(**dict(SPECS[q])))
    assert t["w1"] == pytest.approx(w)
    assert abs(t["adjusted"][-1] - w) <= 0.05 * w
    assert abs(t["gap"][-1] - (w + w * w / (2 * t["lam"]))) <= 0.05 * w
    assert t["gap"][0] == 0.0 and t["step"][-1] == 400 and t["step"].shape == t["gap"].shape
    assert t["curves"].shape == (t["curve_step"].size, t["x"].size)
    assert np.allclose(t["curves"].mean(axis=1), 0.0, atol=1e-9)


def test_dual_trajectory_on_samples_targets_scipy_and_runs_through_the_job_registry(one_thread):
    t = jobs.run("dual1d", {"p": SPECS["shift"], "q": SPECS["narrow"], "n": 100, "data_seed": 4})
    xp, xq = L.draw(L.side(**dict(SPECS["shift"])), L.side(**dict(SPECS["narrow"])), 100, 4)
    assert t["w1"] == pytest.approx(wasserstein_distance(xp, xq))
    assert abs(t["adjusted"][-1] - t["w1"]) <= 0.05 * t["w1"]


# --------------------------------------------------------------------------- chart specs
def _check(spec: dict) -> None:
    for name, cols in spec["datasets"].items():
        lengths = {len(v) for v in cols.values()}
        assert len(lengths) == 1, name                           # equal-length columns
        for v in cols.values():
            assert np.asarray(v).dtype != np.float64              # floats travel as float32
    json.dumps({k: v for k, v in spec.items() if k != "datasets"}, allow_nan=False)


def test_every_spec_builds_with_clean_data():
    g = L.gaussians_view(3.0, 1.0)
    x = np.linspace(-4, 4, 50)
    p, q = np.exp(-x ** 2 / 2), np.exp(-(x - 1) ** 2 / 2)
    traj = {"step": np.arange(0, 50, 10.0), "gap": np.linspace(0, 1, 5), "adjusted": np.linspace(0, 0.9, 5),
            "w1": 1.0, "lam": 10.0}
    grains = L.sand(L.side("gaussian"), L.side("gaussian", mu=1.0))
    specs = [V.lines_spec(0.3), V.divergences_spec(0.3, theory.parallel_lines(0.3), L.parallel_lines_curves(), L.KL_CAP), V.discriminator_spec(g),
             V.push_spec(g), V.push_curve_spec(L.push_vs_distance(1.0, n=11), 3.0, g),
             V.modes_spec(np.arange(5.0), np.arange(5.0), 8), V.densities_spec(x, p, q),
             V.cdf_spec(x, p, q, -4, 4, steps=True), V.plan_spec(x, p, q, x[:5], x[5:10]),
             V.earth_spec(x, p, q, L.sand_at(grains, 0.5)), V.critic_spec(x, p, q, x, x, (x, -x)),
             V.gap_spec(traj, 20)]
    for spec in specs:
        _check(spec)
