"""Anti-aliased drawing into a numpy pixel buffer: the primitives under the live frames (render.py).

Speed (a 2-core server drawing for a whole class): the plot is one padded RGBX
numpy buffer (``Buffer``). Points are a precomputed anti-aliased disc stamped at
every point in one gather-blend-scatter (measured ~0.6 ms for 1,000 points,
against ~1.1 ms for ``ImageDraw.ellipse`` per point, which is aliased and cannot put
every halo under every disc); lines are sampled once per pixel and anti-aliased
across their width; iso-lines come from a marching-squares pass vectorised over
cells and levels. See ``Buffer.blend`` for the compositing.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image


def rgbx(rgb) -> np.uint32:
    """An (r, g, b) colour as one RGBX pixel (4 bytes viewed as a uint32) of the buffer."""
    return np.array([*rgb[:3], 255], dtype=np.uint8).view(np.uint32)[0]


class Pool:
    """Scratch arrays reused across frames (and threads): a fresh 1.4 MB array costs ~350 page
    faults when first written, about a fifth of a frame's time. Holds at most ``keep`` per shape."""

    def __init__(self, keep: int = 4):
        self.keep, self.free = keep, {}

    def take(self, shape: tuple, dtype, zero: bool) -> np.ndarray:
        try:
            return self.free.get((shape, dtype, zero), []).pop()           # list.pop is atomic
        except IndexError:
            return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)

    def give(self, a: np.ndarray, zero: bool) -> None:
        spare = self.free.setdefault((a.shape, a.dtype.type, zero), [])
        if len(spare) < self.keep:
            spare.append(a)


POOL = Pool()


class Buffer:
    """The plot as a padded RGBX buffer, (h + 2P, w + 2P) uint32, drawn into with numpy.

    The padding lets markers near the edge spill over without bounds checks;
    ``image()`` crops it off. Plot pixel (x, y) is buffer pixel (x + P, y + P).
    Use as a context manager: the arrays go back to the pool on exit.
    """

    def __init__(self, w: int, h: int, pad: int, white: bool = True):
        self.w, self.h, self.pad = w, h, pad
        shape = (h + 2 * pad, w + 2 * pad)
        self.px = POOL.take(shape, np.uint32, zero=False)
        if white:
            self.px.fill(rgbx((255, 255, 255)))
        self.flat = self.px.reshape(-1)
        self.cover = POOL.take(self.flat.shape, np.float32, zero=True)    # scratch, kept all zero

    def __enter__(self) -> Buffer:
        return self

    def __exit__(self, exc_type, *_) -> None:
        POOL.give(self.px, zero=False)
        if exc_type is None:                                                # else cover may be dirty
            POOL.give(self.cover, zero=True)

    @property
    def inner(self) -> np.ndarray:
        p = self.pad
        return self.px[p:p + self.h, p:p + self.w]

    def index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat buffer indices of the plot pixels containing (x, y); they must lie within the padding."""
        return (np.floor(y).astype(np.int64) + self.pad) * self.px.shape[1] + np.floor(x).astype(np.int64) + self.pad

    def offsets(self, off: np.ndarray) -> np.ndarray:
        """Flat index offsets of pixel offsets (K, 2) given as (dx, dy)."""
        return off[:, 1] * self.px.shape[1] + off[:, 0]

    def blend(self, idx: np.ndarray, rgb, cover, opacity: float = 1.0) -> None:
        """One flat layer of colour ``rgb``: px = px (1 - a) + rgb a, a = opacity * max coverage per pixel.

        idx: flat indices (any shape); cover: coverage in [0, 1], broadcast to idx.
        Where shapes overlap in one call, a pixel takes their largest coverage, not a sum.
        The blend runs on whole RGBX words, two 8-bit channels per 16-bit lane (R, B and
        G, X), with alpha in 1/256: three times faster than per-channel float arithmetic.
        """
        idx, cover = (x.ravel() for x in np.broadcast_arrays(idx, np.asarray(cover, np.float32)))
        np.maximum.at(self.cover, idx, cover)
        a = (self.cover[idx] * np.float32(256 * opacity) + 0.5).astype(np.uint32)   # (n,) in 0..256
        self.cover[idx] = 0
        old, new, na = self.flat[idx], rgbx(rgb), 256 - a
        rb = ((old & 0xFF00FF) * na + (new & 0xFF00FF) * a + 0x800080) >> 8 & 0xFF00FF
        gx = ((old >> 8 & 0xFF00FF) * na + (new >> 8 & 0xFF00FF) * a + 0x800080) & 0xFF00FF00
        self.flat[idx] = rb | gx

    def image(self) -> Image.Image:
        return Image.frombytes("RGB", (self.w, self.h), np.ascontiguousarray(self.inner), "raw", "RGBX")


def upscale(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear upscale of a (G, G) uint8 array, row 0 at the top, to (h, w); samples on the edges."""
    g = a.shape[0]
    img = Image.fromarray(a, "L").resize((w, h), Image.BILINEAR, box=(0.5, 0.5, g - 0.5, g - 0.5))
    return np.asarray(img)


