r"""What the two 1D lessons draw: plain data for their pictures, and the dual-critic job.

*Why GANs fail* compares what a GAN and a WGAN see when the real law
:math:`p` and the generated law :math:`q` drift apart; *Wasserstein in 1D*
shows :math:`W_1` three ways:

.. math::
    W_1(p, q) = \int \lvert F_p - F_q \rvert \, dx
              = \int_0^1 \lvert F_p^{-1}(u) - F_q^{-1}(u) \rvert \, du
              = \sup_{\lVert f \rVert_L \le 1} \mathbb{E}_p f - \mathbb{E}_q f ,

the area between the CDFs, the cost of moving the earth quantile to quantile,
and the best gap of a 1-Lipschitz critic (Kantorovich-Rubinstein duality).

Everything here is pure: plain arrays or dicts of columns (their charts are
in :mod:`wgan_core.lesson_specs`). :func:`dual_trajectory` trains a small critic (torch)
and is run in a worker process as the job ``"dual1d"`` (see :mod:`wgan_core.jobs`);
nothing else here trains.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import expit
from scipy.stats import wasserstein_distance

from wgan_core.lessons import push1d, theory
from wgan_core.lessons.dist1d import Dist1D, make_dist, w1_between

KINDS = ("gaussian", "mixture", "uniform")
KL_CAP = 1.25          # KL is +inf off theta = 0: plotted clipped at this height, labelled "∞"


# --------------------------------------------------------------------------- distributions
def side(kind: str = "gaussian", mu: float = 0.0, sd: float = 1.0, mu2: float = 2.0, w: float = 0.5,
         width: float = 2.0) -> Dist1D:
    r"""One distribution from the page's sliders; each kind reads only its own parameters.

    - ``gaussian``: :math:`N(\mu, \text{sd}^2)`;
    - ``mixture``: :math:`w\, N(\mu, \text{sd}^2) + (1 - w)\, N(\mu_2, \text{sd}^2)`;
    - ``uniform``: :math:`U[\mu - \text{width}/2,\ \mu + \text{width}/2]` (centre :math:`\mu`).
    """
    if kind == "gaussian":
        return make_dist("gaussian", mu=mu, sigma=sd)
    if kind == "mixture":
        return make_dist("mixture", mu1=mu, mu2=mu2, sigma1=sd, sigma2=sd, w=w)
    if kind == "uniform":
        return make_dist("uniform", lo=mu - width / 2, hi=mu + width / 2)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def draw(p: Dist1D, q: Dist1D, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of each law from one generator seeded ``seed`` (p's first): (n,), (n,)."""
    rng = np.random.default_rng(seed)
    return p.sample(n, rng), q.sample(n, rng)


def plot_range(p: Dist1D, q: Dist1D, *samples: np.ndarray) -> tuple[float, float]:
    """A shared x range covering both laws' plotting ranges and any samples."""
    lo = min(p.support()[0], q.support()[0], *(s.min() for s in samples if s.size))
    hi = max(p.support()[1], q.support()[1], *(s.max() for s in samples if s.size))
    return float(lo), float(hi)


# --------------------------------------------------------------------------- Why GANs fail
def parallel_lines_curves(theta_max: float = 1.0, n: int = 201) -> dict:
    r"""JS, KL, TV and W1 of the parallel lines (:func:`wgan_core.theory.parallel_lines`) against theta.

    :math:`\theta = 0` itself is left out and ``side`` (0 left, 1 right) splits
    each curve there, so the jump to 0 at :math:`\theta = 0` is not drawn as a
    steep line; KL (:math:`+\infty`) is clipped at :data:`KL_CAP`.

    Returns
    -------
    dict
        Columns ``theta``, ``JS``, ``KL``, ``TV``, ``W1``, ``side``, each (n - 1,).
    """
    theta = np.linspace(-theta_max, theta_max, n)
    theta = theta[theta != 0.0]                                               # (k,)
    d = theory.parallel_lines(theta)
    return {"theta": theta, "JS": d["js"], "KL": np.minimum(d["kl"], KL_CAP), "TV": d["tv"], "W1": d["w1"],
            "side": (theta > 0).astype(np.int8)}


