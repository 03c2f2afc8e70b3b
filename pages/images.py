"""Images: the same WGAN-GP, on pictures of handwritten digits: 8x8 ones shipped, or 28x28 MNIST of your own."""
import streamlit as st

from ui import retime, run_view, session, state, vega
from wgan_core import presets
from wgan_core.engine.config import TrainConfig
from wgan_core.files import mnist
from wgan_core.lessons import image_quality as iq
from wgan_core.lessons import images as im

NS = "img"
PRESETS = presets.for_page("images")
FIRST = next(iter(PRESETS))
LRS = [v for v in TrainConfig.options("lr_c") if v <= 1e-2]       # larger rates only diverge on pictures
LAMS = [v for v in TrainConfig.options("lam") if v == 0 or v >= 0.1]
STATE = state.PageState(NS, {
    "preset": state.Param(FIRST, str, state.one_of(*PRESETS)),
    "lr": state.Param(PRESETS[FIRST].config.lr_c, float, state.number(LRS[0], LRS[-1])),
    "lam": state.Param(10.0, float, state.number(*TrainConfig.fields()["lam"].metadata["range"])),
    "n_critic": state.Param(5, int, state.one_of(*TrainConfig.options("n_critic"))),
    "seed": state.Param(0, int, state.number(0, 2**31 - 1)),
})
k = lambda name: f"{NS}.{name}"        # noqa: E731  widget key of a URL parameter

STATE.load()
if not st.session_state.get(k("primed")):        # a link naming a preset: its lr, lambda, n_critic unless given
    first = PRESETS[st.session_state[k("preset")]].config
    for name, v in (("lr", first.lr_c), ("lam", first.lam), ("n_critic", first.n_critic)):
        st.session_state[k(name)] = st.session_state[k(name)] if name in st.query_params else v
    st.session_state[k("primed")] = True
handle = session.run_handle("images")
st.session_state[k("rid")] = handle.rid


@st.cache_resource(show_spinner="Reading the server's MNIST…")
def server_mnist(where: str) -> tuple[im.ImageSet | None, str]:
    """The MNIST named by EARTHMOVER_MNIST (read once for every session), or why it cannot be used."""
    try:
        d = mnist.from_env({mnist.ENV: where})
    except mnist.MnistError as err:
        return None, str(err)
    return (im.mnist_set(d, "the server") if d else None), ""


def take_upload(key: str) -> None:
    """Check the uploaded files and keep the pictures for this session only (other students never see them);
    a new uploader key then lets Streamlit drop the files themselves."""
    st.session_state[k("upload_error")] = ""
    try:
        if st.session_state[key]:
            st.session_state[k("mine")] = im.mnist_set(mnist.from_uploads(st.session_state[key]))
            st.session_state[k("uploads")] = st.session_state.get(k("uploads"), 0) + 1
    except mnist.MnistError as err:
        st.session_state[k("upload_error")] = str(err)


def load_preset() -> None:
    """A preset sets the learning rate, lambda and n_critic to its own values, and starts afresh."""
    cfg = PRESETS[st.session_state[k("preset")]].config
    st.session_state.update({k("lr"): cfg.lr_c, k("lam"): cfg.lam, k("n_critic"): cfg.n_critic, k("fresh"): True})


def options(values: list, key: str) -> list:
    return sorted(set(values) | {st.session_state[key]})


served, served_error = server_mnist(mnist.env_path())
sets = {"digits": im.digits_set(), "mnist": st.session_state.get(k("mine")) or served}
with st.sidebar:
    st.subheader("Set-up")
    st.radio("Preset", list(PRESETS), key=k("preset"), on_change=load_preset,
             format_func=lambda n: PRESETS[n].label, help="Choosing a preset starts a new run.",
             captions=[p.watch for p in PRESETS.values()])
    st.select_slider("Learning rate (critic and generator)", options(LRS, k("lr")), key=k("lr"),
                     format_func=lambda v: f"{v:g}", help="Acts live, at the next step.")
    st.select_slider("Penalty weight λ", options(LAMS, k("lam")), key=k("lam"), format_func=lambda v: f"{v:g}",
                     help="Acts live. λ = 0 removes the Lipschitz constraint.")
    st.slider("Critic steps per generator step", min(TrainConfig.options("n_critic")),
              max(TrainConfig.options("n_critic")), key=k("n_critic"), help="Acts live.")
    st.number_input("Seed", 0, 2**31 - 1, key=k("seed"), step=1, help="A new seed starts a new run.")
    preset = PRESETS[st.session_state[k("preset")]].config
    st.caption(f"Network: MLPs, {preset.depth} hidden layers of {preset.width} units, noise z in "
               f"R^{preset.z_dim}, batch {preset.batch}, Adam betas ({preset.beta1:g}, {preset.beta2:g}).")
    with st.expander("Your MNIST", expanded=preset.data == "mnist" and sets["mnist"] is None):
        up = k(f"upload{st.session_state.get(k('uploads'), 0)}")
        st.file_uploader("Keras' mnist.npz, or the four IDX files (.gz or not)", accept_multiple_files=True, key=up,
                         on_change=take_upload, args=(up,), max_upload_size=mnist.MAX_FILE_BYTES // 2**20,
                         help="Nothing is downloaded: the app trains on MNIST only when you give it. What you "
                              "upload stays in your session.")
        if sets["mnist"] is not None:
            st.caption(f"Training on {sets['mnist'].label}.")
        for err in (st.session_state.get(k("upload_error")), served_error):
            if err:
                st.error(err)

