"""A colour key shared by several charts of a page (the charts themselves carry no legend)."""
from __future__ import annotations

from wgan_core.draw.lab_specs import COLORS
from wgan_core.engine.objectives import OBJECTIVES


def legend_html(methods) -> str:
    """One colour key for all the method charts of a page (the charts themselves carry no legend)."""
    items = "".join(f"<span style='margin-right:1.4rem;white-space:nowrap'><span style='display:inline-block;"
                    f"width:1.6rem;height:4px;background:{COLORS[m]};vertical-align:middle;margin-right:0.4rem'>"
                    f"</span>{OBJECTIVES[m].short}</span>" for m in methods)
    return f"<div style='font-size:0.95rem;line-height:2'>{items}</div>"
