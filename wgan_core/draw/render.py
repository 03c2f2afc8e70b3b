"""Exported frames of a run (PNG, and the GIF's pictures): the live view's layers drawn with Pillow.

Pure functions of a snapshot's plain arrays (no streamlit, no torch). Layers, bottom
to top, after GAN Lab's layered view, all drawn against the engine's fixed evaluation
grid and fixed noise batch, so that motion in the picture is learning, not resampling:

``critic``
    The critic :math:`f` on a G x G grid as a diverging heatmap. A WGAN critic is
    defined only up to an additive constant (:math:`\\mathbb{E} f(\\text{real}) -
    \\mathbb{E} f(\\text{fake})` is unchanged by :math:`f \\to f + c`), so the palette is
    centred on the grid's median :math:`m` and scaled by the robust half-range
    :math:`r = \\max(q_{98} - m,\\; m - q_2)`. Teal: :math:`f > m`, where the critic
    says "real"; orange: :math:`f < m`, "fake" (the colours of the two point clouds).
``contours``
    Iso-lines of :math:`f` at :math:`m + r k / 5`, :math:`k = -4..4` (the median line
    bolder). They are evenly spaced in value, so their spacing on screen shows the
    slope :math:`\\lVert \\nabla f \\rVert`: a 1-Lipschitz critic cannot pack them
    closer than :math:`r / 5` apart.
``manifold``
    The generator applied to an M x M grid in noise space, drawn as its grid lines.
``transport``
    Thin grey lines from ``fake[i]`` to ``real[plan[i]]``: each generated point's partner in
    the exact optimal transport plan between the first P generated and P real points (the
    snapshot's ``plan``); their mean length is that exact W1. Under the points.
``real`` / ``fake``
    Real samples (dark teal) and :math:`G(z)` on the fixed noise batch (orange).
``arrows``
    At ``fake[:Na]``, the direction the generator step moves each point
    (:math:`-\\partial L_G / \\partial x`). Lengths are relative: the median arrow is
    ``ARROW_FRAC`` of the plot width, the longest ``ARROW_MAX`` times that.

Speed (a 2-core server drawing for a whole class): the data layers are drawn with
numpy into one padded pixel buffer (``raster.py``); the heatmap is the critic
mapped to [0, 255], upscaled by Pillow and coloured through a lookup table. The
axes and legend are drawn once per size and cached (``template``).
"""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

from wgan_core.draw.annotate import draw_banner, frame_template, legend_items
from wgan_core.draw.raster import Buffer, contour_segments, draw_lines, draw_points, rgbx, upscale
from wgan_core.draw.style import (
    ARROW_FRAC,
    ARROW_MAX,
    ARROW_RGBA,
    CONTOUR_RGBA,
    FAKE_RGB,
    MANIFOLD_RGBA,
    MEDIAN_CONTOUR_RGBA,
    N_LEVELS,
    NAN_RGB,
    REAL_RGB,
    RIM_RGB,
    TEXT_RGB,
    TRANSPORT_RGBA,
    Style,
    make_style,
    palette32,
    put_text,
)

LAYERS = ("critic", "contours", "real", "fake", "arrows", "manifold", "transport")


# --------------------------------------------------------------------------- input checks

def _array(snap: dict, key: str, shape_ok, want: str, optional: bool = False) -> np.ndarray | None:
    """``snap[key]`` as float32, or ValueError naming the key, the expected and the actual shape."""
    if snap.get(key) is None:
        if optional:
            return None
        raise ValueError(f"snapshot has no {key!r} (expected {want})")
    a = np.asarray(snap[key], dtype=np.float32)
    if not shape_ok(a.shape):
        raise ValueError(f"snapshot[{key!r}] must have shape {want}, got {a.shape}")
    return a


def _check(snap: dict, layers) -> dict:
    """Validated arrays of a snapshot. ``grid``, ``arrows``, ``manifold`` and ``plan`` may be absent (layer
    skipped); ``plan`` is read only when the transport layer is drawn."""
    if not isinstance(snap, dict):
        raise ValueError(f"snapshot must be a dict, got {type(snap).__name__}")
    bad = [name for name in layers if name not in LAYERS]
    if bad:
        raise ValueError(f"unknown layers {bad}; choose from {LAYERS}")
    ext = np.asarray(snap.get("extent", ()), dtype=np.float64)
    if ext.shape != (4,) or not np.isfinite(ext).all() or ext[0] >= ext[1] or ext[2] >= ext[3]:
        raise ValueError(f"snapshot['extent'] must be finite (xmin, xmax, ymin, ymax) with min < max, got {snap.get('extent')!r}")
    pts = lambda s: len(s) == 2 and s[1] == 2
    out = {"extent": tuple(ext.tolist()),
           "real": _array(snap, "real", pts, "(N, 2)"),
           "fake": _array(snap, "fake", pts, "(N, 2)"),
           "grid": _array(snap, "grid", lambda s: len(s) == 2 and s[0] == s[1] >= 2, "(G, G) with G >= 2", True),
           "arrows": _array(snap, "arrows", pts, "(Na, 2)", True),
           "manifold": _array(snap, "manifold", lambda s: len(s) == 3 and s[2] == 2 and min(s[:2]) >= 2,
                              "(M, M, 2)", True)}
    if out["arrows"] is not None and len(out["arrows"]) > len(out["fake"]):
        raise ValueError(f"snapshot['arrows'] has {len(out['arrows'])} rows but 'fake' only {len(out['fake'])}")
    out["plan"] = _plan(snap.get("plan"), len(out["fake"]), len(out["real"])) if "transport" in layers else None
    if snap.get("status", "ok") not in ("ok", "diverged"):
        raise ValueError(f"snapshot['status'] must be 'ok' or 'diverged', got {snap.get('status')!r}")
    return out


