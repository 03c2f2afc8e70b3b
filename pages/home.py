"""Home: what a GAN is, what goes wrong, what a WGAN changes; the lessons in order; presets one click away."""
import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import session, state, vega
from wgan_core.draw import lesson_specs as V
from wgan_core.lessons import dist1d, theory
from wgan_core.lessons import lessons1d as L
from wgan_core.presets import for_page

LESSONS = [
    ("pages/why_gans_fail.py", "Why GANs fail", ":material/warning:",
     "JS divergence stuck at log 2, vanishing gradients and mode collapse, live."),
    ("pages/wasserstein_1d.py", "Wasserstein in 1D", ":material/stacked_line_chart:",
     "W1 as the area between CDFs, as moving earth, and as the best critic's gap."),
    ("pages/train_live.py", "Train live", ":material/play_circle:",
     "The WGAN algorithm running: critic contours, generator arrows, W estimate vs exact W1."),
    ("pages/lipschitz_lab.py", "Lipschitz lab", ":material/science:",
     "Clipping, gradient penalty, spectral norm: how each holds the critic's slope near 1."),
    ("pages/compare.py", "Compare", ":material/compare:",
     "GAN, WGAN, WGAN-GP and friends trained side by side on the same data and seed."),
    ("pages/sensitivity.py", "Sensitivity", ":material/grid_view:",
     "36 runs at once: how often each objective works across learning rates and n_critic."),
    ("pages/images.py", "Images", ":material/image:", "The same algorithm drawing handwritten digits."),
]
TRAIN_LIVE, TRAIN_NS = "pages/train_live.py", "tl"
PRESETS = for_page("train")          # Train live's page and its state namespace


def link(page: str, label: str, icon: str, **kw) -> None:
    """A link to a page of the app (plain text when the page is not registered, e.g. run on its own)."""
    try:
        st.page_link(page, label=label, icon=icon, **kw)
    except StreamlitAPIException:
        st.markdown(f"**{label}**")


def open_preset(name: str) -> None:
    """Open Train live with a preset: forget its settings so that it reads ?preset=NAME afresh."""
    state.forget(TRAIN_NS, "preset")
    try:
        st.switch_page(TRAIN_LIVE, query_params={"preset": name})
    except StreamlitAPIException:
        st.info("Open **Train live** from the menu to use this preset.")


@st.cache_data(show_spinner=False)
def pictures() -> list[dict]:
    """Five small figures, one per paragraph (closed forms and fixed random draws, no training)."""
    rng = np.random.default_rng(0)
    ang = np.arange(8) * np.pi / 4
    centres = 1.414 * np.column_stack([np.cos(ang), np.sin(ang)])           # 8gaussians, radius 1.414
    real = centres[rng.integers(8, size=400)] + 0.04 * rng.standard_normal((400, 2))
    fake = 0.55 * rng.standard_normal((400, 2)) @ np.array([[1.0, 0.3], [0.0, 0.8]])
    stuck = centres[rng.choice([1, 2], size=400)] + 0.06 * rng.standard_normal((400, 2))

    def cloud(gen: np.ndarray, title: str) -> dict:
        pts = {"x": np.r_[real[:, 0], gen[:, 0]], "y": np.r_[real[:, 1], gen[:, 1]],
               "fake": np.r_[np.zeros(len(real)), np.ones(len(gen))]}
        ax = {"type": "quantitative", "axis": None, "scale": {"domain": [-2, 2]}}
        return V.vl([{"data": {"name": "c"}, "mark": {"type": "circle", "size": 14, "opacity": 0.7},
                      "transform": [{"calculate": "datum.fake ? 'generated' : 'real'", "as": "key"}],
                      "encoding": {"x": {**ax, "field": "x"}, "y": {**ax, "field": "y"},
                                   "color": V.color(["real", "generated"], ["p", "q"])}}],
                    {"c": pts}, height=340, width=280, title=title)

    m = np.linspace(0.0, 2.0, 41)
    dist = {"m": m, "JS": [theory.js_gaussians_1d(0, 0.25, v, 0.25) for v in m], "W1": m}
    js_w1 = V.vl([{"data": {"name": "d"}, "mark": {"type": "line", "strokeWidth": 3},
                   "transform": [{"fold": ["JS", "W1"]}, {"calculate": "datum.key == 'JS' ? 'JS' : 'W1'", "as": "key"}],
                   "encoding": {"x": {"field": "m", "type": "quantitative", "title": "distance between two Gaussians"},
                                "y": {"field": "value", "type": "quantitative", "title": None},
                                "color": V.color(["JS", "W1"])}}],
                 {"d": dist}, height=320, title="JS flattens at log 2; W1 keeps growing")
    p, q = dist1d.make_dist("gaussian", mu=-1.5, sigma=0.6), dist1d.make_dist("mixture", mu1=0.8, mu2=2.4,
                                                                                sigma1=0.35, sigma2=0.35, w=0.4)
    xs = np.linspace(-4, 4, 200)
    a0, a1 = dist1d.quantile_pairs(p, q, 14)
    plan = V.plan_spec(xs, p.pdf(xs), q.pdf(xs), a0, a1)
    plan.update(height=320, title="Moving earth: W1 = the average arrow length")
    g = L.gaussians_view(3.0, 0.6)
    crit = V.critic_spec(g["x"], g["p"], g["q"], g["x"], g["critic"] - g["critic"].mean())
    crit.update(height=320, title="The best critic: slope 1 everywhere")
    return [cloud(fake, "Real data and the generator's first tries"), js_w1,
            cloud(stuck, "Mode collapse: 2 of 8 modes"), plan, crit]


