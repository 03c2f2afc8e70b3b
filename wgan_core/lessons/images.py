r"""The Images lesson's engine side: image presets, snapshot vectors as pictures, a quality score.

The same WGAN-GP as on the 2D sets, on scikit-learn's 8x8 handwritten digits
(`datasets.digits`, 64-d vectors in [-1, 1]): an MLP generator
:math:`G: \mathbb{R}^{z} \to \mathbb{R}^{64}` and an MLP critic
:math:`f: \mathbb{R}^{64} \to \mathbb{R}`, trained on

.. math::
    L_C = \mathbb{E}[f(G(z))] - \mathbb{E}[f(x)]
          + \lambda\, \mathbb{E}_{\hat x}\big[(\lVert \nabla f(\hat x) \rVert - 1)^2\big],
    \qquad L_G = -\mathbb{E}[f(G(z))]

so :math:`\mathbb{E} f(x) - \mathbb{E} f(G(z))` estimates W1 between the
distributions of real and generated pictures, with Euclidean distance between
64-pixel vectors as ground cost.

Quality score (`quality`), a nearest-neighbour proxy with no classifier to
train. The 1,797 digits are split once (fixed seed) into a *reference* set R
(1,297) and a *held-out* set H (500). For a picture x let
:math:`d(x) = \min_{r \in R} \lVert x - r \rVert_2` (pixels in [0, 1]) and
:math:`\ell(x)` the label of that nearest reference digit. For generated
pictures :math:`x_1..x_n`:

- ``nn_ratio`` :math:`= \overline{d(x_i)} / \overline{d(h)}_{h \in H}`: how far
  generated digits lie from the nearest real one, relative to how far real
  digits lie from each other. About 1 for real digits, about 3.4 for uniform
  noise; below 1 means closer than typical (a memorised digit gives 0).
- ``recognisable``: the share of :math:`x_i` with :math:`d(x_i) \le q_{90}`,
  the 90th percentile of :math:`d` over H: "as close to some real digit as 90 %
  of real digits are". About 0.9 for real digits, 0 for noise.
- ``classes``: how many of the 10 digit classes occur among the labels
  :math:`\ell(x_i)` of the recognisable pictures (diversity; mode collapse
  shows as few classes).

Limits: Euclidean distance on 8x8 pixels rewards blurry averages too (a
class's mean image is close to many of its members), so the score is a proxy
to read beside the pictures, not a replacement for looking at them.
"""
from __future__ import annotations

import functools
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from wgan_core.engine.config import TrainConfig

ASSET = Path(__file__).resolve().parents[2] / "assets" / "digits.npz"
N_HELD_OUT = 500
SPLIT_SEED = 0
RECOGNISABLE_Q = 90            # percentile of held-out nearest-neighbour distances

# Image presets: complete TrainConfigs on data="digits". Both share one network
# (MLPs of 2 hidden layers of 128 units, z in R^8, batch 64, lambda 10, n_critic 5,
# Adam betas (0.5, 0.9)); only the learning rate differs, so a class can compare them.
# "fast" was tuned on 2 CPU cores against widths 128-512, depths 2-3, z 8-16, batch 64-128,
# lr 1e-4..2e-3 and beta1 0 or 0.5, by generator steps to a recognisable share: with it
# half of the digits are recognisable after ~1,000 steps and ~3/4 after 2,000 (two
# seeds), at ~2.5x the steps per second of width 256. "seed" keeps the seed notebook's
# WGAN-GP learning rate (Adam 1e-4).
_NET = dict(loss="wgan-gp", data="digits", width=128, depth=2, act_g="relu", act_c="leaky_relu", z_dim=8,
            batch=64, optimizer="adam", beta1=0.5, beta2=0.9, n_critic=5, lam=10.0, seed=0)
IMAGE_PRESETS: dict[str, TrainConfig] = {
    "fast": TrainConfig(lr_c=2e-3, lr_g=2e-3, **_NET),
    "seed": TrainConfig(lr_c=1e-4, lr_g=1e-4, **_NET),
}
PRESET_LABELS = {"fast": "Fast: Adam 2e-3 (tuned for 2 CPU cores)", "seed": "Seed notebook: Adam 1e-4"}


def to_images(vectors) -> np.ndarray:
    """(N, 64) vectors in [-1, 1] -> (N, 8, 8) pictures in [0, 1] (clipped: the generator is unbounded)."""
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 64:
        raise ValueError(f"expected (N, 64) vectors, got shape {x.shape}")
    return np.clip((np.nan_to_num(x, nan=-1.0) + 1) / 2, 0, 1).reshape(len(x), 8, 8)