# Marching squares. Cell corners counter-clockwise from bottom-left (row, col), (row, col+1),
# (row+1, col+1), (row+1, col); edge e joins corner e and corner e+1. A cell's case has bit e set
# when corner e is above the level; each case maps to the edge pairs its iso-line joins.
_CORNERS = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])                      # (col, row) offsets
_CASE_EDGES = np.array([[e for e in range(4) if (c >> e & 1) != (c >> (e + 1) % 4 & 1)][:2] or [0, 0]
                        for c in range(16)])                                 # (16, 2), saddles fixed below


def contour_segments(v: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray]:
    """Marching squares over a (G, G) grid (row 0 at ymin), vectorised over cells and levels.

    Returns ``(segs, level)``: segs (S, 2, 2) end points in grid coordinates
    (column, row), level (S,) the index of each segment's level. A corner pair p, q
    straddling level c is crossed at the linear fraction t = (c - p) / (q - p); a
    saddle cell (two opposite corners above c) is resolved by the mean of its corners.
    """
    v = np.asarray(v, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.float64).ravel()                      # (L,)
    hi = v[None] > lv[:, None, None]                                        # (L, G, G)
    case = (hi[:, :-1, :-1] * 1 + hi[:, :-1, 1:] * 2 + hi[:, 1:, 1:] * 4 + hi[:, 1:, :-1] * 8)
    li, row, col = np.nonzero((case != 0) & (case != 15))                  # active cells, (A,) each
    cs, c = case[li, row, col], lv[li]
    corner = v[row[:, None] + _CORNERS[:, 1], col[:, None] + _CORNERS[:, 0]]      # (A, 4) values
    p, q = corner, np.roll(corner, -1, axis=1)                              # edge e: corner e -> e+1
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.nan_to_num(np.clip((c[:, None] - p) / (q - p), 0, 1), nan=0.5)   # (A, 4)
    a, b = _CORNERS, np.roll(_CORNERS, -1, axis=0)
    pts = np.stack([col, row], -1)[:, None] + a + t[..., None] * (b - a)    # (A, 4, 2) crossing per edge
    saddle = (cs == 5) | (cs == 10)
    pairs = _CASE_EDGES[cs]                                                 # (A, 2)
    # saddles: iso-lines cut off corners 0 and 2 unless the centre sides with them
    cut02 = (cs == 5) != (corner.mean(1) > c)
    pairs[saddle] = np.where(cut02[saddle, None], [3, 0], [0, 1])
    second = np.where(cut02[saddle, None], [1, 2], [2, 3])                  # (As, 2) the other segment
    segs = np.concatenate([np.take_along_axis(pts, pairs[..., None], 1),
                           np.take_along_axis(pts[saddle], second[..., None], 1)])
    return segs, np.concatenate([li, li[saddle]])


# --------------------------------------------------------------------------- lines and markers

def clip_segments(seg: np.ndarray, w: int, h: int) -> np.ndarray:
    """Liang-Barsky: segments (S, 2, 2) clipped to [0, w] x [0, h]; those outside dropped."""
    seg = seg[np.isfinite(seg).all((1, 2))]
    if ((seg >= 0) & (seg <= [w, h])).all():
        return seg
    p, d = seg[:, 0], seg[:, 1] - seg[:, 0]
    t0, t1 = np.zeros(len(seg)), np.ones(len(seg))
    for pk, qk in ((-d[:, 0], p[:, 0]), (d[:, 0], w - p[:, 0]), (-d[:, 1], p[:, 1]), (d[:, 1], h - p[:, 1])):
        with np.errstate(divide="ignore", invalid="ignore"):
            rk = qk / pk
        t0 = np.where(pk < 0, np.maximum(t0, rk), t0)
        t1 = np.where(pk > 0, np.minimum(t1, rk), t1)
        t1 = np.where((pk == 0) & (qk < 0), -1.0, t1)                     # parallel and outside
    keep = t0 <= t1
    p, d = p[keep], d[keep]
    return np.clip(np.stack([p + t0[keep, None] * d, p + t1[keep, None] * d], 1), 0, [w, h])


