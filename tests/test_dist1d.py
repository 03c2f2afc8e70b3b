"""wgan_core.dist1d (1D distributions, W1 between them) and wgan_core.dual1d (the learned critic)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm, wasserstein_distance

from wgan_core.lessons.dist1d import (
    DISTS,
    Dist1D,
    closed_form_w1,
    make_dist,
    quantile_pairs,
    w1_between,
)
from wgan_core.lessons.dual1d import DualCritic1D

GAUSS = make_dist("gaussian", mu=0.0, sigma=1.0)
MIX = make_dist("mixture", mu1=-2.0, mu2=3.0, sigma1=0.5, sigma2=1.0, w=0.3)
UNI = make_dist("uniform", lo=0.0, hi=1.0)
PAIRS = {
    "gauss-gauss": (GAUSS, make_dist("gaussian", mu=1.0, sigma=2.0)),
    "gauss-mix": (GAUSS, MIX),
    "uni-uni-equal": (UNI, make_dist("uniform", lo=0.3, hi=1.3)),
    "uni-uni-wider": (UNI, make_dist("uniform", lo=1.5, hi=4.0)),
    "gauss-uni": (GAUSS, UNI),
    "mix-uni": (MIX, make_dist("uniform", lo=1.5, hi=4.0)),
}


# --------------------------------------------------------------------------- distributions
def test_registry_builds_every_distribution_and_rejects_unknown_names():
    assert set(DISTS) == {"gaussian", "mixture", "uniform"}
    for name in DISTS:
        d = make_dist(name)
        assert isinstance(d, Dist1D) and d.name == name
    with pytest.raises(ValueError, match="unknown distribution"):
        make_dist("cauchy")
    with pytest.raises(ValueError):
        make_dist("gaussian", sigma=0.0)
    with pytest.raises(ValueError):
        make_dist("mixture", w=1.5)
    with pytest.raises(ValueError):
        make_dist("uniform", lo=1.0, hi=1.0)


@pytest.mark.parametrize("d", [GAUSS, MIX, UNI], ids=["gaussian", "mixture", "uniform"])
def test_pdf_integrates_to_cdf(d):
    lo, hi = d.support()
    for x in np.linspace(lo, hi, 5)[1:]:
        mass, _ = integrate.quad(d.pdf, lo - 20, x, points=[lo, 0.0, 1.0], limit=200)
        assert mass == pytest.approx(float(d.cdf(x)), abs=1e-7)


@pytest.mark.parametrize("d", [GAUSS, MIX, UNI], ids=["gaussian", "mixture", "uniform"])
def test_ppf_inverts_cdf(d):
    lo, hi = d.support()
    x = np.linspace(lo + 0.06, hi - 0.06, 41)
    assert np.allclose(d.ppf(d.cdf(x)), x, atol=1e-9)
    q = np.linspace(0.001, 0.999, 37)
    assert np.allclose(d.cdf(d.ppf(q)), q, atol=1e-12)


def test_ppf_edges_and_validation():
    assert GAUSS.ppf(0.5) == pytest.approx(0.0)
    assert MIX.ppf(0.0) == -np.inf and MIX.ppf(1.0) == np.inf
    assert UNI.ppf([0.0, 1.0]).tolist() == [0.0, 1.0]
    assert MIX.ppf(0.3) == pytest.approx(float(MIX.ppf(np.array([0.3]))[0]))    # scalar and vector agree
    with pytest.raises(ValueError):
        GAUSS.ppf(1.5)


@pytest.mark.parametrize("d", [GAUSS, MIX, UNI], ids=["gaussian", "mixture", "uniform"])
def test_samples_follow_the_cdf(d):
    x = d.sample(50_000, np.random.default_rng(0))
    assert x.shape == (50_000,)
    grid = np.linspace(*d.support(), 9)
    empirical = (x[:, None] <= grid[None, :]).mean(axis=0)
    assert np.max(np.abs(empirical - d.cdf(grid))) < 0.01
    same = d.sample(10, np.random.default_rng(5))
    assert np.array_equal(same, d.sample(10, np.random.default_rng(5)))


def test_mixture_is_the_weighted_sum_of_its_gaussians():
    x = np.linspace(-4, 6, 11)
    expected = 0.3 * norm.pdf(x, -2.0, 0.5) + 0.7 * norm.pdf(x, 3.0, 1.0)
    assert np.allclose(MIX.pdf(x), expected, rtol=1e-12)


# --------------------------------------------------------------------------- W1
@pytest.mark.parametrize("name", ["gauss-gauss", "uni-uni-equal", "uni-uni-wider"])
def test_numeric_w1_equals_closed_form(name):
    p, q = PAIRS[name]
    closed = closed_form_w1(p, q)
    assert closed is not None
    assert w1_between(p, q) == pytest.approx(closed, abs=1e-8)


def test_closed_form_known_values_and_gaps():
    assert closed_form_w1(*PAIRS["uni-uni-equal"]) == pytest.approx(0.3)         # equal widths: the shift
    assert closed_form_w1(GAUSS, make_dist("gaussian", mu=-2.0)) == pytest.approx(2.0)
    assert closed_form_w1(GAUSS, MIX) is None
    assert closed_form_w1(GAUSS, UNI) is None


@pytest.mark.parametrize("name", list(PAIRS))
def test_numeric_w1_agrees_with_scipy_on_samples(name):
    p, q = PAIRS[name]
    rng = np.random.default_rng(1)
    sampled = wasserstein_distance(p.sample(200_000, rng), q.sample(200_000, rng))
    assert w1_between(p, q) == pytest.approx(sampled, rel=0.02)


@pytest.mark.parametrize("name", list(PAIRS))
def test_w1_is_symmetric_and_zero_on_the_diagonal(name):
    p, q = PAIRS[name]
    assert w1_between(p, q) == pytest.approx(w1_between(q, p), rel=1e-9)
    assert w1_between(p, p) == 0.0


@pytest.mark.parametrize("name", ["gauss-gauss", "gauss-mix", "mix-uni"])
def test_quantile_pairs_approach_w1(name):
    p, q = PAIRS[name]
    w1 = w1_between(p, q)
    errors = []
    for k in (10, 100, 2000):
        xp, xq = quantile_pairs(p, q, k)
        assert xp.shape == xq.shape == (k,)
        assert np.all(np.diff(xp) > 0) and np.all(np.diff(xq) > 0)             # monotone plan
        errors.append(abs(np.mean(np.abs(xp - xq)) - w1))
    assert errors[0] > errors[-1] and errors[-1] < 1e-3 * max(w1, 1.0)


def test_the_cdfs_cover_both_distributions_and_their_area_is_w1():
    lo, hi = min(GAUSS.support()[0], MIX.support()[0]), max(GAUSS.support()[1], MIX.support()[1])
    x = np.linspace(lo, hi, 300)
    out = {"x": x, "Fp": GAUSS.cdf(x), "Fq": MIX.cdf(x)}
    assert out["x"].shape == out["Fp"].shape == out["Fq"].shape == (300,)
    assert np.all(np.diff(out["x"]) > 0)
    for key in ("Fp", "Fq"):
        assert out[key][0] < 0.01 and out[key][-1] > 0.99 and np.all(np.diff(out[key]) >= 0)
    area = np.trapezoid(np.abs(out["Fp"] - out["Fq"]), out["x"])
    assert area == pytest.approx(w1_between(GAUSS, MIX), rel=0.01)


# --------------------------------------------------------------------------- dual critic
def _gauss_pair_critic(seed: int = 0, **kwargs) -> DualCritic1D:
    p, q = make_dist("gaussian", mu=0.0, sigma=1.0), make_dist("gaussian", mu=3.0, sigma=1.0)
    return DualCritic1D(p.sample, q.sample, seed=seed, **kwargs)


def test_dual_critic_learns_w1_between_translated_gaussians():
    critic = _gauss_pair_critic()
    assert critic.gap() == 0.0                                    # f = 0 at the start
    critic.step(300)
    lam = critic.gp_weight
    # The soft penalty's optimum inflates the gap by 1 + W/(2 lambda) = 1.15 (module notes).
    assert critic.gap() == pytest.approx(3.0 * (1 + 3.0 / (2 * lam)), rel=0.05)
    assert critic.penalty_adjusted_gap() == pytest.approx(3.0, rel=0.05)
    assert 0.8 * 3.0 < critic.corrected_gap() <= 3.0 * 1.02      # gap / max slope: (nearly) a lower bound
    slopes = critic.slope(np.linspace(0.0, 3.0, 7))              # p left of q: f falls, slope ~ -1
    assert np.all(slopes < -0.9) and np.all(slopes > -1.35)
    assert len(critic.history) == 300


def test_dual_critic_learns_a_non_linear_critic():
    p, q = make_dist("gaussian"), make_dist("mixture")           # tent-shaped optimal critic
    critic = DualCritic1D(p.sample, q.sample, seed=0)
    critic.step(300)
    assert critic.penalty_adjusted_gap() == pytest.approx(w1_between(p, q), rel=0.1)
    left, right = critic.slope([-1.5, 1.5])
    assert left > 0.8 and right < -0.8                           # slope sign(F_q - F_p)


def test_two_sided_penalty_gets_trapped_in_1d():
    # Why the default is one-sided (module notes): the two-sided critic settles on a straight line.
    p, q = make_dist("gaussian"), make_dist("mixture")
    critic = DualCritic1D(p.sample, q.sample, seed=0, penalty="two-sided")
    critic.step(300)
    left, right = critic.slope([-1.5, 1.5])
    assert critic.penalty_adjusted_gap() < 0.3 * w1_between(p, q)
    assert np.sign(left) == np.sign(right)


def test_dual_critic_is_deterministic_and_curve_is_plain_data():
    a, b = _gauss_pair_critic(seed=3), _gauss_pair_critic(seed=3)
    a.step(20)
    b.step(20)
    assert a.history == b.history
    xs = np.linspace(-3, 6, 50)
    curve = a.curve(xs)
    assert isinstance(curve, np.ndarray) and curve.shape == (50,) and np.array_equal(curve, b.curve(xs))
    assert _gauss_pair_critic(seed=4).step(20) != a.history[-1]


def test_dual_critic_rejects_bad_settings():
    with pytest.raises(ValueError, match="penalty"):
        _gauss_pair_critic(penalty="sideways")
    with pytest.raises(ValueError):
        _gauss_pair_critic(lr=0.0)
