"""Wasserstein in 1D: W1 as the area between CDFs, as moving earth, and as the best 1-Lipschitz critic's gap."""
import time

import numpy as np
import streamlit as st
from scipy.stats import wasserstein_distance

from ui import quiz, session, state, vega
from wgan_core.draw import lesson_specs as V
from wgan_core.lessons import dist1d, questions
from wgan_core.lessons import lessons1d as L

NS = "w1d"
NS_CHOICES = [10, 20, 50, 100, 200, 500, 1000, 2000]
MOVE_S, HOLD_S = 3.0, 1.0                 # the earth moves for 3 s (and, looping, rests 1 s)
ARROWS = 24
SIDES = {"p": dict(kind="gaussian", mu=0.0, sd=1.0, mu2=3.0, w=0.5, width=3.0),
         "q": dict(kind="gaussian", mu=2.5, sd=0.6, mu2=-2.5, w=0.6, width=2.0)}
RANGES = dict(mu=(-5.0, 5.0), sd=(0.1, 3.0), mu2=(-5.0, 5.0), w=(0.0, 1.0), width=(0.1, 8.0))
PARAMS = {f"{s}_{k}": state.Param(v, str, state.one_of(*L.KINDS)) if k == "kind" else
          state.Param(v, float, state.number(*RANGES[k])) for s, d in SIDES.items() for k, v in d.items()}
PARAMS |= {"mode": state.Param("laws", str, state.one_of("laws", "samples")),
           "n": state.Param(200, int, state.one_of(*NS_CHOICES)), "seed": state.Param(0, int, state.number(0, 99)),
           "loop": state.Param(False, state.flag), "dual": state.Param(False, state.flag)}
STATE = state.PageState(NS, PARAMS)

STATE.load()
st.title("Wasserstein in 1D")
STATE.show_notes()
st.markdown("Think of each distribution as a pile of earth of total mass 1. The **Earth-Mover distance** "
            "W1 is the least work — mass × distance — needed to reshape pile *p* into pile *q*. "
            "In one dimension it can be seen three exact ways; move the sliders and watch all three agree.")

cols = st.columns(2, gap="large")
for side, col in zip("pq", cols):
    with col:
        colour = "teal" if side == "p" else "orange"
        kind = st.radio(f"**{side}** ({colour}: {'real data' if side == 'p' else 'generated'})", L.KINDS,
                        key=f"{NS}.{side}_kind", horizontal=True)
        a, b = st.columns(2)
        a.slider("mean μ₁" if kind == "mixture" else "centre" if kind == "uniform" else "mean μ", *RANGES["mu"],
                 step=0.1, key=f"{NS}.{side}_mu")
        if kind == "uniform":
            b.slider("width", *RANGES["width"], step=0.1, key=f"{NS}.{side}_width")
        else:
            b.slider("std σ" + (" (both bumps)" if kind == "mixture" else ""), *RANGES["sd"], step=0.05,
                     key=f"{NS}.{side}_sd")
        if kind == "mixture":
            a.slider("mean μ₂", *RANGES["mu2"], step=0.1, key=f"{NS}.{side}_mu2")
            b.slider("weight w of the μ₁ bump", *RANGES["w"], step=0.05, key=f"{NS}.{side}_w")
m1, m2, m3 = st.columns([2, 2, 1])
m1.radio("Compare", ["laws", "samples"], key=f"{NS}.mode", horizontal=True,
         format_func={"laws": "the distributions (exact CDFs)", "samples": "n samples of each"}.get)
m2.select_slider("n samples of each (scipy's check, and the samples mode)", NS_CHOICES, key=f"{NS}.n")
m3.number_input("sample seed", 0, 99, key=f"{NS}.seed")
v = STATE.values()
spec = {s: {k: v[f"{s}_{k}"] for k in SIDES[s]} for s in "pq"}
P, Qd = L.side(**spec["p"]), L.side(**spec["q"])
xp, xq = L.draw(P, Qd, v["n"], v["seed"])
samples = v["mode"] == "samples"

lo, hi = L.plot_range(P, Qd, *((xp, xq) if samples else ()))
xs = np.linspace(lo, hi, 200)
pdf_p, pdf_q = P.pdf(xs), Qd.pdf(xs)
w1 = dist1d.w1_between(P, Qd)

# --------------------------------------------------------------------------- 1. CDFs
st.header("1 · W1 is the area between the CDFs")
st.latex(r"W_1(p, q) = \int_{-\infty}^{\infty} \lvert F_p(x) - F_q(x) \rvert \, dx")
left, right = st.columns([2, 1], gap="large")
with left, session.guard("The CDF chart"):
    cdf = L.empirical_cdfs(xp, xq, max_points=600) if samples else {"x": xs, "Fp": P.cdf(xs), "Fq": Qd.cdf(xs)}
    vega.chart(st, V.densities_spec(xs, pdf_p, pdf_q, height=220), width="stretch")
    vega.chart(st, V.cdf_spec(cdf["x"], cdf["Fp"], cdf["Fq"], lo, hi, samples), width="stretch")
