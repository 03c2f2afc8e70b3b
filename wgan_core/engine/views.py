"""Views of runs as plain arrays: `snapshot_many` (points, critic grid, arrows, metrics) and `curves`.

A snapshot is drawn against fixed evaluation data (noise, real samples and
interpolation weights drawn once per run from its seed), so motion between
frames is learning, not resampling.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from wgan_core.engine import metrics
from wgan_core.engine.models import Net
from wgan_core.engine.stack import Stack

N_EVAL = 2500          # fixed evaluation batch (mode coverage uses 2,500 samples, DESIGN.md)
N_SHOW = 1000          # points drawn in the view
N_ARROWS = 150         # generator-gradient arrows
N_W1 = 400             # sub-sample for the exact W1 (optimal transport) curve
GRID = 48              # critic evaluation grid (GRID x GRID)
MANIFOLD = 15          # noise-space grid lines (MANIFOLD x MANIFOLD)
STATS = ("critic_loss", "w_estimate", "penalty", "gen_loss")
EVALS = ("exact_w1", "modes_covered", "hq_fraction", "w_corrected")
MAX_CURVE_POINTS = 400


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


def snapshot_many(runs: list, exact: bool = True) -> list[dict]:
    """Views of runs sharing a stack key, computed together.

    Each snapshot holds: ``real`` and ``fake`` (generator on the fixed noise
    batch), and for 2D data ``grid`` (critic on a fixed GRID x GRID grid over the
    data's extent, row 0 at ymin), ``arrows`` (at fake[:N_ARROWS], the direction
    -dL_G/dx in which the generator step moves each point), ``manifold`` (the
    generator on a grid in noise space); critic gradient norms at interpolates
    (target 1 for a 1-Lipschitz critic); curves; metrics; status.
    With ``exact`` (a *full* snapshot) the exact W1 between N_W1 generated and
    real samples is measured and added to the curves, and the critic's slopes
    (gradient norms at interpolates and over the grid) are measured afresh;
    light snapshots in between reuse the last slopes, which halves their cost.
    """
    s = Stack(runs)
    obj, dim = s.obj, runs[0].dataset.dim
    with torch.no_grad():
        fake = s.G(torch.stack([r.z_eval for r in runs]))                      # (S, N_EVAL, dim)
    real = torch.stack([r.real_eval for r in runs])
    slopes = exact or any(r.slopes is None for r in runs)
    if slopes:
        eps = torch.stack([r.eps_eval[:N_W1] for r in runs])
        xhat = fake[:, :N_W1] + eps * (real[:, :N_W1] - fake[:, :N_W1])
        gnorm = _input_grad(s.C, obj, xhat, False).norm(dim=-1)                 # (S, N_W1)
        maxg = gnorm.max(1).values
    extra: dict[str, torch.Tensor] = {}
    if dim == 2:
        ext = runs[0].dataset.extent
        pts = _grid_points(ext, GRID, s.dev).expand(s.S, -1, -1)
        if slopes:
            maxg = torch.maximum(maxg, _input_grad(s.C, obj, pts, False).norm(dim=-1).max(1).values)
        with torch.no_grad():
            extra["grid"] = s.C(pts).view(s.S, GRID, GRID)
            mz = _manifold_z(runs[0].config.z_dim, MANIFOLD, s.dev)
            extra["manifold"] = s.G(mz.reshape(1, -1, mz.shape[-1]).expand(s.S, -1, -1)).view(
                s.S, *mz.shape[:2], 2)
        extra["arrows"] = _input_grad(s.C, obj, fake[:, :N_ARROWS], True)
    out = []
    for i, r in enumerate(runs):
        if slopes:
            r.slopes = (gnorm[i].cpu().numpy(), float(maxg[i]))
        snap = _one(r, fake[i].cpu().numpy(), *r.slopes,
                    {k: v[i].detach().cpu().numpy() for k, v in extra.items()}, exact)
        out.append(snap)
    return out


def _one(r, fake: np.ndarray, gnorm: np.ndarray, maxg: float, extra: dict, exact: bool) -> dict:
    real = r.real_eval.cpu().numpy()
    ds, last = r.dataset, (r.stats[-1] if r.stats else None)
    w_est = float(last[2]) if last is not None else float("nan")
    m: dict = {"modes_covered": None, "modes_total": None, "hq_fraction": None, "exact_w1": None,
               "w_estimate": w_est, "max_grad_norm": maxg,
               "w_corrected": metrics.lipschitz_corrected(w_est, maxg) if r.objective.wasserstein and last is not None
               else None}
    if ds.has_modes:
        ms = metrics.mode_stats(fake, ds.centers, ds.std)
        m.update(modes_covered=ms["modes_covered"], modes_total=ms["modes_total"], hq_fraction=ms["hq_fraction"])
    if exact and np.isfinite(fake).all():
        m["exact_w1"] = metrics.exact_w1(fake[:N_W1].astype(np.float64), real[:N_W1].astype(np.float64))
        nan = float("nan")
        r.evals.append(np.array([r.gen_steps, m["exact_w1"],
                                 nan if m["modes_covered"] is None else m["modes_covered"],
                                 nan if m["hq_fraction"] is None else m["hq_fraction"],
                                 nan if m["w_corrected"] is None else m["w_corrected"]]))
    snap = {
        "config": r.config.to_dict(), "status": r.status, "message": r.message,
        "gen_steps": r.gen_steps, "critic_steps": r.critic_steps, "extent": ds.extent,
        "real": real[:N_SHOW], "fake": fake[:N_SHOW] if ds.dim == 2 else fake[:64],
        "grad_norms": gnorm, "curves": curves(r), "metrics": m,
    }
    snap.update(extra)
    return snap


def _decimate(rows: np.ndarray, n: int) -> np.ndarray:
    """At most n rows: bin means of consecutive rows (the step column is averaged too)."""
    if len(rows) <= n:
        return rows
    edges = np.linspace(0, len(rows), n + 1).astype(int)
    sums = np.add.reduceat(rows, edges[:-1], axis=0)
    return sums / np.diff(edges)[:, None]


def curves(r) -> dict[str, np.ndarray]:
    """Training curves over generator steps (decimated) merged with the evaluation points."""
    st = _decimate(np.array(r.stats).reshape(-1, 1 + len(STATS)), MAX_CURVE_POINTS)
    ev = np.array(r.evals).reshape(-1, 1 + len(EVALS))[-MAX_CURVE_POINTS:]
    n_st, n_ev = len(st), len(ev)
    table = np.full((n_st + n_ev, 1 + len(STATS) + len(EVALS)), np.nan)
    table[:n_st, :1 + len(STATS)] = st
    table[n_st:, 0] = ev[:, 0]
    table[n_st:, 1 + len(STATS):] = ev[:, 1:]
    table = table[np.argsort(table[:, 0], kind="stable")]
    names = ("gen_step",) + STATS + EVALS
    return {k: table[:, j].astype(np.float32) for j, k in enumerate(names)}


def is_finite_number(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
