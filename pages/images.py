"""Images: the same WGAN-GP, on pictures of handwritten digits: 8x8 ones shipped, or 28x28 MNIST of your own."""
import streamlit as st

from ui import live_view, mnist_source, quiz, run_view, session, state, vega
from wgan_core import presets
from wgan_core.engine.config import TrainConfig
from wgan_core.files import mnist
from wgan_core.lessons import image_quality as iq
from wgan_core.lessons import images as im
from wgan_core.lessons import questions

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
live_view.load()
if not st.session_state.get(k("primed")):        # a link naming a preset: its lr, lambda, n_critic unless given
    first = PRESETS[st.session_state[k("preset")]].config
    for name, v in (("lr", first.lr_c), ("lam", first.lam), ("n_critic", first.n_critic)):
        st.session_state[k(name)] = st.session_state[k(name)] if name in st.query_params else v
    st.session_state[k("primed")] = True
handle = session.run_handle("images")
st.session_state[k("rid")] = handle.rid


def load_preset() -> None:
    """A preset sets the learning rate, lambda and n_critic to its own values, and starts afresh."""
    cfg = PRESETS[st.session_state[k("preset")]].config
    st.session_state.update({k("lr"): cfg.lr_c, k("lam"): cfg.lam, k("n_critic"): cfg.n_critic, k("fresh"): True})


def options(values: list, key: str) -> list:
    return sorted(set(values) | {st.session_state[key]})


served, served_error = mnist_source.served()
sets = {"digits": im.digits_set(), "mnist": mnist_source.mine(NS) or served}
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
    mnist_source.panel(NS, sets, expanded=preset.data == "mnist" and sets["mnist"] is None, served_error=served_error)

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
    else:                                           # what the button said: "Start" starts, "Pause" pauses
        handle.play(what == "play")


playing = handle.playing
b = st.columns([1, 1, 4])
b[0].button("Pause" if playing else "Start", icon=":material/pause:" if playing else ":material/play_arrow:",
            type="primary", width="stretch", on_click=act, args=("pause" if playing else "play",))
b[1].button("Reset", icon=":material/restart_alt:", width="stretch", help="A fresh run with the same settings and seed.",
            on_click=act, args=("reset",))
pace = session.pace()
VIEW = k("view")
# The browser plays every snapshot's pictures (frames of ink bytes, ui/live_view); a fragment run hands it the
# new ones a few times a second, less often under the server's load.
tick = run_view.tick_for(playing, pace.min_tick(), run_view.awake(NS, (handle, VIEW)))
slow = None if tick is None else max(1.0, 4 * tick)          # the numbers and charts
run_view.full_run(VIEW)


QUESTION = questions.for_page("images")["digits-1000"]


def ask() -> None:
    """The question's run: the fast digits preset, from step 0, playing."""
    st.session_state[k("preset")] = QUESTION.preset
    load_preset()
    st.session_state[k("play_after")] = True


if st.session_state.pop(k("play_after"), False):
    handle.play(True)


@st.fragment(run_every=tick)
def pictures() -> None:
    """The 64 generated digits: every snapshot's, played by the browser (`run_view.show`); their quality
    is scored here about once a second (`im.Tracker`)."""
    handle.seen()
    err = handle.error()
    if err:
        st.error(err)
    with session.guard("The live pictures"):
        snap = run_view.show(handle, VIEW, layers=(), interval=tick or 1.0, pictures=True)
    pace.ran(handle.rid if handle.playing else None)
    if tick is not None and not (handle.playing or run_view.awake(NS, (handle, VIEW))):
        run_view.stop_timer()           # paused, and the browser has the newest pictures: stop the timer
    shown = st.session_state.setdefault(k("shown"), im.Tracker())
    if snap is None or not shown.update(snap, pics):    # no snapshot yet, or a late one of the run before
        return
    st.session_state[k("gen_steps")] = snap["gen_steps"]
    if snap["status"] == "diverged":
        st.error(snap["message"])
        if st.button("Resume", type="primary"):
            handle.resume()


@st.fragment(run_every=slow)
def numbers() -> None:
    """The question, the quality figures and the charts, about once a second."""
    pace.ran()
    snap, want, shown = handle.snapshot(), PRESETS[QUESTION.preset].config, st.session_state.get(k("shown"))
    ready = (snap is not None and snap["gen_steps"] >= QUESTION.steps and snap["config"]["data"] == want.data
             and snap["config"]["lr_c"] == want.lr_c)                 # the question's own run, far enough
    quiz.box(NS, QUESTION, {"gen_steps": snap["gen_steps"], "quality": shown.q} if ready and shown and shown.q
             else None, on_run=ask, progress=f"Training… step {snap['gen_steps'] if snap else 0:,} of {QUESTION.steps:,}.")
    if snap is None or shown is None or not shown.q:
        return
    with session.guard("The numbers and charts"):
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


left, right = st.columns([1.12, 1], gap="medium")
with left:
    pictures()
    st.caption("64 generated digits, as the run makes them (your browser plays every snapshot). Each cell always "
               "shows the same noise z, so what changes is learning.")
    st.image(pics.real_png, width="stretch")
    st.caption("Real held-out digits, one of each class, for comparison.")
with right:
    numbers()
