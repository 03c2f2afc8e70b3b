"""Figures of the Lipschitz lab and Compare lessons, as Vega-Lite dicts built from plain arrays.

No torch, no streamlit, nothing else of wgan_core: the experiments' results (`wgan_core.lessons.lab`)
and runs' curves come in as plain data, with the objectives' display names (``labels``, from the
objective registry) where a chart names them.
"""
from __future__ import annotations

import math

import numpy as np

from wgan_core.draw.charts import SCHEMA

# One colour per objective (Okabe-Ito, colour-blind safe); tests check every objective has one.
COLORS = {"gan": "#7f7f7f", "nsgan": "#E69F00", "wgan-clip": "#D55E00", "wgan-gp": "#0072B2",
          "wgan-lp": "#009E73", "sngan": "#CC79A7", "ot": "#000000"}

def _color(methods, labels: dict[str, str]) -> dict:
    return {"domain": [labels[m] for m in methods], "range": [COLORS[m] for m in methods]}


def _decades(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values) & (values > 0)]
    lo = math.floor(math.log10(min(v.min(), 0.5))) if len(v) else -4
    hi = math.ceil(math.log10(max(v.max(), 2.0))) if len(v) else 1
    return float(lo), float(hi)


def grad_norm_spec(result: dict, width: int = 740) -> dict:
    r"""Histograms (one row per method) and box plots of :math:`\|\nabla f(\hat x)\|` on one shared
    log axis, with the target 1 as a red dashed rule (the seed notebook's diagnostic)."""
    methods = list(result["methods"])
    labels = {m: result["methods"][m]["short"] for m in methods}
    allv = np.concatenate([result["methods"][m]["grad_norms"] for m in methods])
    lo, hi = _decades(allv)
    edges = np.logspace(lo, hi, int((hi - lo) * 10) + 1)
    bars, raw = [], []
    for m in methods:
        g = np.clip(result["methods"][m]["grad_norms"], edges[0], edges[-1])
        counts, _ = np.histogram(g, bins=edges)
        bars += [{"method": labels[m], "lo": float(a), "hi": float(b), "share": float(c) / len(g)}
                 for a, b, c in zip(edges[:-1], edges[1:], counts) if c]
        raw += [{"method": labels[m], "norm": float(x)} for x in g]
    x = {"type": "log", "domain": [10 ** lo, 10 ** hi]}
    axis = {"title": "gradient norm ‖∇f(x̂)‖ at interpolates (log scale)", "format": "~g", "grid": True,
            "values": [10.0 ** k for k in range(int(lo), int(hi) + 1)], "labelFontSize": 12, "titleFontSize": 13}
    rule = {"mark": {"type": "rule", "color": "#c62828", "strokeDash": [6, 3], "strokeWidth": 2},
            "encoding": {"x": {"datum": 1.0, "scale": x}}}
    hist = {
        "data": {"values": bars},
        "facet": {"row": {"field": "method", "type": "nominal", "sort": [labels[m] for m in methods],
                          "header": {"title": None, "labelAngle": 0, "labelAlign": "left", "labelFontSize": 13,
                                     "labelFontWeight": "bold"}}},
        "spec": {"width": width, "height": 62, "layer": [
            {"mark": {"type": "rect", "opacity": 0.85},
             "encoding": {"x": {"field": "lo", "type": "quantitative", "scale": x, "axis": None},
                          "x2": {"field": "hi"},
                          "y": {"field": "share", "type": "quantitative", "axis": {"format": "%", "title": None,
                                                                                     "tickCount": 2}},
                          "color": {"field": "method", "scale": _color(methods, labels), "legend": None},
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
                          "y": {"field": "method", "type": "nominal", "sort": [labels[m] for m in methods],
                                "title": None, "axis": {"labelFontSize": 12}},
                          "color": {"field": "method", "scale": _color(methods, labels), "legend": None}}},
            rule],
    }
    return {"$schema": SCHEMA, "vconcat": [hist, box],
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
        specs[m] = {"$schema": SCHEMA, "height": 190,
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
        "$schema": SCHEMA, "width": width, "height": 300,
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
    "critic_w1_estimate": ("Critic's estimate E f(real) − E f(fake) (2,500 evaluation points)", None),
    "w_corrected": ("Lower bound from the critic (c-transform; never above the exact W1)", None),
    "exact_w1": ("W1 of 400 vs 400 points (exact)", None),
    "modes_covered": ("Modes covered", None),
    "modes_visited": ("Modes visited (nearest to at least 1 % of samples)", None),
    "hq_fraction": ("High-quality share of samples", "%"),
    "precision": ("Precision (generated points inside the real manifold)", "%"),
    "recall": ("Recall (real points inside the generated manifold)", "%"),
    "penalty": ("Gradient penalty term (before × λ)", None),
}


def method_curves_spec(curves: dict[str, dict], quantity: str, labels: dict[str, str], height: int = 230,
                       rule: float | None = None, rule_label: str = "", x_max: float | None = None,
                       band: tuple[float, float, str] | None = None) -> dict:
    """One quantity over generator steps, one line per method (``curves``: method -> snapshot curves;
    ``labels``: method -> its short name).
    NaN points (not measured at that step) are left out; an optional dashed reference rule, an optional
    shaded band (lo, hi, label: e.g. the exact W1's sampling floor); ``x_max`` fixes the step axis to
    [0, x_max] so that several charts share it."""
    title, fmt = QUANTITIES[quantity]
    methods = list(curves)
    rows = []
    for m in methods:
        cv = curves[m]
        if quantity not in cv or "gen_step" not in cv:
            continue
        steps, vals = np.asarray(cv["gen_step"], dtype=float), np.asarray(cv[quantity], dtype=float)
        ok = np.isfinite(steps) & np.isfinite(vals)
        rows += [{"step": float(s), "value": float(v), "method": labels[m]} for s, v in zip(steps[ok], vals[ok])]
    layers = [{"mark": {"type": "line", "strokeWidth": 2},
               "encoding": {"x": {"field": "step", "type": "quantitative", "title": "generator step",
                                  **({"scale": {"domain": [0, float(x_max)]}} if x_max else {})},
                            "y": {"field": "value", "type": "quantitative", "title": None,
                                  **({"axis": {"format": fmt}} if fmt else {})},
                            "color": {"field": "method", "type": "nominal", "scale": _color(methods, labels), "legend": None},
                            "tooltip": [{"field": "method"}, {"field": "step", "format": ",.0f"},
                                        {"field": "value", "format": ".3f"}]}}]
    if rule is not None and np.isfinite(rule):
        layers.append({"data": {"values": [{"y": float(rule), "t": rule_label}]}, "layer": [
            {"mark": {"type": "rule", "color": "#555", "strokeDash": [5, 4]},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "dy": -7, "color": "#555", "fontSize": 11},
             "encoding": {"x": {"value": 0}, "y": {"field": "y", "type": "quantitative"}, "text": {"field": "t"}}}]})
    if band is not None and all(np.isfinite(band[:2])):
        layers.insert(0, {"data": {"values": [{"lo": float(band[0]), "hi": float(band[1]), "t": band[2]}]}, "layer": [
            {"mark": {"type": "rect", "color": "#e66101", "opacity": 0.12},
             "encoding": {"y": {"field": "lo", "type": "quantitative"}, "y2": {"field": "hi"},
                          "x": {"value": 0}, "x2": {"value": "width"}}},
            {"mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 4, "dy": -2, "color": "#a34400",
                      "fontSize": 11},
             "encoding": {"x": {"value": 0}, "y": {"field": "hi", "type": "quantitative"}, "text": {"field": "t"}}}]})
    return {"$schema": SCHEMA,
            "title": {"text": title, "fontSize": 14, "anchor": "start"},
            "height": height, "data": {"values": rows}, "layer": layers}
