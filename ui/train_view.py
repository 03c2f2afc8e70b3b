"""Train live's panels around the live view: run buttons, status line, metrics, pseudo-code, curves.

Everything here reads the newest snapshot only; it never waits for training. The
view itself is `ui.run_view`.
"""
from __future__ import annotations

import html
import time

import streamlit as st

from ui import run_view, vega
from wgan_core.draw import charts
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.views import last_measured
from wgan_core.serve.handle import RunHandle

QUEUED_AFTER_S = 2.5

EXPLAIN = {
    "wgan-gp": "The **critic** f scores points: high where real data lie, low where generated points lie. "
               "The **gradient penalty** pulls its slope towards 1 at points between real and fake (watch "
               "*largest slope seen*: near, not at, 1), so E[f(real)] − E[f(fake)] estimates the **Earth-Mover "
               "distance W1**. The generator moves its points uphill on f (the arrows): that is the gradient it "
               "gets, even where the supports do not overlap.",
    "wgan-lp": "As WGAN-GP, but the penalty is **one-sided**: only slopes above 1 are penalised, so the critic "
               "is not forced to slope 1 everywhere. The penalty is soft: slopes somewhat above 1 remain "
               "(measured: about half of the interpolates in the Lipschitz lab).",
    "wgan-clip": "After each critic update every weight is clipped to [−c, c]. That bounds the critic's slope by "
                 "a number that depends on c and the network (about 0.003 at c = 0.01 for this network, "
                 "hundreds at c = 1), not by 1: the W estimate is W1 times an unknown factor. Too large a c and "
                 "the critic is steep; too small and it is nearly flat, so the generator's gradients vanish.",
    "sngan": "Every critic layer is divided by an estimate of its largest singular value (**spectral "
             "normalisation**, one power-iteration step per update). The product of the layers' norms bounds "
             "the critic's slope, so it stays close to 1-Lipschitz; the estimate lags a little, so measured "
             "slopes reach about 1.07.",
    "gan": "A vanilla GAN: the discriminator D = sigmoid(f) classifies real vs fake and the generator minimises "
           "log(1 − D(G(z))). When real and fake do not overlap, the optimal D saturates and the generator's "
           "gradient vanishes (JS divergence stuck at log 2).",
    "ot": "**No critic at all**: each generator step draws B real and B generated points, solves their **exact "
          "optimal assignment** (POT) and moves every generated point straight towards its partner, minimising "
          "the batch's exact W1 (the Losses curve). This is what a WGAN critic approximates, computed exactly "
          "on a batch: n_critic, the critic's learning rate, clip and λ do nothing here. The exact assignment "
          "costs about B² to B³ per step, and a batch's W1 is a noisy estimate of the distance between the "
          "distributions, biased upwards (two batches of the same data are not at 0).",
    "nsgan": "The non-saturating GAN: the generator maximises log D(G(z)) instead, which keeps its gradient alive "
             "where the minimax one vanishes. Against the optimal discriminator it follows KL(P_g‖P_r) − 2·JS, "
             "which punishes missing modes only weakly: watch for **mode collapse** (points hopping between "
             "a few modes).",
}

ALGO_OT = [
    ("loop", "for each generator step:"),
    ("generator", "  x ~ P_data, z ~ N(0,I)   (B of each)"),
    ("generator", "  π = exact optimal assignment of G(z) to x"),
    ("generator", "  L_G = mean_i |G(z_i) − x_π(i)|   (batch W1)"),
    ("generator", "  G ← G − lr_g·∇L_G   (π held fixed)"),
]
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
    """The run buttons: "play" or "pause" (what the button said when it was clicked: a click on "Play" plays
    though the run's state changed since it was drawn), "reset", or a step mode ("iteration", "critic",
    "generator"; one update, then pause). Records which part of the algorithm ran last."""
    run_view.wake(ns)
    if what == "reset":
        handle.reset()
        return
    if what in ("play", "pause"):
        handle.play(what == "play")
    else:
        handle.step(what)
    st.session_state[f"{ns}.last_action"] = "loop" if what in ("play", "pause", "iteration") else what


