"""The 1D lessons' charts as plain Vega-Lite v5 dicts (``st.vega_lite_chart`` draws them without
altair's lock): pure functions of the data that :mod:`wgan_core.lessons1d` computes.

Data travel as named datasets of float32 columns: small messages, and a chart redrawn with new data
but the same spec updates in place instead of flashing.
"""
from __future__ import annotations

import numpy as np

COLORS = {"p": "#01665e", "q": "#e66101", "critic": "#5e3c99", "JS": "#c51b7d", "KL": "#737373",
          "TV": "#b8860b", "W1": "#2166ac"}           # p/real and q/fake as in wgan_core.render
_CONFIG = {"axis": {"labelFontSize": 13, "titleFontSize": 14, "gridOpacity": 0.5},
           "legend": {"labelFontSize": 13, "orient": "top", "title": None, "symbolStrokeWidth": 3,
                      "labelLimit": 320},
           "title": {"fontSize": 15, "anchor": "start", "fontWeight": "normal"}, "view": {"stroke": None}}
_Q = {"type": "quantitative"}


def _col(a) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(np.float32) if a.dtype.kind == "f" else a


def vl(layers: list[dict], datasets: dict[str, dict], height: int = 300, **top) -> dict:
    """A layered spec over named ``datasets`` (dicts of equal-length columns)."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "height": height,
            "datasets": {k: {c: _col(v) for c, v in d.items()} for k, d in datasets.items()},
            "layer": layers, "config": _CONFIG, **top}


def color(domain: list[str], keys: list[str] | None = None) -> dict:
    """Colour by the field ``key`` with the lesson colours; ``keys`` name the COLORS entries."""
    return {"field": "key", "type": "nominal", "title": None, "sort": domain,
            "scale": {"domain": domain, "range": [COLORS[k] for k in (keys or domain)]}}


def _x(lo: float, hi: float, field: str = "x", title: str = "x") -> dict:
    return {"field": field, "type": "quantitative", "title": title, "scale": {"domain": [lo, hi], "nice": False}}


def _label(expr: str) -> dict:
    return {"calculate": expr, "as": "key"}


# Why GANs fail
def lines_spec(theta: float) -> dict:
    """The two segments P0 = (0, U[0,1]) and P_theta = (theta, U[0,1]), and the gap |theta| between them."""
    x = _x(-1.2, 1.2)
    seg = {"x": [0, 0, theta, theta], "y": [0, 1, 0, 1], "who": [0, 0, 1, 1]}
    gap = {"x": [0.0], "x2": [theta], "mid": [theta / 2], "y": [-0.1]}
    return vl([
        {"data": {"name": "seg"}, "mark": {"type": "line", "strokeWidth": 7, "strokeCap": "round"},
         "transform": [_label("datum.who ? 'generated Pθ' : 'real P₀'")],
         "encoding": {"x": x, "y": {**_Q, "field": "y", "title": "z", "scale": {"domain": [-0.25, 1.05]}},
                      "color": color(["real P₀", "generated Pθ"], ["p", "q"]), "detail": {"field": "who"}}},
        {"data": {"name": "gap"}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
         "encoding": {"x": x, "x2": {"field": "x2"}, "y": {**_Q, "field": "y"}}},
        {"data": {"name": "gap"}, "mark": {"type": "text", "dy": 13, "fontSize": 14},
         "encoding": {"x": {**x, "field": "mid"}, "y": {**_Q, "field": "y"},
                      "text": {"value": f"|θ| = {abs(theta):.2f}"}}},
    ], {"seg": seg, "gap": gap}, height=380)


def divergences_spec(theta: float, now: dict, curves: dict, kl_cap: float) -> dict:
    """JS, KL (clipped at ``kl_cap``), TV and W1 against theta (``curves``: lessons1d.parallel_lines_curves),
    the current theta marked (``now``: theory.parallel_lines)."""
    th = {"field": "theta", "type": "quantitative", "title": "θ"}
    names = ["JS", "KL", "TV", "W1"]
    pts = {"theta": [theta] * 4, "value": [now["js"], min(now["kl"], kl_cap), now["tv"], now["w1"]],
           "k": [0, 1, 2, 3]}
    return vl([
        {"data": {"name": "c"}, "mark": {"type": "line", "strokeWidth": 3}, "transform": [{"fold": names}],
         "encoding": {"x": th, "y": {**_Q, "field": "value", "title": "value", "scale": {"domain": [0, 1.4]}},
                      "color": color(names), "detail": {"field": "side"}}},
        {"data": {"values": [{"theta": 0, "value": 0}]}, "mark": {"type": "point", "filled": True, "size": 90,
                                                                  "color": "black"},
         "encoding": {"x": th, "y": {**_Q, "field": "value"}}},
        {"data": {"values": [{"theta": -0.97, "value": kl_cap}]},
         "mark": {"type": "text", "align": "left", "dy": -10, "fontSize": 13, "color": COLORS["KL"]},
         "encoding": {"x": th, "y": {**_Q, "field": "value"}, "text": {"value": "KL = ∞ (drawn clipped)"}}},
        {"data": {"name": "now"}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#555"},
         "encoding": {"x": th}},
        {"data": {"name": "now"}, "mark": {"type": "point", "filled": True, "size": 110},
         "transform": [_label("['JS', 'KL', 'TV', 'W1'][datum.k]")],
         "encoding": {"x": th, "y": {**_Q, "field": "value"}, "color": color(names)}},
    ], {"c": curves, "now": pts}, height=380,
        title="All four are 0 at θ = 0 (black dot); off 0 only W1 = |θ| changes")


def discriminator_spec(g: dict) -> dict:
    """Real and fake densities (left axis) and the optimal discriminator D* (right axis), from gaussians_view."""
    x, keys = _x(g["x"][0], g["x"][-1]), ["real p", "fake q", "D*(x)"]
    return vl([
        {"data": {"name": "g"}, "mark": {"type": "area", "opacity": 0.45},
         "transform": [{"fold": ["p", "q"]}, _label("datum.key == 'p' ? 'real p' : 'fake q'")],
         "encoding": {"x": x, "y": {**_Q, "field": "value", "title": "density", "stack": None},
                      "color": color(keys, ["p", "q", "critic"])}},
        {"data": {"name": "g"}, "mark": {"type": "line", "strokeWidth": 3}, "transform": [_label("'D*(x)'")],
         "encoding": {"x": x, "y": {**_Q, "field": "d_star", "title": "D*(x)", "scale": {"domain": [0, 1]}},
                      "color": color(keys, ["p", "q", "critic"])}},
    ], {"g": {k: g[k] for k in ("x", "p", "q", "d_star")}}, height=360, title="The optimal discriminator",
        resolve={"scale": {"y": "independent"}})


def push_spec(g: dict) -> dict:
    """The push a fake point at x gets, GAN (|d/dx log(1 - D*)|) vs WGAN (|f*'|), over the fake density."""
    x, keys = _x(g["x"][0], g["x"][-1]), ["GAN: |∂x log(1 − D*)|", "WGAN: |f*′|"]
    data = {"x": g["x"], "gan": g["gan"], "wgan": np.full_like(g["x"], g["wgan_push"]), "qs": g["q"] / g["q"].max()}
    return vl([
        {"data": {"name": "g"}, "mark": {"type": "area", "opacity": 0.25, "color": COLORS["q"]},
         "encoding": {"x": x, "y": {**_Q, "field": "qs"}}},
        {"data": {"name": "g"}, "mark": {"type": "line", "strokeWidth": 3, "clip": True},
         "transform": [{"fold": ["gan", "wgan"]}, _label(f"datum.key == 'gan' ? '{keys[0]}' : '{keys[1]}'")],
         "encoding": {"x": x, "y": {**_Q, "field": "value", "title": "push on a point at x",
                                    "scale": {"domain": [0, 2.5]}}, "color": color(keys, ["JS", "W1"])}},
    ], {"g": data}, height=360, title="Push where the fake points are (shaded)")


def push_curve_spec(curve: dict, m: float, g: dict) -> dict:
    """Mean push against the distance m (push_vs_distance), the current m marked."""
    mx, keys = {"field": "m", "type": "quantitative", "title": "distance m"}, ["GAN", "WGAN"]
    fold = [{"fold": ["gan", "wgan"]}, _label("datum.key == 'gan' ? 'GAN' : 'WGAN'")]
    return vl([
        {"data": {"name": "c"}, "mark": {"type": "line", "strokeWidth": 3}, "transform": fold,
         "encoding": {"x": mx, "y": {**_Q, "field": "value", "title": "mean push"},
                      "color": color(keys, ["JS", "W1"])}},
        {"data": {"name": "now"}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#555"},
         "encoding": {"x": mx}},
        {"data": {"name": "now"}, "mark": {"type": "point", "filled": True, "size": 90}, "transform": fold,
         "encoding": {"x": mx, "y": {**_Q, "field": "value"}, "color": color(keys, ["JS", "W1"])}},
    ], {"c": curve, "now": {"m": [m], "gan": [g["gan_push"]], "wgan": [g["wgan_push"]]}}, height=360,
        title="Mean push vs distance m")


def modes_spec(step: np.ndarray, modes: np.ndarray, total: int) -> dict:
    """Modes covered against the generator step."""
    return vl([{"data": {"name": "c"}, "mark": {"type": "line", "point": True},
                "encoding": {"x": {**_Q, "field": "step", "title": "generator step"},
                             "y": {**_Q, "field": "modes", "title": "modes covered",
                                   "scale": {"domain": [0, total]}}}}],
              {"c": {"step": step, "modes": modes}}, height=200)


# Wasserstein in 1D
def densities_spec(x: np.ndarray, p: np.ndarray, q: np.ndarray, height: int = 200, **top) -> dict:
    """The two densities as shaded areas."""
    return vl([{"data": {"name": "d"}, "mark": {"type": "area", "opacity": 0.35}, "transform": [{"fold": ["p", "q"]}],
                "encoding": {"x": _x(x[0], x[-1], title=None), "color": color(["p", "q"]),
                             "y": {**_Q, "field": "value", "title": "density", "stack": None}}}],
              {"d": {"x": x, "p": p, "q": q}}, height=height, **top)


def cdf_spec(x: np.ndarray, fp: np.ndarray, fq: np.ndarray, lo: float, hi: float, steps: bool) -> dict:
    """Both CDFs and the area between them shaded (step functions when ``steps``: empirical CDFs)."""
    interp, xe = ("step-after" if steps else "linear"), _x(lo, hi)
    return vl([
        {"data": {"name": "c"}, "mark": {"type": "area", "opacity": 0.35, "color": COLORS["critic"],
                                          "interpolate": interp},
         "encoding": {"x": xe, "y": {**_Q, "field": "Fp", "title": "F(x)"}, "y2": {"field": "Fq"}}},
        {"data": {"name": "c"}, "mark": {"type": "line", "strokeWidth": 2.5, "interpolate": interp},
         "transform": [{"fold": ["Fp", "Fq"]}, _label("datum.key == 'Fp' ? 'p' : 'q'")],
         "encoding": {"x": xe, "y": {**_Q, "field": "value"}, "color": {**color(["p", "q"]), "legend": None}}},
    ], {"c": {"x": x, "Fp": fp, "Fq": fq}}, height=340, title="The shaded area between the two CDFs is W1")


def plan_spec(x: np.ndarray, p: np.ndarray, q: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> dict:
    """p's density on top, q's hanging below, and arrows from p's quantiles to q's."""
    xe, top = _x(x[0], x[-1]), 1.15 * max(p.max(), q.max())
    return vl([
        {"data": {"name": "d"}, "mark": {"type": "area", "opacity": 0.4, "color": COLORS["p"]},
         "transform": [{"calculate": f"1.05 + 0.8 * datum.p / {top}", "as": "y"}],
         "encoding": {"x": xe, "y": {**_Q, "field": "y", "axis": None}, "y2": {"datum": 1.05}}},
        {"data": {"name": "d"}, "mark": {"type": "area", "opacity": 0.4, "color": COLORS["q"]},
         "transform": [{"calculate": f"-0.05 - 0.8 * datum.q / {top}", "as": "y"}],
         "encoding": {"x": xe, "y": {**_Q, "field": "y"}, "y2": {"datum": -0.05}}},
        {"data": {"name": "a"}, "mark": {"type": "rule", "strokeWidth": 1.6, "color": "#444", "opacity": 0.8},
         "encoding": {"x": {**xe, "field": "x0"}, "x2": {"field": "x1"}, "y": {"datum": 1}, "y2": {"datum": 0}}},
        {"data": {"name": "a"}, "mark": {"type": "point", "shape": "triangle-down", "filled": True, "size": 60,
                                          "color": "#444"},
         "encoding": {"x": {**xe, "field": "x1"}, "y": {"datum": 0.02}}},
    ], {"d": {"x": x, "p": p, "q": q}, "a": {"x0": a0, "x1": a1}}, height=340,
        title=f"p (top) → q (bottom): {a0.size} arrows, quantile to quantile")


def earth_spec(x: np.ndarray, p: np.ndarray, q: np.ndarray, now: dict) -> dict:
    """The grains (sand_at) between the outlines of p and q, on fixed axes so that only the grains move."""
    xe, ye = _x(x[0], x[-1]), {**_Q, "title": "density", "scale": {"domain": [0, 1.1 * max(p.max(), q.max())]}}
    ways = ["moves left", "moves right"]
    return vl([
        {"data": {"name": "d"}, "mark": {"type": "line", "strokeWidth": 2}, "transform": [{"fold": ["p", "q"]}],
         "encoding": {"x": xe, "y": {**ye, "field": "value"}, "color": color(["p", "q"])}},
        {"data": {"name": "g"}, "mark": {"type": "circle", "size": 28, "opacity": 0.85},
         "transform": [{"calculate": "datum.right ? 'moves right' : 'moves left'", "as": "way"}],
         "encoding": {"x": xe, "y": {**ye, "field": "y"},
                      "color": {"field": "way", "type": "nominal", "title": None, "sort": ways,
                                "scale": {"domain": ways, "range": [COLORS["JS"], COLORS["W1"]]}}}},
    ], {"d": {"x": x, "p": p, "q": q}, "g": {k: now[k] for k in ("x", "y", "right")}}, height=340,
        resolve={"scale": {"color": "independent"}}, title="The earth of p moving into the shape of q")


def critic_spec(x: np.ndarray, p: np.ndarray, q: np.ndarray, fx: np.ndarray, fstar: np.ndarray,
                learned: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """The optimal critic f* (dashed) and a learned critic (purple) over the densities (own hidden axis)."""
    xe = _x(x[0], x[-1])
    crit = [{"data": {"name": "f"}, "mark": {"type": "line", "strokeDash": [6, 4], "color": "#222", "strokeWidth": 2},
             "encoding": {"x": xe, "y": {**_Q, "field": "f", "title": "critic f(x)"}}}]
    data = {"d": {"x": x, "p": p, "q": q}, "f": {"x": fx, "f": fstar}}
    if learned is not None:
        crit.append({"data": {"name": "l"}, "mark": {"type": "line", "strokeWidth": 3, "color": COLORS["critic"]},
                     "encoding": {"x": xe, "y": {**_Q, "field": "f"}}})
        data["l"] = {"x": learned[0], "f": learned[1]}
    dens = {"data": {"name": "d"}, "mark": {"type": "area", "opacity": 0.25}, "transform": [{"fold": ["p", "q"]}],
            "encoding": {"x": xe, "y": {**_Q, "field": "value", "axis": None, "stack": None},
                         "color": color(["p", "q"])}}
    title = "The optimal critic (dashed)" + ("" if learned is None else " and the trained one (purple)")
    return vl([dens, {"layer": crit}], data, height=360, resolve={"scale": {"y": "independent"}}, title=title)


def gap_spec(traj: dict, upto: int) -> dict:
    """The critic's raw and penalty-adjusted gap up to step ``upto``, against the target W1 (dual_trajectory)."""
    keys, w, lam = ["raw gap", "penalty-adjusted gap", "W1"], traj["w1"], traj["lam"]
    top = 1.2 * max(w + w * w / (2 * lam), float(np.max(traj["gap"])), 1e-3)
    return vl([
        {"data": {"name": "g"}, "mark": {"type": "line", "strokeWidth": 2.5},
         "transform": [{"filter": f"datum.step <= {upto}"}, {"fold": ["raw", "adjusted"]},
                       _label("datum.key == 'raw' ? 'raw gap' : 'penalty-adjusted gap'")],
         "encoding": {"x": {**_Q, "field": "step", "title": "critic step",
                            "scale": {"domain": [0, float(traj["step"][-1])]}},
                      "y": {**_Q, "field": "value", "title": "E_p f − E_q f", "scale": {"domain": [0, top]}},
                      "color": color(keys, ["critic", "p", "W1"])}},
        {"data": {"values": [{"w": w, "key": "W1"}]}, "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 2},
         "encoding": {"y": {**_Q, "field": "w"}, "color": color(keys, ["critic", "p", "W1"])}},
    ], {"g": {"step": traj["step"], "raw": traj["gap"], "adjusted": traj["adjusted"]}}, height=360,
        title=f"The critic's gap climbing to W1 (critic step {upto})")
