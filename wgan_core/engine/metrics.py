r"""Metrics: exact W1 in 1D and 2D, mode coverage, and the critic's Lipschitz health.

Neighbours: `metrics_floor` (the sampling floor of the exact W1, per data
set) and `metrics_quality` (precision and recall of samples, for data without
modes).

Glossary
--------
W1
    The Wasserstein-1 (earth mover's) distance,

    .. math::
        W_1(\mu, \nu) = \inf_{\gamma \in \Pi(\mu, \nu)}
        \mathbb{E}_{(x, y) \sim \gamma} \lVert x - y \rVert_2 ,

    the least average distance mass must travel to turn :math:`\mu` into
    :math:`\nu`.
critic's W estimate
    :math:`\mathbb{E} f(\text{real}) - \mathbb{E} f(\text{fake})`; a lower bound
    on W1 only when :math:`f` is 1-Lipschitz (Kantorovich-Rubinstein duality).
    Divided by an *upper* bound on the critic's Lipschitz constant
    (`lipschitz_upper_bound`) it is a lower bound on W1 for any critic, but a
    loose one (the bound is often 20-40 for a trained critic).
c-transform bound
    `c_transform_bound`: the critic's values on the real points, completed by
    the c-transform into a feasible pair of the optimal-transport dual; a lower
    bound on the exact W1 of the two samples for *any* critic, no Lipschitz
    constant needed, and equal to it for an optimal critic.

The critic's Lipschitz figures live in `metrics_lipschitz` (re-exported here).
Definitions follow DESIGN.md, "Definitions used in tests and benchmarks".
"""
from __future__ import annotations

import warnings

import numpy as np
import ot
from numpy.typing import ArrayLike
from scipy.spatial.distance import cdist

from wgan_core.engine.metrics_lipschitz import (  # noqa: F401  (re-exported: callers use metrics.*)
    grad_norm_summary,
    lipschitz_corrected,
    lipschitz_upper_bound,
    lipschitz_upper_bounds,
)


