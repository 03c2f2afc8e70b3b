"""The sensitivity grid, drawn in the browser: one tile per run, coloured by its outcome, with its samples.

The server sends compact data, not pictures (`payload`): per cell its heatmap value in
[0, 1] (`lessons.grid.Outcome.colour`), its text, its link to Train live and ~150 of
its generated points quantised to bytes (base64, ~400 characters a cell); the real
points once. ``grid.js`` lays the tiles out per objective (rows n_critic, columns
learning rate), colours them and draws the points on a small canvas per tile; a tile
is a link that opens its run in Train live in a new tab (this tab, and so the grid,
keeps training). The component keeps its DOM across fragment runs and redraws a tile's
canvas only when its points changed.

The DOM (``div.em-grid``) carries ``data-feeds`` (payloads received) and
``data-filled`` (tiles with a value); each tile ``a.em-tile`` has ``data-key`` and
``data-v`` (its value, "" before the first), for tests.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.lessons import grid as G

_HERE = Path(__file__).parent
N_POINTS = 150                 # generated points per tile (the first of the run's fixed noise batch)
N_REAL = 400                   # real points, drawn faintly under every tile's
NAME = "earthmover_grid"
_component = st.components.v2.component(NAME, js=(_HERE / "grid.js").read_text(),
                                        css=(_HERE / "grid.css").read_text(), isolate_styles=False)


def quantise(points: np.ndarray, extent) -> str:
    """(n, 2) points in ``extent`` (x0, x1, y0, y1) as base64 bytes x0 y0 x1 y1 ... (0..255 across the
    extent; points outside are clamped to its edge)."""
    x0, x1, y0, y1 = (float(e) for e in extent)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    q = np.column_stack([(p[:, 0] - x0) / (x1 - x0), (p[:, 1] - y0) / (y1 - y0)])
    q = np.nan_to_num(q, nan=0.5, posinf=1.0, neginf=0.0)
    return base64.b64encode(np.clip(np.round(q * 255), 0, 255).astype(np.uint8).tobytes()).decode()


def tile(cell: G.Cell, o: G.Outcome | None, colour: str, href: str, pts: str | None, steps: int) -> dict:
    """One tile's data: value, headline (the colour's quantity), the other two numbers, tooltip, progress."""
    v = None if o is None else o.colour(colour)
    texts = (o or G.Outcome(steps=0)).texts()
    small = [f"{texts['modes']} modes", f"hq {texts['hq']}", f"W1 {texts['w1']}"]
    small = [t for q, t in zip(G.COLOURS, small) if q != colour]
    lines = (o or G.Outcome(steps=0)).lines()
    state = "waiting" if o is None else ("done" if o.steps >= steps else o.status if o.status != "ok" else "training")
    tip = (f"{OBJECTIVES[cell.method].short}, lr {cell.lr:g}, n_critic {cell.n_critic}: "
           + ("no snapshot yet" if o is None else f"step {o.steps:,} of {steps:,}; " + "; ".join(lines))
           + ". Click: open this run in Train live (new tab).")
    return {"key": cell.key, "v": v, "big": texts[colour], "small": small, "tip": tip, "href": href,
            "pts": pts, "progress": 0.0 if o is None else min(1.0, o.steps / steps), "state": state}


def payload(cells: list[G.Cell], outcomes: dict, colour: str, hrefs: dict, points: dict, real: str | None,
            steps: int, floor: tuple[float, float] | None) -> dict:
    """Everything the browser draws, as JSON: panels (objectives), columns (learning rates), rows (n_critic),
    the legend of the colour, the real points and one `tile` per cell."""
    methods = list(dict.fromkeys(c.method for c in cells))
    lrs = sorted({c.lr for c in cells})
    ncs = sorted({c.n_critic for c in cells})
    k = next((o.modes_total for o in outcomes.values() if o is not None and o.modes_total), None)
    legend = {"modes": ("modes covered", "none", f"all {k}" if k else "all"),
              "hq": ("high-quality share", "0 %", "100 %"),
              "w1": ("exact W1 against its floor", f"{G.W1_DECADE:g}× the floor", "at the floor")}[colour]
    note = f"floor (two real samples): {floor[0]:.2f}–{floor[1]:.2f}" if floor else ""
    return {"panels": [{"method": m, "title": OBJECTIVES[m].short} for m in methods],
            "cols": [f"{lr:g}" for lr in lrs], "rows": [str(n) for n in ncs],
            "legend": {"title": legend[0], "low": legend[1], "high": legend[2], "note": note},
            "real": real,
            "tiles": [{**tile(c, outcomes.get(c), colour, hrefs[c], points.get(c), steps),
                       "panel": methods.index(c.method), "row": ncs.index(c.n_critic), "col": lrs.index(c.lr)}
                      for c in cells]}


def grid_view(data: dict, *, key: str) -> None:
    """Mount (first call) or update (later calls, same ``key``) the grid with one `payload`."""
    _component(data=data, key=key)
