"""wgan_core.metrics against scipy, brute-force assignment and hand-made cases."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from wgan_core.engine.metrics import exact_w1, grad_norm_summary, lipschitz_corrected, mode_stats, w1_1d

SEED3_CENTERS = np.array([[0.0, 0.0], [3.0, 3.0], [-2.0, 3.0]])


# --------------------------------------------------------------------------- w1_1d
@pytest.mark.parametrize("seed", range(5))
def test_w1_1d_matches_scipy_unweighted(seed):
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 1.0, size=rng.integers(1, 300))
    v = rng.standard_t(3, size=rng.integers(1, 300)) + 0.7
    assert w1_1d(u, v) == pytest.approx(wasserstein_distance(u, v), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_w1_1d_matches_scipy_weighted(seed):
    rng = np.random.default_rng(100 + seed)
    u, v = rng.normal(size=37), rng.exponential(size=81)
    uw, vw = rng.random(37), rng.random(81)
    uw[::5] = 0.0                                          # zero weights are allowed
    expected = wasserstein_distance(u, v, uw, vw)
    assert w1_1d(u, v, uw, vw) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_w1_1d_ties_and_point_masses():
    assert w1_1d([0.0], [2.5]) == pytest.approx(2.5)
    assert w1_1d([1.0, 1.0, 1.0], [1.0]) == 0.0
    assert w1_1d([0.0, 1.0], [0.0, 1.0, 1.0, 0.0]) == 0.0
    assert w1_1d([0.0, 0.0, 1.0], [0.0, 1.0, 1.0]) == pytest.approx(1.0 / 3.0)


def test_w1_1d_shift_is_exact():
    u = np.random.default_rng(7).normal(size=500)
    assert w1_1d(u, u + 1.25) == pytest.approx(1.25, rel=1e-12)


@pytest.mark.parametrize(
    "u, v, kwargs",
    [([], [1.0], {}), ([[1.0, 2.0]], [1.0], {}), ([np.nan], [1.0], {}),
     ([1.0, 2.0], [1.0], {"u_weights": [1.0]}), ([1.0, 2.0], [1.0], {"u_weights": [1.0, -1.0]}),
     ([1.0, 2.0], [1.0], {"u_weights": [0.0, 0.0]})],
)
def test_w1_1d_rejects_bad_input(u, v, kwargs):
    with pytest.raises(ValueError):
        w1_1d(u, v, **kwargs)


# --------------------------------------------------------------------------- exact_w1
@pytest.mark.parametrize("n, d", [(5, 2), (17, 2), (40, 3), (60, 2)])
def test_exact_w1_matches_brute_force_assignment(n, d):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, d)), rng.normal(1.0, 2.0, size=(n, d))
    cost = cdist(x, y)
    rows, cols = linear_sum_assignment(cost)
    assert exact_w1(x, y) == pytest.approx(cost[rows, cols].mean(), rel=1e-9)


def test_exact_w1_translation_is_the_shift_length():
    x = np.random.default_rng(3).uniform(-1, 1, size=(200, 2))
    t = np.array([0.3, -0.4])
    assert exact_w1(x, x + t) == pytest.approx(0.5, rel=1e-9)
    assert exact_w1(x, x) == pytest.approx(0.0, abs=1e-12)


def test_exact_w1_is_symmetric_and_not_squared():
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + 3.0
    assert exact_w1(x, y) == pytest.approx(exact_w1(y, x), rel=1e-9)
    assert 3.0 < exact_w1(x, y) < 6.0                      # ~ |(3, 3)| = 4.24, not its square


@pytest.mark.parametrize(
    "x, y, message",
    [(np.zeros((5, 2)), np.zeros((6, 2)), "same shape"), (np.zeros(5), np.zeros(5), "2-D"),
     (np.zeros((0, 2)), np.zeros((0, 2)), "non-empty"), (np.full((3, 2), np.inf), np.zeros((3, 2)), "infinite")],
)
def test_exact_w1_rejects_bad_input(x, y, message):
    with pytest.raises(ValueError, match=message):
        exact_w1(x, y)


def test_exact_w1_reports_an_unfinished_solve():
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="max_iter"):
        exact_w1(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), max_iter=3)


# --------------------------------------------------------------------------- mode_stats
def test_mode_stats_all_modes_hit_exactly():
    samples = np.repeat(SEED3_CENTERS, 10, axis=0)         # 30 samples on the centres
    stats = mode_stats(samples, SEED3_CENTERS, std=0.5)
    assert stats["modes_covered"] == 3 and stats["modes_total"] == 3
    assert stats["hq_fraction"] == 1.0
    assert stats["per_mode"].tolist() == [10, 10, 10]


def test_mode_stats_collapse_and_far_samples():
    # 98 samples on mode 0, 2 far away (nearest to mode 0 but beyond 3 std).
    samples = np.vstack([np.zeros((98, 2)), [[0.0, -5.0], [10.0, -10.0]]])
    stats = mode_stats(samples, SEED3_CENTERS, std=0.5)
    assert stats["modes_covered"] == 1
    assert stats["hq_fraction"] == pytest.approx(0.98)
    assert stats["per_mode"].tolist() == [98, 0, 0]


def test_mode_stats_quality_radius_is_three_std():
    inside = [[1.5, 0.0]]                                  # exactly 3 * 0.5 from (0, 0)
    outside = [[1.5001, 0.0]]
    assert mode_stats(inside, SEED3_CENTERS, std=0.5)["hq_fraction"] == 1.0
    assert mode_stats(outside, SEED3_CENTERS, std=0.5)["hq_fraction"] == 0.0


def test_mode_stats_one_percent_threshold():
    # 1000 samples: mode 1 gets exactly 10 (1 %: covered), mode 2 gets 9 (not covered).
    samples = np.vstack([np.zeros((981, 2)), np.tile([3.0, 3.0], (10, 1)), np.tile([-2.0, 3.0], (9, 1))])
    stats = mode_stats(samples, SEED3_CENTERS, std=0.5)
    assert stats["per_mode"].tolist() == [981, 10, 9]
    assert stats["modes_covered"] == 2


def test_mode_stats_rejects_bad_input():
    with pytest.raises(ValueError, match="dimension"):
        mode_stats(np.zeros((4, 3)), SEED3_CENTERS, std=0.5)
    with pytest.raises(ValueError, match="std"):
        mode_stats(np.zeros((4, 2)), SEED3_CENTERS, std=0.0)


# --------------------------------------------------------------------------- Lipschitz
def test_lipschitz_corrected_divides_by_the_largest_norm():
    assert lipschitz_corrected(3.45, 1.15) == pytest.approx(3.0)
    assert lipschitz_corrected(0.5, 1.0) == 0.5
    assert lipschitz_corrected(1.0, 0.0) == pytest.approx(1e12)   # a flat critic: no crash
    with pytest.raises(ValueError):
        lipschitz_corrected(1.0, -1.0)


def test_lipschitz_corrected_bound_holds_for_a_steep_critic():
    # f(x) = 5 x between N(0, 1) and N(2, 1) samples: raw gap 5 * 2, W1 = 2.
    rng = np.random.default_rng(0)
    p, q = rng.normal(0, 1, 4000), rng.normal(2, 1, 4000)
    raw = np.mean(-5 * p) - np.mean(-5 * q)
    w1 = w1_1d(p, q)
    assert raw > 4 * w1
    assert lipschitz_corrected(raw, 5.0) <= w1 + 1e-9


def test_grad_norm_summary_statistics_and_verdicts():
    norms = np.array([0.95, 1.0, 1.05, 1.2])
    s = grad_norm_summary(norms)
    assert s["mean"] == pytest.approx(1.05) and s["median"] == pytest.approx(1.025)
    assert s["min"] == 0.95 and s["max"] == 1.2 and s["std"] == pytest.approx(np.std(norms))
    assert s["share_near_1"] == 0.75
    assert s["level"] == "good" and s["verdict"].startswith("close to 1")
    assert grad_norm_summary([1.2, 1.25])["level"] == "acceptable"
    assert grad_norm_summary([1.2, 1.25])["verdict"].startswith("acceptable")
    high, low = grad_norm_summary([2.0, 3.0]), grad_norm_summary([0.01, 0.02])
    assert high["level"] == low["level"] == "poor"
    assert high["verdict"].startswith("far from 1 (above)") and low["verdict"].startswith("far from 1 (below)")
    with pytest.raises(ValueError):
        grad_norm_summary([])
