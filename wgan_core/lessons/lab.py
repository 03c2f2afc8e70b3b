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

The figure builders at the bottom return Vega-Lite dicts from plain arrays; they need
no torch and no streamlit.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from wgan_core.engine import metrics
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import Net
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.trainer import Run
from wgan_core.presets import PRESETS, SEED_NET

LAB_METHODS = ("wgan-clip", "wgan-gp", "wgan-lp", "sngan")
LAB_DATA = ("seed3", "8gaussians")
LAYER_CLIPS = (0.1, 0.01, 0.001)
MAX_STEPS = 5000
N_HIST = 41                    # weight-histogram bins
N_LAYER_BATCH = 1024           # samples for the per-layer gradient measurement
COMPARE_METHODS = ("gan", "nsgan", "wgan-clip", "wgan-gp", "wgan-lp", "sngan")
SPEEDS = {"classroom": "Classroom (fast: batch 256, learning rate 1e-3)",
          "seed": "Seed notebook (batch 64, reference learning rates)"}
COLORS = {"gan": "#7f7f7f", "nsgan": "#E69F00", "wgan-clip": "#D55E00", "wgan-gp": "#0072B2",
          "wgan-lp": "#009E73", "sngan": "#CC79A7"}
SHORT = {"gan": "GAN (minimax)", "nsgan": "GAN (non-saturating)", "wgan-clip": "WGAN-clip",
         "wgan-gp": "WGAN-GP", "wgan-lp": "WGAN-LP", "sngan": "Spectral norm"}
SNAP_KEYS = ("config", "status", "message", "gen_steps", "critic_steps", "extent", "real", "fake", "grid",
             "metrics")


# --------------------------------------------------------------------------- configurations
def lab_config(method: str, data: str, seed: int, clip: float, lam: float) -> TrainConfig:
    """The seed notebook's network (width 128, depth 2, batch 64, n_critic 5) with the method's
    reference hyperparameters (`Objective.defaults`); ``clip`` and ``lam`` where the method has them."""
    obj = OBJECTIVES[method]
    cfg = TrainConfig(loss=method, data=data, seed=seed, **SEED_NET).replace(**obj.defaults)
    knobs = {k: v for k, v in (("clip", clip), ("lam", lam)) if k in obj.knobs}
    return cfg.replace(**knobs)


