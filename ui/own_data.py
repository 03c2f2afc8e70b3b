"""Your own data: draw a 2D distribution by clicking or dragging a box on a chart, or upload a CSV.

The drawing pad is a Vega-Lite chart over a fixed grid of candidate points
(`GRID_STEP` apart on [-LIM, LIM]^2, drawn as faint dots) with one selection:
a click picks the nearest grid point and adds a small cloud around it; a box
(interval selection) adds one jittered point per grid point inside it. Each
selection is consumed once by the chart's callback, which then gives the chart
a new key so the selection starts empty again.

Session state of namespace ``ns``: ``draft`` (the points on the pad, a list of
(k, 2) arrays, one per stroke), ``points_raw`` (the set chosen for training, as
on the pad and in the link), ``points`` (``upload.standardize(points_raw)``, the
array the run trains on, or None) and ``points_src`` ("drawn", "upload",
"link", "checkpoint"). Drawn points are rounded to the link grid, so a link with
``pts=`` carries them exactly and the same computation gives the same training
set; an uploaded file is standardised first (and rounded too when small).
"""
from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from ui import state
from wgan_core.files import upload

LIM, GRID_STEP = 4.0, 0.25
CLICK_CLOUD, CLICK_STD = 8, 0.15
MAX_DRAWN = 2000
PAD_SHOW = 1500                     # points drawn on the pad at most (a subsample of a large upload)
REAL_HEX = "#01665e"


def grid() -> np.ndarray:
    """(G*G, 2) candidate points of the pad."""
    t = np.round(np.arange(-LIM, LIM + GRID_STEP / 2, GRID_STEP), 4)
    gx, gy = np.meshgrid(t, t)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def points_from_selection(selection: dict, rng: np.random.Generator) -> np.ndarray:
    """New points (k, 2) for one pad selection: a cloud around a clicked grid point, or a filled box.

    ``selection`` is Streamlit's ``event.selection``: {"pick": [{"x":..,"y":..}, ...]} or
    {"box": {"x": [x0, x1], "y": [y0, y1]}}. Anything else yields no points.
    """
    out = []
    for p in selection.get("pick") or []:
        try:
            c = np.array([float(p["x"]), float(p["y"])])
        except (KeyError, TypeError, ValueError):
            continue
        if np.isfinite(c).all():
            out.append(c + rng.normal(0, CLICK_STD, (CLICK_CLOUD, 2)))
    box = selection.get("box") or {}
    try:
        (x0, x1), (y0, y1) = sorted(map(float, box["x"])), sorted(map(float, box["y"]))
    except (KeyError, TypeError, ValueError):
        x0 = None
    if x0 is not None:
        g = grid()
        inside = g[(g[:, 0] >= x0) & (g[:, 0] <= x1) & (g[:, 1] >= y0) & (g[:, 1] <= y1)]
        out.append(inside + rng.uniform(-GRID_STEP / 2, GRID_STEP / 2, inside.shape))
    if not out:
        return np.zeros((0, 2))
    return upload.link_ready(np.clip(np.concatenate(out), -LIM, LIM))


def draft(ns: str) -> np.ndarray:
    parts = st.session_state.get(f"{ns}.draft") or []
    return np.concatenate(parts) if parts else np.zeros((0, 2))


def points(ns: str):
    """The points the run trains on when data is 'custom' (None: none yet)."""
    return st.session_state.get(f"{ns}.points")


def set_points(ns: str, raw: np.ndarray, src: str) -> None:
    """Make ``raw`` the training set (standardised) and the pad's content, and choose 'Your own data'."""
    raw = np.asarray(raw, dtype=np.float64)
    st.session_state[f"{ns}.points_raw"] = raw
    st.session_state[f"{ns}.points"] = upload.standardize(raw)
    st.session_state[f"{ns}.points_src"] = src
    st.session_state[f"{ns}.draft"] = [raw]
    st.session_state[f"{ns}.data"] = "custom"
    st.session_state[f"{ns}.preset"] = ""


