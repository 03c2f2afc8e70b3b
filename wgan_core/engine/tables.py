"""A run's curves as tables: the columns, the evaluation table of any checkpoint's age, decimated curves.

``stats`` (one row per generator step: gen_step, *STATS) and ``evals`` (one row per full snapshot:
gen_step, *EVALS) are a run's `CurveBuffer`s (`trainer.Run`); `curves` merges them into the columns a
chart draws, each at most MAX_CURVE_POINTS rows; `last_measured` reads a snapshot's newest value of one.
A critic-free run (objective "ot") has no critic: its critic_loss, w_estimate and penalty are NaN.
"""
from __future__ import annotations

import math

import numpy as np

from wgan_core.engine.curve_buffer import CurveBuffer, weighted_merge

STATS = ("critic_loss", "w_estimate", "penalty", "gen_loss")       # per training step; w_estimate: the batch's
EVALS = ("exact_w1", "modes_covered", "hq_fraction", "w_corrected",  # per full snapshot; w_corrected: c-transform
         "critic_w1_estimate", "lipschitz_bound", "modes_visited", "precision", "recall")
LEGACY_EVALS = 4       # checkpoints from before had EVALS[:4], their w_corrected a batch estimate / sampled slope
MAX_CURVE_POINTS = 400


def _decimate(rows: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """At most n rows: weighted bin means of consecutive rows (`curve_buffer.weighted_merge`; the step
    column is averaged too, NaN skipped)."""
    if len(rows) <= n:
        return rows
    return weighted_merge(rows, w, np.linspace(0, len(rows), n + 1).astype(int)[:-1])[0]


def eval_table(rows) -> np.ndarray:
    """Evaluation rows (a `CurveBuffer`, an array or a list) as one (T, 1 + len(EVALS)) table; rows of an
    older checkpoint (gen_step and EVALS[:LEGACY_EVALS]) are widened with NaN, and their w_corrected
    (then: batch estimate / sampled slope, no bound) is dropped to NaN rather than shown as the bound."""
    if isinstance(rows, CurveBuffer):
        rows = rows.rows
    width = 1 + len(EVALS)
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.shape[1] in (width, 1 + LEGACY_EVALS):
        table = np.full((len(rows), width), np.nan)
        table[:, :rows.shape[1]] = rows
        if rows.shape[1] != width:
            table[:, LEGACY_EVALS:] = np.nan                                    # gen_step .. hq_fraction kept
        return table
    table = np.full((len(rows), width), np.nan)
    for j, row in enumerate(rows):
        row = np.asarray(row, dtype=np.float64)
        if len(row) == width:
            table[j] = row
        elif len(row) == 1 + LEGACY_EVALS:
            table[j, :LEGACY_EVALS] = row[:LEGACY_EVALS]                      # gen_step .. hq_fraction
        else:
            raise ValueError(f"an evaluation row has {len(row)} values, expected {width}")
    return table


def _weighted(rows, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows (T, width), weights (T,)) of a `CurveBuffer`, or of a plain list of rows (weights 1)."""
    if isinstance(rows, CurveBuffer) and rows.width == width:
        return rows.rows, rows.weights
    table = eval_table(rows) if width == 1 + len(EVALS) else np.array(rows, dtype=np.float64).reshape(-1, width)
    return table, np.ones(len(table))


def curves(r) -> dict[str, np.ndarray]:
    """Training curves over generator steps merged with the evaluation points, each decimated to at most
    MAX_CURVE_POINTS rows (weighted bin means; the run's `CurveBuffer` holds at most CURVE_ROWS rows, so
    the cost does not grow with the run's length)."""
    st = _decimate(*_weighted(r.stats, 1 + len(STATS)), MAX_CURVE_POINTS)
    ev = _decimate(*_weighted(r.evals, 1 + len(EVALS)), MAX_CURVE_POINTS)
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


def last_measured(snap: dict, name: str) -> float | None:
    """The newest finite value of an evaluation curve (exact W1 is measured at most once a second,
    so the newest snapshot may not carry one); the snapshot's own metric first."""
    value = snap["metrics"].get(name)
    if value is not None and np.isfinite(value):
        return float(value)
    cv = np.asarray(snap.get("curves", {}).get(name, []), dtype=float)
    cv = cv[np.isfinite(cv)]
    return float(cv[-1]) if len(cv) else None
