"""Share and keep: copy-link boxes, the teacher's classroom link, and the exports of a training run.

Any page can show its own link with one call, after it has written its state to the URL:

    share.link_box()                     # a "Share" popover with the page's full link

Links are built from the page's base URL (``st.context.url``: scheme, host, path,
no query) and the parameters the page mirrors into the URL, so opening one
reproduces the page: for a training run the same settings and seed, and so on
the CPU the same pictures step by step.
"""
from __future__ import annotations

import queue
import time
from urllib.parse import urlencode

import streamlit as st

from ui import controls, own_data, state
from wgan_core.draw import render
from wgan_core.files import checkpoint, export
from wgan_core.serve.handle import RunHandle

GIF_SECONDS = [3, 5, 10, 20]
GIF_SIZES = {"small": 360, "medium": 480, "large": 640}
GIF_FPS = 8
GIF_MAX_FRAMES = 120


# --------------------------------------------------------------------------- links

def base_url(page: str = "") -> str:
    """The page's URL without its query (``st.context.url``; from the Host header where that is absent)."""
    url = None
    try:
        url = st.context.url
    except Exception:                    # outside a browser session (tests, bare mode)
        url = None
    if url:
        return url.split("?")[0].split("#")[0]
    try:
        host = st.context.headers.get("Host")
    except Exception:
        host = None
    return f"http://{host or 'localhost:8501'}/{page}"


