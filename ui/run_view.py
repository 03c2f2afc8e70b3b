"""A training run's live view on any page: frames as data to the browser's canvas, and the redraw pace.

The worker publishes a compact frame per snapshot (`wgan_core.engine.wire`); the
pool keeps each run's last few. A page's view fragment hands the browser every
frame published since its previous run, as one payload (`show`); the canvas
component (`ui.live_view`) plays them at their own spacing and tweens between them,
so the picture moves at display rate while the fragment runs only a few times a
second. The run's real points travel once per run (and again after a full page
run, in case the browser remounted the view).

Pace: while a run trains, the fragment runs every ``tick`` seconds, at least
``VIEW_TICK`` and at least the server's floor (`ui.pace`: all viewers together use
at most a share of the Streamlit process). A paused view stops its timer; after a
click (Play, Step, Reset) it keeps a short one for ``WAKE_S`` so the result shows.
A view whose timer the load asks to change changes it with a message to the browser
(`ui.retime`), not a page run.
"""
from __future__ import annotations

import time

import streamlit as st

from ui import retime
from ui.live_view import live_view
from ui.pace import CURVES_EVERY
from wgan_core.engine import wire
from wgan_core.serve.handle import RunHandle

CURVES_S = 2.0                  # the curves at most this often: each Vega redraw holds the browser's main thread
# seconds between payloads while training (the browser plays 25 frames/s between). Each fragment run costs the
# browser's main thread ~40 ms of rendering; at 0.3 s (3.4 runs/s) frames.py's canvas repainted 49.0-55.8
# times/s, at 0.45 s (2.2 runs/s) 52.1-55.5, with the same snapshots shown (the view plays 0.7 s behind)
VIEW_TICK = 0.45
TICKS = tuple(round(VIEW_TICK * 1.07 ** k, 3) for k in range(30))   # the intervals a view may use: 0.45 .. ~3.2 s
REAL_EVERY = 8                   # payloads: the run's real points go out again (~3.6 s; 4 KB: < 1 % of the bytes)
WAKE_S = 3.0                     # a paused view redraws this long after a click, then stops its timer
RETUNE_S = 3.0
LABELS = {"fake": "generated", "arrows": "G step", "manifold": "G manifold", "transport": "transport plan"}
TRANSPORT_NOTE = ("**transport plan** (a layer of the view): a line from each generated point to its partner in the "
                  "exact optimal transport plan between 400 generated and 400 real points; their mean length is "
                  "the exact W1 shown beside the view (measured about once a second; in between, the lines follow "
                  "the moving points).")


def full_run(key: str) -> None:
    """Call in the page's full run for each view ``key``: its next payload carries the real points again
    (a full run may have remounted the browser's view, which then has none)."""
    st.session_state[f"{key}.resend"] = True


def show(handle: RunHandle, key: str, *, layers, interval: float, presenter: bool = False,
         height: int | None = None, pictures: bool = False) -> dict | None:
    """Feed the view ``key`` with the run's frames newer than those of its payload before last; returns the
    snapshot. Every frame goes out in two payloads in a row (the browser drops the copy): Streamlit may
    drop a fragment run's output when several fragments' timers fire together, and a frame lost that way
    would never be drawn. The run's real points go out the same way: with its first two payloads, and
    again with the two after a full page run; and with every ``REAL_EVERY``-th (at N = 60 both copies were
    dropped for up to 21 of 60 views: those views showed no real points). ``{key}.sent`` is (run, newest
    version sent, newest version of the payload before). ``pictures``: the run trains on pictures (its frames are `wire.encode_pictures`;
    no real points); the view lays out a grid of them even before the first one comes."""
    snap = handle.snapshot()
    run = snap.get("serial") if snap else None
    sent_run, newest, before = st.session_state.get(f"{key}.sent", (None, 0, 0))
    frames = handle.frames(before if sent_run == run else 0)
    count = st.session_state[f"{key}.count"] = st.session_state.get(f"{key}.count", 0) + 1
    if snap is not None and (sent_run != run or st.session_state.pop(f"{key}.resend", False)):
        st.session_state[f"{key}.real_left"] = 2        # the real points too go out in two payloads in a row
    elif count % REAL_EVERY == 0:                       # and again now and then: under load both can be dropped
        st.session_state[f"{key}.real_left"] = max(1, st.session_state.get(f"{key}.real_left", 0))
    real, left = None, st.session_state.get(f"{key}.real_left", 0) if snap is not None else 0
    if left:
        st.session_state[f"{key}.real_left"] = left - 1
        real = None if pictures else snap.get("real")     # a run on pictures has no points to draw under them
    header = {"layers": list(layers), "interval": interval, **({"pictures": True} if pictures else {})}
    if snap is not None and snap["status"] != "ok":
        header["message"] = snap.get("message", "")
    live_view(wire.encode_payload(header, [f for _, f in frames], real=real), key=key, presenter=presenter,
              height=height)
    if sent_run != run:
        newest = 0
    latest = frames[-1][0] if frames else newest
    st.session_state[f"{key}.sent"] = (run, max(latest, newest), newest if sent_run == run else 0)
    return snap