def init(ns: str) -> None:
    """Once per session: the points of a link's ``pts=`` (a note when they are damaged or missing)."""
    if st.session_state.get(f"{ns}.pts_read"):
        return
    st.session_state[f"{ns}.pts_read"] = True
    st.session_state.setdefault(f"{ns}.draft", [])
    raw = st.query_params.get_all("pts")
    notes = []
    if raw:
        try:
            set_points(ns, upload.decode_points(raw[-1]), "link")
        except upload.PointsError as err:
            notes.append(f"URL parameter 'pts': {err}")
    if st.session_state.get(f"{ns}.data") == "custom" and points(ns) is None:
        notes.append("The link trains on its own data but does not carry the points (a link cannot carry an "
                     "uploaded file): draw or upload them under 'Your own data'.")
    for text in notes:
        state.note(ns, text)


def url_param(ns: str, data: str) -> tuple[str | None, str | None]:
    """(the ``pts`` value for the URL or None, a note for the share box or None)."""
    pts = st.session_state.get(f"{ns}.points_raw")
    if data != "custom" or pts is None:
        return None, None
    enc = upload.encode_points(pts)
    if enc is None:
        return None, (f"This run trains on an uploaded file of {len(pts):,} points. A link cannot carry a "
                      "file: whoever opens it must upload the same file under 'Your own data'.")
    return enc, None


# --------------------------------------------------------------------------- callbacks

def _on_select(ns: str, key: str) -> None:
    event = st.session_state.get(key) or {}
    sel = dict(event.get("selection") or {})
    sig = repr(sorted((k, repr(v)) for k, v in sel.items()))
    if sig == st.session_state.get(f"{ns}.pad_last"):
        return
    st.session_state[f"{ns}.pad_last"] = sig
    new = points_from_selection(sel, np.random.default_rng())
    have = sum(len(p) for p in st.session_state.get(f"{ns}.draft") or [])
    if len(new) and have < MAX_DRAWN:
        st.session_state[f"{ns}.draft"] = (st.session_state.get(f"{ns}.draft") or []) + [new[: MAX_DRAWN - have]]


def _undo(ns: str) -> None:
    st.session_state[f"{ns}.draft"] = (st.session_state.get(f"{ns}.draft") or [])[:-1]


def _clear(ns: str) -> None:
    st.session_state[f"{ns}.draft"] = []
    st.session_state.pop(f"{ns}.own_msg", None)


def _train(ns: str) -> None:
    try:
        pts = upload.check_points(draft(ns), "The drawing")
    except upload.PointsError as err:
        st.session_state[f"{ns}.own_msg"] = ("error", str(err))
        return
    old = st.session_state.get(f"{ns}.points_raw")
    if old is not None and np.array_equal(pts, old):          # the same set: keep the run it already has
        st.session_state[f"{ns}.data"] = "custom"
    else:
        set_points(ns, pts, "drawn")
    st.session_state[f"{ns}.own_msg"] = ("success", f"Training on your {len(pts)} points.")


def handle_csv(ns: str, data: bytes, name: str = "the file") -> bool:
    """Validate an uploaded CSV; good points go on the pad (standardised) and into training."""
    try:
        pts = upload.standardize(upload.parse_points(data))
    except upload.PointsError as err:
        st.session_state[f"{ns}.own_msg"] = ("error", f"{name}: {err}")
        return False
    if len(pts) <= upload.MAX_LINK_POINTS:
        pts = upload.link_ready(pts)
    set_points(ns, pts, "upload")
    st.session_state[f"{ns}.own_msg"] = ("success", f"{name}: {len(pts):,} points, standardised (mean 0, "
                                         "standard deviation 1); training on them now.")
    return True


def csv_key(ns: str) -> str:
    """The CSV uploader's key: a new one after each file, so the widget lets the file go."""
    n = st.session_state.get(f"{ns}.csv_n", 0)
    return f"{ns}.csv_file" + (f".{n}" if n else "")


def _on_csv(ns: str, key: str) -> None:
    """Check the size before the bytes are read, handle the file, then clear the uploader and drop its bytes."""
    f = st.session_state.get(key)
    if f is None:
        return
    try:
        upload.check_size(f.size)
        handle_csv(ns, f.getvalue(), f.name)
    except upload.PointsError as err:
        st.session_state[f"{ns}.own_msg"] = ("error", f"{f.name}: {err}")
    finally:
        forget_upload(f)
        st.session_state[f"{ns}.csv_n"] = st.session_state.get(f"{ns}.csv_n", 0) + 1


