r"""Closed forms behind the lessons: why the JS divergence starves a GAN and W1 does not.

Contents
--------
- :func:`w1_gaussians_1d`: exact W1 between two 1D Gaussians.
- :func:`parallel_lines`, :func:`parallel_lines_numeric`: the WGAN paper's
  Example 1 (JS, KL, TV and W1 between two parallel segments), in closed form
  and by an independent discretised computation.
- :func:`optimal_discriminator`, :func:`gan_generator_grad_1d`,
  :func:`gan_push_1d`, :func:`optimal_critic_1d`, :func:`wgan_push_1d`: the
  gradient a generator feels from an optimal discriminator (vanishes as the
  distributions separate) and from an optimal critic (stays 1).
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
from scipy.special import expit, logsumexp
from scipy.stats import norm

from wgan_core.engine.metrics import exact_w1

# Gaussian tails beyond this many standard deviations are dropped from quadratures
# (their mass is below 1e-32).
_TAIL = 12.0


def _check_scale(s: float, name: str, allow_zero: bool = False) -> float:
    s = float(s)
    if not math.isfinite(s) or s < 0 or (s == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {s}")
    return s


def _check_loc(m: float, name: str) -> float:
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
    a = _check_loc(mu1, "mu1") - _check_loc(mu2, "mu2")
    b = abs(_check_scale(s1, "s1", allow_zero=True) - _check_scale(s2, "s2", allow_zero=True))
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
    theta = _check_loc(theta, "theta")
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


# --------------------------------------------------------------------------- discriminator vs critic
def optimal_discriminator(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""The optimal GAN discriminator for real density ``p`` and fake density ``q``.

    .. math::
        D^*(x) = \frac{p(x)}{p(x) + q(x)} ,

    with :math:`0/0` (neither distribution there) read as :math:`1/2`.

    Parameters
    ----------
    p, q : (k,) array-like
        Density values at the same points, >= 0.

    Returns
    -------
    (k,) ndarray
        :math:`D^*` at those points, in [0, 1].
    """
    p_arr, q_arr = np.broadcast_arrays(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64))
    if np.any(p_arr < 0) or np.any(q_arr < 0) or not np.all(np.isfinite(p_arr + q_arr)):
        raise ValueError("densities must be finite and non-negative")
    total = p_arr + q_arr
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_arr / total, 0.5)


def _log_ratio(x: np.ndarray, mu_real: float, mu_fake: float, s: float) -> np.ndarray:
    r""":math:`\log p(x) - \log q(x)` for :math:`p = N(\mu_r, s^2)`, :math:`q = N(\mu_f, s^2)`."""
    return ((x - mu_fake) ** 2 - (x - mu_real) ** 2) / (2.0 * s * s)


def gan_generator_grad_1d(mu_real: float, mu_fake: float, s: float, x: ArrayLike) -> np.ndarray:
    r"""Size of the push an optimal discriminator gives a generated sample at ``x``.

    Real data :math:`p = N(\mu_r, s^2)`, fake :math:`q = N(\mu_f, s^2)`, the
    discriminator at its optimum :math:`D^* = p / (p + q)`, and the generator
    minimising :math:`\mathbb{E}_q \log(1 - D^*(x))`. From
    :math:`\log(1 - D^*) = \log q - \log(p + q)`,

    .. math::
        \frac{d}{dx} \log(1 - D^*(x))
        = \frac{q'}{q} - \frac{p' + q'}{p + q}
        = D^*(x) \left(\frac{q'}{q} - \frac{p'}{p}\right)
        = D^*(x) \, \frac{\mu_f - \mu_r}{s^2} ,

    since :math:`p'/p = -(x - \mu_r)/s^2` and :math:`q'/q = -(x - \mu_f)/s^2`.
    Where the fake samples sit, :math:`D^* \approx 0` once the two are apart:
    the discriminator is sure, and the generator's gradient vanishes.

    Parameters
    ----------
    mu_real, mu_fake : float
        Means of the real and fake Gaussians.
    s : float
        Their common standard deviation, > 0.
    x : (k,) array-like
        Points (typically fake samples).

    Returns
    -------
    (k,) ndarray
        :math:`\lvert d/dx \log(1 - D^*(x)) \rvert` at ``x``.
    """
    mu_real, mu_fake = _check_loc(mu_real, "mu_real"), _check_loc(mu_fake, "mu_fake")
    s = _check_scale(s, "s")
    d_star = expit(_log_ratio(np.asarray(x, dtype=np.float64), mu_real, mu_fake, s))
    return d_star * abs(mu_fake - mu_real) / (s * s)