def compare_config(method: str, data: str, seed: int, speed: str) -> TrainConfig:
    """One Compare run: every method shares data, seed, network and batch.

    ``speed="seed"``: the seed notebook's network and batch (`presets.SEED_NET`) with the method's
    reference hyperparameters (`Objective.defaults`: optimizer, betas, learning rates, n_critic,
    clip, lambda), as in the papers. ``speed="classroom"``: the classroom preset's network and
    batch (256) with the method's optimizer, betas, n_critic and clip, but the classroom's
    learning rate (1e-3) and lambda (0.1), which reach the modes in seconds instead of minutes.
    """
    if speed not in SPEEDS:
        raise ValueError(f"speed must be one of {', '.join(SPEEDS)}")
    d = dict(OBJECTIVES[method].defaults)
    if speed == "seed":
        return TrainConfig(loss=method, data=data, seed=seed, **SEED_NET).replace(**d)
    base = PRESETS["classroom-gp"].config
    keep = {k: v for k, v in d.items() if k not in ("lr_c", "lr_g", "lam")}
    return base.replace(loss=method, data=data, seed=seed, **keep)


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
    (share of weights with |w| = c, clipping only), ``f_range`` (max - min of the critic on the
    grid) and ``snap`` (the snapshot's arrays for a picture); plus the settings and ``seconds``.
    """
    _check(data, steps, seed)
    t0 = time.perf_counter()
    out: dict = {"data": data, "steps": int(steps), "seed": int(seed), "clip": float(clip), "lam": float(lam),
                 "methods": {}}
    for method in LAB_METHODS:
        run = Run(lab_config(method, data, int(seed), clip, lam))
        run.step(int(steps))
        snap = run.snapshot(exact=True)
        w = np.concatenate([x.ravel() for x in critic_weights(run)]).astype(np.float32)
        lim = float(clip) * 1.1 if method == "wgan-clip" else float(np.abs(w).max()) * 1.02
        grid = np.asarray(snap["grid"], dtype=np.float64)
        out["methods"][method] = {
            "label": OBJECTIVES[method].label, "grad_norms": np.asarray(snap["grad_norms"], dtype=np.float64),
            "summary": metrics.grad_norm_summary(snap["grad_norms"]), "weights": w,
            "weight_hist": weight_histogram(w, lim), "weight_lim": lim,
            "share_at_clip": float(np.mean(np.abs(w) >= np.float32(clip) * (1 - 1e-6)))
            if method == "wgan-clip" else None,
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
    runs = {f"clip c = {c:g}": Run(lab_config("wgan-clip", data, int(seed), c, 10.0).replace(**deep))
            for c in LAYER_CLIPS}
    runs["gradient penalty (λ = 10)"] = Run(lab_config("wgan-gp", data, int(seed), 0.01, 10.0).replace(**deep))
    norms = {}
    for label, run in runs.items():             # one at a time: a single run takes the fused kernels
        run.step(int(steps))
        norms[label] = layer_gradient_norms(run)
    return {"data": data, "steps": int(steps), "seed": int(seed), "width": width, "depth": depth,
            "layers": list(range(1, depth + 2)), "norms": norms, "seconds": time.perf_counter() - t0}


def w1_noise_floor(real: np.ndarray, n: int = 400) -> float | None:
    """Exact W1 between two disjoint n-point halves of a real sample: what the exact-W1 curve
    (n generated vs n real points) shows even for a perfect generator. None if too few points."""
    real = np.asarray(real, dtype=np.float64)
    if len(real) < 2 * n:
        return None
    return metrics.exact_w1(real[:n], real[n:2 * n])


# --------------------------------------------------------------------------- figures (Vega-Lite)
def _color(methods) -> dict:
    return {"domain": [SHORT[m] for m in methods], "range": [COLORS[m] for m in methods]}


def _decades(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values) & (values > 0)]
    lo = math.floor(math.log10(min(v.min(), 0.5))) if len(v) else -4
    hi = math.ceil(math.log10(max(v.max(), 2.0))) if len(v) else 1
    return float(lo), float(hi)


def grad_norm_spec(result: dict, width: int = 740) -> dict:
    r"""Histograms (one row per method) and box plots of :math:`\|\nabla f(\hat x)\|` on one shared
    log axis, with the target 1 as a red dashed rule (the seed notebook's diagnostic)."""
    methods = list(result["methods"])
    allv = np.concatenate([result["methods"][m]["grad_norms"] for m in methods])
    lo, hi = _decades(allv)
    edges = np.logspace(lo, hi, int((hi - lo) * 10) + 1)
    bars, raw = [], []
    for m in methods:
        g = np.clip(result["methods"][m]["grad_norms"], edges[0], edges[-1])
        counts, _ = np.histogram(g, bins=edges)
        bars += [{"method": SHORT[m], "lo": float(a), "hi": float(b), "share": float(c) / len(g)}
                 for a, b, c in zip(edges[:-1], edges[1:], counts) if c]
        raw += [{"method": SHORT[m], "norm": float(x)} for x in g]
    x = {"type": "log", "domain": [10 ** lo, 10 ** hi]}
    axis = {"title": "gradient norm ‖∇f(x̂)‖ at interpolates (log scale)", "format": "~g", "grid": True,
            "values": [10.0 ** k for k in range(int(lo), int(hi) + 1)], "labelFontSize": 12, "titleFontSize": 13}
    rule = {"mark": {"type": "rule", "color": "#c62828", "strokeDash": [6, 3], "strokeWidth": 2},
            "encoding": {"x": {"datum": 1.0, "scale": x}}}
    hist = {
        "data": {"values": bars},
        "facet": {"row": {"field": "method", "type": "nominal", "sort": [SHORT[m] for m in methods],
                          "header": {"title": None, "labelAngle": 0, "labelAlign": "left", "labelFontSize": 13,
                                     "labelFontWeight": "bold"}}},
        "spec": {"width": width, "height": 62, "layer": [
            {"mark": {"type": "rect", "opacity": 0.85},
             "encoding": {"x": {"field": "lo", "type": "quantitative", "scale": x, "axis": None},
                          "x2": {"field": "hi"},
                          "y": {"field": "share", "type": "quantitative", "axis": {"format": "%", "title": None,
                                                                                     "tickCount": 2}},
                          "color": {"field": "method", "scale": _color(methods), "legend": None},
                          "tooltip": [{"field": "method"}, {"field": "lo", "format": ".3g", "title": "from"},
                                      {"field": "hi", "format": ".3g", "title": "to"},
                                      {"field": "share", "format": ".1%", "title": "share"}]}},
            rule]},
    }
    box = {
        "width": width, "height": 26 * len(methods), "data": {"values": raw},
        "layer": [
            {"mark": {"type": "boxplot", "extent": 1.5, "size": 14},
             "encoding": {"x": {"field": "norm", "type": "quantitative", "scale": x, "axis": axis},
                          "y": {"field": "method", "type": "nominal", "sort": [SHORT[m] for m in methods],
                                "title": None, "axis": {"labelFontSize": 12}},
                          "color": {"field": "method", "scale": _color(methods), "legend": None}}},
            rule],
    }
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "vconcat": [hist, box],
            "spacing": 8, "config": {"view": {"stroke": "#ddd"}}}


def weight_specs(result: dict) -> dict[str, dict]:
    """Per method, a histogram of the critic's weights (own x axis); the clip panel marks ±c."""
    specs = {}
    c = result["clip"]
    for m, r in result["methods"].items():
        h = r["weight_hist"]
        rows = [{"lo": float(a), "hi": float(b), "share": float(s)} for a, b, s in zip(h["lo"], h["hi"], h["share"])]
        layer = [{"mark": {"type": "rect", "color": COLORS[m], "opacity": 0.85},
                  "encoding": {"x": {"field": "lo", "type": "quantitative", "title": "weight value",
                                     "scale": {"domain": [-r["weight_lim"], r["weight_lim"]], "nice": False},
                                     "axis": {"format": "~g", "tickCount": 5}},
                               "x2": {"field": "hi"},
                               "y": {"field": "share", "type": "quantitative", "title": "share of weights",
                                     "axis": {"format": "%", "tickCount": 4}},
                               "tooltip": [{"field": "lo", "format": ".3g", "title": "from"},
                                           {"field": "hi", "format": ".3g", "title": "to"},
                                           {"field": "share", "format": ".1%", "title": "share"}]}}]
        if m == "wgan-clip":
            layer.append({"data": {"values": [{"v": -c, "t": "−c"}, {"v": c, "t": "+c"}]}, "layer": [
                {"mark": {"type": "rule", "color": "#333", "strokeDash": [4, 3]},
                 "encoding": {"x": {"field": "v", "type": "quantitative"}}},
                {"mark": {"type": "text", "dy": -6, "fontSize": 13, "fontWeight": "bold"},
                 "encoding": {"x": {"field": "v", "type": "quantitative"}, "y": {"value": 0},
                              "text": {"field": "t"}}}]})
        specs[m] = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "height": 190,
                    "data": {"values": rows}, "layer": layer}
    return specs


