"""The parts of an exported frame around the plot: legend, axes, the diverged banner, and the layout."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from wgan_core.draw.style import (
    ARROW_RGBA,
    BANNER_RGB,
    DIVERGED_TEXT,
    FAKE_RGB,
    FRAME_RGB,
    MANIFOLD_RGBA,
    MEDIAN_CONTOUR_RGBA,
    REAL_RGB,
    RIM_RGB,
    TEXT_RGB,
    TRANSPORT_RGBA,
    Style,
    get_font,
    make_style,
    nice_ticks,
    palette,
    put_text,
    text_len,
    tick_label,
)


def legend_items(layers, a: dict) -> tuple[tuple[str, str], ...]:
    """(kind, label) for the layers shown; the critic's colour bar also stands for its contours."""
    have = {"critic": a["grid"] is not None, "contours": a["grid"] is not None,
            "arrows": a["arrows"] is not None, "manifold": a["manifold"] is not None,
            "transport": a.get("plan") is not None}
    labels = {"real": "real", "fake": "generated", "arrows": "G step", "manifold": "G manifold",
              "critic": "critic", "contours": "critic contours", "transport": "transport plan"}
    kinds = [k for k in ("real", "fake", "arrows", "manifold", "transport", "critic", "contours")
             if k in layers and have.get(k, True) and not (k == "contours" and "critic" in layers)]
    return tuple((k, labels[k]) for k in kinds)


def _item_width(kind: str, label: str, font) -> float:
    em = font.size
    if kind == "critic":
        return text_len(f"{label} low", font) + 4.6 * em + text_len("high", font)
    return 1.5 * em + text_len(label, font)


def _legend_plan(items, font, width: float, step_width: float):
    """Flow layout: [(kind, label, row, x)], the row of the right-aligned step label, number of rows."""
    gap, x, row, plan = 1.1 * font.size, 0.0, 0, []
    for kind, label in items:
        w = _item_width(kind, label, font)
        if x > 0 and x + w > width:
            row, x = row + 1, 0.0
        plan.append((kind, label, row, x))
        x += w + gap
    if x > 0 and x + step_width > width:
        row += 1
    return plan, row, row + 1


def _legend_icon(draw, kind: str, x: float, y: float, em: float, st: Style) -> None:
    if kind in ("real", "fake"):
        r = 3.4 * st.k
        draw.ellipse((x + 0.5 * em - r, y - r, x + 0.5 * em + r, y + r),
                     fill=REAL_RGB if kind == "real" else FAKE_RGB, outline=RIM_RGB)
    elif kind == "arrows":
        tip, h = (x + 1.05 * em, y - 0.25 * em), st.px(5)
        draw.line([(x, y + 0.25 * em), tip], fill=ARROW_RGBA, width=st.px(1.5))
        draw.line([(tip[0] - h, tip[1] - 0.1 * h), tip, (tip[0] - 0.35 * h, tip[1] + 0.9 * h)],
                  fill=ARROW_RGBA, width=st.px(1.5))
    elif kind == "manifold":
        c, s = MANIFOLD_RGBA[:3] + (170,), 0.5 * em
        for t in (-s, 0, s):
            draw.line([(x + 0.5 * em + t, y - s), (x + 0.5 * em + t, y + s)], fill=c, width=st.px(1))
            draw.line([(x + 0.5 * em - s, y + t), (x + 0.5 * em + s, y + t)], fill=c, width=st.px(1))
    elif kind == "contours":
        draw.line([(x, y), (x + em, y)], fill=MEDIAN_CONTOUR_RGBA, width=st.px(2))
    elif kind == "transport":
        draw.line([(x, y + 0.35 * em), (x + em, y - 0.35 * em)], fill=TRANSPORT_RGBA[:3] + (200,), width=st.px(1.2))