def toolbar(ns: str, handle: RunHandle, waiting: bool, speeds: dict) -> None:
    """Play/Pause, the three steps, Reset and the speed, in one row that wraps on a phone. Callbacks, not ``if st.button(...)``: they act before the page runs, so this run already draws
    the new state (the Play/Pause label) instead of a second full run for it."""
    playing = handle.playing
    bar = st.container(horizontal=True, vertical_alignment="center", gap="small")
    bar.button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
               type="primary", disabled=waiting, on_click=act, args=(ns, handle, "pause" if playing else "play"),
               width=120, key=f"{ns}.play")
    for label, mode in [("Step", "iteration"), ("Critic step", "critic"), ("Generator step", "generator")]:
        bar.button(label, help=f"One {mode} update, then pause.", disabled=waiting, on_click=act,
                   args=(ns, handle, mode), key=f"{ns}.{mode}")
    bar.button("Reset", help="A fresh run with the same settings and seed.", disabled=waiting, on_click=act,
               args=(ns, handle, "reset"), key=f"{ns}.reset")
    # value= as well as the key: the browser re-creates this slider now and then as the fragment reruns, and a
    # re-created widget takes its default from the message (without it, the first option: "slow")
    bar.select_slider("Speed", list(speeds), value=st.session_state[f"{ns}.speed"], key=f"{ns}.speed",
                      label_visibility="collapsed", width=170,
                      format_func=lambda v: f"speed: {v}", help="Generator steps per second: 3, 15, 60 or as fast "
                      "as possible.")
    handle.speed(speeds[st.session_state[f"{ns}.speed"]])


def pseudo_code(active: str, loss: str = "wgan-gp") -> None:
    """The WGAN algorithm (the exact-OT one for a critic-free ``loss``) with the part that ran last highlighted."""
    rows = []
    for part, line in ALGO_OT if OBJECTIVES[loss].critic_free else ALGO:
        text = html.escape(line)
        on = active == part or (active == "loop")
        rows.append(f"<span style='background:{'#ffe3d6' if on else 'transparent'};display:block'>{text}</span>")
    st.html("<pre style='font-size:0.82rem;line-height:1.35;overflow-x:auto;padding:0.6rem;border-radius:6px;"
            "background:#f6f6f4;white-space:pre'>" + "".join(rows) + "</pre>")


PAUSED_BECAUSE = {"": "paused", "idle": "paused (nobody was watching)", "restarted": "paused (restarted)",
                  "diverged": "stopped: diverged", "failed": "stopped: an error"}


def status_line(handle: RunHandle, snap: dict) -> None:
    """Step counts, speed and what the worker says of the run: training, queued, or paused and why."""
    age = time.monotonic() - snap.get("received", time.monotonic())
    rate = _rate(handle, snap)
    parts = [f"generator step **{snap['gen_steps']:,}**", f"critic steps {snap['critic_steps']:,}"]
    playing = handle.playing
    if playing and rate is not None:
        parts.append(f"{rate:,.0f} generator steps/s")
    if playing and age > QUEUED_AFTER_S:
        parts.append("⏳ queued: the server is busy, your run continues in a moment")
    elif playing:
        parts.append("● training" + (" (restarted)" if handle.reason == "restarted" else ""))
    else:
        parts.append(PAUSED_BECAUSE.get(handle.reason, "paused"))
    st.markdown(" · ".join(parts))
    st.caption("Training with " + live_settings(snap["config"]))
    if snap.get("note"):
        st.info(snap["note"])


def live_settings(cfg: dict) -> str:
    """The live settings as the worker reports them in its snapshot (what the training uses right now)."""
    obj = OBJECTIVES[cfg["loss"]]
    if obj.critic_free:
        return f"lr {cfg['lr_g']:g} (generator; no critic) · batch {cfg['batch']} · exact assignment each step"
    knob = f" · clip {cfg['clip']:g}" if "clip" in obj.knobs else f" · λ {cfg['lam']:g}" if "lam" in obj.knobs else ""
    return f"lr {cfg['lr_c']:g} / {cfg['lr_g']:g} (critic / generator) · n_critic {cfg['n_critic']}{knob}"


def average_note(cfg: dict) -> str | None:
    """What the view shows when the run averages its generator's weights (None when it does not)."""
    d = cfg.get("ema", 0.0)
    if not d:
        return None
    return (f"The points and the figures show the **average of the generator's weights** (decay {d:g}: about "
            f"the last {1 / (1 - d):.0f} steps); training uses the generator itself, and the losses are its. "
            "The average jitters less around tight modes (Yazıcı et al. 2019). Turn it off under *Acts live*.")


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


def _num(v, fmt: str = ".3f") -> str:
    return "—" if v is None or v != v else format(v, fmt)