def layer_spec(result: dict, width: int = 560) -> dict:
    """Per-layer gradient norms on a log axis, one line per setting (WGAN-GP paper, Figure 1a)."""
    colors = ["#fdae61", "#D55E00", "#7f2704", "#0072B2"]
    labels = list(result["norms"])
    rows = [{"layer": int(k), "norm": float(v), "setting": s}
            for s in labels for k, v in zip(result["layers"], result["norms"][s]) if v > 0 and np.isfinite(v)]
    n = len(result["layers"])
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width, "height": 300,
        "data": {"values": rows},
        "mark": {"type": "line", "point": {"size": 60, "filled": True}, "strokeWidth": 2.5},
        "encoding": {
            "x": {"field": "layer", "type": "quantitative", "scale": {"domain": [1, n]},
                  "axis": {"tickMinStep": 1, "values": list(range(1, n + 1)),
                           "title": f"critic layer (1 = input layer, {n} = output layer)"}},
            "y": {"field": "norm", "type": "quantitative", "scale": {"type": "log"},
                  "axis": {"format": ".0e", "title": "‖∂L/∂W‖ of that layer (log scale)"}},
            "color": {"field": "setting", "type": "nominal", "sort": labels,
                      "scale": {"domain": labels, "range": colors[:len(labels)]},
                      "legend": {"title": None, "orient": "right", "labelFontSize": 12}},
            "tooltip": [{"field": "setting"}, {"field": "layer"}, {"field": "norm", "format": ".2e"}]},
    }


