r"""The Images lesson's engine side: the picture sets, snapshot vectors as pictures, the charts.

The same WGAN-GP as on the 2D sets, on pictures of handwritten digits: an MLP
generator :math:`G: \mathbb{R}^{z} \to \mathbb{R}^{D}` and an MLP critic
:math:`f: \mathbb{R}^{D} \to \mathbb{R}`, trained on

.. math::
    L_C = \mathbb{E}[f(G(z))] - \mathbb{E}[f(x)]
          + \lambda\, \mathbb{E}_{\hat x}\big[(\lVert \nabla f(\hat x) \rVert - 1)^2\big],
    \qquad L_G = -\mathbb{E}[f(G(z))]

so :math:`\mathbb{E} f(x) - \mathbb{E} f(G(z))` estimates W1 between the
distributions of real and generated pictures, with the Euclidean distance
between pixel vectors as ground cost.

Two picture sets (`ImageSet`): scikit-learn's 8x8 digits, shipped (D = 64,
the engine's ``digits``, pixels in [-1, 1]), and 28x28 MNIST from the user's
own files (D = 784; `wgan_core.files.mnist` reads them). An MNIST run trains on
the pictures it is sent, standardised by `datasets.from_points`
(`Standardised` maps its vectors and distances back to pixels in [-1, 1], so
both sets are shown and measured in the same units). The quality figures are
in `image_quality`.
"""
from __future__ import annotations

import functools
import io
import math
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from wgan_core.engine.datasets import to_pictures
from wgan_core.engine.views import last_measured
from wgan_core.lessons.image_quality import Reference, digits_reference, quality, real_row

BLUE, ORANGE, GREY = "#3b6fb6", "#e66101", "#6b6b6b"


@dataclass(frozen=True)
class Standardised:
    r"""How `datasets.from_points` rescales the pixel rows a run trains on, and back.

    from_points maps a row :math:`p` (pixels 0..255) to :math:`(p - \bar p) / s`
    (:math:`\bar p` the per-pixel mean, :math:`s` the standard deviation of all
    centred values). `to_vectors` maps a generated vector back to pixels in
    [-1, 1] (:math:`v = 2p / 255 - 1`); a distance in the run's units times
    `factor` is the same distance between such pixels:
    :math:`\lVert v - v' \rVert = (2 s / 255) \lVert x - x' \rVert`.
    """

    mean: np.ndarray             # (D,) per-pixel mean, 0..255
    s: float

    @classmethod
    def of(cls, pixels) -> Standardised:
        x = np.asarray(pixels, dtype=np.float64)
        mean = x.mean(0)
        return cls(mean, max(float((x - mean).std()), 1e-8))

    @property
    def factor(self) -> float:
        return 2 * self.s / 255

    def to_vectors(self, x) -> np.ndarray:
        """Generated rows (N, D) in the run's units -> pixels in [-1, 1] (unclipped)."""
        return (np.asarray(x, dtype=np.float64) * self.s + self.mean) * (2 / 255) - 1


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A set of pictures as the page uses it: what a run is made with, how its vectors become pictures, and
    the real digits its quality is measured against."""

    name: str                        # the config's ``data``
    label: str                       # for the page: what the pictures are
    reference: Reference
    points: np.ndarray | None = None         # (N, D) uint8 rows the run is created with; None: made by name
    scale: Standardised | None = None        # None: vectors are pixels in [-1, 1] already

    @property
    def side(self) -> int:
        return self.reference.side

    @property
    def factor(self) -> float:
        """Run units -> pixel units ([-1, 1]) for distances (the W estimate, exact W1, its floor)."""
        return 1.0 if self.scale is None else self.scale.factor

    def to_vectors(self, fake) -> np.ndarray:
        return np.asarray(fake, dtype=np.float64) if self.scale is None else self.scale.to_vectors(fake)

    @functools.cached_property
    def real_png(self) -> bytes:
        """Real held-out digits, one of each class (`image_quality.real_row`), as a PNG row; made once."""
        return png(grid_image(real_row(self.reference).reshape(10, -1) * 2 - 1, nrow=10))


@functools.lru_cache(maxsize=1)
def digits_set() -> ImageSet:
    return ImageSet("digits", "scikit-learn's 1,797 digits, shipped with the app", digits_reference())


def mnist_set(data, source: str | None = None) -> ImageSet:
    """MNIST as `wgan_core.files.mnist.MnistData` holds it (``x_train`` (N, 28, 28) uint8, ``y_train``,
    ``x_test``, ``y_test``, ``source``, ``n_train_total``): the training pictures are what runs train on (and
    the quality's training digits), the test pictures its held-out digits. About a second for 10,000 x 1,000."""
    pixels = np.ascontiguousarray(np.asarray(data.x_train, dtype=np.uint8).reshape(len(data.x_train), -1))
    pixels.setflags(write=False)
    ref = Reference.build("mnist", pixels / np.float32(255), data.y_train, np.asarray(data.x_test) / np.float32(255),
                          data.y_test)
    n = data.n_train_total
    kept = f"{len(pixels):,} of {n:,}" if n > len(pixels) else f"{len(pixels):,}"
    return ImageSet("mnist", f"MNIST: {kept} training pictures from {source or data.source}", ref, pixels,
                    Standardised.of(pixels))


# --------------------------------------------------------------------------- pictures

to_images = to_pictures        # (N, side^2) vectors in [-1, 1] -> (N, side, side) pictures in [0, 1]


def grid_image(vectors, nrow: int = 8, scale: int | None = None, pad: int = 1):
    """(N, side^2) vectors in [-1, 1] as a grid (PIL), each tile with ``pad`` white pixels around; ``scale``
    defaults to about 60 screen pixels per tile."""
    x = to_images(vectors)
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))                      # (N, side+2p, side+2p), 0 = white
    return digits_grid(x, nrow, scale or max(2, 60 // x.shape[1]))


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


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


# --------------------------------------------------------------------------- numbers shown

def shown(value, factor: float = 1.0, fmt: str = "{:.2f}") -> str:
    """A measured distance in pixel units, or "—" while it is not measured (None, NaN)."""
    if value is None or not np.isfinite(value):
        return "—"
    return fmt.format(float(value) * factor)


# --------------------------------------------------------------------------- charts

def _points(steps, values, series: str, factor: float = 1.0) -> list[dict]:
    return [{"step": float(s), "value": float(v) * factor, "series": series}
            for s, v in zip(steps, values) if np.isfinite(s) and np.isfinite(v)]


STEP_AXIS = {"field": "step", "type": "quantitative", "title": "generator step",
             "axis": {"format": ",d", "tickMinStep": 1}}


def _chart(title: str, layers: list[dict], height: int) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "anchor": "start", "fontSize": 14},
        "width": "container", "height": int(height),
        "autosize": {"type": "fit-x", "contains": "padding"},     # height is the plot's, not title + axes
        "layer": layers,
        "config": {"axis": {"labelFontSize": 12, "titleFontSize": 12}, "legend": {"labelFontSize": 12},
                   "view": {"stroke": None}},
    }