def metrics(snap: dict) -> None:
    """The figures that tell one story: how far the samples are (exact, with its sampling floor), what the
    critic estimates (with its noise), a bound that holds whatever the critic, and the quality."""
    m, obj = snap["metrics"], OBJECTIVES[snap["config"]["loss"]]
    c = st.columns(2)
    if m.get("modes_total"):
        c[0].metric("Modes covered", f"{m['modes_covered']} / {m['modes_total']}",
                    f"visited {m.get('modes_visited', '—')}", delta_color="off", delta_arrow="off",
                    help="Covered: at least 1 % of 2,500 samples lie within 3 standard deviations of the mode "
                         "(the papers' definition). Visited: the mode is the nearest one to at least 1 % of the "
                         "samples, however far: a collapsed GAN visits a mode without covering it.")
        c[1].metric("High-quality share", f"{m['hq_fraction']:.0%}",
                    help="Share of 2,500 samples within 3 standard deviations of their nearest mode.")
    elif m.get("precision") is not None:
        c[0].metric("Precision", f"{m['precision']:.0%}", help="Share of generated points that fall inside the "
                    "real data's manifold (a ball around each distinct real point reaching its 3rd nearest neighbour; "
                    "Kynkäänniemi et al. 2019): quality.")
        c[1].metric("Recall", f"{m['recall']:.0%}", help="Share of real points inside the generated points' "
                    "manifold: coverage, the no-modes cousin of modes covered.")
    w1, n = last_measured(snap, "exact_w1"), m.get("exact_w1_n") or 400
    floor = m.get("exact_w1_floor")
    c = st.columns(2)
    c[0].metric(f"W1, {n} vs {n} points", "…" if w1 is None else f"{w1:.3f}",
                None if not floor else f"floor {floor[0]:.2f}–{floor[1]:.2f}", delta_color="off", delta_arrow="off",
                help=f"Exact optimal transport between {n} generated and {n} real points (POT), about once a "
                     "second. Two samples of the real data itself are already this far apart (5–95 %: the floor), "
                     "so a perfect generator lands in that band, not at 0.")
    est, se = m.get("critic_w1_estimate"), m.get("critic_w1_estimate_se")
    noise = f"± {2 * se:.3f}" if se is not None and se == se else None
    if obj.wasserstein:
        c[1].metric("Critic's estimate", _num(est), noise, delta_color="off", delta_arrow="off",
                    help="E f(real) − E f(fake) over the 2,500 evaluation points (± 2 standard errors). It "
                         "estimates W1 only while the critic is 1-Lipschitz: check it against the bound.")
        c = st.columns(2)
        c[0].metric("Lower bound", _num(m.get("w_corrected")),
                    help=f"From the critic: its values made feasible for the dual problem (their c-transform): a "
                         f"guaranteed lower bound on the W1 of the same {n} vs {n} points, whatever the critic's "
                         "slope; never above the exact W1 beside it.")
        c[1].metric("Largest slope seen", _num(m.get("largest_slope_seen"), ".2f"),
                    help="The critic's largest gradient norm at 400 interpolates and a 48×48 grid. Sampled, so "
                         "the true Lipschitz constant can be larger; 1-Lipschitz means at most 1.")
    elif obj.critic_free:
        bw = last_measured(snap, "gen_loss")
        c[1].metric(f"W1 of a batch, {snap['config']['batch']} vs {snap['config']['batch']}", _num(bw),
                    help="The loss: the exact W1 between the last training batch of generated and of real "
                         "points (no critic: nothing is estimated). Noisy, and on average above the distance "
                         "between the distributions (two batches of the same data are not at 0), more so for "
                         "small batches.")
    else:
        c[1].metric("Logit gap", _num(est), noise, delta_color="off", delta_arrow="off",
                    help="E f(real) − E f(fake) of the discriminator's logits over 2,500 evaluation points. A "
                         "GAN's discriminator estimates no distance: this only says how well it separates.")


def curves(snap: dict, presenter: bool = False) -> None:
    """Distance (with the floor band), losses and quality over generator steps; a projector gets two."""
    cv, m = snap["curves"], snap["metrics"]
    obj = OBJECTIVES[snap["config"]["loss"]]
    floor = m.get("exact_w1_floor")
    band = None if not floor else (floor[0], floor[1], f"two real samples: {floor[0]:.2f}–{floor[1]:.2f}")
    distance = ["exact_w1", "critic_w1_estimate", "w_corrected"] if obj.wasserstein else ["exact_w1"]
    quality = ["modes_covered", "modes_visited"] if m.get("modes_total") else ["precision", "recall"]
    specs = [(distance, "Distance to the real data", band),
             (["critic_loss", "gen_loss", "penalty"], "Losses", None),
             (quality, "Modes covered and visited" if m.get("modes_total") else "Precision and recall", None)]
    if presenter:
        specs = [specs[0], specs[2]]
    for col, (which, title, b) in zip(st.columns(len(specs)), specs):
        with col:
            vega.chart(st, charts.curves_spec(cv, which, title, presenter=presenter, band=b), width="stretch")
