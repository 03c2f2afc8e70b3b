"""The live view of one training run: frame, status, metrics, pseudo-code, curves.

Everything here draws from the newest snapshot only; it never waits for training.
"""
from __future__ import annotations

import base64
import html
import time

import streamlit as st

from ui import retime, vega
from ui.pace import CURVES_EVERY, SIDE_EVERY
from wgan_core.draw import charts, render
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.lessons import lab
from wgan_core.serve.pool import RunHandle

QUEUED_AFTER_S = 2.5
VIEW_CLASS = "em-view"              # the live picture's <img> class (browser tests and benchmarks find it by it)
TICKS = tuple(round(0.08 * 1.07 ** k, 3) for k in range(38))   # redraw intervals while training: 0.08 .. 1.0 s
PAUSED_TICK = 1.0
SIDE_TICK = 0.5                     # status line and metrics (at least; slower under load)
RETUNE_S = 3.0

EXPLAIN = {
    "wgan-gp": "The **critic** f scores points: high where real data lie, low where generated points lie. "
               "Its slope is held near 1 by the **gradient penalty** at points between real and fake, so "
               "E[f(real)] − E[f(fake)] estimates the **Earth-Mover distance W1**. The generator moves its "
               "points uphill on f (the arrows): that is the gradient it gets, even where the supports do not overlap.",
    "wgan-lp": "As WGAN-GP, but the penalty is **one-sided**: only slopes above 1 are penalised, so the critic "
               "stays 1-Lipschitz without being forced to slope 1 everywhere.",
    "wgan-clip": "The critic is kept (roughly) **1-Lipschitz by clipping** every weight to [−c, c] after each update. "
                 "Too large a c and the bound is loose; too small and the critic is nearly flat, so the generator's "
                 "gradients vanish. The W estimate is W1 up to an unknown scale.",
    "sngan": "Every critic layer is divided by its largest singular value (**spectral normalisation**), so the "
             "whole critic is at most 1-Lipschitz by construction; no penalty, no clipping.",
    "gan": "A vanilla GAN: the discriminator D = sigmoid(f) classifies real vs fake and the generator minimises "
           "log(1 − D(G(z))). When real and fake do not overlap, the optimal D saturates and the generator's "
           "gradient vanishes (JS divergence stuck at log 2).",
    "nsgan": "The non-saturating GAN: the generator maximises log D(G(z)) instead, which keeps gradients alive "
             "but still follows JS divergence: watch for **mode collapse** (points hopping between a few modes).",
}

ALGO = [
    ("loop", "for each generator step:"),
    ("critic", "  for k in 1..n_critic:"),
    ("critic", "    x ~ P_data, z ~ N(0,I), x̃ = G(z)"),
    ("critic", "    L_C = E f(x̃) − E f(x) + λ·penalty"),
    ("critic", "    f ← f − lr_c·∇L_C ; clip if WGAN-clip"),
    ("generator", "  z ~ N(0,I)"),
    ("generator", "  L_G = −E f(G(z))"),
    ("generator", "  G ← G − lr_g·∇L_G"),
]


def act(ns: str, handle: RunHandle, what: str) -> None:
    """The run buttons: "play" (toggles Play/Pause), "reset", or a step mode ("iteration", "critic",
    "generator"; one update, then pause). Records which part of the algorithm ran last."""
    if what == "reset":
        handle.reset()
        return
    if what == "play":
        handle.play(not handle.playing)
    else:
        handle.step(what)
    st.session_state[f"{ns}.last_action"] = "loop" if what in ("play", "iteration") else what


def pseudo_code(active: str) -> None:
    """The WGAN algorithm with the part that ran last highlighted."""
    rows = []
    for part, line in ALGO:
        text = html.escape(line)
        on = active == part or (active == "loop")
        rows.append(f"<span style='background:{'#ffe3d6' if on else 'transparent'};display:block'>{text}</span>")
    st.html("<pre style='font-size:0.82rem;line-height:1.35;overflow-x:auto;padding:0.6rem;border-radius:6px;"
            "background:#f6f6f4;white-space:pre'>" + "".join(rows) + "</pre>")


def status_line(handle: RunHandle, snap: dict) -> None:
    age = time.monotonic() - snap.get("received", time.monotonic())
    rate = _rate(handle, snap)
    parts = [f"generator step **{snap['gen_steps']:,}**", f"critic steps {snap['critic_steps']:,}"]
    if handle.playing and rate is not None:
        parts.append(f"{rate:,.0f} generator steps/s")
    if handle.playing and age > QUEUED_AFTER_S:
        parts.append("⏳ queued: the server is busy, your run continues in a moment")
    elif handle.playing:
        parts.append("● training")
    else:
        parts.append("paused")
    st.markdown(" · ".join(parts))
    if snap.get("note"):
        st.info(snap["note"])


def _rate(handle: RunHandle, snap: dict) -> float | None:
    key = f"rate.{handle.rid}"
    prev = st.session_state.get(key)
    now = (snap.get("received", 0.0), snap["gen_steps"])
    if prev is None or now[0] - prev[0] > 3 or now[1] < prev[1]:
        st.session_state[key] = now + (None,)
        return None
    if now[0] - prev[0] < 0.8:
        return prev[2]
    rate = (now[1] - prev[1]) / max(now[0] - prev[0], 1e-6)
    st.session_state[key] = now + (rate,)
    return rate


