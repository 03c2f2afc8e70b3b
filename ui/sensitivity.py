"""The Sensitivity page's glue: its grid in this session, the browser's data, the progress line, the buttons.

The grid's runs live in the session (`session.SessionRuns.open_grid`); this module
finds the grid that matches the page's settings (`current`), reads the cells'
snapshots into outcomes and compact points (`read`: each cell's points are decoded
from its newest frame once per frame, kept in the session), and words the progress
(`progress_line`: steps done, the measured rate, the time left).
"""
from __future__ import annotations

import time
import urllib.parse

import streamlit as st

from ui import grid_view, run_view, session
from wgan_core.engine.config import TrainConfig
from wgan_core.lessons import grid as G
from wgan_core.serve.grid import GridRefused, GridRuns

LINK_PAGE = "train_live"          # a tile opens its run there (Train live reads every TrainConfig field)


def link(cfg: TrainConfig) -> str:
    """Train live with this run's full config and seed: the engine is deterministic per seed, so the link
    replays the cell's run step by step (relative, so it works under any base path)."""
    return f"{LINK_PAGE}?{urllib.parse.urlencode(cfg.to_query())}"


def current(cfgs: dict[G.Cell, TrainConfig], steps: int) -> GridRuns | None:
    """This session's grid if it trains exactly these configs for these steps; a grid of other settings
    (the data, seed or budget changed) is closed."""
    book = session.runs()
    g = book.grid
    if g is None:
        return None
    if g.steps == steps and set(g.handles) == set(cfgs) and all(h.config == cfgs[c] for c, h in g.handles.items()):
        return g
    book.close_grid()
    return None


# --------------------------------------------------------------------------- the buttons (callbacks)
def start(ns: str, cfgs: dict[G.Cell, TrainConfig], steps: int) -> None:
    """Start (or go on with) the grid; a server without a place for it says so (``{ns}.refused``)."""
    run_view.wake(ns)
    try:
        g = current(cfgs, steps) or session.runs().open_grid(cfgs, steps)
        g.play(True)
    except GridRefused as err:
        st.session_state[f"{ns}.refused"] = str(err)


def pause(ns: str, cfgs: dict[G.Cell, TrainConfig], steps: int) -> None:
    run_view.wake(ns)
    if (g := current(cfgs, steps)) is not None:
        g.play(False)


def clear(ns: str) -> None:
    """Close the grid (its runs and its place on the server); Start makes a fresh one at step 0."""
    run_view.wake(ns)
    session.runs().close_grid()
    for k in ("rate", "gid", "rids"):
        st.session_state.pop(f"{ns}.{k}", None)


# --------------------------------------------------------------------------- reading the grid
def read(ns: str, g: GridRuns | None, cells: list[G.Cell]) -> tuple[dict, dict, str | None, tuple | None]:
    """(outcomes, points, real, floor): each cell's `lessons.grid.Outcome` (None before its first snapshot),
    its first ``grid_view.N_POINTS`` generated points as quantised bytes, the real points (once) and
    the W1 floor of the data."""
    outcomes = {c: None for c in cells}
    points, real, floor = {}, None, None
    if g is None:
        return outcomes, points, real, floor
    kept = st.session_state.setdefault(f"{ns}.pts", {})             # rid -> ((serial, version), base64)
    for c, h in g.handles.items():
        snap = h.snapshot()
        outcomes[c] = o = G.outcome(snap)
        if snap is None or snap.get("frame") is None:
            continue
        floor = floor or o.floor
        tag = (snap.get("serial"), snap.get("version"))
        if kept.get(h.rid, (None,))[0] != tag:
            arr = h.arrays()
            kept[h.rid] = (tag, grid_view.quantise(arr["fake"][:grid_view.N_POINTS], snap["extent"]))
        points[c] = kept[h.rid][1]
        if real is None and snap.get("real") is not None:
            real = grid_view.quantise(snap["real"][:grid_view.N_REAL], snap["extent"])
    for rid in set(kept) - {h.rid for h in g.handles.values()}:
        del kept[rid]
    return outcomes, points, real, floor


def progress_line(ns: str, g: GridRuns | None, n_cells: int, steps: int) -> tuple[float, str]:
    """(fraction done, the sentence): steps done per cell, the measured rate and the time left."""
    if g is None:
        return 0.0, f"{n_cells} runs × {steps:,} generator steps each: press **Start**."
    done = g.steps_done() / max(1, len(g.handles))                   # mean steps per cell
    rate = st.session_state.setdefault(f"{ns}.rate", G.Rate())
    if g.playing:
        rate.add(time.monotonic(), done)
    if g.finished():
        return 1.0, f"Finished: every run trained {steps:,} generator steps."
    left = G.eta_s(done, steps, rate.rate()) if g.playing else None
    eta = "" if left is None else f" · about {_duration(left)} left at {rate.rate():.1f} steps/s per run"
    state = "training" if g.playing else "paused"
    return done / steps, f"{state}: step {done:,.0f} of {steps:,} per run on average ({n_cells} runs){eta}"


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min"