with right, session.guard("The numbers"):
    sp = float(wasserstein_distance(xp, xq))
    closed = dist1d.closed_form_w1(P, Qd)
    if samples:
        st.metric("Shaded area (empirical CDFs)", f"{cdf['area']:.4f}", help="Σ |F̂p − F̂q| Δx over the pooled samples.")
    else:
        st.metric("Shaded area, W1(p, q)", f"{w1:.4f}", help="Adaptive quadrature of |Fp − Fq|, accurate to ~1e-9.")
    st.metric(f"scipy on {v['n']} samples of each", f"{sp:.4f}",
              help="scipy.stats.wasserstein_distance(xp, xq) with the sample seed above.")
    st.metric("Closed form", "—" if closed is None else f"{closed:.4f}",
              help="Two Gaussians: E|a + bZ| (a folded normal); two uniforms: a shift when the widths match.")
    spread = float(max(np.std(xp), np.std(xq)))         # the error's scale: the laws' spread over sqrt(n)
    if samples:
        st.caption(f"The shaded area *is* scipy's number (same samples). The distributions' own W1 is "
                   f"**{w1:.4f}**; these samples miss it by {abs(sp - w1):.4f}: sampling error, of the order of "
                   f"the spread over √n (here {spread:.2f} / √{v['n']} ≈ {spread / np.sqrt(v['n']):.3f}).")
    else:
        st.caption(f"scipy's sample estimate differs from the exact area by {abs(sp - w1):.4f}: sampling error, of "
                   f"the order of the spread over √n (here {spread:.2f} / √{v['n']} ≈ {spread / np.sqrt(v['n']):.3f}). "
                   + ("No closed form for a mixture: the quadrature is the reference." if closed is None else
                      "The closed form and the area agree to many digits."))

# --------------------------------------------------------------------------- 2. transport
st.header("2 · Moving the earth: the transport plan")
st.markdown(r"In 1D the cheapest plan never crosses its own paths: the $u$-quantile of $p$ goes to the "
            r"$u$-quantile of $q$, so $W_1 = \int_0^1 \lvert F_p^{-1}(u) - F_q^{-1}(u) \rvert \, du$, "
            "the average length of the arrows.")
left, right = st.columns(2, gap="large")
with left, session.guard("The transport plan"):
    a0, a1 = dist1d.quantile_pairs(P, Qd, ARROWS)
    vega.chart(st, V.plan_spec(xs, pdf_p, pdf_q, a0, a1), width="stretch")
    st.caption(f"Mean length of these {ARROWS} arrows: **{np.mean(np.abs(a1 - a0)):.4f}**; with more arrows it "
               f"tends to W1 = {w1:.4f}.")
grains = L.sand(P, Qd)
laws = (tuple(spec["p"].items()), tuple(spec["q"].items()))
with right:
    b1, b2 = st.columns(2, vertical_alignment="center")
    if b1.button("Move the earth", icon=":material/play_arrow:") or st.session_state.get(f"{NS}.earth_laws") != laws:
        st.session_state[f"{NS}.earth_laws"], st.session_state[f"{NS}.earth_t0"] = laws, time.monotonic()
    b2.toggle("Keep moving (loop)", key=f"{NS}.loop")
elapsed = time.monotonic() - st.session_state[f"{NS}.earth_t0"]


@st.fragment(run_every=0.15 if v["loop"] or elapsed < MOVE_S else None)     # plays once, or loops
def earth() -> None:
    t = time.monotonic() - st.session_state[f"{NS}.earth_t0"]
    phase = (t % (MOVE_S + HOLD_S)) / MOVE_S if v["loop"] else t / MOVE_S
    now = L.sand_at(grains, phase)
    with session.guard("The moving earth"):
        vega.chart(st, V.earth_spec(xs, pdf_p, pdf_q, now), width="stretch")
        st.progress(min(phase, 1.0), text=f"Work done so far: **{now['moved']:.3f}** of {grains['cost']:.3f} "
                    f"({grains['x0'].size} grains of mass 1/{grains['x0'].size}; W1 = {w1:.3f})")
    if not v["loop"] and phase >= 1.0 and st.session_state.get(f"{NS}.earth_done") != st.session_state[f"{NS}.earth_t0"]:
        st.session_state[f"{NS}.earth_done"] = st.session_state[f"{NS}.earth_t0"]
        st.rerun()                                            # the move is over: redraw the page without the timer


with right:
    earth()