def gaussians_view(m: float, s: float, n: int = 400) -> dict:
    r"""Real :math:`p = N(0, s^2)` and fake :math:`q = N(m, s^2)`, and what each player sees.

    Columns over a grid ``x`` (n,): densities ``p``, ``q``; the optimal
    discriminator ``d_star`` :math:`= p/(p+q)`; ``gan`` :math:`= \lvert \partial_x
    \log(1 - D^*) \rvert` (the push a fake sample at x gets,
    :func:`wgan_core.push1d.gan_generator_grad_1d`); ``critic``
    :math:`= f^*(x)` (the optimal critic, slope 1 towards the real data).
    Scalars: ``js`` (nats), ``w1`` :math:`= \lvert m \rvert`, the mean pushes
    ``gan_push`` and ``wgan_push`` over the fake samples, ``d_at_fake``
    :math:`= D^*(m)`.
    """
    x = np.linspace(min(0.0, m) - 4 * s, max(0.0, m) + 4 * s, n)
    p, q = np.exp(-0.5 * (x / s) ** 2), np.exp(-0.5 * ((x - m) / s) ** 2)
    p, q = p / (s * np.sqrt(2 * np.pi)), q / (s * np.sqrt(2 * np.pi))
    return {"x": x, "p": p, "q": q, "d_star": push1d.optimal_discriminator(p, q),
            "gan": push1d.gan_generator_grad_1d(0.0, m, s, x), "critic": push1d.optimal_critic_1d(x, 0.0, m),
            "js": theory.js_gaussians_1d(0.0, s, m, s), "w1": theory.w1_gaussians_1d(0.0, s, m, s),
            "gan_push": push1d.gan_push_1d(0.0, m, s), "wgan_push": push1d.wgan_push_1d(0.0, m, s),
            "d_at_fake": float(expit(-m * m / (2 * s * s)))}                   # D*(m) = p(m) / (p(m) + q(m))


def push_vs_distance(s: float, m_max: float = 10.0, n: int = 101) -> dict:
    """Mean push of the optimal discriminator (GAN) and of the optimal critic (WGAN) as the gap m grows.

    Columns ``m`` (n,), ``gan`` (n,), ``wgan`` (n,), from :func:`wgan_core.push1d.gan_push_1d`
    and :func:`wgan_core.push1d.wgan_push_1d`.
    """
    m = np.linspace(0.0, m_max, n)
    return {"m": m, "gan": np.array([push1d.gan_push_1d(0.0, v, s) for v in m]),
            "wgan": np.array([push1d.wgan_push_1d(0.0, v, s) for v in m])}


# --------------------------------------------------------------------------- Wasserstein in 1D
def empirical_cdfs(xp: np.ndarray, xq: np.ndarray, max_points: int = 0) -> dict:
    r"""Both empirical CDFs at every sample point (right-continuous steps) and the area between them.

    With :math:`t_1 \le \dots \le t_{n+m}` the pooled samples,
    :math:`\text{area} = \sum_k \lvert \hat F_p(t_k) - \hat F_q(t_k) \rvert (t_{k+1} - t_k)`,
    which is what :func:`scipy.stats.wasserstein_distance` computes. With
    ``max_points`` > 0 the returned curves are thinned to about that many points
    for drawing (``area`` is always computed on all of them).

    Returns
    -------
    dict
        ``x``, ``Fp``, ``Fq`` (n+m,) or thinned (draw with step-after interpolation), ``area``.
    """
    t = np.sort(np.concatenate([xp, xq]))                                      # (n+m,)
    fp = np.searchsorted(np.sort(xp), t, side="right") / xp.size
    fq = np.searchsorted(np.sort(xq), t, side="right") / xq.size
    area = float(np.sum(np.abs(fp - fq)[:-1] * np.diff(t)))
    if max_points and t.size > max_points:                                    # thin for drawing, ends kept
        keep = np.unique(np.linspace(0, t.size - 1, max_points).round().astype(int))
        t, fp, fq = t[keep], fp[keep], fq[keep]
    return {"x": t, "Fp": fp, "Fq": fq, "area": area}