def draw_lines(buf: Buffer, seg: np.ndarray, rgba, width: float = 1.0) -> None:
    """Anti-aliased segments (S, 2, 2) in plot pixels, ``width`` pixels wide, as one flat layer.

    Each segment is sampled once per pixel along its major axis. Across it, with the
    line's band [b - h, b + h] (h = width / 2 / cos(angle to the major axis), so the
    width is perpendicular to the line), pixel j of the band's first pixel k0 = floor(b - h)
    is covered by clip(f + 2h - j, 0, 1), less f for j = 0, where f = b - h - k0.
    """
    seg = clip_segments(np.asarray(seg, dtype=np.float64), buf.w, buf.h)
    if not len(seg):
        return
    d = seg[:, 1] - seg[:, 0]                                               # (S, 2)
    xmaj = np.abs(d[:, 0]) >= np.abs(d[:, 1])
    j, i, s = xmaj.astype(np.int64), (~xmaj).astype(np.int64), np.arange(len(seg))
    a0, b0, da, db = seg[s, 0, i], seg[s, 0, j], d[s, i], d[s, j]           # major / minor axis
    n = np.ceil(np.abs(da)).astype(np.int64) + 1                            # samples per segment
    slope = np.divide(db, da, out=np.zeros_like(db), where=da != 0)
    half = 0.5 * width * np.sqrt(1 + slope ** 2)                            # (S,)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(np.maximum(n - 1, 1), n)
    a = np.repeat(a0, n) + t * np.repeat(da, n)                             # (P,) major coordinate
    lo = np.repeat(b0, n) + t * np.repeat(db, n) - np.repeat(half, n)      # (P,) band start, minor axis
    k0 = np.floor(lo)
    f = (lo - k0).astype(np.float32)
    span = np.arange(math.ceil(2 * half.max()) + 1, dtype=np.float32)      # (K,)
    cover = np.clip((f + np.repeat(2 * half, n).astype(np.float32))[:, None] - span, 0, 1)   # (P, K)
    cover[:, 0] -= f
    xm, row = np.repeat(xmaj, n), buf.px.shape[1]
    am = np.minimum(a.astype(np.int64), np.where(xm, buf.w, buf.h) - 1)    # a >= 0 after clipping
    step = np.where(xm, row, 1)                                             # buffer stride along k
    base = k0.astype(np.int64) * step + am * np.where(xm, 1, row) + buf.pad * (row + 1)
    idx = base[:, None] + step[:, None] * span.astype(np.int64)            # (P, K) flat indices
    on = cover > 0
    buf.blend(idx[on], rgba, cover[on], rgba[3] / 255)


@lru_cache(maxsize=16)
def stamp(radius: float, inner: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased disc: pixel offsets (K, 2) as (dx, dy) and coverage (K,), without the pixels
    closer than ``inner`` to the centre (hidden under the disc drawn on top)."""
    R = math.ceil(radius + 1)
    dy, dx = np.mgrid[-R:R + 1, -R:R + 1]
    d = np.hypot(dx, dy)
    cover = np.clip(radius + 0.5 - d, 0, 1)
    keep = (cover > 0) & (d >= inner)
    return np.stack([dx[keep], dy[keep]], -1), cover[keep].astype(np.float32)


def draw_points(buf: Buffer, pix: np.ndarray, rgb, radius: float, rim: float, rim_rgb=(255, 255, 255)) -> None:
    """Anti-aliased discs of colour ``rgb`` at plot pixels pix (N, 2), haloed in white.

    All halos first, then all discs, so a dense cluster reads as one solid blob with
    a white outline. Points whose centre is off the plot are skipped.
    """
    ok = np.isfinite(pix).all(1)
    ok[ok] = ((pix[ok] >= 0) & (pix[ok] < [buf.w, buf.h])).all(1)
    centre = np.unique(buf.index(pix[ok, 0], pix[ok, 1]))[:, None]          # (N', 1) flat indices
    for r, colour in ((radius + rim, rim_rgb), (radius, rgb)):
        off, cover = stamp(r, inner=radius - 0.5 if colour is rim_rgb else 0.0)
        buf.blend(centre + buf.offsets(off), colour, cover)
