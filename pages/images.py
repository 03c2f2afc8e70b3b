"""Images: the same WGAN-GP, on 8x8 pictures of handwritten digits instead of 2D points."""
import streamlit as st

from ui import session, state, vega
from wgan_core.lessons import images as im

NS = "img"
LRS = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
LAMS = [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
PARAMS = {
    "preset": state.Param("fast", str, state.one_of(*im.IMAGE_PRESETS)),
    "lr": state.Param(im.IMAGE_PRESETS["fast"].lr_c, float, state.number(1e-5, 1e-2)),
    "lam": state.Param(10.0, float, state.number(0.0, 100.0)),
    "n_critic": state.Param(5, int, state.number(1, 20)),
    "seed": state.Param(0, int, state.number(0, 2**31 - 1)),
}
k = lambda name: f"{NS}.{name}"        # noqa: E731  widget key of a URL parameter

state.init(NS, PARAMS)
handle = session.run_handle("images")
st.session_state[k("rid")] = handle.rid


def load_preset() -> None:
    """A preset sets the learning rate, lambda and n_critic to its own values, and starts afresh."""
    cfg = im.IMAGE_PRESETS[st.session_state[k("preset")]]
    st.session_state.update({k("lr"): cfg.lr_c, k("lam"): cfg.lam, k("n_critic"): cfg.n_critic, k("fresh"): True})


def options(values: list, key: str) -> list:
    return sorted(set(values) | {st.session_state[key]})


with st.sidebar:
    st.subheader("Set-up")
    st.radio("Preset", list(im.IMAGE_PRESETS), key=k("preset"), on_change=load_preset,
             format_func=im.PRESET_LABELS.get, help="Choosing a preset starts a new run.")
    st.select_slider("Learning rate (critic and generator)", options(LRS, k("lr")), key=k("lr"),
                     format_func=lambda v: f"{v:g}", help="Acts live, at the next step.")
    st.select_slider("Penalty weight λ", options(LAMS, k("lam")), key=k("lam"), format_func=lambda v: f"{v:g}",
                     help="Acts live. λ = 0 removes the Lipschitz constraint.")
    st.slider("Critic steps per generator step", 1, 20, key=k("n_critic"), help="Acts live.")
    st.number_input("Seed", 0, 2**31 - 1, key=k("seed"), step=1, help="A new seed starts a new run.")
    preset = im.IMAGE_PRESETS[st.session_state[k("preset")]]
    st.caption(f"Network: MLPs, {preset.depth} hidden layers of {preset.width} units, noise z in "
               f"R^{preset.z_dim}, batch {preset.batch}, Adam betas ({preset.beta1:g}, {preset.beta2:g}).")

values = state.values(NS, PARAMS)
cfg = preset.replace(lr_c=values["lr"], lr_g=values["lr"], lam=values["lam"], n_critic=values["n_critic"],
                     seed=values["seed"])
change = handle.set_config(cfg)
if st.session_state.pop(k("fresh"), False) and change != "restart":
    playing = handle.playing
    handle.reset()                                  # a preset is a comparison: start both from scratch
    handle.play(playing)
    change = "restart"
if change == "restart" and st.session_state.get(k("started")):
    st.toast("New run: the preset or the seed changed.", icon=":material/restart_alt:")
elif change == "live":
    st.toast("Applied to the running training.", icon=":material/check:")
st.session_state[k("change")], st.session_state[k("started")] = change, True
state.write_url(values)

st.title("Images: WGAN-GP on handwritten digits")
state.show_notes(NS)
st.markdown(
    "The same critic, the same gradient penalty and the same loop as on **Train live**; only the points now "
    "have **64 coordinates** instead of 2: each is an 8×8 picture of a handwritten digit (scikit-learn's 1,797 "
    f"digits, shipped with the app). The generator is an MLP that turns {preset.z_dim} random numbers into 64 "
    "pixels; the critic is an MLP that gives a picture a score. Its estimate $\\mathbb{E}f(\\text{real}) - "
    "\\mathbb{E}f(\\text{fake})$ still tracks the Earth-Mover distance $W_1$, where moving one picture onto "
    "another costs the Euclidean distance between their pixels: watch it fall as the digits sharpen.")

b = st.columns([1, 1, 4])
if b[0].button("Pause" if handle.playing else "Start", icon=":material/pause:" if handle.playing else
               ":material/play_arrow:", type="primary", width="stretch"):
    handle.play(not handle.playing)
    st.rerun()
if b[1].button("Reset", icon=":material/restart_alt:", width="stretch", help="A fresh run with the same settings and seed."):
    handle.reset()
    st.session_state[k("history")] = []


@st.cache_data(show_spinner=False)
def real_row_png() -> bytes:
    return im.png(im.grid_image(im.real_row().reshape(10, 64) * 2 - 1, nrow=10, scale=5))


def grid_png(snap: dict) -> bytes | None:
    return im.png(im.grid_image(snap["fake"])) if snap["config"].get("data") == "digits" else None


def record(snap: dict, q: dict) -> list:
    """The recognisable share per snapshot, for the quality curve (restarts when the run does)."""
    hist = st.session_state.setdefault(k("history"), [])
    if hist and snap["gen_steps"] < hist[-1][0]:
        hist.clear()
    if not hist or snap["gen_steps"] > hist[-1][0]:
        hist.append((snap["gen_steps"], q["recognisable"]))
        del hist[:-400]
    return hist


@st.fragment(run_every=0.5)
def live() -> None:
    handle.seen()
    err = handle.error()
    if err:
        st.error(err)
    png, snap = handle.frame_png(grid_png)
    if png is None:                          # no snapshot yet, or a late one of the run before
        st.info("Starting the run…")
        return
    st.session_state[k("gen_steps")] = snap["gen_steps"]
    if snap["status"] == "diverged":
        st.error(snap["message"])
        if st.button("Resume", type="primary"):
            handle.resume()
    left, right = st.columns([1.12, 1], gap="medium")
    with left:
        st.image(png, width=489)
        st.caption("64 generated digits. Each cell always shows the same noise z, so what changes is learning.")
        st.image(real_row_png(), width=489)
        st.caption("Real digits, one of each class, for comparison.")
    with right, session.guard("The numbers and charts"):
        q = im.quality(im.to_images(snap["fake"]))
        w1 = [v for v in snap["curves"]["exact_w1"] if v == v]          # the last measured value (not NaN)
        c = st.columns([1, 1, 1, 1.25])
        c[0].metric("Generator step", f"{snap['gen_steps']:,}", "training" if handle.playing else "paused",
                    delta_color="off", delta_arrow="off")
        c[1].metric("W estimate", f"{snap['metrics']['w_estimate']:.2f}", help="The critic's "
                    "E f(real) − E f(fake) on its last batch.")
        c[2].metric("Exact W1", f"{w1[-1]:.2f}" if w1 else "…", f"floor {im.W1_FLOOR}", delta_color="off",
                    delta_arrow="off", help="Optimal transport between 400 generated and 400 real digits. Two "
                    f"samples of 400 real digits are already {im.W1_FLOOR} apart: the floor.")
        c[3].metric("Recognisable", f"{q['recognisable']:.0%}", f"{q['classes']} of 10 classes",
                    delta_color="off", delta_arrow="off", help=f"Real digits: {im.REAL_RECOGNISABLE:.0%}, all 10 classes.")
        vega.chart(st, im.distance_spec(snap["curves"]), width="stretch")
        vega.chart(st, im.quality_spec(record(snap, q)), width="stretch")
        st.caption("**Recognisable**: a generated digit that lies as close (in pixels) to some real digit as "
                   "90 % of real digits do; the classes are those of the nearest real digits. A proxy: look "
                   "at the pictures too.")


live()