def link(params: dict, page: str = "") -> str:
    """``base_url(page)`` with ``params`` as its query (floats as %.6g, like the URL the page writes).

    Empty values and a presenter flag that is off are left out (they are the defaults).
    """
    q = {k: (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in params.items()
         if v is not None and v != "" and k != "s" and not (k == "presenter" and str(v) in ("False", "0"))}
    return base_url(page) + ("?" + urlencode(q, safe=",") if q else "")


def current_params() -> dict[str, str]:
    """The parameters now in the page's URL (the last value of a repeated one)."""
    return {k: st.query_params.get_all(k)[-1] for k in st.query_params if st.query_params.get_all(k)}


def show_link(url: str, caption: str | None = None) -> None:
    """The link in a code box (its copy button is at the box's right) and a caption under it."""
    st.code(url, language=None, wrap_lines=True)
    if caption:
        st.caption(caption)


def link_box(params: dict | None = None, page: str = "", label: str = "Share",
             note: str | None = None) -> None:
    """A popover with this page's full link: one call for any page (after it wrote its URL)."""
    with st.popover(label, icon=":material/link:", help="A link that reopens this page as it is now."):
        show_link(link(current_params() if params is None else params, page),
                  "Copy it with the button at the right of the box; opening it shows this page with "
                  "these settings.")
        if note:
            st.info(note)


def share_panel(ns: str, params: dict, page: str, note: str | None = None) -> None:
    """Train live's Share popover content: the run's link, and a classroom link for students."""
    mine = {**params, **controls.classroom_params(ns)}
    show_link(link(mine, page), "Copy it with the button at the right of the box. Opening it starts the same "
              "run: same settings, same seed, so the same pictures step by step (on the CPU).")
    if note:
        st.info(note)
    if not st.toggle("Make a link for a class", key=f"{ns}.share_class",
                     help="Choose which controls students see, as in TensorFlow Playground's classroom mode."):
        return
    shown = st.session_state.get(f"{ns}.show")
    pick = st.multiselect("Controls students see", list(controls.CONTROLS), key=f"{ns}.share_show",
                          default=list(controls.CONTROLS) if shown is None else
                          [n for n in controls.CONTROLS if n in shown],
                          format_func=controls.CONTROLS.get, label_visibility="collapsed",
                          placeholder="none: students only press Play and Step")
    lock = st.checkbox("Lock the set-up (objective, data, network, seed, presets)", key=f"{ns}.share_lock",
                       value=controls.locked(ns))
    student = {k: v for k, v in params.items() if k not in ("show", "lock", "presenter")}
    st.caption("Controls students see:")
    if set(pick) != set(controls.CONTROLS):
        student["show"] = controls.show_query(pick)
    if lock:
        student["lock"] = "1"
    show_link(link(student, page), f"Students see {len(pick)} of {len(controls.CONTROLS)} controls"
              + (", and cannot change the set-up." if lock else "."))


# --------------------------------------------------------------------------- exports

def export_panel(ns: str, handle: RunHandle, ring: export.FrameRing, layers: tuple) -> None:
    """Downloads of the current run: picture, curves and checkpoint of this moment; a GIF of the training so far.

    The files are made on a click and then offered as plain downloads. (A download button with a
    callable, made on click, loses its file here: every script run of any session, and the live
    fragment reruns several times a second, deletes generated files no session references, often
    before the browser fetches them.)
    """
    # The popover is drawn by full page runs only: its GIF part must not wait for a snapshot (after a new
    # run started, the next full run may be long in coming), and the files of this moment ask on the click.
    _gif_section(ns, handle, ring, layers)
    if handle.snapshot() is None:
        st.caption("The run is starting: the picture, curves and checkpoint of this moment can be prepared "
                   "once it has trained a little.")
        return
    st.markdown("**This moment**: the picture (PNG), the curves (CSV), and a checkpoint (weights, optimizer "
                "state and settings) to continue later.")
    if st.button("Prepare the files", icon=":material/inventory_2:", key=f"{ns}.prep"):
        with st.spinner("Saving the run in the training process…"):
            try:
                st.session_state[f"{ns}.files"] = prepare_files(handle, layers,
                                                                st.session_state.get(f"{ns}.points_raw"))
            except (ValueError, queue.Empty):
                st.error("The training process did not hand over the run in time; try again.")
    files = st.session_state.get(f"{ns}.files")
    if files:
        st.caption(f"Prepared at generator step {files['step']:,}.")
        c = st.columns(3)
        for col, (kind, label, icon, mime) in zip(c, [
                ("png", "Picture", ":material/image:", "image/png"),
                ("csv", "Curves", ":material/table_chart:", "text/csv"),
                ("ckpt", "Checkpoint", ":material/save:", "application/zip")]):
            col.download_button(label, data=files[kind], file_name=files["stem"] + "." + kind, mime=mime,
                                icon=icon, on_click="ignore", width="stretch", key=f"{ns}.dl_{kind}")


def prepare_files(handle: RunHandle, layers: tuple, raw_points) -> dict:
    """PNG (960 px) and curves CSV of the newest snapshot, and the run's checkpoint, taken together."""
    ckpt = _checkpoint(handle, raw_points)
    snap = handle.arrays()
    return {"step": snap["gen_steps"], "stem": export.file_stem(snap["config"], snap["gen_steps"]),
            "png": render.frame_png(snap, layers=drawable(layers), size=960),
            "csv": export.curves_csv(snap["curves"]).encode(), "ckpt": ckpt}


def drawable(layers) -> tuple:
    """The layers an exported picture draws: the view's, those the Pillow renderer knows."""
    return tuple(x for x in layers if x in render.LAYERS)


def _checkpoint(handle: RunHandle, raw_points) -> bytes:
    """The run's state with its settings; for a run on your own data, the points as drawn (un-standardised)."""
    custom = handle.config.data == "custom"
    return checkpoint.pack_checkpoint(handle.save(), handle.config, raw_points if custom else None)


def _gif_section(ns: str, handle: RunHandle, ring: export.FrameRing, layers: tuple) -> None:
    st.markdown("**Animated GIF** of the training so far (up to 120 frames spread over the whole run).")
    c1, c2 = st.columns(2)
    seconds = c1.select_slider("Length (s)", GIF_SECONDS, value=5, key=f"{ns}.gif_seconds")
    size = c2.select_slider("Size", list(GIF_SIZES), value="small", key=f"{ns}.gif_size")
    if st.button("Make GIF", icon=":material/movie:", key=f"{ns}.gif_make"):
        if len(ring) < 2:
            st.warning("Nothing to animate yet: press Play and let it train for a few seconds.")
        else:
            frames = ring.pick(min(GIF_MAX_FRAMES, max(2, round(seconds * GIF_FPS))))
            bar = st.progress(0.0, text="Drawing the frames…")
            t0 = time.monotonic()
            data = export.gif(frames, seconds, GIF_SIZES[size], drawable(layers),
                              progress=lambda i, n: bar.progress(i / n * 0.9, text=f"Drawing frame {i} of {n}…"
                                                                 if i < n else "Encoding the GIF…"))
            bar.progress(1.0, text=f"{len(frames)} frames, steps {frames[0]['gen_steps']:,} to "
                                   f"{frames[-1]['gen_steps']:,}: {len(data) / 1e6:.1f} MB in "
                                   f"{time.monotonic() - t0:.1f} s.")
            name = export.file_stem((handle.snapshot() or {}).get("config", {}), frames[-1]["gen_steps"]) + ".gif"
            st.session_state[f"{ns}.gif"] = (data, name)
    made = st.session_state.get(f"{ns}.gif")
    if made:
        st.download_button("Download the GIF", icon=":material/download:", data=made[0], file_name=made[1],
                           mime="image/gif", on_click="ignore", type="primary", key=f"{ns}.gif_dl")


# --------------------------------------------------------------------------- checkpoints back in

def checkpoint_uploader(ns: str, locked: bool = False) -> None:
    """'Continue from a checkpoint': the file's settings (and points) are loaded, then its state."""
    st.file_uploader("Continue from a checkpoint", type=["ckpt"], key=f"{ns}.ckpt_file",
                     on_change=_on_checkpoint, args=(ns,), disabled=locked,
                     help="A .ckpt file downloaded here. Its settings replace the current ones; "
                          "training continues where it stopped." if not locked else "Locked by the teacher's link.")


def _on_checkpoint(ns: str) -> None:
    f = st.session_state.get(f"{ns}.ckpt_file")
    if f is not None:
        read_checkpoint(ns, f.getvalue())


def read_checkpoint(ns: str, data: bytes) -> bool:
    """Unpack an uploaded checkpoint into the widgets (a callback: before they are drawn); load it next run."""
    try:
        run_bytes, cfg, points = checkpoint.unpack_checkpoint(data)
    except ValueError as err:
        st.session_state[f"{ns}.ckpt_msg"] = ("error", str(err))
        return False
    state.set_config(ns, cfg)
    st.session_state[f"{ns}.preset"] = ""
    if points is not None:
        own_data.set_points(ns, points, "checkpoint")
    st.session_state[f"{ns}.pending_load"] = run_bytes
    return True


def apply_pending_load(ns: str, handle: RunHandle, ring: export.FrameRing) -> None:
    """Send a checkpoint read by `read_checkpoint` to the run (after its settings reached it)."""
    data = st.session_state.pop(f"{ns}.pending_load", None)
    if data is None:
        return
    with st.spinner("Loading the checkpoint…"):
        try:
            handle.load(data)
            ring.clear()
            msg = ("success", "Checkpoint loaded, paused where it stopped: press Play to continue.")
        except ValueError as err:
            msg = ("error", f"The checkpoint could not be loaded: {err}")
        except queue.Empty:
            msg = ("error", "The training process did not answer in time; try loading the checkpoint again.")
    st.session_state[f"{ns}.ckpt_msg"] = msg


def show_messages(ns: str) -> None:
    """The outcome of the last checkpoint upload, once."""
    msg = st.session_state.pop(f"{ns}.ckpt_msg", None)
    if msg:
        getattr(st, msg[0])(msg[1])
