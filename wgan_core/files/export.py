"""Exports of a training run: recent frames as a GIF, curves as CSV (checkpoints: `checkpoint`).

Pure functions and plain classes (no streamlit, no torch).

`FrameRing` keeps a bounded film of a run for the GIF export: a compact copy of
the snapshot (`compact`) at most every ``interval`` seconds. When it holds
``capacity`` frames it drops every second one and doubles the interval, so it
always spans the whole run with frames spread evenly in time, in bounded memory
(about 10 KB a frame: float16 points and a normalised critic grid; the real
sample, fixed for a run, is stored once).
"""
from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from wgan_core.draw import render

CURVE_COLUMNS = ("gen_step", "critic_loss", "gen_loss", "penalty", "w_estimate", "exact_w1",
                 "w_corrected", "modes_covered", "hq_fraction")


# --------------------------------------------------------------------------- frames

def compact(snap: dict, real: np.ndarray | None = None) -> dict:
    """What `render.render_frame` needs of a 2D snapshot, in float16.

    The critic grid is stored as :math:`(f - m) / r` (m: median, r: largest
    deviation of the finite values): the renderer centres its palette on the
    median and spaces its contours by a robust range, both affine-equivariant, so
    the picture is unchanged while float16 cannot overflow. ``real`` is reused
    when it equals the snapshot's real sample (the run's fixed evaluation set).
    """
    r16 = np.asarray(snap["real"], dtype=np.float16)
    if real is not None and real.shape == r16.shape and np.array_equal(real, r16):
        r16 = real
    out = {k: snap.get(k) for k in ("extent", "gen_steps", "status", "message")}
    out["real"], out["fake"] = r16, np.asarray(snap["fake"], dtype=np.float16)
    for k in ("arrows", "manifold"):
        out[k] = None if snap.get(k) is None else np.asarray(snap[k], dtype=np.float16)
    out["plan"] = None if snap.get("plan") is None else np.asarray(snap["plan"], dtype=np.uint16)   # indices, exact
    grid = snap.get("grid")
    if grid is not None:
        g = np.asarray(grid, dtype=np.float64)
        fin = g[np.isfinite(g)]
        if fin.size:
            m = float(np.median(fin))
            r = max(float(np.abs(fin - m).max()), 1e-30)
            g = (g - m) / r
        out["grid"] = g.astype(np.float16)
    else:
        out["grid"] = None
    return out


class FrameRing:
    """A bounded film of one run: at most ``capacity`` compact frames spread over the whole run."""

    def __init__(self, capacity: int = 120, interval: float = 0.5):
        if capacity < 2 or not interval > 0:
            raise ValueError("capacity must be >= 2 and interval > 0")
        self.capacity, self.base_interval = capacity, interval
        self.clear()

    def clear(self) -> None:
        self.frames: list[dict] = []
        self.interval = self.base_interval
        self.run_key = None
        self._last_t = -math.inf

    def wants(self, gen_steps: int, now: float | None = None, run_key=None) -> bool:
        """Would `add` keep a snapshot at ``gen_steps`` now? (So a caller decodes a frame only when it is kept.)"""
        now = time.monotonic() if now is None else now
        if run_key != self.run_key or not self.frames or gen_steps < self.frames[-1]["gen_steps"]:
            return True
        return gen_steps != self.frames[-1]["gen_steps"] and now - self._last_t >= self.interval

    def add(self, snap: dict, now: float | None = None, run_key=None) -> bool:
        """Keep ``snap`` if training moved on and ``interval`` seconds passed; True when kept.

        A different ``run_key`` (a new run) or fewer generator steps than the last
        frame (a reset or a loaded checkpoint) starts a new film.
        """
        now = time.monotonic() if now is None else now
        if run_key != self.run_key or (self.frames and snap["gen_steps"] < self.frames[-1]["gen_steps"]):
            self.clear()
            self.run_key = run_key
        if self.frames and snap["gen_steps"] == self.frames[-1]["gen_steps"]:
            return False
        if self.frames and now - self._last_t < self.interval:
            return False
        self.frames.append(compact(snap, self.frames[-1]["real"] if self.frames else None))
        self._last_t = now
        if len(self.frames) > self.capacity:
            f = self.frames
            self.frames = f[::2] if len(f) % 2 else f[:-1:2] + f[-1:]      # first and last kept
            self.interval *= 2
        return True

    def __len__(self) -> int:
        return len(self.frames)

    def pick(self, n: int) -> list[dict]:
        """``n`` frames evenly spaced over the film, first and last included (all when fewer)."""
        k = len(self.frames)
        if n >= k:
            return list(self.frames)
        if n <= 1:
            return self.frames[-1:]
        return [self.frames[round(i * (k - 1) / (n - 1))] for i in range(n)]