# --------------------------------------------------------------------------- 3. duality
st.header("3 · The dual side: a critic finds W1")
st.latex(r"W_1(p, q) = \sup_{\lVert f \rVert_L \le 1} \; \mathbb{E}_{x \sim p} f(x) - \mathbb{E}_{y \sim q} f(y)")
st.markdown("A WGAN never moves earth. Its **critic** f, held to slope at most 1 (1-Lipschitz), is trained to "
            "score p high and q low; the best gap it can reach *is* W1 (Kantorovich–Rubinstein duality). In 1D "
            "the best critic is known: slope +1 where F_q > F_p and −1 where F_q < F_p (dashed). Train a small "
            "network critic with a gradient penalty, as a WGAN-GP does, and watch it find that shape.")
st.toggle("Train a critic (a few seconds in a worker process, then replayed here)", key=f"{NS}.dual")
QUESTION = questions.for_page("w1d")["penalty-gap"]
target = cdf["area"] if samples else w1
traj = None
if v["dual"]:
    with session.guard("The critic"), st.spinner("Training the critic in a worker…"):
        traj = session.job("dual1d", p=tuple(spec["p"].items()), q=tuple(spec["q"].items()),
                           n=v["n"] if samples else 0, data_seed=v["seed"])
        key = (tuple(spec["p"].items()), tuple(spec["q"].items()), samples, v["n"], v["seed"])
        if st.session_state.get(f"{NS}.replay_key") != key:
            st.session_state[f"{NS}.replay_key"], st.session_state[f"{NS}.replay_frame"] = key, 0
fcdf = [np.searchsorted(np.sort(a), xs, "right") / a.size for a in (xp, xq)] if samples else [P.cdf(xs), Qd.cdf(xs)]
fstar = L.optimal_critic(xs, *fcdf)
frames = 0 if traj is None else len(traj["curve_step"])


@st.fragment(run_every=0.45 if st.session_state.get(f"{NS}.replay_frame", 0) < frames - 1 else None)
def replay() -> None:
    i = min(st.session_state.get(f"{NS}.replay_frame", 0), max(frames - 1, 0))
    learned = None if traj is None else (traj["x"], traj["curves"][i])
    c1, c2 = st.columns(2, gap="large")
    vega.chart(c1, V.critic_spec(xs, pdf_p, pdf_q, xs, fstar, learned), width="stretch")
    if traj is None:
        c2.metric("Gap of the optimal critic", f"{target:.4f}", help="E_p f* − E_q f* = ∫|Fp − Fq| = W1.")
        c2.caption("Its slope is ±1 exactly where the CDFs differ, so its gap is the shaded area of part 1.")
        return
    step = int(traj["curve_step"][i])
    vega.chart(c2, V.gap_spec(traj, step), width="stretch")
    j = int(np.searchsorted(traj["step"], step))
    k = st.columns(3)
    k[0].metric("raw gap", f"{traj['gap'][j]:.4f}", help="E_p f − E_q f of the trained critic.")
    k[1].metric("penalty-adjusted gap", f"{traj['adjusted'][j]:.4f}", help="λ(√(1 + 2·gap/λ) − 1)")
    k[2].metric("W1 (the target)", f"{traj['w1']:.4f}",
                help="Scipy on the samples." if samples else "Area between the CDFs (quadrature).")
    if i < frames - 1:
        st.session_state[f"{NS}.replay_frame"] = i + 1
        if i + 1 == frames - 1:
            st.rerun()                                        # the last frame: redraw the page without the timer


with session.guard("The critic"):
    replay()
quiz.box(NS, QUESTION, traj, on_run=lambda: st.session_state.update({f"{NS}.dual": True}))
if traj is not None:
    W, lam = traj["w1"], traj["lam"]
    miss = abs(traj["adjusted"][-1] - W)
    st.markdown(f"**Why the raw gap overshoots.** The penalty is soft: scaling the ideal critic by c costs only "
                f"λ(c − 1)², so the best trade-off is c = 1 + W/(2λ), and the gap settles near "
                f"W + W²/(2λ) = **{W + W * W / (2 * lam):.3f}** (λ = {lam:g}), not W = {W:.3f}: "
                f"{W / (2 * lam):.0%} too high. Undoing that, λ(√(1 + 2·gap/λ) − 1), gives the penalty-adjusted "
                f"gap, here {traj['adjusted'][-1]:.3f}, {miss:.3f} from W1"
                + (f" ({miss / W:.0%})." if W > 0.1 else " (when W1 is this small, sampling noise dominates).")
                + " A WGAN-GP critic's estimate is inflated the same way, by about W1/(2λ): with λ = 10 that is a "
                "few percent, with the classroom presets' λ = 0.3 and W1 ≈ 0.3 it is about 50 %.")
    if st.button("Replay", icon=":material/replay:"):
        st.session_state[f"{NS}.replay_frame"] = 0
        st.rerun()
STATE.write_url(v)
