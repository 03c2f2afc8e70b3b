r"""1D distributions for the "Wasserstein in 1D" lesson, and W1 between them.

In 1D the Wasserstein-1 distance has two exact pictures:

.. math::
    W_1(p, q) = \int_{-\infty}^{\infty} \lvert F_p(x) - F_q(x) \rvert \, dx
              = \int_0^1 \lvert F_p^{-1}(u) - F_q^{-1}(u) \rvert \, du ,

the area between the CDFs, and the cost of the monotone transport plan that
sends the :math:`u`-quantile of :math:`p` to the :math:`u`-quantile of :math:`q`.

Every distribution here is a finite mixture of one base shape (normal or
uniform) moved and scaled, built by name from :data:`DISTS`::

    p = make_dist("gaussian", mu=0.0, sigma=1.0)
    q = make_dist("mixture", mu1=-2.0, mu2=2.0, w=0.3)
    w1_between(p, q)
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate
from scipy.special import ndtr, ndtri

from wgan_core.lessons.theory import w1_gaussians_1d

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TAIL = 12.0          # normal components: integrate over +-12 sd (mass outside < 1e-32)
_PLOT_TAIL = 4.0      # normal components: plotting range +-4 sd
_BISECT_STEPS = 200   # vectorised bisection for mixture quantiles (halves the bracket each step)


# The base shapes, standardised (z = (x - loc) / scale): name -> (pdf, cdf, ppf).
_BASES: dict[str, tuple[Callable, Callable, Callable]] = {
    "normal": (lambda z: np.exp(-0.5 * z * z) / _SQRT_2PI, ndtr, ndtri),
    "uniform": (lambda z: ((z >= 0) & (z <= 1)).astype(float), lambda z: np.clip(z, 0.0, 1.0),
                lambda u: u),
}


@dataclass(frozen=True)
class Dist1D:
    r"""A mixture :math:`\sum_k w_k \, B((x - \ell_k) / s_k) / s_k` of one base shape B.

    For ``base="normal"``, :math:`\ell_k` is a mean and :math:`s_k` a standard
    deviation; for ``base="uniform"``, component k is uniform on
    :math:`[\ell_k, \ell_k + s_k]` (scipy's loc/scale convention).
    """

    base: str                      # "normal" or "uniform"
    locs: tuple[float, ...]        # (K,) component locations
    scales: tuple[float, ...]      # (K,) component scales, > 0
    weights: tuple[float, ...]     # (K,) component weights, sum to 1
    name: str = ""                 # registry name, for display

    def __post_init__(self) -> None:
        if self.base not in _BASES:
            raise ValueError(f"base must be one of {sorted(_BASES)}, got {self.base!r}")
        k = len(self.locs)
        if k == 0 or len(self.scales) != k or len(self.weights) != k:
            raise ValueError("locs, scales and weights must be non-empty and of equal length")
        if not all(math.isfinite(v) for v in (*self.locs, *self.scales, *self.weights)):
            raise ValueError("locs, scales and weights must be finite")
        if min(self.scales) <= 0:
            raise ValueError(f"scales must be > 0, got {self.scales}")
        if min(self.weights) < 0 or abs(sum(self.weights) - 1.0) > 1e-9:
            raise ValueError(f"weights must be >= 0 and sum to 1, got {self.weights}")

    def pdf(self, x: ArrayLike) -> np.ndarray:
        r"""Density :math:`p(x) = \sum_k w_k \, b((x - \ell_k)/s_k) / s_k`, shaped like ``x``."""
        x = np.asarray(x, dtype=np.float64)
        pdf = _BASES[self.base][0]
        return sum(w * pdf((x - m) / s) / s for m, s, w in zip(self.locs, self.scales, self.weights, strict=True))

    def cdf(self, x: ArrayLike) -> np.ndarray:
        r"""Distribution function :math:`F(x) = \sum_k w_k \, B((x - \ell_k)/s_k)`, shaped like ``x``."""
        x = np.asarray(x, dtype=np.float64)
        cdf = _BASES[self.base][1]
        return sum(w * cdf((x - m) / s) for m, s, w in zip(self.locs, self.scales, self.weights, strict=True))

    def ppf(self, q: ArrayLike) -> np.ndarray:
        r"""Quantile function :math:`F^{-1}(q) = \inf\{x : F(x) \ge q\}`, shaped like ``q``.

        Closed form for one component; vectorised bisection on :math:`F` for
        mixtures (to machine precision).
        """
        q = np.asarray(q, dtype=np.float64)
        if np.any((q < 0) | (q > 1)) or not np.all(np.isfinite(q)):
            raise ValueError("quantile levels must lie in [0, 1]")
        if len(self.locs) == 1:
            return self.locs[0] + self.scales[0] * _BASES[self.base][2](q)
        lo, hi = self._bracket(_TAIL)
        a, b = np.full_like(q, lo), np.full_like(q, hi)
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (a + b)
            below = self.cdf(mid) < q
            a, b = np.where(below, mid, a), np.where(below, b, mid)
            if np.all(b - a <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(b))):
                break
        x = 0.5 * (a + b)
        if self.base == "normal":
            x = np.where(q == 0, -np.inf, np.where(q == 1, np.inf, x))
        return x

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws, (n,) float64, from ``rng``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        k = rng.choice(len(self.locs), size=n, p=np.asarray(self.weights))    # (n,) component ids
        locs, scales = np.asarray(self.locs)[k], np.asarray(self.scales)[k]
        z = rng.standard_normal(n) if self.base == "normal" else rng.uniform(size=n)
        return locs + scales * z

    def _bracket(self, tail: float) -> tuple[float, float]:
        locs, scales = np.asarray(self.locs), np.asarray(self.scales)
        if self.base == "normal":
            return float(np.min(locs - tail * scales)), float(np.max(locs + tail * scales))
        return float(np.min(locs)), float(np.max(locs + scales))

    def support(self) -> tuple[float, float]:
        """A plotting range (lo, hi): +-4 sd around normal components, the segment +-5 % for uniform."""
        lo, hi = self._bracket(_PLOT_TAIL)
        if self.base == "uniform":
            pad = 0.05 * (hi - lo)
            lo, hi = lo - pad, hi + pad
        return lo, hi


# --------------------------------------------------------------------------- registry
def gaussian(mu: float = 0.0, sigma: float = 1.0) -> Dist1D:
    r""":math:`N(\mu, \sigma^2)`."""
    return Dist1D("normal", (float(mu),), (float(sigma),), (1.0,), name="gaussian")


def mixture(mu1: float = -2.0, mu2: float = 2.0, sigma1: float = 0.5, sigma2: float = 0.5,
            w: float = 0.5) -> Dist1D:
    r""":math:`w \, N(\mu_1, \sigma_1^2) + (1 - w) \, N(\mu_2, \sigma_2^2)`, :math:`0 \le w \le 1`."""
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"mixture weight w must lie in [0, 1], got {w}")
    return Dist1D("normal", (float(mu1), float(mu2)), (float(sigma1), float(sigma2)),
                  (float(w), 1.0 - float(w)), name="mixture")


def uniform(lo: float = -1.0, hi: float = 1.0) -> Dist1D:
    r""":math:`U[\text{lo}, \text{hi}]`, lo < hi."""
    if not hi > lo:
        raise ValueError(f"uniform needs lo < hi, got lo={lo}, hi={hi}")
    return Dist1D("uniform", (float(lo),), (float(hi) - float(lo),), (1.0,), name="uniform")


DISTS: dict[str, Callable[..., Dist1D]] = {"gaussian": gaussian, "mixture": mixture, "uniform": uniform}


def make_dist(name: str, **params: float) -> Dist1D:
    """Build a distribution from :data:`DISTS` by name, e.g. ``make_dist("uniform", lo=0, hi=2)``."""
    if name not in DISTS:
        raise ValueError(f"unknown distribution {name!r}; choose one of {sorted(DISTS)}")
    return DISTS[name](**params)


# --------------------------------------------------------------------------- W1
def _joint_range(p: Dist1D, q: Dist1D, tail: float) -> tuple[float, float]:
    (a0, a1), (b0, b1) = p._bracket(tail), q._bracket(tail)
    return min(a0, b0), max(a1, b1)


def _breakpoints(d: Dist1D) -> list[float]:
    """Where :math:`F_d` bends: component centres (normal) or segment ends (uniform)."""
    if d.base == "normal":
        return list(d.locs)
    return [x for loc, s in zip(d.locs, d.scales, strict=True) for x in (loc, loc + s)]


def w1_between(p: Dist1D, q: Dist1D) -> float:
    r"""W1 as the area between the CDFs, by adaptive quadrature.

    .. math::
        W_1(p, q) = \int \lvert F_p(x) - F_q(x) \rvert \, dx ,

    over the joint range (+-12 sd for normal components, where the dropped
    tails weigh less than :math:`10^{-30}`), with the bends of both CDFs given
    to the integrator as break points. Accurate to about :math:`10^{-9}`.

    Parameters
    ----------
    p, q : Dist1D
        The two distributions.

    Returns
    -------
    float
        The W1 distance.
    """
    lo, hi = _joint_range(p, q, _TAIL)
    points = sorted({x for x in _breakpoints(p) + _breakpoints(q) if lo < x < hi})
    value, _ = integrate.quad(lambda x: abs(float(p.cdf(x) - q.cdf(x))), lo, hi,
                              points=points or None, epsabs=1e-11, epsrel=1e-10, limit=1000)
    return float(value)


def _uniform_w1(p: Dist1D, q: Dist1D) -> float:
    r""":math:`\mathbb{E} \lvert c + d U \rvert` for the quantile coupling of two uniforms.

    With :math:`X = \ell_p + s_p U`, :math:`Y = \ell_q + s_q U`, :math:`c = \ell_p - \ell_q`,
    :math:`d = s_p - s_q` and :math:`g(t) = t \lvert t \rvert / 2` (an antiderivative of
    :math:`\lvert t \rvert`): :math:`W_1 = (g(c + d) - g(c)) / d`, and :math:`\lvert c \rvert`
    when :math:`d = 0` (equal widths: a pure shift).
    """
    c, d = p.locs[0] - q.locs[0], p.scales[0] - q.scales[0]
    if d == 0.0:
        return abs(c)

    def g(t: float) -> float:
        return 0.5 * t * abs(t)

    return (g(c + d) - g(c)) / d


def closed_form_w1(p: Dist1D, q: Dist1D) -> float | None:
    r"""W1 in closed form where one is known, else None.

    - two Gaussians: :func:`wgan_core.theory.w1_gaussians_1d`;
    - two uniforms: the quantile coupling (a shift :math:`\lvert \Delta \rvert`
      for equal widths, see :func:`_uniform_w1` otherwise);
    - anything involving a proper mixture: None.
    """
    if len(p.locs) != 1 or len(q.locs) != 1 or p.base != q.base:
        return None
    if p.base == "normal":
        return w1_gaussians_1d(p.locs[0], p.scales[0], q.locs[0], q.scales[0])
    return _uniform_w1(p, q)


# --------------------------------------------------------------------------- pictures
def quantile_pairs(p: Dist1D, q: Dist1D, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The monotone transport plan, as ``k`` arrows from p's quantiles to q's.

    Levels :math:`u_i = (i + 1/2)/k`, :math:`i = 0, \dots, k-1`; the arrow
    :math:`F_p^{-1}(u_i) \to F_q^{-1}(u_i)` carries mass :math:`1/k`, so
    :math:`\frac1k \sum_i \lvert F_p^{-1}(u_i) - F_q^{-1}(u_i) \rvert \to W_1` as
    :math:`k \to \infty` (a midpoint rule for the quantile integral).

    Returns
    -------
    xs_p, xs_q : (k,) ndarray
        Arrow tails (in p) and heads (in q).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    levels = (np.arange(k) + 0.5) / k
    return p.ppf(levels), q.ppf(levels)