def forget_upload(f) -> None:
    """Drop an uploaded file from Streamlit's upload store, where it would stay until the session ends.

    The widget's key changes too (see `csv_key`): a widget not drawn again is forgotten with its value.
    """
    try:
        from streamlit.runtime import get_instance
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        if ctx is not None:
            get_instance().uploaded_file_mgr.remove_file(ctx.session_id, f.file_id)
    except Exception:                    # no runtime (tests, bare mode): nothing is stored there
        pass


# --------------------------------------------------------------------------- the panel

def pad_spec(drawn: np.ndarray, mode: str) -> dict:
    """Vega-Lite spec of the pad: candidate grid (selectable), the drawn points on top."""
    g = grid()
    axis = {"scale": {"domain": [-LIM, LIM], "nice": False}, "axis": {"tickCount": 9, "title": None}}
    sel = ({"name": "pick", "select": {"type": "point", "on": "click", "nearest": True, "fields": ["x", "y"]}}
           if mode == "pick" else
           {"name": "box", "select": {"type": "interval", "encodings": ["x", "y"], "clear": "dblclick"}})
    shown = drawn if len(drawn) <= PAD_SHOW else drawn[np.linspace(0, len(drawn) - 1, PAD_SHOW).astype(int)]
    return {
        "height": 380,
        "layer": [
            {"data": {"values": [{"x": float(a), "y": float(b)} for a, b in g]}, "params": [sel],
             "mark": {"type": "point", "filled": True, "size": 6, "opacity": 0.25, "color": "#9aa0aa"},
             "encoding": {"x": {"field": "x", "type": "quantitative", **axis},
                          "y": {"field": "y", "type": "quantitative", **axis}}},
            {"data": {"values": [{"x": float(a), "y": float(b)} for a, b in shown]},
             "mark": {"type": "circle", "size": 28, "opacity": 0.85, "color": REAL_HEX, "clip": True},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}},
        ],
    }


def panel(ns: str, locked: bool = False) -> None:
    """The pad, its buttons and the CSV uploader."""
    d = draft(ns)
    left, right = st.columns([3, 2])
    with right:
        mode = st.segmented_control("Draw by", ["pick", "box"], key=f"{ns}.pad_mode", default="pick",
                                    format_func={"pick": ":material/touch_app: clicking", "box": ":material/crop_free: dragging a box"}.get,
                                    required=True)
        st.caption("A click adds a small cloud of points; a box fills its area with points. "
                   "Draw the distribution the generator should learn." if mode == "pick" else
                   "Drag a box: it fills with points (about 16 per unit square). Double-click clears the box.")
        st.markdown(f"**{len(d)}** points drawn" + (f" (shown: {PAD_SHOW:,})" if len(d) > PAD_SHOW else ""))
        b = st.columns(2)
        b[0].button("Undo", key=f"{ns}.pad_undo", on_click=_undo, args=(ns,), disabled=not len(d), width="stretch",
                    icon=":material/undo:")
        b[1].button("Clear", key=f"{ns}.pad_clear", on_click=_clear, args=(ns,), disabled=not len(d),
                    width="stretch", icon=":material/delete:")
        st.button("Train on these points", icon=":material/play_arrow:", key=f"{ns}.pad_train", on_click=_train, args=(ns,), type="primary",
                    disabled=locked or len(d) < upload.MIN_POINTS, width="stretch",
                    help="Locked by the teacher's link." if locked else f"A new run on the drawn points (at least "
                    f"{upload.MIN_POINTS}); they are standardised to mean 0 and spread 1 first.")
        csv = csv_key(ns)
        st.file_uploader("Or upload a CSV of 2D points", type=["csv", "txt", "tsv"], key=csv,
                         max_upload_size=max(1, upload.MAX_BYTES // 2**20),          # refused in the browser
                         on_change=_on_csv, args=(ns, csv), disabled=locked,
                         help=f"Two columns x, y (comma, semicolon, tab or space separated), an optional header "
                              f"row, {upload.MIN_POINTS} to {upload.MAX_POINTS:,} rows, at most 2 MB.")
        msg = st.session_state.get(f"{ns}.own_msg")
        if msg:
            getattr(st, msg[0])(msg[1])
    with left:
        key = f"{ns}.pad.{mode}"
        st.vega_lite_chart(pad_spec(d, mode), key=key, on_select=functools.partial(_on_select, ns, key),
                           selection_mode=[mode], width="stretch")