def gif(frames: list[dict], seconds: float, size: int = 480, layers=render.LAYERS,
        progress: Callable[[int, int], None] | None = None) -> bytes:
    """An animated GIF of ``frames`` lasting about ``seconds`` (at least 20 ms a frame), looping.

    ``progress(i, n)`` is called after each rendered frame, and with (n, n) before encoding.
    """
    if not frames:
        raise ValueError("no frames to animate yet: let the training run for a moment")
    pictures = []
    for i, f in enumerate(frames):
        pictures.append(render.render_frame(f, layers, size))
        if progress:
            progress(i + 1, len(frames))
    return gif_bytes(pictures, fps=len(frames) / max(seconds, 0.1))


# --------------------------------------------------------------------------- curves

def curves_csv(curves: dict) -> str:
    """The snapshot's curves, one row per measured generator step; NaN (not measured) as an empty cell."""
    cols = [c for c in CURVE_COLUMNS if c in curves] + sorted(set(curves) - set(CURVE_COLUMNS))
    data = [np.asarray(curves[c], dtype=np.float64) for c in cols]
    n = min((len(d) for d in data), default=0)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for i in range(n):
        w.writerow(["" if not math.isfinite(d[i]) else (int(d[i]) if c in ("gen_step", "modes_covered")
                                                         else f"{d[i]:.6g}") for c, d in zip(cols, data)])
    return buf.getvalue()


def file_stem(config: dict, gen_steps: int) -> str:
    """A file name stem that says what the file holds: earthmover_wgan-gp_seed3_step1200."""
    return f"earthmover_{config.get('loss', 'run')}_{config.get('data', 'data')}_step{int(gen_steps)}"


def gif_bytes(frames: list[Image.Image], fps: float = 8) -> bytes:
    """An animated GIF (looping forever) of equal-sized frames at ``fps`` frames per second.

    One 256-colour palette for the whole animation, chosen from up to five frames
    spread over it, with Floyd-Steinberg dithering: the heatmap stays smooth, colours
    do not flicker between frames, and it is ~5x faster than a palette per frame.
    Pillow merges consecutive identical frames into one longer frame.
    """
    frames = list(frames)
    if not frames or not all(isinstance(f, Image.Image) for f in frames):
        raise ValueError("frames must be a non-empty list of PIL images")
    if len({f.size for f in frames}) != 1:
        raise ValueError(f"frames must all have one size, got {sorted({f.size for f in frames})}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    rgb = [f.convert("RGB") for f in frames]
    picks = [rgb[i].reduce(2) for i in sorted({round(j * (len(rgb) - 1) / 4) for j in range(5)})]
    sample = Image.new("RGB", (picks[0].width, picks[0].height * len(picks)))
    for i, im in enumerate(picks):
        sample.paste(im, (0, i * im.height))
    palette = sample.quantize(256)
    paletted = [f.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG) for f in rgb]
    buf = io.BytesIO()
    paletted[0].save(buf, format="GIF", save_all=True, append_images=paletted[1:], loop=0,
                     duration=max(20, round(1000 / fps)), optimize=False)
    return buf.getvalue()
