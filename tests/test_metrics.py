"""wgan_core.metrics against scipy, brute-force assignment and hand-made cases."""
from __future__ import annotations

import numpy as np
import ot
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from wgan_core.engine.metrics import (
    c_transform_bound,
    exact_w1,
    grad_norm_summary,
    lipschitz_corrected,
    mode_stats,
    w1_1d,
)

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


def test_modes_visited_ignores_the_quality_radius():
    # a collapsed generator: half its samples 1.6 below mode (0, 0), half 1.6 above mode (3, 3), all just
    # beyond the quality radius (3 std = 1.5): it visits 2 modes and covers none.
    a = np.tile([0.0, -1.6], (500, 1))                     # nearest (0, 0), 3.2 std away
    b = np.tile([3.0, 4.6], (500, 1))                      # nearest (3, 3), 3.2 std away
    stats = mode_stats(np.vstack([a, b]), SEED3_CENTERS, std=0.5)
    assert (stats["modes_visited"], stats["modes_covered"], stats["modes_total"]) == (2, 0, 3)
    assert stats["visits"].tolist() == [500, 500, 0] and stats["hq_fraction"] == 0.0


def test_modes_visited_uses_the_one_percent_threshold_and_bounds_covered():
    # 1000 samples, nearest-centre counts 981 / 10 / 9: visited 2 (10 is 1 %, 9 is not).
    samples = np.vstack([np.zeros((981, 2)), np.tile([3.0, 6.0], (10, 1)), np.tile([-2.0, 3.0], (9, 1))])
    stats = mode_stats(samples, SEED3_CENTERS, std=0.5)
    assert stats["visits"].tolist() == [981, 10, 9]
    assert stats["modes_visited"] == 2 and stats["modes_covered"] == 1   # (3, 6) is 6 std from (3, 3)
    rng = np.random.default_rng(0)
    for _ in range(20):                                    # against a brute-force nearest centre
        x = rng.normal(size=(300, 2)) * rng.uniform(0.2, 4) + rng.uniform(-2, 3, size=2)
        s = mode_stats(x, SEED3_CENTERS, std=0.5)
        visits = np.bincount(np.argmin(cdist(x, SEED3_CENTERS), 1), minlength=3)
        assert s["visits"].tolist() == visits.tolist()
        assert s["modes_visited"] == int(np.sum(visits >= 3))
        assert s["modes_covered"] <= s["modes_visited"] <= s["modes_total"]


def test_mode_stats_rejects_bad_input():
    with pytest.raises(ValueError, match="dimension"):
        mode_stats(np.zeros((4, 3)), SEED3_CENTERS, std=0.5)
    with pytest.raises(ValueError, match="std"):
        mode_stats(np.zeros((4, 2)), SEED3_CENTERS, std=0.0)


# --------------------------------------------------------------------------- c-transform bound
def _pot_w1(x: np.ndarray, y: np.ndarray) -> float:
    """POT's exact W1 with Euclidean cost, uniform weights, any sizes."""
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    return float(ot.emd2(a, b, ot.dist(x, y, metric="euclidean"), numItermax=10**7))


def _critic(rng, kind: str):
    """A random 'critic' f: R^2 -> R: noise, a steep MLP-like bump sum, or a 1-Lipschitz distance."""
    if kind == "noise":
        return lambda p: rng.normal(size=len(p)) * rng.uniform(0.1, 10)
    if kind == "steep":
        w, c = rng.normal(size=(5, 2)) * 10, rng.normal(size=5) * 3
        return lambda p: np.tanh(p @ w.T + c).sum(1) * rng.uniform(1, 30)
    a = rng.normal(size=2)
    return lambda p: -np.linalg.norm(p - a, axis=1)                     # 1-Lipschitz


@pytest.mark.parametrize("seed", range(8))
def test_c_transform_bound_never_exceeds_pot(seed):
    """Random clouds (equal and unequal sizes, overlapping or apart) and random critics, steep ones too."""
    rng = np.random.default_rng(seed)
    for kind in ("noise", "steep", "lipschitz"):
        n, m = (60, 60) if seed % 2 else (rng.integers(5, 90), rng.integers(5, 90))
        x = rng.normal(size=(n, 2)) * rng.uniform(0.2, 3)
        y = rng.normal(size=(m, 2)) * rng.uniform(0.2, 3) + rng.uniform(-3, 3, size=2)
        f = _critic(rng, kind)
        fx, fy = f(x), f(y)
        w1 = _pot_w1(x, y)
        b = c_transform_bound(fx, fy, x, y)
        assert b <= w1 + 1e-9, (kind, b, w1)
        if n == m:
            assert b <= exact_w1(x, y) + 1e-9
        if kind == "lipschitz":                                          # then at least the plain estimate
            assert b >= fx.mean() - fy.mean() - 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_c_transform_bound_equals_w1_for_pots_optimal_potentials(seed):
    rng = np.random.default_rng(10 + seed)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(70, 2)) + [1.5, 0]
    a, b = np.full(50, 1 / 50), np.full(70, 1 / 70)
    _, log = ot.emd(a, b, ot.dist(x, y, metric="euclidean"), log=True)
    assert log["result_code"] == 1
    w1 = float(log["cost"])                                              # = a.u + b.v, u_i + v_j <= d_ij
    assert c_transform_bound(log["u"], -log["v"], x, y) == pytest.approx(w1, rel=1e-9)
    assert c_transform_bound(log["u"], rng.normal(size=70), x, y) == pytest.approx(w1, rel=1e-9)   # phi alone
    assert c_transform_bound(rng.normal(size=50) * 50, -log["v"], x, y) == pytest.approx(w1, rel=1e-9)


def test_c_transform_bound_exact_in_1d_and_blind_to_a_constant():
    rng = np.random.default_rng(3)
    x = np.c_[rng.uniform(5, 6, 40), np.zeros(40)]                       # real to the right of fake, on a line
    y = np.c_[rng.uniform(0, 1, 40), np.zeros(40)]
    f = lambda p: p[:, 0]                                               # optimal: W1 = mean(x) - mean(y)
    w1 = x[:, 0].mean() - y[:, 0].mean()
    assert exact_w1(x, y) == pytest.approx(w1, rel=1e-12)
    assert c_transform_bound(f(x), f(y), x, y) == pytest.approx(w1, rel=1e-12)
    assert c_transform_bound(3 * f(x), 3 * f(y), x, y) == pytest.approx(w1, rel=1e-12)   # steep: still <= W1
    xs, ys = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + 1
    fx, fy = rng.normal(size=30) * 4, rng.normal(size=30) * 4
    ref = c_transform_bound(fx, fy, xs, ys)
    for c in (-1e3, 0.37, 1e4):
        assert c_transform_bound(fx + c, fy + c, xs, ys) == pytest.approx(ref, abs=1e-9)


def test_c_transform_bound_rejects_bad_input():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="f_real"):
        c_transform_bound(np.zeros(4), np.zeros(5), x, x)
    with pytest.raises(ValueError, match="NaN"):
        c_transform_bound(np.full(5, np.nan), np.zeros(5), x, x)
    with pytest.raises(ValueError, match="NaN"):
        c_transform_bound(np.zeros(5), np.zeros(5), x, np.full((5, 2), np.inf))
    with pytest.raises(ValueError, match="f_real"):
        c_transform_bound(np.zeros(5), np.zeros(5), x, np.zeros((5, 3)))


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
