"""The live training view, drawn in the browser: a canvas that plays snapshots as they arrive.

The server sends compact binary payloads (``wgan_core.engine.wire``); the browser
decodes them (points frames, or pictures frames for a run on pictures), queues the
frames by their training time ``t``, plays them a fixed delay behind the training clock,
tweens between them at display rate and draws the layers of ``wgan_core.draw.render``
(critic heatmap, contours, manifold, real and generated points, generator-step arrows,
transport plan). Layer chips toggle layers
locally (no script run) and mirror them into the URL's ``layers`` parameter.

Usage: ``load()`` once in the page's full run (it ships the code), then, inside the page's
``st.fragment(run_every=interval)``::

    frames = [wire.encode_frame(**snap) for snap in new_snapshots]
    header = {"layers": ["critic", "contours", "real", "fake", "arrows"], "interval": interval}
    live_view(wire.encode_payload(header, frames, real=real_if_needed), key="train")

Payload header fields (all optional):

``layers``    list of initially visible layers (the URL's ``layers`` wins): critic,
              contours, manifold, transport, real, fake, arrows
``interval``  seconds between payloads (the fragment's ``run_every``); sets the delay
``delay``     playback delay in seconds (default max(0.25, 1.5 x interval)); it may grow
              during a view's life, never shrink
``labels``    {layer: legend text} overrides (defaults: "real", "generated", "G step", ...)
``message``   second line of the "Training diverged" banner
``real_run``  the run id the payload's ``real`` points belong to (default: the run of the
              payload's last frame)
``fps``       cap on repaints per second while tweening (default: display rate)
``pictures``  true: the frames are pictures (``wire.encode_pictures``, the Images page), drawn as
              a grid of them, blended between snapshots, with no layer chips
``presenter``, ``height``  set by ``live_view`` from its arguments

The DOM (``div.em-live-view``) carries ``data-serial`` (the frame on screen), ``data-run``,
``data-status``, ``data-paints`` (canvas repaints), ``data-feeds`` (payloads received)
and ``data-mount``; ``window.__earthmoverView`` exposes the pure ``schedule`` function,
the decoder and a mount counter for tests.
"""
from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from wgan_core.engine import wire

_HERE = Path(__file__).parent
JS_FILES = ("wire.js", "schedule.js", "draw.js", "view.js")    # one ES module, in this order
ROOT_CLASS = "em-live-view"
LAYERS = ("critic", "contours", "manifold", "transport", "real", "fake", "arrows")   # as view.js draws them


def url_layers(default: str) -> list[str]:
    """The layers the URL names now (the view's chips write them there), else ``default``; unknown names
    are dropped."""
    raw = st.query_params.get("layers", default)
    return [x for x in str(raw).split(",")[:len(LAYERS)] if x in LAYERS]
NAME = "earthmover_live_view"



def _squeeze(text: str, comment: str) -> str:
    """Drop whole-line comments, trailing ``  // ...`` comments, indentation and blank lines.

    Streamlit sends a component's JS and CSS inside every element message, so each fragment
    run ships them again (and this project turns Streamlit's message cache off): ~38 KB as
    written, ~22 KB squeezed. Safe for these files: no string holds "  //" or a line that
    starts with a comment marker."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(comment) or s.startswith("*") and comment == "/*":
            continue
        out.append(re.sub(r"\s{2,}// .*$", "", s) if comment == "//" else s)
    return "\n".join(out)


JS = _squeeze("\n".join((_HERE / f).read_text() for f in JS_FILES), "//")
CSS = re.sub(r"/\*.*?\*/", "", (_HERE / "view.css").read_text(), flags=re.S)
CSS = "\n".join(s for line in CSS.splitlines() if (s := line.strip()))

# Streamlit sends a component's JS and CSS inside every element message. The drawing code (~30 KB)
# is therefore a component of its own, mounted once per full page run (`load`), which publishes the
# mount function; the view itself is a tiny component that calls it, so a fragment run ships ~0.3 KB
# of code with its frames instead of ~30 KB.
STUB = """export default function (component) {
  let undo = null, tries = 0;
  const go = () => {
    if (window.__emMount) { undo = window.__emMount(component); return; }
    if (tries++ < 400) setTimeout(go, 25);
  };
  go();
  return () => { if (undo) undo(); };
}"""
_code = st.components.v2.component(NAME + "_code", js=JS, css=CSS, isolate_styles=False)
_component = st.components.v2.component(NAME, js=STUB, isolate_styles=False)
LOADER_KEY = "em_live_view_code"


def load() -> None:
    """Ship the view's drawing code to the browser: call once in the page's full run, before any
    `live_view` (in a fragment or not). The element it mounts is empty and takes no room."""
    _code(key=LOADER_KEY, height=0)


def live_view(payload: bytes, *, key: str, height: int | None = None, presenter: bool = False) -> None:
    """Mount (first call) or feed (later calls, same ``key``) the live view with one payload.

    payload: ``wire.encode_payload(...)`` bytes (header, optional real points, 0..k frames).
    key: stable per view; the same key across reruns keeps the browser's player and its queue.
    height: total height in CSS pixels (legend included); default: as tall as the plot's
    aspect asks for its width, at most the window's height.
    presenter: fill the viewport's height with a square plot and larger type (projector).
    """
    if not isinstance(payload, (bytes, bytearray)):
        raise ValueError(f"payload must be bytes from wire.encode_payload, got {type(payload).__name__}")
    if height is not None and (isinstance(height, bool) or not isinstance(height, int) or height < 160):
        raise ValueError(f"height must be None or an int >= 160 (CSS pixels), got {height!r}")
    extra = {k: v for k, v in (("presenter", bool(presenter)), ("height", height)) if v}
    _component(data=wire.merge_header(bytes(payload), **extra) if extra else bytes(payload), key=key)