def _lines(rows: list[dict], y: dict, color: dict, dotted: list[str]) -> list[dict]:
    enc = {"x": STEP_AXIS, "y": {"field": "value", "type": "quantitative", **y}, "color": color,
           "tooltip": [{"field": "series"}, {"field": "step", "format": ",.0f"}, {"field": "value", "format": ".3~g"}]}
    return [{"data": {"values": rows}, "mark": {"type": "line", "strokeWidth": 2}, "encoding": enc},
            {"data": {"values": rows}, "transform": [{"filter": {"field": "series", "oneOf": dotted}}],
             "mark": {"type": "point", "filled": True, "size": 30}, "encoding": enc}]


def _band(lo: float, hi: float, label: str) -> list[dict]:
    """A grey band across the chart from lo to hi, labelled at its top right."""
    data = {"values": [{"lo": lo, "hi": hi, "label": label}]}
    return [{"data": data, "mark": {"type": "rect", "color": GREY, "opacity": 0.18},
             "encoding": {"y": {"field": "lo", "type": "quantitative"}, "y2": {"field": "hi"}}},
            {"data": data, "mark": {"type": "text", "align": "right", "dy": -6, "x": {"expr": "width"},
                                    "color": GREY, "fontSize": 12},
             "encoding": {"y": {"field": "hi", "type": "quantitative"}, "text": {"field": "label"}}}]


def distance_spec(curves: dict, floor=None, factor: float = 1.0, height: int = 200) -> dict:
    """Vega-Lite: the critic's W estimate (on the 2,500 evaluation pictures) and the exact W1 (400 vs 400)
    over generator steps, in pixel units (``factor``), with the floor band ``floor`` = [p5, p95] when known."""
    step = np.asarray(curves.get("gen_step", []), dtype=float)
    names = ["critic's W estimate", "exact W1 (400 vs 400)"]
    rows = (_points(step, curves.get("critic_w1_estimate", []), names[0], factor)
            + _points(step, curves.get("exact_w1", []), names[1], factor))
    color = {"field": "series", "type": "nominal", "title": None, "legend": {"orient": "top", "labelLimit": 0},
             "scale": {"domain": names, "range": [BLUE, ORANGE]}}
    band = []
    if floor is not None and all(v is not None and np.isfinite(v) for v in floor):
        lo, hi = float(floor[0]) * factor, float(floor[1]) * factor
        band = _band(lo, hi, f"real vs real: {lo:.2f}–{hi:.2f}")
    return _chart("Distance between real and generated digits",
                  band + _lines(rows, {"title": "distance (pixels in [-1, 1])"}, color, names[1:]), height)


