r"""Closed forms behind the lessons: why the JS divergence starves a GAN and W1 does not.

Contents
--------
- :func:`w1_gaussians_1d`: exact W1 between two 1D Gaussians.
- :func:`parallel_lines`, :func:`parallel_lines_numeric`: the WGAN paper's
  Example 1 (JS, KL, TV and W1 between two parallel segments), in closed form
  and by an independent discretised computation.
- the push a generator feels from an optimal discriminator and from an optimal
  critic is in `wgan_core.lessons.push1d`.
- :func:`js_gaussians_1d`: JS divergence between two 1D Gaussians by quadrature.

Logarithms are natural, so the JS divergence saturates at :math:`\log 2`.

References
----------
Arjovsky, Chintala, Bottou (2017), *Wasserstein GAN*, Example 1 and Theorem 2.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate
from scipy.special import logsumexp
from scipy.stats import norm

from wgan_core.engine.metrics import exact_w1

# Gaussian tails beyond this many standard deviations are dropped from quadratures
# (their mass is below 1e-32).
TAIL = 12.0


def check_scale(s: float, name: str, allow_zero: bool = False) -> float:
    s = float(s)
    if not math.isfinite(s) or s < 0 or (s == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {s}")
    return s


def check_loc(m: float, name: str) -> float:
    m = float(m)
    if not math.isfinite(m):
        raise ValueError(f"{name} must be finite, got {m}")
    return m


# --------------------------------------------------------------------------- W1 of Gaussians
def w1_gaussians_1d(mu1: float, s1: float, mu2: float, s2: float) -> float:
    r"""Exact W1 between :math:`N(\mu_1, s_1^2)` and :math:`N(\mu_2, s_2^2)`.

    In 1D the monotone (quantile) coupling :math:`X_i = \mu_i + s_i Z` is
    optimal, so with :math:`a = \mu_1 - \mu_2`, :math:`b = s_1 - s_2` and
    :math:`Z \sim N(0, 1)`, W1 is the mean of a folded normal:

    .. math::
        W_1 = \mathbb{E} \lvert a + b Z \rvert
            = \lvert b \rvert \sqrt{2/\pi}\, e^{-a^2 / (2 b^2)}
              + a \left(1 - 2 \Phi(-a / \lvert b \rvert)\right),
        \qquad W_1 = \lvert a \rvert \text{ when } b = 0 .

    Parameters
    ----------
    mu1, mu2 : float
        Means.
    s1, s2 : float
        Standard deviations, >= 0 (0 is a point mass).

    Returns
    -------
    float
        The W1 distance.
    """
    a = check_loc(mu1, "mu1") - check_loc(mu2, "mu2")
    b = abs(check_scale(s1, "s1", allow_zero=True) - check_scale(s2, "s2", allow_zero=True))
    if b == 0.0:
        return abs(a)
    return float(b * math.sqrt(2.0 / math.pi) * math.exp(-a * a / (2.0 * b * b))
                 + a * (1.0 - 2.0 * norm.cdf(-a / b)))


# --------------------------------------------------------------------------- parallel lines
def parallel_lines(theta: ArrayLike) -> dict:
    r"""Divergences between two parallel segments (WGAN paper, Example 1).

    :math:`P_0` is the law of :math:`(0, Z)` and :math:`P_\theta` that of
    :math:`(\theta, Z)`, :math:`Z \sim U[0, 1]`. For :math:`\theta \ne 0` the
    supports are disjoint, so every divergence that compares densities
    point by point is stuck at its maximum, while W1 sees the distance:

    .. math::
        JS = \log 2, \quad KL = +\infty, \quad TV = 1, \quad W_1 = \lvert \theta \rvert ,

    and all four are 0 at :math:`\theta = 0`. Only W1 is continuous in
    :math:`\theta`, so only W1 gives a gradient that points :math:`\theta`
    towards 0.

    Parameters
    ----------
    theta : float or (k,) array-like
        Horizontal offsets.

    Returns
    -------
    dict
        ``js``, ``kl``, ``tv``, ``w1``: floats for a scalar ``theta``, else
        arrays shaped like ``theta``.
    """
    t = np.asarray(theta, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("theta must be finite")
    apart = t != 0
    out = {
        "js": np.where(apart, math.log(2.0), 0.0),
        "kl": np.where(apart, np.inf, 0.0),
        "tv": np.where(apart, 1.0, 0.0),
        "w1": np.abs(t),
    }
    if t.ndim == 0:
        return {k: float(v) for k, v in out.items()}
    return out


def _segment_masses(x0: float, x_edges: np.ndarray, y_edges: np.ndarray) -> np.ndarray:
    """Cell masses of the law of :math:`(x_0, U[0,1])` on a grid: (nx, ny), sums to 1."""
    col = np.zeros(x_edges.size - 1)
    i = np.searchsorted(x_edges, x0, side="right") - 1
    if not 0 <= i < col.size:
        raise ValueError(f"x0 = {x0} lies outside the grid")
    col[i] = 1.0
    row = np.clip(np.minimum(y_edges[1:], 1.0) - np.maximum(y_edges[:-1], 0.0), 0.0, None)  # (ny,)
    return np.outer(col, row)


def _divergences(p: np.ndarray, q: np.ndarray) -> dict:
    """JS, KL(p || q) and TV between two discrete distributions of the same shape."""
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        on = a > 0
        if np.any(b[on] == 0):
            return math.inf
        return float(np.sum(a[on] * np.log(a[on] / b[on])))

    return {"js": 0.5 * kl(p, m) + 0.5 * kl(q, m), "kl": kl(p, q), "tv": 0.5 * float(np.abs(p - q).sum())}


def parallel_lines_numeric(theta: float, n: int = 500, cell: float = 0.01, seed: int = 0) -> dict:
    r"""Example 1 computed independently of the closed forms, for checking them.

    JS, KL and TV are computed between the two segments discretised on a grid of
    square cells of side ``cell`` (the mass of each cell, i.e. an exact
    histogram); the x grid is centred on 0, so offsets smaller than
    ``cell / 2`` are not resolved. W1 is the exact optimal transport cost
    (:func:`wgan_core.metrics.exact_w1`) between ``n`` samples of each
    segment, which exceeds :math:`\lvert \theta \rvert` by a sampling error of
    order :math:`1/\sqrt{n}` (the two samples' heights differ).

    Parameters
    ----------
    theta : float
        Horizontal offset.
    n : int
        Samples per segment for W1.
    cell : float
        Grid cell side for JS, KL and TV.
    seed : int
        Seed of the samples.

    Returns
    -------
    dict
        ``js``, ``kl``, ``tv``, ``w1`` (floats).
    """
    theta = check_loc(theta, "theta")
    if n < 1 or not cell > 0:
        raise ValueError(f"need n >= 1 and cell > 0, got n={n}, cell={cell}")
    half = math.ceil((abs(theta) + 1.0) / cell)
    x_edges = (np.arange(-half, half + 2) - 0.5) * cell          # 0 at a cell centre
    y_edges = np.linspace(0.0, 1.0, round(1.0 / cell) + 1)
    out = _divergences(_segment_masses(0.0, x_edges, y_edges), _segment_masses(theta, x_edges, y_edges))
    rng = np.random.default_rng(seed)
    p0 = np.column_stack([np.zeros(n), rng.uniform(size=n)])      # (n, 2)
    pt = np.column_stack([np.full(n, theta), rng.uniform(size=n)])  # (n, 2)
    out["w1"] = exact_w1(p0, pt)
    return out


# --------------------------------------------------------------------------- JS of Gaussians
def js_gaussians_1d(mu1: float, s1: float, mu2: float, s2: float) -> float:
    r"""Jensen-Shannon divergence between :math:`N(\mu_1, s_1^2)` and :math:`N(\mu_2, s_2^2)`.

    .. math::
        JS(p, q) = \tfrac12 KL(p \,\|\, m) + \tfrac12 KL(q \,\|\, m),
        \qquad m = \tfrac12 (p + q),

    in nats, between 0 (equal) and :math:`\log 2` (disjoint). Computed by
    adaptive quadrature of
    :math:`\tfrac12 [p \log(p/m) + q \log(q/m)]` in log space over
    :math:`\pm 12` standard deviations around both means.

    Parameters
    ----------
    mu1, mu2 : float
        Means.
    s1, s2 : float
        Standard deviations, > 0.

    Returns
    -------
    float
        The JS divergence.
    """
    mu1, mu2 = check_loc(mu1, "mu1"), check_loc(mu2, "mu2")
    s1, s2 = check_scale(s1, "s1"), check_scale(s2, "s2")

    def integrand(x: float) -> float:
        lp, lq = norm.logpdf(x, mu1, s1), norm.logpdf(x, mu2, s2)
        lm = logsumexp([lp, lq]) - math.log(2.0)
        return 0.5 * (math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm))

    lo = min(mu1 - TAIL * s1, mu2 - TAIL * s2)
    hi = max(mu1 + TAIL * s1, mu2 + TAIL * s2)
    points = sorted({mu1, mu2, 0.5 * (mu1 + mu2)})
    value, _ = integrate.quad(integrand, lo, hi, points=points, epsabs=1e-12, limit=500)
    return float(min(max(value, 0.0), math.log(2.0)))
