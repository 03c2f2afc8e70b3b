r"""The push a generator gets, from an optimal GAN discriminator and from an optimal WGAN critic (1D).

Real data :math:`N(\mu_r, s^2)`, generated :math:`N(\mu_f, s^2)`. Against the
optimal discriminator :math:`D^* = p / (p + q)` a generated point at :math:`x` is
pushed by :math:`\partial_x \log(1 - D^*(x))`, which vanishes as the two separate;
the optimal 1-Lipschitz critic has slope 1 wherever the two differ, so its push
stays 1 (Arjovsky, Chintala, Bottou 2017, Theorem 2 and Figure 2).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate
from scipy.special import expit

from wgan_core.lessons.theory import TAIL, check_loc, check_scale


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
    mu_real, mu_fake = check_loc(mu_real, "mu_real"), check_loc(mu_fake, "mu_fake")
    s = check_scale(s, "s")
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
    mu_real, mu_fake = check_loc(mu_real, "mu_real"), check_loc(mu_fake, "mu_fake")
    s = check_scale(s, "s")
    d = abs(mu_fake - mu_real) / s
    if d == 0.0:
        return 0.0

    def integrand(z: float) -> float:                          # sigma(-d^2/2 - d z) phi(z)
        return math.exp(-np.logaddexp(0.0, d * d / 2 + d * z) - z * z / 2) / math.sqrt(2 * math.pi)

    lo, hi = -d / 2 - TAIL, TAIL
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
    m = check_loc(mu_fake, "mu_fake") - check_loc(mu_real, "mu_real")
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
    check_scale(s, "s")
    m = check_loc(mu_fake, "mu_fake") - check_loc(mu_real, "mu_real")
    return 0.0 if m == 0.0 else 1.0


def push_ratio(m: float, s: float) -> float:
    """The GAN generator's mean push as a share of the WGAN generator's, for fake N(m, s^2) against real
    N(0, s^2); NaN at m = 0, where neither pushes."""
    w = wgan_push_1d(0.0, m, s)
    return math.nan if w == 0.0 else gan_push_1d(0.0, m, s) / w


def distance_for_ratio(level: float, s: float) -> float:
    """The distance m beyond which the GAN's push stays below ``level`` times the WGAN's (bisection on the
    falling side of `push_ratio`, which rises from 0 at m = 0, peaks, then falls towards 0)."""
    grid = np.linspace(0.05, 12.0, 240) * s
    ratios = np.array([push_ratio(m, s) for m in grid])
    lo = float(grid[int(np.argmax(ratios))])
    if push_ratio(lo, s) <= level:
        return lo
    hi = 40.0 * s
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if push_ratio(mid, s) > level else (lo, mid)
    return 0.5 * (lo + hi)


def push_story(m: float, s: float) -> str:
    """The sentence under the two-Gaussians figure, true of the sliders' values: what the discriminator
    believes, how strong the GAN's push is next to the WGAN's, and where it fades."""
    if m == 0.0:
        return ("With m = 0 the two distributions are the same: the best discriminator can only say D* = 1/2 "
                "everywhere and the best critic is flat, so **neither generator is pushed** (both pushes are 0): "
                "there is nothing left to learn.")
    r = push_ratio(m, s)
    d_fake = float(expit(-m * m / (2 * s * s)))
    five, one = distance_for_ratio(0.05, s), distance_for_ratio(0.01, s)
    if r >= 0.05:
        verdict = (f"the GAN's push is still **{r:.0%}** of the WGAN's: weakened, not yet vanished. It falls "
                   f"below 5 % once m > {five:.1f} and below 1 % once m > {one:.1f}")
    else:
        verdict = (f"the GAN's push is only **{r:.2%}** of the WGAN's: a **vanishing gradient** "
                   f"(below 5 % from m > {five:.1f}, below 1 % from m > {one:.1f})")
    return (f"With m = {m:g} and s = {s:g}, the generated points sit where D* ≈ {d_fake:.2g}, and {verdict}. "
            "The critic's slope stays 1, so a WGAN generator is pushed towards the data at full strength "
            "however far apart the two are.")