def _plan(plan, n_fake: int, n_real: int) -> np.ndarray | None:
    """The transport plan (P,) as int64 indices into ``real``, P <= len(fake); ValueError otherwise."""
    if plan is None:
        return None
    p = np.asarray(plan)
    if p.ndim != 1 or len(p) > n_fake or (p.size and (p.dtype.kind not in "iu" or p.min() < 0 or p.max() >= n_real)):
        raise ValueError(f"snapshot['plan'] must be (P,) ints in [0, {n_real}) with P <= {n_fake}, got {p.dtype} {p.shape}")
    return p.astype(np.int64)


# --------------------------------------------------------------------------- critic: heatmap and contours

def _centre_scale(grid: np.ndarray) -> tuple[float, float]:
    """Median m and robust half-range r = max(q98 - m, m - q2) of the finite critic values."""
    v = grid[np.isfinite(grid)]
    if v.size == 0:
        return 0.0, 1.0
    q2, m, q98 = np.percentile(v, [2, 50, 98])
    r = max(q98 - m, m - q2)
    return float(m), float(r) if r > 0 else 1.0


def _draw_heatmap(buf: Buffer, grid: np.ndarray, m: float, r: float) -> None:
    """The critic value, mapped to [0, 255], is upscaled first and coloured after (smooth colours)."""
    g = grid[::-1]                                                          # (G, G), ymax row first
    ok = np.isfinite(g)
    t = np.clip(0.5 + 0.5 * (np.where(ok, g, m) - m) / r, 0, 1)
    np.take(palette32(), upscale((t * 255).round().astype(np.uint8), buf.w, buf.h), out=buf.inner)
    if not ok.all():
        buf.inner[upscale(np.where(ok, 0, 255).astype(np.uint8), buf.w, buf.h) > 127] = rgbx(NAN_RGB)


def _arrow_segments(start: np.ndarray, vec: np.ndarray, w: int, head: float) -> np.ndarray:
    """Shafts and heads (3 Na, 2, 2) from start (Na, 2) pixels along vec (Na, 2) in data units.

    The median arrow is ARROW_FRAC * w long; longer ones are capped at ARROW_MAX times that.
    """
    v = vec.astype(np.float64) * [1, -1]                                    # y up -> y down
    norm = np.hypot(v[:, 0], v[:, 1])
    ok = np.isfinite(norm) & (norm > 0) & np.isfinite(start).all(1)
    if not ok.any():
        return np.zeros((0, 2, 2))
    length = ARROW_FRAC * w * np.minimum(norm[ok] / np.median(norm[ok]), ARROW_MAX)
    u = v[ok] / norm[ok, None]                                              # (n, 2) unit directions
    tail, tip = start[ok], start[ok] + u * length[:, None]
    hl = np.minimum(head, 0.6 * length)[:, None]
    c, s = math.cos(0.45), math.sin(0.45)
    left = tip - hl * np.stack([c * u[:, 0] - s * u[:, 1], s * u[:, 0] + c * u[:, 1]], -1)
    right = tip - hl * np.stack([c * u[:, 0] + s * u[:, 1], -s * u[:, 0] + c * u[:, 1]], -1)
    keep = length >= 2
    return np.concatenate([np.stack([a[keep], tip[keep]], 1) for a in (tail, left, right)])


