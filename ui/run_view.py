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
from ui.pace import CURVES_EVERY, SIDE_EVERY
from wgan_core.engine import wire
from wgan_core.serve.handle import RunHandle

VIEW_TICK = 0.3                  # seconds between payloads while training (the browser plays 25 frames/s between)
TICKS = tuple(round(VIEW_TICK * 1.07 ** k, 3) for k in range(30))   # the intervals a view may use: 0.3 .. ~2 s
WAKE_S = 3.0                     # a paused view redraws this long after a click, then stops its timer
SIDE_TICK = 0.5                  # status line and metrics (at least; slower under load)
RETUNE_S = 3.0
LABELS = {"fake": "generated", "arrows": "G step", "manifold": "G manifold"}


def full_run(key: str) -> None:
    """Call in the page's full run for each view ``key``: its next payload carries the real points again
    (a full run may have remounted the browser's view, which then has none)."""
    st.session_state[f"{key}.resend"] = True


def show(handle: RunHandle, key: str, *, layers, interval: float, presenter: bool = False,
         height: int | None = None) -> dict | None:
    """Feed the view ``key`` with the run's frames newer than what it was sent last; returns the snapshot."""
    snap = handle.snapshot()
    run = snap.get("serial") if snap else None
    sent_run, sent_version = st.session_state.get(f"{key}.sent", (None, 0))
    after = sent_version if sent_run == run else 0
    frames = handle.frames(after)
    real = None
    if snap is not None and (sent_run != run or st.session_state.pop(f"{key}.resend", False)):
        real = snap.get("real")
    header = {"layers": list(layers), "interval": interval, "labels": LABELS}
    if snap is not None and snap["status"] != "ok":
        header["message"] = snap.get("message", "")
    live_view(wire.encode_payload(header, [f for _, f in frames], real=real, ), key=key, presenter=presenter,
              height=height)
    if frames:
        st.session_state[f"{key}.sent"] = (run, frames[-1][0])
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
    """The view ``key`` has not been sent the newest frame of the handle's current run (or there is none yet)."""
    snap = handle.snapshot()
    if snap is None:
        return True
    if snap.get("frame") is None:
        return False
    return st.session_state.get(f"{key}.sent", (None, 0)) != (snap.get("serial"), snap.get("version"))


def wake(ns: str) -> None:
    st.session_state[f"{ns}.woke"] = time.monotonic()


def tick_for(playing: bool, floor: float = 0.0, woke: bool = False) -> float | None:
    """Seconds between two payloads of a view: ``VIEW_TICK`` or the server's ``floor``, whichever is
    longer, rounded up to one of ``TICKS``; None (no timer) for a paused view nobody just clicked."""
    if not (playing or woke):
        return None
    return next((t for t in TICKS if t >= max(VIEW_TICK, floor)), TICKS[-1])


def side_tick(tick: float | None, playing: bool) -> float | None:
    """The status line and metrics: twice a second, or every ``SIDE_EVERY``-th redraw under load."""
    return None if tick is None else max(SIDE_TICK, SIDE_EVERY * tick)


def curves_tick(tick: float | None, playing: bool) -> float | None:
    """The curves: once a second, or every ``CURVES_EVERY``-th redraw under load."""
    return None if tick is None else max(1.0, CURVES_EVERY * tick)


PANEL_TICKS = {"side": side_tick, "curves": curves_tick}     # panel -> its interval from the view's


def declare_ticks(ns: str, tick: float | None, playing: bool) -> dict:
    """The redraw intervals of the view, side panel and curves fragments as this full page run
    declares them (and so as the browser's timers have them from now on)."""
    ticks = {"view": tick, **{name: f(tick, playing) for name, f in PANEL_TICKS.items()}}
    st.session_state[f"{ns}.ticks"] = {name: (t, None) for name, t in ticks.items()}
    return ticks


def follow_view(ns: str, panel: str, playing: bool) -> None:
    """``follow_tick`` for a panel ("side", "curves"): its interval follows the view's current one."""
    follow_tick(ns, panel, PANEL_TICKS[panel](st.session_state[f"{ns}.ticks"]["view"][0], playing))


def follow_tick(ns: str, name: str, want: float | None) -> None:
    """Call from fragment ``name``'s run: once the interval the load asks for (``want``) has differed
    from the fragment's current one for ``RETUNE_S``, the fragment's timer changes to it
    (ui/retime.py: a message to the browser, not a page run). A timer to stop (``want`` None: the run is
    paused and its view up to date) stops at once, also by a message; a timer to start needs a page run,
    which re-declares every fragment (any click makes one)."""
    ticks = st.session_state[f"{ns}.ticks"]
    now, since = ticks[name]
    if want == now:
        ticks[name] = (now, None)
        return
    if want is None:
        ticks[name] = (None, None)
        if not retime.stop():
            st.rerun()
        return
    if now is None:
        return
    t = time.monotonic()
    if since is None:
        ticks[name] = (now, t)
    elif t - since >= RETUNE_S:
        if retime.retime(want):
            ticks[name] = (want, None)
        else:
            ticks[name] = (now, None)
            st.rerun()
