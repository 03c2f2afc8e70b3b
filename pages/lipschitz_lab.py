"""Lipschitz lab: four ways to keep a critic 1-Lipschitz, side by side, and what each costs."""
import streamlit as st

from ui import session, state, vega
from wgan_core.draw import render
from wgan_core.engine.datasets import DATASETS
from wgan_core.lessons import lab

NS = "ll"
STEPS = [100, 200, 500, 1000, 2000]
CLIPS = [0.001, 0.003, 0.01, 0.03, 0.1]
LAMS = [0.1, 1.0, 10.0, 100.0]
DEEP_MAX_STEPS = 200            # the deep critic costs ~6x more per step
PARAMS = {
    "data": state.Param("seed3", str, state.one_of(*lab.LAB_DATA)),
    "steps": state.Param(200, int, state.one_of(*STEPS)),
    "seed": state.Param(0, int, state.number(0, 9999)),
    "clip": state.Param(0.01, float, state.one_of(*CLIPS)),
    "lam": state.Param(10.0, float, state.one_of(*LAMS)),
}
HOW = """
| method | how it enforces ‖∇f‖ ≤ 1 | what to look for |
| --- | --- | --- |
| **WGAN-clip** | after every critic step, each weight w ← clip(w, −c, c) | weights piled at ±c; slopes far below 1 and uneven |
| **WGAN-GP** | adds λ·E[(‖∇f(x̂)‖ − 1)²] at interpolates x̂ | slopes close to 1 along the interpolates |
| **WGAN-LP** | adds λ·E[max(0, ‖∇f(x̂)‖ − 1)²]: only slopes above 1 cost | slopes at most 1 |
| **Spectral norm** | every layer's W is divided by its largest singular value | slopes at most 1, often well below |
"""
LEVEL = {"good": "green", "acceptable": "orange", "poor": "red"}

state.init(NS, PARAMS)
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
    c = st.columns([1.4, 1.6, 0.8, 1.4, 1.2])
    c[0].selectbox("Data", lab.LAB_DATA, key=f"{NS}.data", format_func=lambda n: DATASETS[n].label)
    c[1].select_slider("Generator steps", STEPS, key=f"{NS}.steps",
                       help="Each generator step follows 5 critic steps. 200 steps take a few seconds; 2,000 about a minute.")
    c[2].number_input("Seed", 0, 9999, key=f"{NS}.seed", step=1)
    c[3].select_slider("Clip value c", CLIPS, key=f"{NS}.clip", format_func=lambda v: f"{v:g}",
                       help="WGAN-clip only. The WGAN paper uses 0.01.")
    c[4].select_slider("Penalty weight λ", LAMS, key=f"{NS}.lam", format_func=lambda v: f"{v:g}",
                       help="WGAN-GP and WGAN-LP only. The WGAN-GP paper uses 10.")
v = state.values(NS, PARAMS)
state.write_url(v)
state.show_notes(NS)

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

st.header("1 · Slopes along the interpolates")
st.markdown("The seed notebook's diagnostic: the critic's gradient norm ‖∇f(x̂)‖ at 400 points "
            "x̂ = εx + (1 − ε)x̃ on the lines between real points x and generated points x̃ "
            "(where the optimal critic has slope exactly 1). Red dashed line: the target 1.")
with session.guard("The gradient-norm chart"):
    vega.chart(st, lab.grad_norm_spec(result), width="content")
for (m, r), col in zip(M.items(), st.columns(len(M))):
    s = r["summary"]
    with col.container(border=True):
        st.markdown(f"**{lab.SHORT[m]}**  \nmean **{s['mean']:#.3g}** · median {s['median']:#.3g} · max {s['max']:#.3g}"
                    f"  \n:{LEVEL[s['level']]}[{s['verdict']}]")
st.caption("The verdict is the notebook's rule on |mean − 1|. WGAN-LP and spectral norm only promise slopes "
           "*at most* 1, so 'below' is allowed for them. The clipped critic is far below: its W estimate is W1 "
           "times an unknown small factor.")

st.header("2 · Where the weights sit")
clip = M["wgan-clip"]
st.markdown(f"Histograms of every weight the critic applies. Clipping piles them at the walls: "
            f"**{clip['share_at_clip']:.0%}** of the clipped critic's weights sit exactly at ±c "
            f"(c = {result['clip']:g}); a penalty leaves them free. For spectral norm the histogram shows "
            "W / σ_max(W), the weights it actually uses.")
with session.guard("The weight histograms"):
    for (m, spec), col in zip(lab.weight_specs(result).items(), st.columns(len(M))):
        col.markdown(f"**{lab.SHORT[m]}**")
        vega.chart(col, spec, width="stretch")

st.header("3 · Gradients through a deep critic")
deep_steps = min(v["steps"], DEEP_MAX_STEPS)
deep = None
with session.guard("The deep-critic experiment"), st.spinner("Training four deep critics (7 layers)…"):
    deep = session.job("layer_gradients", data=v["data"], steps=deep_steps, seed=v["seed"])
if deep is not None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        vega.chart(st, lab.layer_spec(deep), width="content")
    with right:
        st.markdown(f"A critic with {deep['depth']} hidden layers of {deep['width']} units, trained for "
                    f"{deep['steps']:,} generator steps with clip c = 0.1, 0.01, 0.001, and with the gradient "
                    "penalty for contrast (as in Figure 1 of the WGAN-GP paper). Plotted: how large the "
                    "training signal ‖∂L/∂W‖ is at each layer.")
        st.markdown("With clipping each layer can pass on only about c·√width of its input, so the signal "
                    "shrinks or grows like a power of c through the layers: a small c makes the "
                    "gradients **vanish** (at c = 0.001 they are below float32's resolution and the critic is "
                    "numerically flat), a larger c lets them **explode**. With the penalty every layer gets a "
                    "gradient of order 1.")

st.header("4 · What each critic looks like")
st.markdown("The critic's values over the plane (teal: high, 'real'; orange: low, 'fake'; contours evenly "
            "spaced in value, so close lines mean a steep critic), with real points and generated points.")
cols = st.columns(len(M))
for (m, r), col in zip(M.items(), cols):
    with col, session.guard(f"The {lab.SHORT[m]} picture"):
        st.markdown(f"**{lab.SHORT[m]}**")
        st.image(render.frame_png(r["snap"], layers=("critic", "contours", "real", "fake"), size=300), width="stretch")
        mt = r["snap"]["metrics"]
        st.caption(f"f spans **{r['f_range']:.3g}** over the plot · W estimate {mt['w_estimate']:.3f} "
                   f"vs exact W1 {mt['exact_w1']:.3f}")
st.caption("The colours are scaled to each critic's own range: the clipped critic's range is tiny, so its "
           "W estimate is tiny too, whatever the distance between the point clouds.")
