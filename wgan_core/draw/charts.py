"""Training curves as Vega-Lite v5 specs, and the metrics as display rows.

Pure functions of a snapshot's plain data, returning plain dicts and strings:
``st.vega_lite_chart(curves_spec(...))`` draws them without altair (and its lock).
The data is embedded as ``{"values": [...]}`` records of plain floats; points
that were not measured (NaN) or are not finite are dropped, so the specs pass
``json.dumps(spec, allow_nan=False)``.

Curves (from the engine's snapshot, all over ``gen_step``):

critic loss
    The critic's objective, e.g. for WGAN :math:`\\mathbb{E} f(\\text{fake}) - \\mathbb{E} f(\\text{real})`.
W estimate
    :math:`\\mathbb{E} f(\\text{real}) - \\mathbb{E} f(\\text{fake})`, a lower bound on
    :math:`W_1` only while :math:`f` is 1-Lipschitz.
exact W1
    The optimal-transport distance between generated and real samples, measured
    every few steps (drawn as points joined by a line).
"""
from __future__ import annotations

import math

import numpy as np

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

# name in snapshot["curves"] -> (label, colour)
SERIES = {
    "critic_loss": ("critic loss", "#5e3c99"),
    "w_estimate": ("W estimate E[f(real)]−E[f(fake)]", "#01665e"),
    "exact_w1": ("exact W1 (optimal transport)", "#e66101"),
    "penalty": ("gradient penalty", "#b2182b"),
    "gen_loss": ("generator loss", "#2166ac"),
    "modes_covered": ("modes covered", "#1b7837"),
    "hq_fraction": ("high-quality share", "#8c510a"),
    "w_corrected": ("W estimate / max ‖∇f‖ (Lipschitz-corrected)", "#35978f"),
}
# Measured every few steps, not every step: drawn as points joined by a line.
MEASURED = ("exact_w1", "modes_covered", "hq_fraction", "w_corrected")


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


def curves_spec(curves: dict, which: list[str], title: str, height: int = 220, presenter: bool = False) -> dict:
    """A Vega-Lite v5 line chart of the named curves over the generator step.

    curves: {name: (T,) array} with "gen_step"; which: names from ``SERIES``. One
    colour per series, fixed across charts; series in ``MEASURED`` get points too.
    With a single series the y axis carries its label instead of a legend.
    """
    which = [which] if isinstance(which, str) else list(which)
    if not which:
        raise ValueError("which must name at least one curve")
    sz, labels = _sizes(presenter), [SERIES[n][0] for n in which if n in SERIES]
    values = _records(curves, which)
    single = len(which) == 1
    color = {"field": "series", "type": "nominal", "title": None,
             "scale": {"domain": labels, "range": [SERIES[n][1] for n in which]},
             "legend": None if single else {"orient": "bottom", "columns": 2, "labelLimit": 0}}
    layers = [{"mark": {"type": "line", "strokeWidth": sz["stroke"], "clip": True}}]
    measured = [SERIES[n][0] for n in which if n in MEASURED]
    if measured:
        layers.append({"transform": [{"filter": {"field": "series", "oneOf": measured}}],
                       "mark": {"type": "point", "filled": True, "size": sz["point"], "opacity": 1}})
    return {
        "$schema": SCHEMA, "autosize": {"type": "fit-x", "contains": "padding"},
        "title": {"text": title, "anchor": "start", "fontSize": sz["title"]},
        "width": "container", "height": int(height),
        "data": {"values": values},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "generator step"},
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


def _number(v) -> str:
    """A metric value for display: 3 decimals, thousands separators when large, NaN/inf spelled out."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}"


def metric_rows(snap: dict) -> list[tuple[str, str]]:
    """The snapshot's metrics as (label, text) rows; metrics not measured (None) are left out.

    E.g. ("steps (generator / critic)", "1,234 / 6,170"), ("exact W1", "0.432"),
    ("modes covered", "8 / 8"), ("high-quality share", "62%").
    """
    if not isinstance(snap, dict) or not isinstance(snap.get("metrics"), dict):
        raise ValueError("snapshot must be a dict with a 'metrics' dict")
    m = snap["metrics"]
    rows = [("steps (generator / critic)", f"{int(snap.get('gen_steps') or 0):,} / {int(snap.get('critic_steps') or 0):,}")]
    if snap.get("status") == "diverged":
        rows.append(("status", "diverged (NaN), paused"))
    for key, label in (("exact_w1", "exact W1"), ("w_estimate", "W estimate"),
                       ("w_corrected", "W estimate, Lipschitz-corrected"), ("max_grad_norm", "max critic gradient norm")):
        if m.get(key) is not None:
            rows.append((label, _number(m[key])))
    if m.get("modes_covered") is not None:
        total = m.get("modes_total")
        rows.append(("modes covered", f"{int(m['modes_covered'])}" + ("" if total is None else f" / {int(total)}")))
    if m.get("hq_fraction") is not None:
        v = float(m["hq_fraction"])
        rows.append(("high-quality share", f"{100 * v:.0f}%" if math.isfinite(v) else _number(v)))
    return rows
