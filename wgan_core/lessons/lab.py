r"""Experiments and figures of the Lipschitz lab and Compare lessons.

A WGAN critic estimates the Earth-Mover distance through the Kantorovich-Rubinstein dual

.. math::
    W_1(P_r, P_g) = \sup_{\|f\|_L \le 1} E_{x \sim P_r}[f(x)] - E_{\tilde x \sim P_g}[f(\tilde x)],

and a differentiable f is 1-Lipschitz exactly when :math:`\|\nabla f(x)\|_2 \le 1` everywhere.
The optimal critic has :math:`\|\nabla f\| = 1` along the straight lines joining the coupled
real and generated points, which WGAN-GP samples as interpolates
:math:`\hat x = \epsilon x + (1 - \epsilon)\tilde x`. The lab trains one critic per way of
enforcing the constraint (clipping, two-sided penalty, one-sided penalty, spectral norm)
on the same data and seed and measures what each does to the slopes, the weights and the
gradients that reach each layer. Experiments are the named jobs ``lipschitz_experiment``
and ``layer_gradients`` (`wgan_core.jobs`): they train, so they run in a worker process.

Their figures are in `wgan_core.draw.lab_specs`.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from wgan_core.engine import metrics
from wgan_core.engine.models import Net
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.recipes import reference_config
from wgan_core.engine.trainer import Run

LAB_METHODS = ("wgan-clip", "wgan-gp", "wgan-lp", "sngan")
LAB_DATA = ("seed3", "8gaussians")
LAYER_CLIPS = (0.1, 0.01, 0.001)
MAX_STEPS = 5000
N_HIST = 41                    # weight-histogram bins
N_LAYER_BATCH = 1024           # samples for the per-layer gradient measurement
SNAP_KEYS = ("config", "status", "message", "gen_steps", "critic_steps", "extent", "real", "fake", "grid",
             "metrics")


# --------------------------------------------------------------------------- measurements
def critic_weights(run: Run) -> list[np.ndarray]:
    """The weight matrices (in, out) the critic actually applies, one per layer (no biases).
    With spectral normalisation that is W / sigma_max(W), not the stored W."""
    net = Net(run.c_spec, run.c_flat.detach().clone(), spectral=bool(run.sn_u),
              u=[u.clone() for u in run.sn_u] or None)
    with torch.no_grad():
        return [w[0].detach().cpu().numpy().copy() for w, _ in net.weights(update_u=False)]


def weight_histogram(w: np.ndarray, lim: float, bins: int = N_HIST) -> dict:
    """Share of all weights in each of ``bins`` equal bins over [-lim, lim] (values outside are not counted)."""
    w = np.ravel(w)
    counts, edges = np.histogram(w, bins=bins, range=(-lim, lim))
    return {"lo": edges[:-1], "hi": edges[1:], "share": counts / max(len(w), 1)}


def layer_gradient_norms(run: Run, n: int = N_LAYER_BATCH, seed: int = 12345) -> np.ndarray:
    r""":math:`\|\partial L / \partial W_l\|_F` for every critic layer l (input layer first), with
    :math:`L = E[f(\tilde x)] - E[f(x)]` (the WGAN critic loss without any penalty) on n fresh real
    and generated samples. Measured in float64, so sizes far below float32's resolution still show."""
    gen = torch.Generator(run.device).manual_seed(seed)
    real = run.dataset.sample(n, gen).double()[None]                           # (1, n, 2)
    z = torch.randn(1, n, run.config.z_dim, generator=gen, device=run.device).double()
    G = Net(run.g_spec, run.g_flat.detach().double())
    C = Net(run.c_spec, run.c_flat.detach().double(), spectral=bool(run.sn_u),
            u=[u.double() for u in run.sn_u] or None)
    with torch.no_grad():
        fake = G(z)                                                            # (1, n, 2)
    with torch.enable_grad():
        loss = C(fake).mean() - C(real).mean()
        grads = torch.autograd.grad(loss, C.params[0::2])
    return np.array([float(g.norm()) for g in grads])


def _check(data: str, steps: int, seed: int) -> None:
    if data not in LAB_DATA:
        raise ValueError(f"data must be one of {', '.join(LAB_DATA)}")
    if not (1 <= int(steps) <= MAX_STEPS) or not (0 <= int(seed) < 2**31):
        raise ValueError(f"steps must be in 1..{MAX_STEPS} and seed in 0..2^31-1")