def optimal_critic(x: np.ndarray, fp: np.ndarray, fq: np.ndarray) -> np.ndarray:
    r"""An optimal 1-Lipschitz critic on a grid, from the two CDFs.

    Integrating by parts, :math:`\mathbb{E}_p f - \mathbb{E}_q f = \int f'(x)
    (F_q(x) - F_p(x))\, dx`, so the best slope is :math:`f' =
    \operatorname{sign}(F_q - F_p)` and the gap is then
    :math:`\int \lvert F_p - F_q \rvert = W_1`. Returned as the running integral
    of that slope (trapezoids on ``x``), shifted to mean 0 on the grid.

    Parameters
    ----------
    x : (k,) ndarray
        Increasing grid.
    fp, fq : (k,) ndarray
        :math:`F_p` and :math:`F_q` on the grid.
    """
    slope = np.sign(fq - fp)                                                   # (k,)
    f = np.concatenate([[0.0], np.cumsum(0.5 * (slope[1:] + slope[:-1]) * np.diff(x))])
    return f - f.mean()


def sand(p: Dist1D, q: Dist1D, levels: int = 75, heights: int = 4, seed: int = 0) -> dict:
    r"""Grains of earth under :math:`p` and their places under :math:`q` in the monotone plan.

    Grain :math:`(i, j)` sits at :math:`x_0 = F_p^{-1}(u_i)`, height
    :math:`v_{ij}\, p(x_0)` and goes to :math:`x_1 = F_q^{-1}(u_i)`, height
    :math:`v_{ij}\, q(x_1)`, with :math:`u_i = (i + 1/2)/\text{levels}` and
    :math:`v_{ij}` stratified-uniform in (0, 1). For uniform :math:`u, v` the
    point :math:`(F^{-1}(u), v\, p(F^{-1}(u)))` is uniform under the density
    curve, so the grains fill the area under :math:`p` at the start and under
    :math:`q` at the end. Each carries mass 1/(levels·heights), and the plan's
    cost :math:`\text{mean} \lvert x_1 - x_0 \rvert` is a midpoint rule for
    :math:`\int_0^1 \lvert F_p^{-1} - F_q^{-1} \rvert du = W_1`.

    Returns
    -------
    dict
        ``x0``, ``y0``, ``x1``, ``y1`` (levels·heights,), and ``cost``.
    """
    u = (np.arange(levels) + 0.5) / levels                                     # (L,)
    x0, x1 = p.ppf(u), q.ppf(u)
    jitter = np.random.default_rng(seed).uniform(0.1, 0.9, size=(levels, heights))
    v = (np.arange(heights)[None, :] + jitter) / heights                       # (L, H) stratified heights
    y0, y1 = v * p.pdf(x0)[:, None], v * q.pdf(x1)[:, None]
    x0, x1 = np.repeat(x0, heights), np.repeat(x1, heights)
    return {"x0": x0, "y0": y0.ravel(), "x1": x1, "y1": y1.ravel(), "cost": float(np.mean(np.abs(x1 - x0)))}


def sand_at(grains: dict, t: float) -> dict:
    """The grains a fraction ``t`` in [0, 1] of the way: ``x``, ``y``, ``right`` (1 if it moves right);
    ``moved``: the work done so far, t · cost."""
    t = float(np.clip(t, 0.0, 1.0))
    return {"x": (1 - t) * grains["x0"] + t * grains["x1"], "y": (1 - t) * grains["y0"] + t * grains["y1"],
            "right": (grains["x1"] >= grains["x0"]).astype(np.int8), "moved": t * grains["cost"]}


