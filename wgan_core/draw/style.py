"""Colours, sizes and text of the exported frames (`wgan_core.draw.render`): one place for their look.

The colours match the browser's live view (ui/live_view/draw.js), so an exported
PNG or GIF looks like the screen. Sizes scale with the frame (`Style`); Pillow's
default font lacks two glyphs, drawn as rules instead (``_RULES``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import ImageDraw, ImageFont

from wgan_core.draw.raster import rgbx

# Colours (RGB, or RGBA where drawn semi-transparently).
REAL_RGB = (1, 102, 94)                 # dark teal
FAKE_RGB = (230, 97, 1)                 # orange
RIM_RGB = (255, 255, 255)               # thin white rim keeps points legible on any background
ARROW_RGBA = (94, 60, 153, 230)         # purple
MANIFOLD_RGBA = (120, 50, 10, 80)       # dark orange-brown, thin and faint
TRANSPORT_RGBA = (60, 60, 60, 82)       # grey, thin: the transport plan's lines (as the browser's)
CONTOUR_RGBA = (40, 40, 40, 60)
MEDIAN_CONTOUR_RGBA = (40, 40, 40, 130)
NAN_RGB = (200, 200, 200)               # critic cells that are not finite
FRAME_RGB = (90, 90, 90)
TEXT_RGB = (40, 40, 40)
BANNER_RGB = (198, 40, 40)
# Diverging palette for the critic, low (fake-like) -> high (real-like); pale ends so markers stay visible.
PALETTE_STOPS = ((0.0, (243, 178, 112)), (0.25, (250, 214, 172)), (0.5, (247, 247, 245)),
                 (0.75, (176, 222, 214)), (1.0, (112, 190, 180)))

N_LEVELS = 9            # contour levels m + r*k/5, k = -4..4
ARROW_FRAC = 0.05       # median arrow length, as a fraction of the plot width
ARROW_MAX = 2.5         # longest arrow, in median lengths
DIVERGED_TEXT = "Training diverged (NaN) — paused"
# Glyphs missing from Pillow's default font, drawn as rules instead (width in em).
_RULES = {"—": 0.9, "−": 0.55}


# --------------------------------------------------------------------------- style and text

@dataclass(frozen=True)
class Style:
    """Pixel sizes for one frame: everything scales with size/640, and x1.6 for a projector."""
    k: float

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return get_font(max(9, round(12 * self.k)))

    @property
    def legend_font(self) -> ImageFont.FreeTypeFont:
        return get_font(max(9, round(13 * self.k)))

    def px(self, n: float) -> int:
        return max(1, round(n * self.k))


def make_style(size: int, presenter: bool) -> Style:
    return Style(k=size / 640 * (1.6 if presenter else 1.0))


@lru_cache(maxsize=16)
def get_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def text_runs(s: str) -> list[str]:
    """Split text into plain runs and single rule characters (see ``_RULES``)."""
    out, cur = [], ""
    for ch in s:
        if ch in _RULES:
            out += [cur, ch] if cur else [ch]
            cur = ""
        else:
            cur += ch
    return out + [cur] if cur else out


def text_len(s: str, font) -> float:
    return sum(_RULES[r] * font.size if r in _RULES else font.getlength(r) for r in text_runs(s))


def put_text(draw: ImageDraw.ImageDraw, xy, s: str, font, fill, anchor: str = "lm") -> None:
    """Draw text like ``draw.text`` (anchor: l/m/r then t/m/s), drawing em dash and minus as rules."""
    x, y = xy
    x -= {"l": 0.0, "m": 0.5, "r": 1.0}[anchor[0]] * text_len(s, font)
    ascent, descent = font.getmetrics()
    base = y + {"t": ascent, "m": (ascent - descent) / 2, "s": 0}[anchor[1]]
    for r in text_runs(s):
        if r in _RULES:
            w, yr = _RULES[r] * font.size, base - 0.33 * font.size
            draw.line([(x + 0.08 * w, yr), (x + 0.92 * w, yr)], fill=fill, width=max(1, round(font.size / 12)))
            x += w
        else:
            draw.text((x, base), r, font=font, fill=fill, anchor="ls")
            x += font.getlength(r)


def tick_label(v: float) -> str:
    s = f"{v:.10g}"
    return "0" if s in ("-0", "0") else s.replace("-", "−")


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """'Nice' tick positions (1, 2 or 5 times a power of ten) inside [lo, hi]."""
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    t = np.arange(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1) * step
    return np.round(t, 10)


# --------------------------------------------------------------------------- colours of the critic

@lru_cache(maxsize=1)
def palette32() -> np.ndarray:
    """The palette as (256,) RGBX words."""
    return np.array([rgbx(c) for c in palette()], dtype=np.uint32)


@lru_cache(maxsize=1)
def palette() -> np.ndarray:
    """(256, 3) uint8 lookup table interpolated through PALETTE_STOPS (low -> high critic)."""
    pos = np.array([p for p, _ in PALETTE_STOPS])
    rgb = np.array([c for _, c in PALETTE_STOPS], dtype=np.float64)
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, pos, rgb[:, c]) for c in range(3)], -1).round().astype(np.uint8)
