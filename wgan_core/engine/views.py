"""Views of runs as plain arrays: `snapshot_many` (points, critic grid, arrows, transport plan, metrics).

A snapshot is drawn against fixed evaluation data (noise, real samples and
interpolation weights drawn once per run from its seed), so motion between
frames is learning, not resampling.

A snapshot's ``metrics`` (``real_eval``: the run's 2,500 fixed real points;
``fake_eval``: the generator on its 2,500 fixed noise vectors ``z_eval``):

=====================  ==================================================================
exact_w1               exact W1 (POT) between fake_eval[:N_W1] and real_eval[:N_W1];
                       full snapshots only (None on light ones): the mean length of the
                       snapshot's ``plan`` lines (`transport.assignment`, one solve)
exact_w1_n             N_W1 (400), the sample size of exact_w1
exact_w1_floor         [p5, p95] of the exact W1 between two independent N_W1-point
                       samples of the *real* data: the band where a perfect generator's
                       exact_w1 falls (`metrics_floor`); None if unknown
exact_w1_floor_mean    the mean of that floor
critic_w1_estimate     E f(real_eval) - E f(fake_eval) over the 2,500-point evaluation set
                       (one forward pass of the current critic; for a GAN's discriminator
                       the logit gap, no W1 estimate); ``critic_w1_estimate_se`` its
                       standard error over those samples, sqrt(var f(real)/n + var f(fake)/n)
lipschitz_bound        product of the critic's layer spectral norms (the weights its
                       forward pass applies): an upper bound on its Lipschitz constant
w_corrected            the c-transform bound (`metrics.c_transform_bound`) of the critic's
                       values on the SAME N_W1 real and generated points as exact_w1: a
                       lower bound on that exact_w1 for any critic (no Lipschitz
                       assumption), equal to it for an optimal critic; Wasserstein
                       objectives only (None otherwise, and None if the samples are not
                       finite)
w_over_lipschitz       critic_w1_estimate / lipschitz_bound: also a guaranteed lower bound
                       (on the exact W1 of all 2,500 vs 2,500 evaluation points), but a
                       loose one (the product bound is often 20-40); Wasserstein only
largest_slope_seen     largest |grad f| sampled at N_W1 fixed interpolates and (2D) the
                       GRID x GRID grid: a *lower* bound on the Lipschitz constant, no
                       ingredient of any bound; ``max_grad_norm`` is its old name
w_batch_estimate       E f(real) - E f(fake) on the last critic step's training batch
                       (noisy: one batch); ``w_estimate`` is its old name
modes_covered/_visited/_total, hq_fraction
                       `metrics.mode_stats` of fake_eval (data with modes; else None)
precision, recall      `metrics_quality.precision_recall` (k = 3) of fake_eval against
                       real_eval's distinct points: 2D data without modes, full snapshots;
                       else None
=====================  ==================================================================

A run without a critic (``Objective.critic_free``: the exact minibatch W1) has no
critic figures (critic_w1_estimate, its se, lipschitz_bound, w_corrected,
w_over_lipschitz, largest_slope_seen: None; w_batch_estimate NaN) and its snapshots
no ``grid``, ``arrows`` or ``grad_norms``; exact_w1, the plan and the modes are as above.

exact_w1, the critic's figures (`CriticCheck`) and precision/recall are
measured on full snapshots (``exact=True``); light snapshots in between repeat
the last measurement of the critic's figures and of precision/recall (one
critic, one moment: the estimate and the bounds are never mixed across
critics) and have ``exact_w1 = None``. Mode statistics are fresh on full
snapshots, and on light ones at most every ``modes_every_s`` seconds per run
(the live view passes MODES_EVERY_S; the default 0 measures them every time):
in between a light snapshot repeats the run's last mode statistics, and its
generator runs on the N_SHOW points the view draws only, not on all 2,500.
Light snapshots carry no ``curves`` (`tables.curves`, once a second on full ones).
The run's curves as tables are in `tables` (re-exported here).
"""
from __future__ import annotations

import math
import time
import weakref
from typing import NamedTuple

import numpy as np
import torch

from wgan_core.engine import datasets, metrics, metrics_floor, transport
from wgan_core.engine.metrics_quality import KnnManifold, precision_recall
from wgan_core.engine.models import Net
from wgan_core.engine.stack import Stack, stack_rows
from wgan_core.engine.tables import (  # noqa: F401  (re-exported: callers use views.*)
    EVALS,
    LEGACY_EVALS,
    MAX_CURVE_POINTS,
    STATS,
    curves,
    eval_table,
    is_finite_number,
    last_measured,
)