@functools.lru_cache(maxsize=1)
def digits_split() -> dict[str, np.ndarray]:
    """The fixed reference / held-out split: pictures (N, 64) in [0, 1] and labels (N,)."""
    d = np.load(ASSET)
    x = d["images"].reshape(len(d["images"]), 64).astype(np.float32) / 16.0
    y = d["labels"].astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    ref, held = order[N_HELD_OUT:], order[:N_HELD_OUT]
    out = {"ref": x[ref], "ref_labels": y[ref], "held": x[held], "held_labels": y[held]}
    d_held, _ = _nearest(out["held"], out["ref"])
    out["held_mean"] = np.float64(d_held.mean())
    out["held_q"] = np.float64(np.percentile(d_held, RECOGNISABLE_Q))
    for v in out.values():
        v.setflags(write=False)
    return out


def _nearest(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance (N,) from each row of x to its nearest row of ref, and that row's index."""
    d2 = (x * x).sum(1)[:, None] - 2 * x @ ref.T + (ref * ref).sum(1)[None, :]   # (N, M)
    idx = d2.argmin(1)
    return np.sqrt(np.maximum(d2[np.arange(len(x)), idx], 0.0)), idx


def quality(pictures) -> dict:
    """Nearest-neighbour quality of pictures (N, 64) or (N, 8, 8) in [0, 1] (see the module doc).

    Returns ``nn_ratio`` (about 1 for real digits), ``recognisable`` (share in
    [0, 1], about 0.9 for real digits), ``classes`` (0..10, among recognisable
    pictures), ``class_counts`` (10,), ``n``. About 1 ms for 64 pictures.
    """
    x = np.asarray(pictures, dtype=np.float32).reshape(len(pictures), -1)
    if x.shape[1] != 64 or len(x) == 0:
        raise ValueError(f"expected N >= 1 pictures of 64 pixels, got shape {np.shape(pictures)}")
    x = np.clip(np.nan_to_num(x, nan=0.0), 0, 1)
    s = digits_split()
    d, idx = _nearest(x, s["ref"])
    ok = d <= s["held_q"]
    counts = np.bincount(s["ref_labels"][idx[ok]], minlength=10)
    return {"nn_ratio": float(d.mean() / s["held_mean"]), "recognisable": float(ok.mean()),
            "classes": int((counts > 0).sum()), "class_counts": counts, "n": len(x)}


def real_row() -> np.ndarray:
    """One typical held-out real digit of each class 0..9, (10, 8, 8) in [0, 1], for comparison.

    Typical: of the held-out digits of class k whose nearest reference digit is
    also a k, the one nearest to it.
    """
    s = digits_split()
    d, idx = _nearest(s["held"], s["ref"])
    same = s["ref_labels"][idx] == s["held_labels"]
    pick = [int(np.argmin(np.where((s["held_labels"] == k) & same, d, np.inf))) for k in range(10)]
    return s["held"][pick].reshape(10, 8, 8)


# Exact W1 between two independent samples of 400 real digits (with replacement, as the
# trainer's evaluation batch): the floor that the "exact W1" curve (400 generated vs 400
# real) cannot go below even for a perfect generator. Mean of 10 draws (std 0.06);
# tests/test_images.py recomputes it.
W1_FLOOR = 2.44
REAL_RECOGNISABLE = RECOGNISABLE_Q / 100      # held-out real digits score this share by construction

BLUE, ORANGE, GREY = "#3b6fb6", "#e66101", "#6b6b6b"


def grid_image(vectors, nrow: int = 8, scale: int = 6, pad: int = 1):
    """(N, 64) vectors in [-1, 1] as a digits grid (PIL), each 8x8 tile with ``pad`` white pixels around."""
    x = np.pad(to_images(vectors), ((0, 0), (pad, pad), (pad, pad)))    # (N, 8+2p, 8+2p), 0 = white
    return digits_grid(x, nrow, scale)


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _points(steps, values, series: str) -> list[dict]:
    return [{"step": float(s), "value": float(v), "series": series}
            for s, v in zip(steps, values) if np.isfinite(s) and np.isfinite(v)]


def _chart(title: str, rows: list[dict], y: dict, color: dict, dotted: list[str], level: float, label: str,
           height: int) -> dict:
    """Lines over generator steps (series in ``dotted`` with a dot per measurement), a dashed level labelled."""
    ref = {"data": {"values": [{"y": level, "label": label}]},
           "encoding": {"y": {"field": "y", "type": "quantitative"}}}
    enc = {"x": {"field": "step", "type": "quantitative", "title": "generator step"},
           "y": {"field": "value", "type": "quantitative", **y}, "color": color,
           "tooltip": [{"field": "series"}, {"field": "step", "format": ",.0f"}, {"field": "value", "format": ".3~g"}]}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "anchor": "start", "fontSize": 14},
        "width": "container", "height": int(height),
        "autosize": {"type": "fit-x", "contains": "padding"},     # height is the plot's, not title + axes
        "layer": [
            {"data": {"values": rows}, "mark": {"type": "line", "strokeWidth": 2}, "encoding": enc},
            {"data": {"values": rows}, "transform": [{"filter": {"field": "series", "oneOf": dotted}}],
             "mark": {"type": "point", "filled": True, "size": 30}, "encoding": enc},
            {**ref, "mark": {"type": "rule", "strokeDash": [5, 4], "color": GREY}},
            {**ref, "mark": {"type": "text", "align": "right", "dy": -8, "x": {"expr": "width"}, "color": GREY,
                             "fontSize": 12},
             "encoding": {**ref["encoding"], "text": {"field": "label"}}},
        ],
        "config": {"axis": {"labelFontSize": 12, "titleFontSize": 12}, "legend": {"labelFontSize": 12},
                   "view": {"stroke": None}},
    }