st.title("Earthmover")
st.markdown("#### An interactive classroom for Wasserstein GANs")
link(LESSONS[0][0], "Start with the first lesson: Why GANs fail", ":material/arrow_forward:")
TEXT = [
    ("A GAN is a game between two networks.",
     "A **generator** G turns random noise z into samples G(z). A **discriminator** D looks at a point and says how "
     "likely it is to be real. D learns to tell real from generated; G learns to fool D. If all goes well, G's "
     "samples end up distributed like the data."),
    ("What goes wrong: the discriminator wins too easily.",
     "Against the best discriminator, the generator's loss is the **Jensen–Shannon (JS) divergence** between real "
     "and generated data. When the two do not overlap — typical at the start, and whenever data lie on a thin "
     "surface — JS equals **log 2** however far apart they are: a flat loss, so a **vanishing gradient**."),
    ("Mode collapse.",
     "Even when it learns, a GAN's generator tends to pile its samples onto the few places the discriminator "
     "currently accepts, dropping the other **modes** of the data, then hopping between them."),
    ("What a WGAN changes: measure how far, not whether.",
     "A Wasserstein GAN trains on the **Earth-Mover distance W1**: the least work (mass × distance) needed to "
     "reshape one pile of earth into the other. It shrinks smoothly as the generator improves, overlap or not."),
    ("The critic and its speed limit.",
     "The discriminator becomes a **critic** f that gives scores instead of probabilities. By Kantorovich–Rubinstein "
     "duality W1 = max E f(real) − E f(fake) over critics whose slope is at most 1 (**1-Lipschitz**). WGAN enforces "
     "that by clipping weights; WGAN-GP by a gradient penalty. The critic's slope never fades, so the generator always "
     "gets a push."),
]
with session.guard("The pictures"):
    figs = pictures()
for (head, body), fig in zip(TEXT, figs):
    text, pic = st.columns([3, 2], gap="large", vertical_alignment="center")
    text.markdown(f"**{head}** {body}")
    vega.chart(pic, fig, width="stretch" if "width" not in fig else "content")

st.header("The lessons, in order")
for start in range(0, len(LESSONS), 3):
    for col, (i, (page, label, icon, what)) in zip(st.columns(3), list(enumerate(LESSONS, 1))[start:start + 3]):
        with col.container(border=True, height="stretch"):
            link(page, f"{i} · {label}", icon)
            st.caption(what)

st.header("Presets, one click away")
st.caption("Each opens **Train live** with a complete set-up loaded; the link it lands on reproduces it.")
names = list(PRESETS)
for start in range(0, len(names), 3):
    for col, name in zip(st.columns(3), names[start:start + 3]):
        with col.container(border=True, height="stretch"):
            if st.button(PRESETS[name].label, key=f"home.preset.{name}", icon=":material/play_arrow:",
                         width="stretch"):
                open_preset(name)
            st.caption(PRESETS[name].watch)

st.header("How to use this app")
teacher, student = st.columns(2, gap="large")
teacher.markdown("""**Teaching with it**
- Start with *Why GANs fail*: move θ on the projector — JS does not budge, W1 does.
- A preset above opens *Train live* ready to go; its **Presenter** toggle (or `?presenter=1`) enlarges the view.
- Every control lives in the page's address: copy the URL to give students exactly what the class saw.
- Training runs in a few shared worker processes: pause the runs you no longer need.""")
student.markdown("""**Learning with it**
- Take the lessons in order; each page reads from top to bottom.
- Move every slider. Each number is shown next to its ground truth (a closed form, scipy, or an exact
  optimal-transport solver), and a live one with its sampling noise or floor, so you can tell what is
  learning and what is chance.
- In *Train live* change one thing at a time: learning rates, λ, clip and n_critic act at once; data,
  network or seed start a new run.
- A link with a setting out of range falls back to the default, with a note saying so.""")