N_EVAL = 2500          # fixed evaluation batch (mode coverage uses 2,500 samples, DESIGN.md)
N_SHOW = 1000          # points drawn in the view
N_ARROWS = 150         # generator-gradient arrows
N_W1 = 400             # sub-sample for the exact W1 (optimal transport) curve
GRID = 48              # critic evaluation grid (GRID x GRID)
MANIFOLD = 15          # noise-space grid lines (MANIFOLD x MANIFOLD)
PR_K = 3               # neighbour rank of precision/recall (Kynkäänniemi et al.)
MODES_EVERY_S = 0.25   # the live view's light snapshots measure mode statistics at most this often per run


class CriticCheck(NamedTuple):
    """The critic measured at one full snapshot (kept on the run as ``run.slopes``; light snapshots repeat it)."""

    grad_norms: np.ndarray      # (N_W1,) |grad f| at the fixed interpolates
    max_slope: float            # largest |grad f| seen (interpolates, grid): sampled, <= Lip(f)
    estimate: float             # E f(real_eval) - E f(G(z_eval)), 2,500 points each
    bound: float                # product of the layers' spectral norms, >= Lip(f)
    c_bound: float              # c-transform bound on the N_W1 points of exact_w1 (NaN: not measured)
    estimate_se: float = math.nan   # its standard error: sqrt(var f(real) / n + var f(fake) / n)


NO_CRITIC = CriticCheck(None, None, None, None, math.nan, None)     # a critic-free run's (figures None)


class _Side:
    """What views keep per run between snapshots: the exact-W1 floor and k-NN manifold of its fixed real
    sample, the last precision/recall and mode statistics, and its config as a dict."""

    def __init__(self, r):
        ds, real = r.dataset, r.real_eval.double().cpu().numpy()
        builtin = datasets.DATASETS.get(ds.name) is ds or (ds.name == "digits" and ds is datasets.digits())
        floor = metrics_floor.table_floor(ds.name, N_W1) if builtin else None
        self.floor = floor or metrics_floor.sample_floor(real, N_W1, seed=r.config.seed)
        # the distinct points: a drawn or uploaded set is sampled with replacement, and a point drawn 4 times
        # has its 3rd neighbour at distance 0, a ball no generated point falls in (precision was 0 %)
        distinct = np.unique(real, axis=0) if ds.dim == 2 and not ds.has_modes else real[:0]
        self.manifold = KnnManifold(distinct, PR_K) if len(distinct) > PR_K else None
        self.pr: tuple[float, float] | None = None           # the last full snapshot's precision, recall
        self.modes: dict | None = None                       # the last mode statistics ...
        self.modes_t = -math.inf                             # ... and when they were measured
        self.config, self.config_dict = None, {}

    def config_of(self, r) -> dict:
        if self.config is not r.config:                      # configs are replaced, never changed in place
            self.config, self.config_dict = r.config, r.config.to_dict()
        return dict(self.config_dict)


_SIDES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _side(r) -> _Side:
    side = _SIDES.get(r)
    if side is None:
        side = _SIDES[r] = _Side(r)
    return side


def _grid_points(extent, n: int, device) -> torch.Tensor:
    x0, x1, y0, y1 = extent
    ys, xs = torch.meshgrid(torch.linspace(y0, y1, n, device=device),
                            torch.linspace(x0, x1, n, device=device), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)                   # (n*n, 2), row-major from ymin


def _manifold_z(z_dim: int, n: int, device) -> torch.Tensor:
    t = torch.linspace(-2.5, 2.5, n, device=device)
    if z_dim == 1:
        return t.view(1, n, 1)
    a, b = torch.meshgrid(t, t, indexing="ij")
    z = torch.zeros(n, n, z_dim, device=device)
    z[..., 0], z[..., 1] = a, b
    return z                                                                   # (n, n, z_dim)


def _input_grad(C: Net, obj, x: torch.Tensor, gen_loss: bool) -> torch.Tensor:
    """d f / dx (or -d L_G / dx per point when gen_loss) at x (S, N, dim)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = C(x).squeeze(-1)                                                 # (S, N)
        y = -obj.gen_loss(out) * out.shape[1] if gen_loss else out.sum()
        (g,) = torch.autograd.grad(y.sum(), x)
    return g


def _shown_generator(s: Stack, runs: list) -> Net:
    """The generator the views show: the stack's own, or, where a run averages its weights
    (``config.ema`` > 0), a net over each run's `Run.g_view`."""
    if all(r.g_view is r.g_flat for r in runs):
        return s.G
    return Net(runs[0].g_spec, stack_rows([r.g_view for r in runs]))


