"""Train live: a GAN trains while you watch; every control acts at once."""
import streamlit as st

from ui import controls, session, state, train_view
from wgan_core.objectives import OBJECTIVES
from wgan_core.presets import PRESETS
from wgan_core.render import LAYERS

NS = "tl"
SPEEDS = {"slow": 3.0, "medium": 15.0, "fast": 60.0, "max": 0.0}
VIEW = {
    "layers": state.Param("critic,contours,real,fake,arrows", str,
                          lambda v: all(x in LAYERS for x in v.split(",") if x)),
    "speed": state.Param("max", str, state.one_of(*SPEEDS)),
    "presenter": state.Param(False, state.flag),
    "preset": state.Param("", str, lambda v: v == "" or v in PRESETS),
}

state.init(NS, VIEW)
if st.session_state[f"{NS}.preset"] and not st.session_state.get(f"{NS}.__cfg_init"):
    st.session_state.update({f"{NS}.{k}": v for k, v in PRESETS[st.session_state[f"{NS}.preset"]].config.to_dict().items()})
state.init_config(NS, PRESETS["classroom-gp"].config)
handle = session.run_handle("train")
st.session_state[f"{NS}.rid"] = handle.rid
presenter = st.session_state[f"{NS}.presenter"]
if presenter:
    st.html("<style>[data-testid='stSidebar'],[data-testid='stHeader']{display:none}"
            ".block-container{padding-top:1rem;max-width:100%}</style>")

with st.sidebar:
    st.subheader("Presets")
    controls.preset_buttons(NS)
    st.subheader("Acts live")
    controls.live_controls(NS)
    st.subheader("Starts a new run")
    controls.structural_controls(NS)

cfg = state.config(NS)
change = handle.set_config(cfg)
if change == "restart" and st.session_state.get(f"{NS}.started"):
    st.toast("New run: objective, data, network or seed changed.", icon="🔄")
st.session_state[f"{NS}.started"] = True
view = {k: st.session_state[f"{NS}.{k}"] for k in VIEW}
state.write_url({**cfg.to_dict(), **view})

st.title("Train live" if not presenter else OBJECTIVES[cfg.loss].label)
state.show_notes(NS)
if st.session_state[f"{NS}.preset"]:
    st.caption(f"**{PRESETS[st.session_state[f'{NS}.preset']].label}** — {PRESETS[st.session_state[f'{NS}.preset']].watch}")

b = st.columns([1.1, 1, 1, 1, 1, 1.6, 1.2])
if b[0].button("⏸ Pause" if handle.playing else "▶ Play", type="primary", width="stretch"):
    handle.play(not handle.playing)
    st.session_state[f"{NS}.last_action"] = "loop"
    st.rerun()
for col, (label, mode) in zip(b[1:4], [("Step", "iteration"), ("Critic step", "critic"), ("Generator step", "generator")]):
    if col.button(label, width="stretch", help=f"One {mode} update, then pause."):
        handle.step(mode)
        st.session_state[f"{NS}.last_action"] = {"iteration": "loop"}.get(mode, mode)
if b[4].button("Reset", width="stretch", help="A fresh run with the same settings and seed."):
    handle.reset()
b[5].select_slider("Speed", list(SPEEDS), key=f"{NS}.speed", label_visibility="collapsed",
                   format_func=lambda v: f"speed: {v}", help="Generator steps per second: 3, 15, 60 or as fast as possible.")
handle.speed(SPEEDS[st.session_state[f"{NS}.speed"]])
b[6].toggle("Presenter", key=f"{NS}.presenter", help="Large view for a projector; also ?presenter=1 in the link.")

layers = st.pills("Layers", LAYERS, selection_mode="multi", key=f"{NS}.layers_pick",
                  default=[x for x in st.session_state[f"{NS}.layers"].split(",") if x], label_visibility="collapsed")
st.session_state[f"{NS}.layers"] = ",".join(layers)


@st.fragment(run_every=0.15)
def live() -> None:
    handle.seen()
    err = handle.error()
    if err:
        st.error(err)
    left, right = st.columns([3, 2] if not presenter else [5, 2])
    with left, session.guard("The live view"):
        snap = train_view.frame(handle, tuple(layers), 880 if presenter else 620, presenter)
    if snap is None:
        return
    with right:
        if snap["status"] == "diverged":
            st.error(snap["message"])
            if st.button("Restore the last good state", type="primary"):
                handle.resume()
        train_view.status_line(handle, snap)
        train_view.metrics(snap)
        if not presenter:
            st.markdown(train_view.EXPLAIN[snap["config"]["loss"]])
            train_view.pseudo_code(st.session_state.get(f"{NS}.last_action", "loop") if not handle.playing else "loop")


@st.fragment(run_every=1.0)
def graphs() -> None:
    snap = handle.snapshot()
    if snap is not None and snap["gen_steps"] > 0:
        with session.guard("The curves"):
            train_view.curves(snap, presenter)


live()
graphs()