def metrics(snap: dict) -> None:
    m, obj = snap["metrics"], OBJECTIVES[snap["config"]["loss"]]
    c = st.columns(3)
    if m["modes_total"]:
        c[0].metric("Modes covered", f"{m['modes_covered']} / {m['modes_total']}")
        c[1].metric("High-quality share", f"{m['hq_fraction']:.0%}")
    w1 = lab.last_measured(snap, "exact_w1")               # measured about once a second, not every frame
    c[2].metric("Exact W1", "…" if w1 is None else f"{w1:.3f}",
                help="Optimal transport cost between 400 generated and 400 real points (POT, exact), "
                     "measured about once a second.")
    c = st.columns(3)
    w = m["w_estimate"]
    c[0].metric("W estimate" if obj.wasserstein else "E f(real) − E f(fake)",
                f"{w:.3f}" if w == w else "—",
                help="The critic's E[f(real)] − E[f(fake)] on its last batch.")
    if m["w_corrected"] is not None:
        c[1].metric("÷ max slope", f"{m['w_corrected']:.3f}",
                    help="The W estimate divided by the critic's largest gradient norm: "
                         "a lower bound on W1 that holds for any critic.")
    if m["max_grad_norm"] is not None:
        c[2].metric("Max slope", f"{m['max_grad_norm']:.2f}",
                    help="The critic's largest gradient norm seen (grid and interpolates); 1-Lipschitz means at most 1.")


def curves(snap: dict, presenter: bool = False) -> None:
    cv = snap["curves"]
    c1, c2, c3 = st.columns(3)
    specs = [
        (c1, ["w_estimate", "exact_w1", "w_corrected"], "Distance: critic's estimate vs exact W1"),
        (c2, ["critic_loss", "gen_loss", "penalty"], "Losses"),
        (c3, ["modes_covered", "hq_fraction"], "Quality"),
    ]
    for col, which, title in specs:
        with col:
            vega.chart(st, charts.curves_spec(cv, which, title, presenter=presenter), width="stretch")


class _Html:
    """HTML that st.html takes as it is: a plain string would be dedented first (textwrap over the
    ~100 KB of an inline picture, on every redraw of every viewer)."""

    def __init__(self, body: str):
        self.body = body

    def _repr_html_(self) -> str:
        return self.body


def frame(handle: RunHandle, layers: tuple, size: int, presenter: bool) -> dict | None:
    """The newest snapshot as a picture. Inline (a data URL), not st.image: a new media URL per frame
    left the view blank until each image had loaded (measured: the picture was visible in only
    44-68 % of samples while training); inline it is always there."""
    jpg, snap = handle.frame_png(render.frame_jpeg, layers=layers, size=size, presenter=presenter)
    if jpg is None:
        st.info("Starting the run…")
        return None
    st.html(_Html(f'<img class="{VIEW_CLASS}" alt="live view at generator step {snap["gen_steps"]}" width="{size}" '
            f'style="max-width:100%;height:auto" src="data:image/jpeg;base64,{base64.b64encode(jpg).decode()}">'))
    return snap


def tick_for(snap: dict | None, playing: bool, floor: float = 0.0) -> float:
    """Seconds between two redraws of the live view while training: a little under the worker's
    frame interval (so that no snapshot is skipped for being a moment late), but not under the
    server's ``floor`` (ui/pace.py); rounded up to one of ``TICKS``. Slow while paused (a step's
    result still shows within a second)."""
    if not playing:
        return PAUSED_TICK
    interval = max(0.8 * (snap or {}).get("frame_interval", TICKS[0]), floor)
    return next((t for t in TICKS if t >= interval), TICKS[-1])


def side_tick(tick: float, playing: bool) -> float:
    """The status line and metrics: twice a second, or every ``SIDE_EVERY``-th redraw under load."""
    return max(SIDE_TICK, SIDE_EVERY * tick) if playing else PAUSED_TICK


def curves_tick(tick: float, playing: bool) -> float:
    """The curves: once a second, or every ``CURVES_EVERY``-th redraw under load."""
    return max(1.0, CURVES_EVERY * tick) if playing else PAUSED_TICK


PANEL_TICKS = {"side": side_tick, "curves": curves_tick}     # panel -> its interval from the view's


def declare_ticks(ns: str, tick: float, playing: bool) -> dict:
    """The redraw intervals of the view, side panel and curves fragments as this full page run
    declares them (and so as the browser's timers have them from now on)."""
    ticks = {"view": tick, **{name: f(tick, playing) for name, f in PANEL_TICKS.items()}}
    st.session_state[f"{ns}.ticks"] = {name: (t, None) for name, t in ticks.items()}
    return ticks


def follow_view(ns: str, panel: str, playing: bool) -> None:
    """``follow_tick`` for a panel ("side", "curves"): its interval follows the view's current one."""
    follow_tick(ns, panel, PANEL_TICKS[panel](st.session_state[f"{ns}.ticks"]["view"][0], playing))


def follow_tick(ns: str, name: str, want: float) -> None:
    """Call from fragment ``name``'s run: once the interval the load asks for (``want``) has differed
    from the fragment's current one for ``RETUNE_S``, the fragment's timer changes to it
    (ui/retime.py: a message to the browser, not a page run). Where that cannot be done the page
    reruns, which re-declares every fragment (at most once per ``RETUNE_S``)."""
    ticks = st.session_state[f"{ns}.ticks"]
    now, since = ticks[name]
    if want == now:
        ticks[name] = (now, None)
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