def lipschitz_experiment(data: str = "8gaussians", steps: int = 200, seed: int = 0,
                         clip: float = 0.01, lam: float = 10.0) -> dict:
    """Train one critic (with its generator) per method in `LAB_METHODS` for ``steps`` generator steps.

    Returns plain data: ``methods`` maps each method to ``grad_norms`` (400 norms at the
    snapshot's fixed interpolates), ``summary`` (`metrics.grad_norm_summary`), ``weights``
    (all weight-matrix entries, float32), ``weight_hist`` and ``weight_lim``, ``share_at_clip``
    (share of weights with |w| = c exactly, clipping only: unsteady, it flips with the last update) and
    ``share_near_clip`` (within 1 % of c: the steady measure of weights piled at the walls), ``f_range`` (max - min of the critic on the
    grid) and ``snap`` (the snapshot's arrays for a picture); plus the settings and ``seconds``.
    """
    _check(data, steps, seed)
    t0 = time.perf_counter()
    out: dict = {"data": data, "steps": int(steps), "seed": int(seed), "clip": float(clip), "lam": float(lam),
                 "methods": {}}
    for method in LAB_METHODS:
        run = Run(reference_config(method, data, int(seed), clip, lam))
        run.step(int(steps))
        snap = run.snapshot(exact=True)
        w = np.concatenate([x.ravel() for x in critic_weights(run)]).astype(np.float32)
        lim = float(clip) * 1.1 if method == "wgan-clip" else float(np.abs(w).max()) * 1.02
        grid = np.asarray(snap["grid"], dtype=np.float64)
        out["methods"][method] = {
            "label": OBJECTIVES[method].label, "short": OBJECTIVES[method].short, "grad_norms": np.asarray(snap["grad_norms"], dtype=np.float64),
            "summary": metrics.grad_norm_summary(snap["grad_norms"]), "weights": w,
            "weight_hist": weight_histogram(w, lim), "weight_lim": lim,
            "share_at_clip": float(np.mean(np.abs(w) >= np.float32(clip) * (1 - 1e-6)))
            if method == "wgan-clip" else None,
            "share_near_clip": float(np.mean(np.abs(w) >= 0.99 * float(clip))) if method == "wgan-clip" else None,
            "f_range": float(np.nanmax(grid) - np.nanmin(grid)),
            "snap": {k: snap[k] for k in SNAP_KEYS},
        }
    out["seconds"] = time.perf_counter() - t0
    return out


def layer_gradients(data: str = "8gaussians", steps: int = 200, seed: int = 0,
                    width: int = 128, depth: int = 6) -> dict:
    """Per-layer gradient sizes of a deep critic (WGAN-GP paper, Figure 1a), clipping vs penalty.

    For each c in `LAYER_CLIPS` a WGAN-clip run and for contrast a WGAN-GP run (lambda 10),
    all with ``depth`` hidden layers of ``width`` leaky-ReLU units and reference hyperparameters,
    train ``steps`` generator steps; then `layer_gradient_norms` is measured. Returns
    ``layers`` (1..depth+1) and ``norms`` {setting label: (depth+1,) array}.
    """
    _check(data, steps, seed)
    t0 = time.perf_counter()
    deep = dict(width=width, depth=depth, act_c="leaky_relu")
    runs = {f"clip c = {c:g}": Run(reference_config("wgan-clip", data, int(seed), c, 10.0).replace(**deep))
            for c in LAYER_CLIPS}
    runs["gradient penalty (λ = 10)"] = Run(reference_config("wgan-gp", data, int(seed), 0.01, 10.0).replace(**deep))
    norms = {}
    for label, run in runs.items():             # one at a time: a single run takes the fused kernels
        run.step(int(steps))
        norms[label] = layer_gradient_norms(run)
    return {"data": data, "steps": int(steps), "seed": int(seed), "width": width, "depth": depth,
            "layers": list(range(1, depth + 2)), "norms": norms, "seconds": time.perf_counter() - t0}


def layer_story(deep: dict) -> str:
    """What the per-layer chart shows, read off its numbers: each setting's level (the geometric mean of
    its layers' gradient norms) and how flat its line is (largest / smallest layer), so the sentence is
    true of this run. With clipping the level goes roughly like (c·√width)^depth; the line stays flat."""
    parts, spread = [], []
    for label, norms in deep["norms"].items():
        v = np.asarray(norms, dtype=np.float64)
        v = v[np.isfinite(v) & (v > 0)]
        if len(v):
            parts.append(f"{label}: about {math.exp(np.mean(np.log(v))):.1e}")
            spread.append(float(v.max() / v.min()))
    flat = max(spread) if spread else float("nan")
    return ("Each line is roughly flat across the layers (within a factor of "
            f"{flat:.0f} from the first layer to the last here): what c changes is the *level* of the whole "
            "line, which goes roughly like (c·√width)^depth. Measured: " + "; ".join(parts) + ". A small c makes "
            "every layer's gradient vanish together (at c = 0.001 below float32's resolution: the critic is "
            "numerically flat), a large one makes them explode; the penalty keeps them of order 1.")