def _draw_legend(canvas, draw, plan, x0: float, top: float, row_h: float, st: Style) -> None:
    font, em = st.legend_font, st.legend_font.size
    for kind, label, row, x in plan:
        x, y = x0 + x, top + (row + 0.5) * row_h
        if kind == "critic":
            put_text(draw, (x, y), f"{label} low", font, TEXT_RGB)
            bx = round(x + text_len(f"{label} low", font) + 0.3 * em)
            bar = Image.fromarray(np.repeat(palette()[None], max(1, round(0.8 * em)), 0))
            bar = bar.resize((round(4 * em), bar.height), Image.BILINEAR)
            by = round(y - bar.height / 2)
            canvas.paste(bar, (bx, by))
            draw.rectangle((bx - 1, by - 1, bx + bar.width, by + bar.height), outline=(150, 150, 150))
            put_text(draw, (bx + bar.width + 0.3 * em, y), "high", font, TEXT_RGB)
        else:
            _legend_icon(draw, kind, x, y, em, st)
            put_text(draw, (x + 1.5 * em, y), label, font, TEXT_RGB)


def _draw_axes(draw, extent, box, st: Style) -> None:
    """Frame around the plot, outward ticks and tick labels in data units."""
    x0, y0, w, h = box
    xmin, xmax, ymin, ymax = extent
    draw.rectangle((x0 - 1, y0 - 1, x0 + w, y0 + h), outline=FRAME_RGB, width=st.px(1))
    tick, font = st.px(5), st.font
    for v in nice_ticks(xmin, xmax):
        x = x0 + (v - xmin) / (xmax - xmin) * w
        draw.line([(x, y0 + h), (x, y0 + h + tick)], fill=FRAME_RGB, width=st.px(1))
        put_text(draw, (x, y0 + h + tick + st.px(2)), tick_label(v), font, TEXT_RGB, "mt")
    for v in nice_ticks(ymin, ymax):
        y = y0 + h - (v - ymin) / (ymax - ymin) * h
        draw.line([(x0 - 1 - tick, y), (x0 - 1, y)], fill=FRAME_RGB, width=st.px(1))
        put_text(draw, (x0 - tick - st.px(4), y), tick_label(v), font, TEXT_RGB, "rm")


def draw_banner(draw, box, message: str, st: Style) -> None:
    """Red band across the middle of the plot: the run diverged and training is paused."""
    x0, y0, w, h = box
    big, small = get_font(max(12, round(20 * st.k))), st.font
    lines = [(DIVERGED_TEXT, big)] + ([(message, small)] if message else [])
    band = sum(f.size * 1.5 for _, f in lines) + st.px(12)
    top = y0 + (h - band) / 2
    draw.rectangle((x0, top, x0 + w - 1, top + band), fill=BANNER_RGB)
    y = top + st.px(6)
    for text, font in lines:
        while len(text) > 4 and text_len(text, font) > w - st.px(16):
            text = text[:-4] + "..."
        put_text(draw, (x0 + w / 2, y + 0.75 * font.size), text, font, (255, 255, 255), "mm")
        y += font.size * 1.5


def _layout(size: int, extent, st: Style, items) -> tuple[tuple[int, int, int, int], list, float]:
    """Plot box (x0, y0, w, h) with equal aspect, legend plan, y of the step label's row."""
    font, pad, lf = st.font, st.px(8), st.legend_font
    ylab = max(text_len(tick_label(v), font) for v in nice_ticks(extent[2], extent[3]))
    left = round(ylab + st.px(5) + st.px(4) + pad)
    plan, step_row, n_rows = _legend_plan(items, lf, size - left - pad, text_len("step 000,000", lf))
    row_h, top_pad = 1.6 * lf.size, st.px(4)
    top = round(top_pad + n_rows * row_h + pad)
    bottom = round(font.size * 1.4 + st.px(5) + pad)
    avail_w, avail_h = size - left - pad, size - top - bottom
    aspect = (extent[1] - extent[0]) / (extent[3] - extent[2])
    w = int(min(avail_w, avail_h * aspect))
    h = int(min(avail_h, w / aspect))
    if w < 16 or h < 16:
        raise ValueError(f"size={size} leaves no room for the plot")
    return (left + (avail_w - w) // 2, top, w, h), plan, top_pad + (step_row + 0.5) * row_h


@lru_cache(maxsize=32)
def frame_template(size: int, presenter: bool, extent: tuple, items: tuple):
    """The frame without data (white canvas, axes, legend), the plot box and the step label's anchor."""
    st = make_style(size, presenter)
    box, plan, step_y = _layout(size, extent, st, items)
    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas, "RGBA")
    _draw_axes(draw, extent, box, st)
    _draw_legend(canvas, draw, plan, box[0], st.px(4), 1.6 * st.legend_font.size, st)
    return canvas, box, (box[0] + box[2], step_y)