def _draw_contours(buf: Buffer, grid: np.ndarray, m: float, r: float, st: Style) -> None:
    """Iso-lines at m + r k / 5, k = -4..4; the median line (k = 0) a little bolder."""
    segs, lev = contour_segments(grid, m + r * np.arange(-(N_LEVELS // 2), N_LEVELS // 2 + 1) / 5)
    g = len(grid) - 1
    segs = segs * [buf.w / g, -buf.h / g] + [0, buf.h]                     # grid -> plot pixels
    mid = lev == N_LEVELS // 2
    draw_lines(buf, segs[~mid], CONTOUR_RGBA, st.k)
    draw_lines(buf, segs[mid], MEDIAN_CONTOUR_RGBA, 1.3 * st.k)


def _manifold_segments(pix: np.ndarray) -> np.ndarray:
    """The grid lines of a mapped (M, M, 2) noise grid as segments (2 M (M - 1), 2, 2)."""
    along = np.stack([pix[:, :-1], pix[:, 1:]], 2).reshape(-1, 2, 2)
    across = np.stack([pix[:-1], pix[1:]], 2).reshape(-1, 2, 2)
    return np.concatenate([along, across])


class _Map:
    """Data coordinates -> plot pixel coordinates (y up in data, down in pixels)."""

    def __init__(self, extent, w: int, h: int):
        self.x0, x1, self.y0, y1 = extent
        self.sx, self.sy, self.h = w / (x1 - self.x0), h / (y1 - self.y0), h

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty(xy.shape, dtype=np.float64)
        out[..., 0] = (xy[..., 0] - self.x0) * self.sx
        out[..., 1] = self.h - (xy[..., 1] - self.y0) * self.sy
        return out


def _plot(a: dict, layers, w: int, h: int, st: Style) -> Image.Image:
    """The data layers on a (w, h) image whose edges are the extent; everything is clipped to it."""
    radius, rim = 2.6 * st.k, max(0.8, 0.9 * st.k)                         # marker disc and white halo
    heat = "critic" in layers and a["grid"] is not None                     # fills the whole plot
    with Buffer(w, h, pad=math.ceil(radius + rim) + 2, white=not heat) as buf:
        to_px, grid = _Map(a["extent"], w, h), a["grid"]
        if grid is not None:
            m, r = _centre_scale(grid)
            if heat:
                _draw_heatmap(buf, grid, m, r)
            if "contours" in layers:
                _draw_contours(buf, grid, m, r, st)
        if "manifold" in layers and a["manifold"] is not None:
            draw_lines(buf, _manifold_segments(to_px(a["manifold"])), MANIFOLD_RGBA, st.k)
        if "transport" in layers and a["plan"] is not None:                 # fake[i] -> real[plan[i]]
            seg = np.stack([to_px(a["fake"][:len(a["plan"])]), to_px(a["real"][a["plan"]])], 1)   # (P, 2, 2)
            draw_lines(buf, seg[np.isfinite(seg).all(axis=(1, 2))], TRANSPORT_RGBA, 0.8 * st.k)
        for name, rgb in (("real", REAL_RGB), ("fake", FAKE_RGB)):
            if name in layers:
                draw_points(buf, to_px(a[name]), rgb, radius, rim, RIM_RGB)
        if "arrows" in layers and a["arrows"] is not None:
            start = to_px(a["fake"][:len(a["arrows"])])
            draw_lines(buf, _arrow_segments(start, a["arrows"], w, st.px(5)), ARROW_RGBA, 1.3 * st.k)
        return buf.image()


def render_frame(snap: dict, layers=LAYERS, size: int = 640, presenter: bool = False) -> Image.Image:
    """The snapshot as a size x size RGB picture of the chosen ``layers`` (see module doc), axes, legend.

    ``presenter=True`` enlarges markers, lines and fonts for a projector. A diverged
    snapshot is faded and gets a red banner. Raises ValueError on malformed input.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 160 <= size <= 4096:
        raise ValueError(f"size must be an int in [160, 4096], got {size!r}")
    size, presenter = int(size), bool(presenter)
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    a, st = _check(snap, layers), make_style(size, presenter)
    template, box, step_at = frame_template(size, presenter, a["extent"], legend_items(layers, a))
    plot = _plot(a, layers, box[2], box[3], st)
    diverged = snap.get("status") == "diverged"
    if diverged:
        plot = Image.blend(plot, Image.new("RGB", plot.size, "white"), 0.5)
    canvas = template.copy()
    canvas.paste(plot, box[:2])
    draw = ImageDraw.Draw(canvas, "RGBA")
    put_text(draw, step_at, f"step {int(snap.get('gen_steps') or 0):,}", st.legend_font, TEXT_RGB, "rm")
    if diverged:
        draw_banner(draw, box, str(snap.get("message") or ""), st)
    return canvas


def frame_png(snap: dict, layers=LAYERS, size: int = 640, presenter: bool = False) -> bytes:
    """``render_frame`` as PNG bytes, for st.image and exports.

    Lossless: a 256-colour palette would band the heatmap into false contours. zlib
    level 1 encodes ~2.5x faster than Pillow's default (6) for ~15% more bytes.
    """
    buf = io.BytesIO()
    render_frame(snap, layers, size, presenter).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