# --------------------------------------------------------------------------- the dual side (a job)
def _moments(steps: int, every: int, k: int) -> list[int]:
    """About ``k`` recording steps from 0 to ``steps``, denser early (where the critic changes fast)."""
    raw = np.concatenate([[0.0], np.geomspace(every, steps, k - 1)])
    return sorted({int(round(v / every)) * every for v in raw} | {steps})


def _sampler(d: Dist1D, xs: np.ndarray | None):
    """Draws from the law ``d``, or (samples mode) from the empirical law of ``xs``.

    For the empirical law every point is used equally often, in random order:
    when ``n`` divides the number asked for, the draw *is* the empirical law.
    """
    if xs is None:
        return d.sample
    return lambda n, rng: xs[rng.permutation(np.arange(n) % xs.size)]


def dual_trajectory(p: Mapping | tuple, q: Mapping | tuple, n: int = 0, data_seed: int = 0, steps: int = 400,
                    every: int = 10, moments: int = 12, seed: int = 0, lam: float = 10.0, n_x: int = 160) -> dict:
    r"""Train a 1-Lipschitz critic between p and q (:class:`wgan_core.dual1d.DualCritic1D`) and record it.

    The critic climbs :math:`\mathbb{E}_p f - \mathbb{E}_q f` under a one-sided
    gradient penalty of weight :math:`\lambda`. Its gap ends a little above W1,
    at about :math:`W + W^2 / (2 \lambda)` (the soft penalty lets the slope
    settle above 1); the penalty-adjusted gap
    :math:`\lambda (\sqrt{1 + 2\,\text{gap}/\lambda} - 1)` undoes that and, with
    the defaults, ends within 5 % of W1 (tests/test_lessons1d.py).

    Parameters
    ----------
    p, q : mapping or tuple of (name, value) pairs
        Keyword arguments of :func:`side`, e.g. ``(("kind", "gaussian"), ("mu", 0.0))``.
    n : int
        0: train on the laws themselves; else on ``n`` samples of each (seed ``data_seed``).
    steps, every : int
        Critic steps in all, and the gap is recorded every ``every`` steps.
    moments : int
        About how many snapshots of the critic's curve (denser early).
    seed : int
        Seed of the critic.
    lam : float
        Penalty weight :math:`\lambda`.
    n_x : int
        Points of the curve grid.

    Returns
    -------
    dict
        ``step``, ``gap``, ``adjusted``, ``corrected`` (r,) every ``every`` steps;
        ``x`` (n_x,); ``curve_step`` (c,), ``curves`` (c, n_x) (f at those steps,
        each shifted to mean 0 on the grid); ``w1``: the target (quadrature, or
        scipy on the samples); ``lam``.
    """
    from wgan_core.lessons.dual1d import DualCritic1D  # torch: imported only where the job runs (a worker)

    pd, qd = side(**dict(p)), side(**dict(q))
    xp = xq = None
    if n:
        xp, xq = draw(pd, qd, n, data_seed)
        w1 = float(wasserstein_distance(xp, xq))
    else:
        w1 = w1_between(pd, qd)
    critic = DualCritic1D(_sampler(pd, xp), _sampler(qd, xq), seed=seed, gp_weight=lam, n_eval=20_000)
    lo, hi = plot_range(pd, qd, *(a for a in (xp, xq) if a is not None))
    x = np.linspace(lo, hi, n_x)
    keep = set(_moments(steps, every, moments))
    rec: dict[str, list] = {"step": [], "gap": [], "adjusted": [], "corrected": []}
    curve_step, curves = [], []
    for k in range(0, steps + 1, every):
        if k:
            critic.step(every)
        for name, value in (("step", k), ("gap", critic.gap()), ("adjusted", critic.penalty_adjusted_gap()),
                            ("corrected", critic.corrected_gap() if k else 0.0)):
            rec[name].append(value)
        if k in keep:
            f = critic.curve(x)
            curve_step.append(k)
            curves.append(f - f.mean())
    return {**{k: np.asarray(v, dtype=float) for k, v in rec.items()}, "x": x,
            "curve_step": np.asarray(curve_step), "curves": np.asarray(curves), "w1": w1, "lam": float(lam)}
