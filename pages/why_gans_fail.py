"""Why GANs fail: on disjoint supports JS is stuck at log 2 and the generator's gradient vanishes; W1 is not."""
import math

import numpy as np
import streamlit as st

from ui import live_view, quiz, run_view, session, state, vega
from wgan_core.draw import lesson_specs as V
from wgan_core.lessons import lessons1d as L
from wgan_core.lessons import push1d, questions, theory
from wgan_core.presets import PRESETS

STATE = state.PageState("wgf", {"theta": state.Param(0.5, float, state.number(-1.0, 1.0)),
                                "m": state.Param(3.0, float, state.number(0.0, 10.0)),
                                "s": state.Param(1.0, float, state.number(0.2, 2.0))})
NS = STATE.ns
RACE = ("gan-collapse", "classroom-8g")          # vanilla GAN vs WGAN-GP, same data and seed
TITLES = {"gan-collapse": "Vanilla GAN", "classroom-8g": "WGAN-GP"}

STATE.load()
live_view.load()
lines_curves = st.cache_data(show_spinner=False)(L.parallel_lines_curves)
push_story = st.cache_data(show_spinner=False, max_entries=512)(push1d.push_story)
st.title("Why GANs fail")
STATE.show_notes()
st.markdown("A GAN's discriminator measures how different real and generated data are with the "
            "**Jensen–Shannon (JS) divergence**. When the two do not overlap — and early in training, "
            "or when data lie on a thin manifold, they don't — JS is stuck at **log 2**, and the generator "
            "learns nothing. The **Earth-Mover distance W1** keeps telling it how far to go.")

# --------------------------------------------------------------------------- 1. parallel lines
st.header("1 · Two parallel lines: JS is stuck at log 2")
st.markdown(r"The WGAN paper's Example 1. Real data $P_0$: the points $(0, z)$, generated data $P_\theta$: "
            r"$(\theta, z)$, with $z \sim U[0,1]$. For every $\theta \ne 0$ the two segments do not touch "
            r"(**disjoint supports**). Move $\theta$ and watch which measure notices.")
theta = st.slider("θ, the generator's parameter (offset of its line)", -1.0, 1.0, step=0.01, key=f"{NS}.theta")
left, right = st.columns([1, 2], gap="large")
now = theory.parallel_lines(theta)
with left, session.guard("The picture of the lines"):
    vega.chart(st, V.lines_spec(theta), width="stretch")
with right, session.guard("The divergence curves"):
    vega.chart(st, V.divergences_spec(theta, now, lines_curves(), L.KL_CAP), width="stretch")


@st.cache_data(show_spinner=False, max_entries=512)
def numeric_check(theta: float) -> dict:
    return theory.parallel_lines_numeric(theta, n=400)


gaussians_view = st.cache_data(show_spinner=False, max_entries=512)(L.gaussians_view)
push_vs_distance = st.cache_data(show_spinner=False, max_entries=64)(L.push_vs_distance)   # 101 quadratures


with session.guard("The numbers"):
    check = numeric_check(theta)
    cols = st.columns(4)
    for col, key, name, note in zip(cols, ("js", "kl", "tv", "w1"), ("JS", "KL", "TV", "W1"),
                                    ("log 2 ≈ 0.693 for θ ≠ 0", "+∞ for θ ≠ 0", "1 for θ ≠ 0", "|θ| for every θ")):
        col.metric(f"{name}(P₀, Pθ)", "∞" if math.isinf(now[key]) else f"{now[key]:.3f}", help=note)
        col.caption(f"numeric check **{'∞' if math.isinf(check[key]) else f'{check[key]:.3f}'}** · closed form: {note}")
    st.caption("Closed forms from the WGAN paper; the check computes JS, KL and TV on a 0.01 grid and W1 as the "
               "exact optimal transport between 400 samples of each line (so it is |θ| plus a small sampling error).")
st.info("A generator trained on JS sees the same number, log 2, wherever its line is: the loss is flat, its "
        "**gradient is zero**. W1 = |θ| slopes towards θ = 0 from everywhere, so gradient descent on W1 works.")

# --------------------------------------------------------------------------- 2. two Gaussians
st.header("2 · Two Gaussians moving apart: the discriminator's gradient vanishes")
st.markdown(r"Real data $p = N(0, s^2)$, generated data $q = N(m, s^2)$. The best discriminator is "
            r"$D^*(x) = p(x) / (p(x) + q(x))$; a generated point at $x$ is pushed by "
            r"$\partial_x \log(1 - D^*(x))$. A WGAN **critic** is instead the best 1-Lipschitz $f$: here "
            r"$f^*(x) = -x$ (for $m > 0$), whose slope is 1 however far apart the two are.")