def _generate(G: Net, runs: list, n: list[int]) -> torch.Tensor:
    """G(z_eval) (S, max n, dim), run i on its first n[i] noise vectors only (zeros after on the CPU)."""
    z = torch.stack([r.z_eval[:max(n)] for r in runs])                       # (S, max n, z_dim)
    with torch.no_grad():
        return G(z) if min(n) == max(n) else G(z, rows=n)


def snapshot_many(runs: list, exact: bool = True, *, modes_every_s: float = 0.0,
                  now: float | None = None) -> list[dict]:
    """Views of runs sharing a stack key, computed together.

    Each snapshot holds: ``real`` and ``fake`` (generator on the fixed noise
    batch, the first N_SHOW points; 64 for data that is not 2D), and for 2D data
    ``grid`` (critic on a fixed GRID x GRID grid over the data's extent, row 0 at
    ymin), ``arrows`` (at fake[:N_ARROWS], the direction -dL_G/dx in which the
    generator step moves each point), ``manifold`` (the generator on a grid in
    noise space); critic gradient norms at interpolates (target 1 for a
    1-Lipschitz critic); ``plan`` (N_W1,), the exact optimal assignment of the
    last full snapshot, fake[i] -> real[plan[i]] (None before one); metrics
    (module docstring); status; and on full snapshots ``curves``. With ``exact``
    (a *full* snapshot) the exact W1 between N_W1 generated and real samples and
    its plan are measured (one solve) and added to the curves, and the
    critic is checked afresh (`CriticCheck`: slopes, evaluation-set estimate,
    spectral and c-transform bounds); light snapshots reuse the last check, and
    measure mode statistics only when the run's last ones are ``modes_every_s``
    seconds old (``now``: a `time.monotonic` reading, injectable for tests).
    """
    s = Stack(runs)
    obj, ds = s.obj, runs[0].dataset
    now = time.monotonic() if now is None else now
    sides = [_side(r) for r in runs]
    critic = not obj.critic_free
    check = critic and (exact or any(r.slopes is None for r in runs))
    fresh = [exact or check or (ds.has_modes and (sd.modes is None or now - sd.modes_t >= modes_every_s))
             for sd in sides]                                                  # needs all N_EVAL generated points
    shown = N_SHOW if ds.dim == 2 else 64
    G = _shown_generator(s, runs)
    fake = _generate(G, runs, [N_EVAL if f else shown for f in fresh])          # (S, N_EVAL or shown, dim)
    if check:
        real = torch.stack([r.real_eval for r in runs])
        eps = torch.stack([r.eps_eval[:N_W1] for r in runs])
        xhat = fake[:, :N_W1] + eps * (real[:, :N_W1] - fake[:, :N_W1])
        gnorm = _input_grad(s.C, obj, xhat, False).norm(dim=-1)                 # (S, N_W1)
        maxg = gnorm.max(1).values
        with torch.no_grad():
            f = s.C(torch.cat([real, fake], 1)).squeeze(-1).double()            # (S, 2 N_EVAL)
        est = (f[:, :N_EVAL].mean(1) - f[:, N_EVAL:].mean(1)).cpu().numpy()     # (S,)
        est_se = ((f[:, :N_EVAL].var(1) + f[:, N_EVAL:].var(1)) / N_EVAL).sqrt().cpu().numpy()   # (S,)
        f = f.cpu().numpy()
        bound = metrics.lipschitz_upper_bounds([w for w, _ in s.C.weights(update_u=False)])   # (S,)
    extra: dict[str, torch.Tensor] = {}
    if ds.dim == 2:
        pts = _grid_points(ds.extent, GRID, s.dev).expand(s.S, -1, -1)
        if check:
            maxg = torch.maximum(maxg, _input_grad(s.C, obj, pts, False).norm(dim=-1).max(1).values)
        with torch.no_grad():
            if critic:
                extra["grid"] = s.C(pts).view(s.S, GRID, GRID)
            mz = _manifold_z(runs[0].config.z_dim, MANIFOLD, s.dev)
            extra["manifold"] = G(mz.reshape(1, -1, mz.shape[-1]).expand(s.S, -1, -1)).view(
                s.S, *mz.shape[:2], 2)
        if critic:
            extra["arrows"] = _input_grad(s.C, obj, fake[:, :N_ARROWS], True)
    out = []
    for i, r in enumerate(runs):
        fk = fake[i, :N_EVAL if fresh[i] else shown].cpu().numpy()
        if check:
            cb = _c_bound(r, f[i], fk) if obj.wasserstein else math.nan
            r.slopes = CriticCheck(gnorm[i].cpu().numpy(), float(maxg[i]), float(est[i]), float(bound[i]), cb,
                                   float(est_se[i]))
        cc = r.slopes if critic else NO_CRITIC
        m = _metrics(r, fk, cc, exact, sides[i], now if fresh[i] else None)
        snap = {
            "config": sides[i].config_of(r), "status": r.status, "message": r.message,
            "gen_steps": r.gen_steps, "critic_steps": r.critic_steps, "extent": ds.extent,
            "real": r.real_eval[:N_SHOW].cpu().numpy(), "fake": fk[:shown],
            "grad_norms": cc.grad_norms, "metrics": m, "plan": r.plan,
        }
        if exact:
            snap["curves"] = curves(r)
        snap.update({k: v[i].detach().cpu().numpy() for k, v in extra.items()})
        out.append(snap)
    return out