# --------------------------------------------------------------------------- 1D W1
def _as_samples(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _as_weights(w: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    arr = np.asarray(w, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    total = arr.sum()
    if total <= 0:
        raise ValueError(f"{name} must have a positive sum")
    return arr / total


def _step_cdf(samples: np.ndarray, weights: np.ndarray, at: np.ndarray) -> np.ndarray:
    r"""Right-continuous empirical CDF :math:`F(t) = \sum_i w_i 1[x_i \le t]` evaluated at ``at``."""
    order = np.argsort(samples, kind="mergesort")
    cum = np.concatenate([[0.0], np.cumsum(weights[order])])
    return cum[np.searchsorted(samples[order], at, side="right")]


def w1_1d(
    u: ArrayLike,
    v: ArrayLike,
    u_weights: ArrayLike | None = None,
    v_weights: ArrayLike | None = None,
) -> float:
    r"""W1 between two weighted 1D samples: the area between their CDFs.

    .. math::
        W_1(u, v) = \int_{-\infty}^{\infty} \lvert F_u(t) - F_v(t) \rvert \, dt
                  = \sum_{k} \lvert F_u(t_k) - F_v(t_k) \rvert \, (t_{k+1} - t_k)

    where :math:`t_1 \le \dots \le t_{n+m}` are all samples merged and sorted:
    both empirical CDFs are constant between consecutive :math:`t_k`, so the
    integral is an exact finite sum. Agrees with
    ``scipy.stats.wasserstein_distance``.

    Parameters
    ----------
    u : (n,) array-like
        Samples of the first distribution.
    v : (m,) array-like
        Samples of the second distribution.
    u_weights : (n,) array-like, optional
        Non-negative weights of ``u`` (normalised here); uniform when omitted.
    v_weights : (m,) array-like, optional
        Non-negative weights of ``v``; uniform when omitted.

    Returns
    -------
    float
        The W1 distance.
    """
    u_arr, v_arr = _as_samples(u, "u"), _as_samples(v, "v")
    uw = _as_weights(u_weights, u_arr.size, "u_weights")
    vw = _as_weights(v_weights, v_arr.size, "v_weights")
    t = np.sort(np.concatenate([u_arr, v_arr]))                  # (n + m,)
    gaps = np.diff(t)                                            # (n + m - 1,)
    left = t[:-1]
    diff = np.abs(_step_cdf(u_arr, uw, left) - _step_cdf(v_arr, vw, left))
    return float(np.sum(diff * gaps))


# --------------------------------------------------------------------------- 2D W1
def _as_cloud(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array of shape (n, d), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def euclidean_cost(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""The (n, m) matrix :math:`d_{ij} = \lVert x_i - y_j \rVert_2` in float64 (scipy's ``cdist``).

    Computed from the differences, so ``euclidean_cost(y, x)`` is exactly its
    transpose and near points keep their digits; ``ot.dist(metric="euclidean")``
    expands :math:`|x|^2 + |y|^2 - 2 x \cdot y`, which loses up to ~1e-8 near 0.
    `exact_w1` and `c_transform_bound` share it, so the bound is compared with
    the W1 of the very same cost matrix.
    """
    return cdist(x, y)


def exact_w1(x: ArrayLike, y: ArrayLike, max_iter: int = 1_000_000) -> float:
    r"""Exact W1 between two equal-size point clouds with Euclidean ground cost.

    With uniform weights :math:`a = b = \mathbf{1}/n` the optimal transport
    problem

    .. math::
        W_1 = \min_{\gamma \ge 0,\ \gamma \mathbf{1} = a,\ \gamma^\top \mathbf{1} = b}
              \sum_{i,j} \gamma_{ij} \lVert x_i - y_j \rVert_2

    has a permutation matrix (divided by n) among its solutions, so this is the
    mean cost of the optimal one-to-one assignment. Solved by POT's network
    simplex (``ot.emd2``) on the Euclidean cost matrix (`euclidean_cost`);
    POT's default ``ot.dist`` metric is the *squared* distance, which would
    give W2 squared.

    Parameters
    ----------
    x : (n, d) array-like
        First cloud.
    y : (n, d) array-like
        Second cloud, same shape as ``x``.
    max_iter : int
        Iteration cap of the network simplex (POT's ``numItermax``).

    Returns
    -------
    float
        The exact W1 between the two empirical distributions.

    Raises
    ------
    ValueError
        If the clouds are not 2-D, differ in shape, or hold non-finite values.
    RuntimeError
        If the solver stops before reaching the optimum (raise ``max_iter``).
    """
    xa, ya = _as_cloud(x, "x"), _as_cloud(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same shape (equal sizes), got {xa.shape} and {ya.shape}")
    n = xa.shape[0]
    a = np.full(n, 1.0 / n)
    cost = euclidean_cost(xa, ya)                                # (n, n)
    with warnings.catch_warnings():                              # we raise our own error below
        warnings.filterwarnings("ignore", message="numItermax reached", category=UserWarning)
        value, log = ot.emd2(a, a, cost, numItermax=int(max_iter), log=True)
    if log.get("result_code") != 1:
        raise RuntimeError(f"ot.emd2 did not reach the optimum ({log.get('warning')}); raise max_iter")
    return float(value)


def c_transform_bound(f_real: ArrayLike, f_fake: ArrayLike, real: ArrayLike, fake: ArrayLike) -> float:
    r"""A lower bound on the exact W1 between two point clouds from *any* critic: its c-transform.

    Kantorovich-Rubinstein duality in its discrete form: for the empirical
    measures of real points :math:`x_1..x_n` and generated points
    :math:`y_1..y_m` (uniform weights) and the Euclidean cost
    :math:`d_{ij} = \lVert x_i - y_j \rVert_2`,

    .. math::
        W_1 = \max_{\varphi, \psi} \; \frac{1}{n} \sum_i \varphi_i - \frac{1}{m} \sum_j \psi_j
        \quad \text{subject to} \quad \varphi_i - \psi_j \le d_{ij} \ \ \forall i, j ,

    and any *feasible* pair gives a lower bound (weak duality: for any
    transport plan :math:`\gamma`, :math:`\sum_{ij} \gamma_{ij} d_{ij} \ge
    \sum_{ij} \gamma_{ij} (\varphi_i - \psi_j) = \bar\varphi - \bar\psi`).
    The critic's own values :math:`(f(x_i), f(y_j))` are feasible only when
    :math:`f` is 1-Lipschitz; the c-transform makes any values feasible:

    .. math::
        \psi_j = \max_i \, \bigl(f(x_i) - d_{ij}\bigr), \qquad
        \varphi'_i = \min_j \, \bigl(\psi_j + d_{ij}\bigr) \ \ge f(x_i) ,

    the smallest :math:`\psi` that :math:`\varphi = f(x)` allows, then the
    largest :math:`\varphi'` that this :math:`\psi` allows (both steps keep
    :math:`\varphi'_i - \psi_j \le d_{ij}`). The same from the generated side,
    :math:`\varphi_i = \min_j (f(y_j) + d_{ij})`, :math:`\psi'_j = \max_i
    (\varphi_i - d_{ij})`, gives a second feasible pair; the bound is the
    larger of the two dual values,

    .. math::
        B = \max\bigl(\bar\varphi' - \bar\psi, \ \bar\varphi - \bar\psi'\bigr) \le W_1 .

    Facts (tested against POT): :math:`B \le` ``exact_w1(real, fake)`` for
    any values of ``f`` (no Lipschitz assumption; NaN-free); :math:`B = W_1`
    when :math:`f` is an optimal dual potential (for a 1-Lipschitz :math:`f`,
    :math:`B \ge \bar f(x) - \bar f(y)`, its plain estimate); :math:`B` does not
    change when a constant is added to :math:`f`. It bounds the W1 *of these
    two samples* (what `exact_w1` measures on them), not of the distributions
    they are drawn from. Cost: one (n, m) distance matrix and four reductions
    over it, about 2 ms for 400 x 400.

    Parameters
    ----------
    f_real : (n,) array-like
        Critic values at the real points.
    f_fake : (m,) array-like
        Critic values at the generated points.
    real : (n, d) array-like
        Real points.
    fake : (m, d) array-like
        Generated points.

    Returns
    -------
    float
        :math:`B`, at most the exact W1 between the two clouds.
    """
    x, y = _as_cloud(real, "real"), _as_cloud(fake, "fake")
    fx, fy = _as_samples(f_real, "f_real"), _as_samples(f_fake, "f_fake")
    if x.shape[1] != y.shape[1] or fx.shape != x.shape[:1] or fy.shape != y.shape[:1]:
        raise ValueError(f"need f_real (n,), f_fake (m,), real (n, d), fake (m, d); got {fx.shape}, "
                         f"{fy.shape}, {x.shape}, {y.shape}")
    c = fx.mean()                                                          # B ignores a constant: keep values small
    fx, fy = fx - c, fy - c
    d = euclidean_cost(x, y)                                               # (n, m), as exact_w1's cost
    psi = (fx[:, None] - d).max(0)                                         # (m,) c-transform of f(x)
    phi = (psi[None, :] + d).min(1)                                        # (n,) its closure, >= f(x)
    phi2 = (fy[None, :] + d).min(1)                                        # (n,) from the generated side
    psi2 = (phi2[:, None] - d).max(0)                                      # (m,) <= f(y)
    return float(max(phi.mean() - psi.mean(), phi2.mean() - psi2.mean()))


# --------------------------------------------------------------------------- modes
def mode_stats(
    samples: ArrayLike,
    centers: ArrayLike,
    std: float,
    n_std: float = 3.0,
    min_share: float = 0.01,
) -> dict:
    r"""Mode coverage and sample quality of generated samples from a Gaussian mixture.

    A sample :math:`x` is *high quality* when it lies within ``n_std`` standard
    deviations of its nearest centre,

    .. math::
        \min_k \lVert x - c_k \rVert_2 \le 3 \sigma ,

    mode :math:`k` is *covered* when at least ``min_share`` (1 %) of all
    samples are high-quality samples whose nearest centre is :math:`c_k`, and
    *visited* when at least ``min_share`` of all samples have :math:`c_k` as
    their nearest centre, near it or not. A collapsed generator shows "visited
    2/8, covered 0/8": its mass heads for two modes but misses their tight cores.

    Parameters
    ----------
    samples : (n, d) array-like
        Generated samples.
    centers : (K, d) array-like
        Mode centres.
    std : float
        Per-coordinate standard deviation of each mode, > 0.
    n_std : float
        Quality radius in units of ``std`` (3 in DESIGN.md).
    min_share : float
        Share of all samples a mode needs to count as covered (0.01 in DESIGN.md).

    Returns
    -------
    dict
        ``modes_covered`` (int), ``modes_visited`` (int, >= ``modes_covered``),
        ``modes_total`` (int), ``hq_fraction`` (float, share of high-quality
        samples), ``per_mode`` ((K,) int array of high-quality counts per
        centre), ``visits`` ((K,) int array of samples per nearest centre).
    """
    x, c = _as_cloud(samples, "samples"), _as_cloud(centers, "centers")
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]} but centers have {c.shape[1]}")
    if not (np.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive finite number, got {std}")
    dist = cdist(x, c)                                             # (n, K)
    nearest = np.argmin(dist, axis=1)                              # (n,)
    hq = dist[np.arange(x.shape[0]), nearest] <= n_std * std      # (n,)
    per_mode = np.bincount(nearest[hq], minlength=c.shape[0])      # (K,)
    visits = np.bincount(nearest, minlength=c.shape[0])            # (K,)
    return {
        "modes_covered": int(np.sum(per_mode >= min_share * x.shape[0])),
        "modes_visited": int(np.sum(visits >= min_share * x.shape[0])),
        "modes_total": int(c.shape[0]),
        "hq_fraction": float(np.mean(hq)),
        "per_mode": per_mode,
        "visits": visits,
    }