c1, c2 = st.columns(2)
m = c1.slider("Distance m between the means", 0.0, 10.0, step=0.1, key=f"{NS}.m")
s = c2.slider("Standard deviation s of both", 0.2, 2.0, step=0.1, key=f"{NS}.s")
with session.guard("The Gaussians"):
    g = gaussians_view(m, s)
    kc = st.columns(5)
    kc[0].metric("JS(p, q)", f"{g['js']:.3f}", help="In nats; its maximum is log 2 = 0.693.")
    kc[1].metric("W1(p, q)", f"{g['w1']:.3f}", help="Equal widths: W1 = m.")
    kc[2].metric("D* at the fake mean", f"{g['d_at_fake']:.2g}", help="D*(m) = 1 / (1 + exp(m²/2s²)).")
    kc[3].metric("GAN push (mean)", f"{g['gan_push']:.2g}", help="E over fake samples of |∂x log(1 − D*)|.")
    kc[4].metric("WGAN push (mean)", f"{g['wgan_push']:.0f}", help="|f*′| = 1 everywhere (0 only when m = 0).")
    cols = st.columns(3)
    vega.chart(cols[0], V.discriminator_spec(g), width="stretch")
    vega.chart(cols[1], V.push_spec(g), width="stretch")
    vega.chart(cols[2], V.push_curve_spec(push_vs_distance(s), m, g), width="stretch")
with session.guard("The sentence"):
    st.info(push_story(m, s))

# --------------------------------------------------------------------------- 3. mode collapse
st.header("3 · Mode collapse, live")
st.markdown("Both train on the same 8 Gaussians from the same seed. Left: a vanilla (non-saturating) GAN — it "
            "chases whichever modes its discriminator currently rewards and drops the others (**mode collapse**). "
            "Right: a WGAN-GP, whose **critic** gives a useful gradient towards every mode.")
book = session.runs()
handles = [book.get(f"why.{name}", PRESETS[name].config) for name in RACE]
st.session_state[f"{NS}.rids"] = [h.rid for h in handles]         # for tests and diagnostics
for h, name in zip(handles, RACE):
    h.set_config(PRESETS[name].config.replace(seed=PRESETS[RACE[0]].config.seed))
playing = handles[0].playing


def act(what: str) -> None:
    run_view.wake(NS)
    for h in handles:
        if what in ("reset", "fresh"):
            h.reset()
        h.play(what == "fresh" or (what == "play" and not playing))


QUESTION = questions.for_page("why")["gan-modes"]


def outcome() -> dict | None:
    """The vanilla GAN's run, once it has trained the question's steps."""
    snap = handles[0].snapshot()
    return snap if snap is not None and snap["gen_steps"] >= QUESTION.steps else None


b = st.columns([1, 1, 4])
b[0].button("Pause" if playing else "Start", icon=":material/pause:" if playing else ":material/play_arrow:",
            type="primary", width="stretch", on_click=act, args=("play",))
b[1].button("Reset", width="stretch", help="Both runs start again from scratch.", on_click=act, args=("reset",))
b[2].caption("Two small networks train in a worker process; your browser plays their snapshots as they come.")
pace = session.pace()
VIEWS = [(h, f"{NS}.view.{n}") for h, n in zip(handles, RACE)]            # (run, its view's key)
tick = run_view.tick_for(playing, 2 * pace.min_tick(), run_view.awake(NS, *VIEWS))
for name in RACE:
    run_view.full_run(f"{NS}.view.{name}")


@st.fragment(run_every=tick)
def race() -> None:
    snap0 = handles[0].snapshot()
    quiz.box(NS, QUESTION, outcome(), on_run=lambda: act("fresh"),
             progress=f"Training… step {snap0['gen_steps'] if snap0 else 0:,} of {QUESTION.steps:,}.")
    now_playing = False
    for col, h, name in zip(st.columns(2), handles, RACE):
        with col, session.guard("The live run"):
            h.seen()
            if err := h.error():
                st.warning(err)
            st.subheader(TITLES[name])
            snap = run_view.show(h, f"{NS}.view.{name}", layers=("real", "fake"), interval=tick or 1.0)
            now_playing |= h.playing
            if snap is None:
                continue
            mt, cv = snap["metrics"], snap["curves"]
            st.markdown(f"Modes covered: **{mt['modes_covered']} / {mt['modes_total']}** "
                        f"(visited {mt.get('modes_visited', '—')}) · generator step {snap['gen_steps']:,}",
                        help="Covered: at least 1 % of the samples within 3 standard deviations of the mode. "
                             "Visited: the nearest mode of at least 1 % of the samples, however far. A collapsed "
                             "GAN's clump can visit a mode without covering it.")
            if snap["status"] != "ok":
                st.error(snap["message"])
            ok = np.isfinite(cv["modes_covered"])
            if ok.sum() > 1:
                vega.chart(st, V.modes_spec(cv["gen_step"][ok], cv["modes_covered"][ok], mt["modes_total"]),
                           width="stretch")
    pace.ran(handles[0].rid if now_playing else None)
    if tick is not None and not (now_playing or run_view.awake(NS, *VIEWS)):
        run_view.stop_timer()                 # paused: stop the timer


race()
STATE.write_url(STATE.values())