# --------------------------------------------------------------------------- pace
def awake(ns: str, *views: tuple[RunHandle, str]) -> bool:
    """Keep redrawing though the runs are paused: a click (Play, Step, Reset) happened within ``WAKE_S``,
    or one of the ``views`` (handle, view key) has not yet been sent its run's newest frame (a page just
    opened, a run just made)."""
    if time.monotonic() - st.session_state.get(f"{ns}.woke", 0.0) < WAKE_S:
        return True
    return any(behind(h, key) for h, key in views)


def behind(handle: RunHandle, key: str) -> bool:
    """The view ``key`` has not yet been sent the newest frame of the handle's current run twice (see `show`),
    or there is none yet."""
    snap = handle.snapshot()
    if snap is None:
        return True
    if snap.get("frame") is None:
        return False
    run, _, before = st.session_state.get(f"{key}.sent", (None, 0, 0))
    return run != snap.get("serial") or before < snap.get("version", 0)


def wake(ns: str) -> None:
    st.session_state[f"{ns}.woke"] = time.monotonic()


def tick_for(playing: bool, floor: float = 0.0, woke: bool = False, base: float = VIEW_TICK) -> float | None:
    """Seconds between two payloads of a view: ``base`` (``VIEW_TICK``) or the server's ``floor``, whichever
    is longer, rounded up to one of ``TICKS`` (or ``base`` itself when shorter than them); None (no timer)
    for a paused view nobody just clicked."""
    if not (playing or woke):
        return None
    want = max(base, floor)
    return want if want < TICKS[0] else next((t for t in TICKS if t >= want), TICKS[-1])


def curves_tick(tick: float | None, playing: bool = True) -> float | None:
    """The curves: every ``CURVES_S`` seconds, or every ``CURVES_EVERY``-th redraw of the view under load
    (frames.py: at one a second the canvas repainted 44.7-51.2 times a second, at one per 2 s 48.4-52.6)."""
    return None if tick is None else max(CURVES_S, CURVES_EVERY * tick)


def declare_ticks(ns: str, tick: float | None, playing: bool) -> dict:
    """The redraw intervals of the view fragment (its side panel and toolbar run with it) and of the curves
    fragment, as this full page run declares them (and so as the browser's timers have them from now on)."""
    ticks = {"view": tick, "curves": curves_tick(tick, playing)}
    st.session_state[f"{ns}.ticks"] = {name: (t, None) for name, t in ticks.items()}
    return ticks


def curves_ran(ns: str) -> None:
    """Call from the curves fragment: remember its id, so that the view fragment can start or stop it."""
    here = retime.current_fragment()
    if here is not None:
        st.session_state[f"{ns}.curves_fid"] = here[1]


def stop_timer() -> None:
    """Stop the running fragment's timer (a message to the browser; a page run where that cannot be done)."""
    if not retime.stop():
        st.rerun()


def follow_tick(ns: str, name: str, want: float | None) -> None:
    """Call from the view fragment's run (``name`` "view") with the interval the run and the load ask for
    (``want``). A timer to stop (the run paused, its view up to date) or to start (a click inside the fragment,
    such as Play) changes at once; a change of pace waits until it has held for ``RETUNE_S``. Each change is a
    message to the browser (ui/retime.py), not a page run, and the curves fragment follows the view's."""
    ticks = st.session_state[f"{ns}.ticks"]
    now, since = ticks[name]
    if want == now:
        ticks[name] = (now, None)
        return
    t = time.monotonic()
    if now is not None and want is not None:
        if since is None:
            ticks[name] = (now, t)
            return
        if t - since < RETUNE_S:
            return
    if not (retime.stop() if want is None else retime.retime(want)):
        st.rerun()                                   # the internals are missing: re-declare every fragment
    ticks[name] = (want, None)
    fid, curves = st.session_state.get(f"{ns}.curves_fid"), curves_tick(want)
    if fid and ticks.get("curves", (None,))[0] != curves:
        if retime.stop(fid) if curves is None else retime.retime(curves, fid):
            ticks["curves"] = (curves, None)