def _c_bound(r, f: np.ndarray, fake: np.ndarray) -> float:
    """`metrics.c_transform_bound` on exact_w1's points: real_eval[:N_W1], fake[:N_W1] (f: (2 N_EVAL,))."""
    f_real, f_fake = f[:N_W1], f[N_EVAL:N_EVAL + N_W1]
    pts = fake[:N_W1].astype(np.float64)
    if not (np.isfinite(f_real).all() and np.isfinite(f_fake).all() and np.isfinite(pts).all()):
        return math.nan
    return metrics.c_transform_bound(f_real, f_fake, r.real_eval[:N_W1].double().cpu().numpy(), pts)


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _metrics(r, fake: np.ndarray, cc: CriticCheck, exact: bool, side: _Side, modes_at: float | None) -> dict:
    """The snapshot's ``metrics`` (module docstring); appends the evaluation row on full snapshots.
    ``modes_at``: measure the mode statistics on ``fake`` (all N_EVAL points) now, else repeat the last."""
    ds, last = r.dataset, (r.stats[-1] if len(r.stats) else None)
    w_batch = float(last[2]) if last is not None else float("nan")
    wass = r.objective.wasserstein
    m: dict = {"modes_covered": None, "modes_visited": None, "modes_total": None, "hq_fraction": None,
               "exact_w1": None, "exact_w1_n": N_W1,
               "exact_w1_floor": None if side.floor is None else [side.floor[1], side.floor[2]],
               "exact_w1_floor_mean": None if side.floor is None else side.floor[0],
               "critic_w1_estimate": cc.estimate, "critic_w1_estimate_se": cc.estimate_se,
               "lipschitz_bound": cc.bound,
               "w_corrected": _finite_or_none(cc.c_bound) if wass else None,
               "w_over_lipschitz": metrics.lipschitz_corrected(cc.estimate, cc.bound) if wass else None,
               "largest_slope_seen": cc.max_slope, "max_grad_norm": cc.max_slope,
               "w_batch_estimate": w_batch, "w_estimate": w_batch, "precision": None, "recall": None}
    if ds.has_modes:
        if modes_at is not None:
            ms = metrics.mode_stats(fake, ds.centers, ds.std)
            side.modes = {k: ms[k] for k in ("modes_covered", "modes_visited", "modes_total", "hq_fraction")}
            side.modes_t = modes_at
        m.update(side.modes)
    finite = bool(np.isfinite(fake).all())
    if exact and side.manifold is not None:
        side.pr = precision_recall(side.manifold, fake, PR_K) if finite else None
    if side.pr is not None:
        m["precision"], m["recall"] = side.pr
    if exact and finite:                            # one solve: the plan, and W1 = the mean length of its lines
        r.plan, m["exact_w1"] = transport.assignment(fake[:N_W1], r.real_eval[:N_W1].cpu().numpy())
        r.evals.append([r.gen_steps] + [np.nan if m[k] is None else m[k] for k in EVALS])
    elif exact:
        r.plan = None
    return m
