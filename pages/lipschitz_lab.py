"""Lipschitz lab: four ways to keep a critic 1-Lipschitz, side by side, and what each costs."""
import streamlit as st

from ui import live_view, quiz, session, state, vega
from wgan_core import presets
from wgan_core.draw import lab_specs
from wgan_core.engine import wire
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.lessons import lab, questions

NS = "ll"
STEPS = [100, 200, 500, 1000, 2000]
CLIPS = [v for v in TrainConfig.options("clip") if 1e-3 <= v <= 0.1]   # the range where the lab shows a trend
LAMS = [v for v in TrainConfig.options("lam") if v in (0.1, 1.0, 10.0, 100.0)]
DEFAULT = next(iter(presets.for_page("lab").values()))          # the page opens on the first lab preset
STATE = state.PageState(NS, {
    "data": state.Param(DEFAULT.config.data, str, state.one_of(*lab.LAB_DATA)),
    "steps": state.Param(DEFAULT.steps, int, state.one_of(*STEPS)),
    "seed": state.Param(DEFAULT.config.seed, int, state.number(0, 9999)),
    "clip": state.Param(DEFAULT.config.clip, float, state.one_of(*CLIPS)),
    "lam": state.Param(DEFAULT.config.lam, float, state.one_of(*LAMS)),
})
HOW = """
| method | how it enforces ‖∇f‖ ≤ 1 | what to look for |
| --- | --- | --- |
| **WGAN-clip** | after every critic step, each weight w ← clip(w, −c, c) | weights piled at ±c; slopes far below 1 and uneven |
| **WGAN-GP** | adds λ·E[(‖∇f(x̂)‖ − 1)²] at interpolates x̂ | slopes close to 1 along the interpolates |
| **WGAN-LP** | adds λ·E[max(0, ‖∇f(x̂)‖ − 1)²]: only slopes above 1 cost | slopes mostly at most 1; the penalty is soft, so some exceed 1 |
| **Spectral norm** | every layer's W is divided by (an estimate of) its largest singular value | slopes about 1 or below; the estimate lags, so a little above 1 happens |
"""
LEVEL = {"good": "green", "acceptable": "orange", "poor": "red"}
PRESETS = presets.for_page("lab")
SHORT = {m: OBJECTIVES[m].short for m in lab.LAB_METHODS}

STATE.load()
live_view.load()


def apply_preset(name: str) -> None:
    p = PRESETS[name]
    STATE.set(data=p.config.data, seed=p.config.seed, clip=p.config.clip, lam=p.config.lam, steps=p.steps)


st.title("Lipschitz lab")
st.markdown("A WGAN critic measures the Earth-Mover distance only if it is **1-Lipschitz**, i.e. its slope "
            "is at most 1 everywhere:")
st.latex(r"W_1(P_r,P_g)=\sup_{\|f\|_L\le 1}\ \mathbb{E}_{x\sim P_r}f(x)-\mathbb{E}_{\tilde x\sim P_g}f(\tilde x),"
         r"\qquad \|f\|_L\le 1 \iff \|\nabla f(x)\|_2\le 1\ \text{for all } x.")
st.markdown("Below, four critics learn the same data from the same seed, each with its own way of enforcing "
            "the constraint (the seed notebook's network: 2 hidden layers of 128 units, batch 64, "
            "n_critic 5, each method's reference optimizer).")
st.markdown(HOW)

with st.container(border=True):
    b = st.columns(len(PRESETS) + 1)
    b[0].markdown("**Presets**")
    for col, (name, p) in zip(b[1:], PRESETS.items()):
        col.button(p.label, key=f"{NS}.btn.{name}", on_click=apply_preset, args=(name,), help=p.watch,
                   width="stretch")
    c = st.columns([1.4, 1.6, 0.8, 1.4, 1.2])
    c[0].selectbox("Data", lab.LAB_DATA, key=f"{NS}.data", format_func=lambda n: DATASETS[n].label)
    c[1].select_slider("Generator steps", STEPS, key=f"{NS}.steps",
                       help="Each generator step follows 5 critic steps. 200 steps take a few seconds; 2,000 about a minute.")
    c[2].number_input("Seed", 0, 9999, key=f"{NS}.seed", step=1)
    c[3].select_slider("Clip value c", CLIPS, key=f"{NS}.clip", format_func=lambda v: f"{v:g}",
                       help="WGAN-clip only. The WGAN paper uses 0.01.")
    c[4].select_slider("Penalty weight λ", LAMS, key=f"{NS}.lam", format_func=lambda v: f"{v:g}",
                       help="WGAN-GP and WGAN-LP only. The WGAN-GP paper uses 10.")
v = STATE.values()
STATE.write_url(v)
STATE.show_notes()