def distance_spec(curves: dict, height: int = 200) -> dict:
    """Vega-Lite: the critic's W estimate and the exact W1 (400 vs 400) over generator steps, with the floor."""
    step = np.asarray(curves.get("gen_step", []), dtype=float)
    names = ["critic's W estimate", "exact W1 (400 vs 400)"]
    rows = _points(step, curves.get("w_estimate", []), names[0]) + _points(step, curves.get("exact_w1", []), names[1])
    color = {"field": "series", "type": "nominal", "title": None, "legend": {"orient": "top", "labelLimit": 0},
             "scale": {"domain": names, "range": [BLUE, ORANGE]}}
    return _chart("Distance between real and generated digits", rows, {"title": "distance"}, color, names[1:],
                  W1_FLOOR, f"exact W1 of real vs real: {W1_FLOOR}", height)


def quality_spec(history: list[tuple[float, float]], height: int = 150) -> dict:
    """Vega-Lite: share of recognisable generated digits over generator steps, with real digits' level."""
    rows = [{"step": float(s), "value": float(v), "series": "recognisable"} for s, v in history]
    return _chart("Recognisable generated digits", rows,
                  {"title": "share", "axis": {"format": ".0%"}, "scale": {"domain": [0, 1]}},
                  {"value": ORANGE}, [], REAL_RECOGNISABLE, f"real digits: {REAL_RECOGNISABLE:.0%}", height)


def digits_grid(images, nrow: int = 8, scale: int = 4) -> Image.Image:
    """Tile images (N, H, W) in [0, 1] -- or flat (N, D) with D a square -- as dark ink on white.

    ``nrow`` images per row (as torchvision's ``make_grid``); each pixel becomes a
    scale x scale block (nearest neighbour); tiles are separated by 1-px grey gaps.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2 and x.shape[1] > 0 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        x = x.reshape(len(x), math.isqrt(x.shape[1]), -1)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"images must have shape (N, H, W) or (N, D) with D a square, got {np.shape(images)}")
    if int(nrow) < 1 or int(scale) < 1:
        raise ValueError(f"nrow and scale must be >= 1, got nrow={nrow}, scale={scale}")
    n, hh, ww = x.shape
    cols, scale = min(int(nrow), n), int(scale)
    rows = -(-n // cols)
    ink = (255 * (1 - np.clip(np.nan_to_num(x, nan=0.0), 0, 1))).round().astype(np.uint8)   # (N, H, W)
    tiles = ink.repeat(scale, 1).repeat(scale, 2)                          # (N, H*s, W*s)
    th, tw = hh * scale, ww * scale
    out = np.full((rows * (th + 1) + 1, cols * (tw + 1) + 1), 190, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[1 + r * (th + 1):(r + 1) * (th + 1), 1 + c * (tw + 1):(c + 1) * (tw + 1)] = tiles[i]
    return Image.fromarray(out).convert("RGB")
