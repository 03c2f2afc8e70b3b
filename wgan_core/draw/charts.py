"""Training curves as Vega-Lite v5 specs, and the metrics as display rows.

Pure functions of a snapshot's plain data, returning plain dicts and strings:
``st.vega_lite_chart(curves_spec(...))`` draws them without altair (and its lock).
The data is embedded as ``{"values": [...]}`` records of plain floats; points
that were not measured (NaN) or are not finite are dropped, so the specs pass
``json.dumps(spec, allow_nan=False)``.

Curves (from the engine's snapshot, all over ``gen_step``):

critic loss, generator loss, penalty
    The training objectives, per step.
critic's estimate
    :math:`\\mathbb{E} f(\\text{real}) - \\mathbb{E} f(\\text{fake})` over the run's 2,500
    fixed evaluation points (``critic_w1_estimate``); the per-step one of a training
    batch (``w_estimate``) is much noisier. An estimate of :math:`W_1` only while
    :math:`f` is 1-Lipschitz.
W1 of 400 vs 400 points
    The exact optimal-transport distance between 400 generated and 400 real
    evaluation points, measured about once a second; it sits on a sampling floor
    (two samples of the real data are already that far apart), drawn as a band.
lower bound from the critic
    The critic's values made feasible for the dual problem (their c-transform): a
    guaranteed lower bound on the same 400-vs-400 W1, for any critic.
"""
from __future__ import annotations

import math

import numpy as np

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

# name in snapshot["curves"] -> (label, colour)
SERIES = {
    "critic_loss": ("critic loss", "#5e3c99"),
    "w_estimate": ("critic's estimate, one training batch", "#7fbfb8"),
    "critic_w1_estimate": ("critic's estimate E f(real) − E f(fake)", "#01665e"),
    "exact_w1": ("W1 of 400 vs 400 points (exact)", "#e66101"),
    "w_corrected": ("lower bound from the critic", "#35978f"),
    "penalty": ("gradient penalty", "#b2182b"),
    "gen_loss": ("generator loss", "#2166ac"),
    "modes_covered": ("modes covered", "#1b7837"),
    "modes_visited": ("modes visited", "#a6dba0"),
    "hq_fraction": ("high-quality share", "#8c510a"),
    "precision": ("precision", "#1b7837"),
    "recall": ("recall", "#762a83"),
    "lipschitz_bound": ("Lipschitz bound", "#999999"),
}
# Measured every few steps, not every step: drawn as points joined by a line.
MEASURED = ("exact_w1", "w_corrected", "critic_w1_estimate", "modes_covered", "modes_visited", "hq_fraction",
            "precision", "recall", "lipschitz_bound")
BAND_RGB = "#e66101"


def _records(curves: dict, which: list[str]) -> list[dict]:
    """Long-form rows {"step", "series", "value"} of the named curves, finite points only."""
    if "gen_step" not in curves:
        raise ValueError("curves has no 'gen_step'")
    step = np.asarray(curves["gen_step"], dtype=np.float64)
    if step.ndim != 1:
        raise ValueError(f"curves['gen_step'] must be 1-D, got shape {step.shape}")
    rows = []
    for name in which:
        if name not in SERIES:
            raise ValueError(f"unknown curve {name!r}; choose from {list(SERIES)}")
        if name not in curves:
            raise ValueError(f"curves has no {name!r}")
        v = np.asarray(curves[name], dtype=np.float64)
        if v.shape != step.shape:
            raise ValueError(f"curves[{name!r}] has shape {v.shape}, 'gen_step' has {step.shape}")
        ok = np.isfinite(v) & np.isfinite(step)
        label = SERIES[name][0]
        rows += [{"step": s, "series": label, "value": x} for s, x in zip(step[ok].tolist(), v[ok].tolist())]
    return rows


def _sizes(presenter: bool) -> dict:
    """Font sizes, stroke widths and point areas: larger for a projector."""
    return {"font": 16, "title": 20, "stroke": 3.0, "point": 80} if presenter else \
           {"font": 11, "title": 13, "stroke": 1.8, "point": 30}


def curves_spec(curves: dict, which: list[str], title: str, height: int = 220, presenter: bool = False,
                band: tuple[float, float, str] | None = None) -> dict:
    """A Vega-Lite v5 line chart of the named curves over the generator step.

    curves: {name: (T,) array} with "gen_step"; which: names from ``SERIES``. One
    colour per series, fixed across charts; series in ``MEASURED`` get points too.
    With a single series the y axis carries its label instead of a legend.
    band: (lo, hi, label), a shaded horizontal band behind the lines (e.g. the
    sampling floor of the exact W1), labelled at its left end.
    """
    which = [which] if isinstance(which, str) else list(which)
    if not which:
        raise ValueError("which must name at least one curve")
    sz, labels = _sizes(presenter), [SERIES[n][0] for n in which if n in SERIES]
    values = _records(curves, which)
    single = len(which) == 1
    color = {"field": "series", "type": "nominal", "title": None,
             "scale": {"domain": labels, "range": [SERIES[n][1] for n in which]},
             # long names one under another: side by side, a narrow chart (a projector's two columns) cut them
             "legend": None if single else {"orient": "bottom", "columns": 1 if max(map(len, labels)) > 16 else 2,
                                            "labelLimit": 0}}
    layers = [{"mark": {"type": "line", "strokeWidth": sz["stroke"], "clip": True}}]
    measured = [SERIES[n][0] for n in which if n in MEASURED]
    if measured:
        layers.append({"transform": [{"filter": {"field": "series", "oneOf": measured}}],
                       "mark": {"type": "point", "filled": True, "size": sz["point"], "opacity": 1}})
    if band is not None and all(math.isfinite(v) for v in band[:2]):
        lo, hi, text = float(band[0]), float(band[1]), str(band[2])
        layers.insert(0, {"data": {"values": [{"lo": lo, "hi": hi, "t": text}]}, "layer": [
            {"mark": {"type": "rect", "color": BAND_RGB, "opacity": 0.12},
             "encoding": {"y": {"field": "lo", "type": "quantitative"}, "y2": {"field": "hi"}, "x": {"value": 0},
                          "x2": {"value": "width"}, "color": {"value": BAND_RGB}, "tooltip": {"value": text}}},
            {"mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 4, "dy": -2,
                      "fontSize": sz["font"] - 1, "color": "#a34400"},
             "encoding": {"x": {"value": 0}, "y": {"field": "hi", "type": "quantitative"},
                          "text": {"field": "t"}, "color": {"value": "#a34400"}}}]})
    return {
        "$schema": SCHEMA, "autosize": {"type": "fit-x", "contains": "padding"},
        "title": {"text": title, "anchor": "start", "fontSize": sz["title"]},
        "width": "container", "height": int(height),
        "data": {"values": values},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "generator step", "axis": {"format": ",d"}},
            "y": {"field": "value", "type": "quantitative", "scale": {"zero": False},
                  "title": labels[0] if single else None},
            "color": color,
            "tooltip": [{"field": "series", "title": "curve"}, {"field": "step", "title": "step", "format": ","},
                        {"field": "value", "title": "value", "format": ".4~g"}],
        },
        "layer": layers,
        "config": {"axis": {"labelFontSize": sz["font"], "titleFontSize": sz["font"]},
                   "legend": {"labelFontSize": sz["font"]}, "view": {"stroke": None}},
    }