def gan_push_1d(mu_real: float, mu_fake: float, s: float) -> float:
    r"""Mean push of the optimal discriminator over the fake samples.

    .. math::
        \mathbb{E}_{x \sim q} \left\lvert \frac{d}{dx} \log(1 - D^*(x)) \right\rvert
        = \frac{\lvert m \rvert}{s^2} \, \mathbb{E}_{Z} \,
          \sigma\!\left(-\tfrac{d^2}{2} - d Z\right),
        \qquad m = \mu_f - \mu_r,\ d = \lvert m \rvert / s ,

    with :math:`\sigma` the logistic function (:math:`D^*` at
    :math:`x = \mu_f + s Z`). It is 0 at :math:`m = 0`, peaks near
    :math:`d \approx 1.6`, then decays like :math:`\Phi(-d/2)`: about
    :math:`10^{-22}` at :math:`d = 20`. Computed by adaptive quadrature in
    :math:`Z` around the integrand's peak.

    Parameters
    ----------
    mu_real, mu_fake : float
        Means of the real and fake Gaussians.
    s : float
        Their common standard deviation, > 0.

    Returns
    -------
    float
        The mean push.
    """
    mu_real, mu_fake = _check_loc(mu_real, "mu_real"), _check_loc(mu_fake, "mu_fake")
    s = _check_scale(s, "s")
    d = abs(mu_fake - mu_real) / s
    if d == 0.0:
        return 0.0

    def integrand(z: float) -> float:                          # sigma(-d^2/2 - d z) phi(z)
        return math.exp(-np.logaddexp(0.0, d * d / 2 + d * z) - z * z / 2) / math.sqrt(2 * math.pi)

    lo, hi = -d / 2 - _TAIL, _TAIL
    value, _ = integrate.quad(integrand, lo, hi, points=[-d / 2, 0.0], epsabs=0.0, epsrel=1e-10, limit=200)
    return d / s * value


def optimal_critic_1d(x: ArrayLike, mu_real: float, mu_fake: float) -> np.ndarray:
    r"""An optimal 1-Lipschitz critic between two translated copies of a distribution.

    When the fake law is the real one shifted by :math:`m = \mu_f - \mu_r`,
    the optimal transport map is :math:`x \mapsto x - m` and

    .. math::
        f^*(x) = -\operatorname{sign}(m)\, x ,
        \qquad \mathbb{E}_p f^* - \mathbb{E}_q f^* = \lvert m \rvert = W_1 ,

    a straight line of slope 1 in magnitude (defined up to a constant; 0 when
    :math:`m = 0`).

    Parameters
    ----------
    x : (k,) array-like
        Points.
    mu_real, mu_fake : float
        Means of the real and fake laws.

    Returns
    -------
    (k,) ndarray
        :math:`f^*(x)`.
    """
    m = _check_loc(mu_fake, "mu_fake") - _check_loc(mu_real, "mu_real")
    return -np.sign(m) * np.asarray(x, dtype=np.float64)


def wgan_push_1d(mu_real: float, mu_fake: float, s: float) -> float:
    r"""Mean push of the optimal critic over the fake samples: :math:`\lvert f^{*\prime} \rvert`.

    The generator minimises :math:`-\mathbb{E}_q f^*(x)`, and
    :math:`\lvert f^{*\prime}(x) \rvert = 1` everywhere
    (:func:`optimal_critic_1d`), however far apart the Gaussians are. It is 0
    only at :math:`\mu_f = \mu_r`, where the best critic is a constant.

    Parameters
    ----------
    mu_real, mu_fake : float
        Means of the real and fake Gaussians.
    s : float
        Their common standard deviation, > 0 (the push does not depend on it).

    Returns
    -------
    float
        1.0, or 0.0 when the means coincide.
    """
    _check_scale(s, "s")
    m = _check_loc(mu_fake, "mu_fake") - _check_loc(mu_real, "mu_real")
    return 0.0 if m == 0.0 else 1.0


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
    mu1, mu2 = _check_loc(mu1, "mu1"), _check_loc(mu2, "mu2")
    s1, s2 = _check_scale(s1, "s1"), _check_scale(s2, "s2")

    def integrand(x: float) -> float:
        lp, lq = norm.logpdf(x, mu1, s1), norm.logpdf(x, mu2, s2)
        lm = logsumexp([lp, lq]) - math.log(2.0)
        return 0.5 * (math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm))

    lo = min(mu1 - _TAIL * s1, mu2 - _TAIL * s2)
    hi = max(mu1 + _TAIL * s1, mu2 + _TAIL * s2)
    points = sorted({mu1, mu2, 0.5 * (mu1 + mu2)})
    value, _ = integrate.quad(integrand, lo, hi, points=points, epsabs=1e-12, limit=500)
    return float(min(max(value, 0.0), math.log(2.0)))