result = None
with session.guard("The experiment"):
    with st.status(f"Training four critics for {v['steps']:,} generator steps…", expanded=False) as box:
        result = session.job("lipschitz_experiment", **v)
        box.update(label=f"Four critics trained for {v['steps']:,} generator steps on "
                         f"{DATASETS[v['data']].label} (seed {v['seed']}); computed once in "
                         f"{result['seconds']:.1f} s and kept for everyone who asks the same.", state="complete")
if result is None:
    st.stop()
M = result["methods"]

quiz.box(NS, questions.for_page("lab")["closest-to-one"], result)      # the experiment above is its run

st.header("1 · Slopes along the interpolates")
st.markdown("The seed notebook's diagnostic: the critic's gradient norm ‖∇f(x̂)‖ at 400 points "
            "x̂ = εx + (1 − ε)x̃ on the lines between real points x and generated points x̃ "
            "(on the segments between *optimally coupled* real and generated points the optimal critic has "
            "slope exactly 1; these pairs are drawn at random, so even the best critic shows slopes below 1 on "
            "some of them). Red dashed line: the target 1.")
with session.guard("The gradient-norm chart"):
    vega.chart(st, lab_specs.grad_norm_spec(result), width="content")
for (m, r), col in zip(M.items(), st.columns(len(M))):
    s = r["summary"]
    with col.container(border=True):
        st.markdown(f"**{SHORT[m]}**  \nmean **{s['mean']:#.3g}** · median {s['median']:#.3g} · max {s['max']:#.3g}"
                    f"  \n:{LEVEL[s['level']]}[{s['verdict']}]")
st.caption("The verdict is the notebook's rule on |mean − 1|. WGAN-LP and spectral norm only promise slopes "
           "*at most* 1, so 'below' is allowed for them. The clipped critic is far below: its W estimate is W1 "
           "times an unknown small factor.")

st.header("2 · Where the weights sit")
clip = M["wgan-clip"]
st.markdown(f"Histograms of every weight the critic applies. Clipping piles them at the walls: "
            f"**{clip['share_near_clip']:.0%}** of the clipped critic's weights lie within 1 % of ±c "
            f"(c = {result['clip']:g}); a penalty leaves them free. For spectral norm the histogram shows "
            "W / σ_max(W), the weights it actually uses.")
with session.guard("The weight histograms"):
    for (m, spec), col in zip(lab_specs.weight_specs(result).items(), st.columns(len(M))):
        col.markdown(f"**{SHORT[m]}**")
        vega.chart(col, spec, width="stretch")

st.header("3 · Gradients through a deep critic")
deep_steps = min(v["steps"], session.DEEP_MAX_STEPS)
deep = None
with session.guard("The deep-critic experiment"), st.spinner("Training four deep critics (7 layers)…"):
    deep = session.job("layer_gradients", data=v["data"], steps=deep_steps, seed=v["seed"])
if deep is not None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        vega.chart(st, lab_specs.layer_spec(deep), width="content")
    with right:
        st.markdown(f"A critic with {deep['depth']} hidden layers of {deep['width']} units, trained for "
                    f"{deep['steps']:,} generator steps with clip c = 0.1, 0.01, 0.001, and with the gradient "
                    "penalty for contrast (as in Figure 1 of the WGAN-GP paper). Plotted: how large the "
                    "training signal ‖∂L/∂W‖ is at each layer.")
        st.markdown(lab.layer_story(deep))

st.header("4 · What each critic looks like")
st.markdown("The critic's values over the plane (teal: high, 'real'; orange: low, 'fake'; contours evenly "
            "spaced in value, so close lines mean a steep critic), with real points and generated points.")
cols = st.columns(len(M))
for (m, r), col in zip(M.items(), cols):
    with col, session.guard(f"The {SHORT[m]} picture"):
        st.markdown(f"**{SHORT[m]}**")
        sn = r["snap"]
        frame = wire.encode_frame(serial=1, run=1, t=0.0, gen_steps=sn["gen_steps"], status=sn["status"],
                                  extent=sn["extent"], fake=sn["fake"], grid=sn["grid"])
        live_view.live_view(wire.encode_payload({"layers": ["critic", "contours", "real", "fake"], "interval": 1.0},
                                                [frame], real=sn["real"]), key=f"{NS}.view.{m}")
        mt = r["snap"]["metrics"]
        st.caption(f"f spans **{r['f_range']:.3g}** over the plot · estimate {mt['critic_w1_estimate']:.3g} · "
                   f"÷ Lipschitz bound {mt['w_over_lipschitz']:.2g} · lower bound {mt['w_corrected']:.3f} · "
                   f"exact W1 {mt['exact_w1']:.3f}")
st.caption("The colours are scaled to each critic's own range: the clipped critic's range is tiny, so its "
           "estimate is tiny too, whatever the distance between the point clouds. Dividing an estimate by an "
           "upper bound on the critic's slope (the product of its layers' spectral norms) always gives a true "
           "lower bound on W1, but a loose one; the lower bound from the critic's values (their c-transform) "
           "is tight and never above the exact W1 of the same points.")