def quality_spec(history: list[tuple[float, float, float]], real: float = 0.9, height: int = 150) -> dict:
    """Vega-Lite: the recognisable share over generator steps with a band of ± one standard error, and the
    level real digits reach."""
    rows = [{"step": float(s), "value": float(v), "lo": max(0.0, v - e), "hi": min(1.0, v + e),
             "series": "recognisable"} for s, v, e in history]
    y = {"title": "share", "axis": {"format": ".0%"}, "scale": {"domain": [0, 1]}}
    err = {"data": {"values": rows}, "mark": {"type": "area", "color": ORANGE, "opacity": 0.2},
           "encoding": {"x": STEP_AXIS, "y": {"field": "lo", "type": "quantitative", **y}, "y2": {"field": "hi"}}}
    level = {"data": {"values": [{"y": real, "label": f"real digits: {real:.0%}"}]}}
    rule = [{**level, "mark": {"type": "rule", "strokeDash": [5, 4], "color": GREY},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {**level, "mark": {"type": "text", "align": "right", "dy": -8, "x": {"expr": "width"}, "color": GREY,
                               "fontSize": 12},
             "encoding": {"y": {"field": "y", "type": "quantitative"}, "text": {"field": "label"}}}]
    return _chart("Recognisable generated digits (± one standard error)",
                  [err, *_lines(rows, y, {"value": ORANGE}, []), *rule], height)


# --------------------------------------------------------------------------- what the page shows of a snapshot

class Tracker:
    """The quality of a run's generated pictures, measured at most once every `RESCORE_S` seconds (a run's
    first snapshot at once; a snapshot carrying more than `GRID` pictures always: all of them are scored, up
    to `image_quality.max_scored`), and the recognisable share's history. The pictures themselves travel to
    the browser as frames (`wire.encode_pictures`) and are drawn there. ``clock``: seconds, injected for tests."""

    GRID = 64

    RESCORE_S = 1.0

    def __init__(self, clock=time.monotonic):
        self.key, self.q, self.clock, self.scored_at = None, None, clock, -math.inf
        self.history: list[tuple[float, float, float]] = []          # (step, recognisable, its standard error)

    def update(self, snap: dict, pics: ImageSet) -> bool:
        """Take a snapshot; False when it is not of ``pics`` (a late one of the run before)."""
        if snap["config"].get("data") != pics.name:
            return False
        key = (snap.get("serial"), snap.get("version"))
        if key == self.key or snap.get("fake") is None:
            return True
        now = self.clock()
        if (self.q is None or self.key is None or self.key[0] != key[0] or now - self.scored_at >= self.RESCORE_S
                or len(snap["fake"]) > self.GRID):
            self.q, self.scored_at = quality(to_images(pics.to_vectors(snap["fake"])), pics.reference), now
            if self.history and snap["gen_steps"] < self.history[-1][0]:
                self.history.clear()                                    # a new run
            if not self.history or snap["gen_steps"] > self.history[-1][0]:
                self.history.append((snap["gen_steps"], self.q["recognisable"], self.q["recognisable_se"]))
                del self.history[:-400]
        self.key = key
        return True


def figures(snap: dict, q: dict, factor: float, playing: bool) -> tuple[list[dict], ...]:
    """The page's rows of numbers, as keyword arguments of ``st.metric``: the run (step, the critic's
    estimate, the exact W1 beside its floor, in pixel units), then the quality figures beside real digits',
    two by two (a recognisable share with its standard error needs the room)."""
    m, real = snap["metrics"], q["real"]
    lo, hi = m.get("exact_w1_floor") or (None, None)
    off = {"delta_color": "off", "delta_arrow": "off"}
    run = [dict(label="Generator step", value=f"{snap['gen_steps']:,}", delta="training" if playing else "paused",
                **off),
           dict(label="W estimate", value=shown(m.get("critic_w1_estimate"), factor),
                help="The critic's E f(real) − E f(fake) over its 2,500 fixed evaluation pictures of each kind."),
           dict(label="Exact W1", value=shown(last_measured(snap, "exact_w1"), factor),
                delta=f"floor {shown(lo, factor, '{:.3g}')}–{shown(hi, factor, '{:.3g}')}", **off,
                help="Optimal transport between 400 generated and 400 real pictures. Two samples of 400 real "
                     "pictures already lie this far apart (5th–95th percentile): the floor.")]
    quality_row = [
        dict(label="Recognisable", value=f"{q['recognisable']:.0%}",
             delta=f"± {q['recognisable_se']:.0%} · real {real['recognisable'][0]:.0%}", **off,
             help="As close (in pixels) to some training digit as 90 % of held-out real digits are."),
        dict(label="Classes", value=f"{q['classes']:.1f}", delta=f"real {real['classes'][0]:.1f}", **off,
             help="Class balance: exp(entropy) of the classes of the nearest training digits (10: balanced, "
                  "1: one class)."),
        dict(label="Variety", value=f"{q['variety']:.2f}", delta="real 1.00", **off,
             help="Mean distance from each picture to the nearest other one, over real digits' (as many)."),
        dict(label="Too close", value=f"{q['too_close']:.0%}", delta=f"real {real['too_close'][0]:.0%}", **off,
             help="Share nearer a training digit than 95 % of held-out real digits are: copies."),
    ]
    return run, quality_row[:2], quality_row[2:]