QUANTITIES = {
    "w_estimate": ("Critic's W estimate  E f(real) − E f(fake)", None),
    "w_corrected": ("W estimate ÷ critic's max slope (a true lower bound)", None),
    "exact_w1": ("Exact W1 (optimal transport, 400 points)", None),
    "modes_covered": ("Modes covered", None),
    "hq_fraction": ("High-quality share of samples", "%"),
    "penalty": ("Gradient penalty term (before × λ)", None),
}


def method_curves_spec(curves: dict[str, dict], quantity: str, height: int = 230,
                       rule: float | None = None, rule_label: str = "", x_max: float | None = None) -> dict:
    """One quantity over generator steps, one line per method (``curves``: method -> snapshot curves).
    NaN points (not measured at that step) are left out; an optional dashed reference rule; ``x_max``
    fixes the step axis to [0, x_max] so that several charts share it."""
    title, fmt = QUANTITIES[quantity]
    methods = list(curves)
    rows = []
    for m in methods:
        cv = curves[m]
        if quantity not in cv or "gen_step" not in cv:
            continue
        steps, vals = np.asarray(cv["gen_step"], dtype=float), np.asarray(cv[quantity], dtype=float)
        ok = np.isfinite(steps) & np.isfinite(vals)
        rows += [{"step": float(s), "value": float(v), "method": SHORT[m]} for s, v in zip(steps[ok], vals[ok])]
    layers = [{"mark": {"type": "line", "strokeWidth": 2},
               "encoding": {"x": {"field": "step", "type": "quantitative", "title": "generator step",
                                  **({"scale": {"domain": [0, float(x_max)]}} if x_max else {})},
                            "y": {"field": "value", "type": "quantitative", "title": None,
                                  **({"axis": {"format": fmt}} if fmt else {})},
                            "color": {"field": "method", "type": "nominal", "scale": _color(methods), "legend": None},
                            "tooltip": [{"field": "method"}, {"field": "step", "format": ",.0f"},
                                        {"field": "value", "format": ".3f"}]}}]
    if rule is not None and np.isfinite(rule):
        layers.append({"data": {"values": [{"y": float(rule), "t": rule_label}]}, "layer": [
            {"mark": {"type": "rule", "color": "#555", "strokeDash": [5, 4]},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "dy": -7, "color": "#555", "fontSize": 11},
             "encoding": {"x": {"value": 0}, "y": {"field": "y", "type": "quantitative"}, "text": {"field": "t"}}}]})
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": {"text": title, "fontSize": 14, "anchor": "start"},
            "height": height, "data": {"values": rows}, "layer": layers}


def legend_html(methods) -> str:
    """One colour key for all the method charts of a page (the charts themselves carry no legend)."""
    items = "".join(f"<span style='margin-right:1.4rem;white-space:nowrap'><span style='display:inline-block;"
                    f"width:1.6rem;height:4px;background:{COLORS[m]};vertical-align:middle;margin-right:0.4rem'>"
                    f"</span>{SHORT[m]}</span>" for m in methods)
    return f"<div style='font-size:0.95rem;line-height:2'>{items}</div>"


def last_measured(snap: dict, name: str) -> float | None:
    """The newest finite value of an evaluation curve (exact W1 is measured at most once a second,
    so the newest snapshot may not carry one); the snapshot's own metric first."""
    value = snap["metrics"].get(name)
    if value is not None and np.isfinite(value):
        return float(value)
    cv = np.asarray(snap.get("curves", {}).get(name, []), dtype=float)
    cv = cv[np.isfinite(cv)]
    return float(cv[-1]) if len(cv) else None


def summary_rows(snaps: dict[str, dict]) -> list[dict]:
    """One row per method from its newest snapshot: steps, exact W1 next to the W estimate, modes, quality."""
    rows = []
    for m, s in snaps.items():
        mt = s["metrics"]
        rows.append({
            "method": OBJECTIVES[m].label, "generator steps": s["gen_steps"],
            "exact W1": last_measured(s, "exact_w1"),
            "W estimate": mt["w_estimate"] if OBJECTIVES[m].wasserstein else None,
            "estimate ÷ max slope": mt["w_corrected"],
            "modes covered": f"{mt['modes_covered']} / {mt['modes_total']}" if mt["modes_total"] else "–",
            "high-quality share": mt["hq_fraction"],
            "status": s["status"],
        })
    return rows