pics = sets[preset.data]
values = STATE.values()
STATE.write_url(values)
st.title("Images: WGAN-GP on handwritten digits")
STATE.show_notes()
if pics is None:
    st.info("This preset trains on MNIST, which the app never downloads: upload Keras' mnist.npz or the four "
            f"IDX files under **Your MNIST** in the sidebar, or start the server with {mnist.ENV} naming them.")
    if handle.playing:
        handle.play(False)                              # nothing of the run before is shown
    st.stop()
cfg = preset.replace(lr_c=values["lr"], lr_g=values["lr"], lam=values["lam"], n_critic=values["n_critic"],
                     seed=values["seed"])
change = handle.set_config(cfg, points=pics.points)
if st.session_state.pop(k("fresh"), False) and change != "restart":
    playing = handle.playing
    handle.reset()                                  # a preset is a comparison: start both from scratch
    handle.play(playing)
    change = "restart"
if change == "restart" and st.session_state.get(k("started")):
    st.toast("New run: the preset, the data or the seed changed.", icon=":material/restart_alt:")
elif change == "live":
    st.toast("Applied to the running training.", icon=":material/check:")
st.session_state[k("change")], st.session_state[k("started")] = change, True

st.markdown(
    "The same critic, the same gradient penalty and the same loop as on **Train live**; only the points now "
    f"have **{pics.side ** 2} coordinates** instead of 2: each is a{'n' * (pics.side == 8)} {pics.side}×{pics.side} "
    f"picture of a handwritten digit ({pics.label}). The generator is an MLP that turns {preset.z_dim} random numbers into "
    f"{pics.side ** 2} pixels; the critic is an MLP that gives a picture a score. Its estimate "
    "$\\mathbb{E}f(\\text{real}) - \\mathbb{E}f(\\text{fake})$ still tracks the Earth-Mover distance $W_1$, "
    "where moving one picture onto another costs the Euclidean distance between their pixels.")


def act(what: str) -> None:
    """The run buttons (callbacks: this page run already shows the new state)."""
    run_view.wake(NS)
    if what == "reset":
        handle.reset()
        st.session_state[k("shown")] = im.Tracker()
    else:
        handle.play(not handle.playing)


playing = handle.playing
b = st.columns([1, 1, 4])
b[0].button("Pause" if playing else "Start", icon=":material/pause:" if playing else ":material/play_arrow:",
            type="primary", width="stretch", on_click=act, args=("play",))
b[1].button("Reset", icon=":material/restart_alt:", width="stretch", help="A fresh run with the same settings and seed.",
            on_click=act, args=("reset",))
pace = session.pace()
tick = run_view.tick_for(playing, max(0.5, 2 * pace.min_tick()), run_view.awake(NS, (handle, k("view"))))


@st.fragment(run_every=tick)
def live() -> None:
    handle.seen()
    err = handle.error()
    if err:
        st.error(err)
    snap, shown = handle.snapshot(), st.session_state.setdefault(k("shown"), im.Tracker())
    if snap is None or not shown.update(snap, pics):    # no snapshot yet, or a late one of the run before
        st.info("Starting the run…")
        return
    pace.ran(handle.rid if handle.playing else None)
    if tick is not None and not (handle.playing or run_view.awake(NS, (handle, k("view")))):
        retime.stop() or st.rerun()           # paused: stop the timer
    st.session_state[k("gen_steps")] = snap["gen_steps"]
    if snap["status"] == "diverged":
        st.error(snap["message"])
        if st.button("Resume", type="primary"):
            handle.resume()
    left, right = st.columns([1.12, 1], gap="medium")
    with left:
        st.image(shown.png, width="stretch")
        st.caption("64 generated digits. Each cell always shows the same noise z, so what changes is learning.")
        st.image(pics.real_png, width="stretch")
        st.caption("Real held-out digits, one of each class, for comparison.")
    with right, session.guard("The numbers and charts"):
        q = shown.q
        for row in im.figures(snap, q, pics.factor, handle.playing):
            for col, fig in zip(st.columns(len(row)), row):
                col.metric(**fig)
        if q["flags"]:
            st.warning(iq.flag_sentence(q["flags"]))
        vega.chart(st, im.distance_spec(snap["curves"], snap["metrics"].get("exact_w1_floor"), pics.factor),
                   width="stretch")
        vega.chart(st, im.quality_spec(shown.history, q["real"]["recognisable"][0]), width="stretch")
        st.caption(f"Quality of the {q['n']} pictures shown, measured about once a second. **Recognisable**: "
                   "as close (in pixels) to some training digit as 90 % of held-out real digits are. Blurred "
                   "averages pass that test too; the other three figures catch them, and a figure is flagged "
                   "when it lies beyond what 99.7 % of samples of as many real digits give.")


live()
