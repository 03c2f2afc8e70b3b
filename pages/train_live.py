"""Train live: a GAN trains while you watch; every control acts at once."""
import streamlit as st

from ui import controls, own_data, session, share, state, train_view
from wgan_core.draw.render import LAYERS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.files.export import FrameRing
from wgan_core.presets import PRESETS

NS = "tl"
SPEEDS = {"slow": 3.0, "medium": 15.0, "fast": 60.0, "max": 0.0}
VIEW = {
    "layers": state.Param("critic,contours,real,fake,arrows", str,
                          lambda v: all(x in LAYERS for x in v.split(",") if x)),
    "speed": state.Param("max", str, state.one_of(*SPEEDS)),
    "presenter": state.Param(False, state.flag),
    "preset": state.Param("", str, lambda v: v == "" or v in PRESETS),
}
PRESENTER_CSS = """<style>
[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],[data-testid='stHeader']{display:none}
.block-container{padding:0.6rem 1.2rem 0 1.2rem;max-width:100%}
h1{font-size:2.4rem !important;padding:0 !important}
[data-testid='stCaptionContainer'],[data-testid='stCaptionContainer'] p{font-size:1.25rem}
[data-testid='stMetricValue'],[data-testid='stMetricValue'] p{font-size:3rem !important;line-height:1.15}
[data-testid='stMetricLabel'],[data-testid='stMetricLabel'] p{font-size:1.3rem !important}
[data-testid='stMain'] [data-testid='stMarkdownContainer'] p{font-size:1.3rem}
</style>"""

state.init(NS, VIEW)
if st.session_state[f"{NS}.preset"] and not st.session_state.get(f"{NS}.__cfg_init"):
    st.session_state.update({f"{NS}.{k}": v for k, v in PRESETS[st.session_state[f"{NS}.preset"]].config.to_dict().items()})
state.init_config(NS, PRESETS["classroom-gp"].config)
controls.init_classroom(NS)
own_data.init(NS)
handle = session.run_handle("train")
st.session_state[f"{NS}.rid"] = handle.rid
ring = st.session_state.setdefault(f"{NS}.ring", FrameRing())
presenter, locked = st.session_state[f"{NS}.presenter"], controls.locked(NS)
if presenter:
    st.html(PRESENTER_CSS)

with st.sidebar:
    controls.preset_buttons(NS)
    controls.live_controls(NS)
    controls.structural_controls(NS, custom=own_data.points(NS) is not None)

cfg = state.config(NS)
points = own_data.points(NS) if cfg.data == "custom" else None
waiting = cfg.data == "custom" and points is None          # "your own data", but nothing drawn yet
if not waiting:
    change = handle.set_config(cfg, points=points)
    if change == "restart" and st.session_state.get(f"{NS}.started"):
        st.toast("New run: objective, data, network or seed changed.", icon="🔄")
    st.session_state[f"{NS}.started"] = True
    share.apply_pending_load(NS, handle, ring)
view = {k: st.session_state[f"{NS}.{k}"] for k in VIEW}
pts, link_note = own_data.url_param(NS, cfg.data)
state.write_url({**cfg.to_dict(), **view, **({"pts": pts} if pts else {})})
if not pts and "pts" in st.query_params:
    del st.query_params["pts"]

st.title("Train live" if not presenter else OBJECTIVES[cfg.loss].label)
state.show_notes(NS)
share.show_messages(NS)
if st.session_state[f"{NS}.preset"]:
    st.caption(f"**{PRESETS[st.session_state[f'{NS}.preset']].label}** — {PRESETS[st.session_state[f'{NS}.preset']].watch}")

b = st.columns([1.1, 0.9, 1.1, 1.4, 0.9, 1.4, 1.2])
# Callbacks, not `if st.button(...)`: they act before the page runs, so this run already draws the new
# state (Play/Pause label) instead of a second full run for it.
b[0].button("Pause" if handle.playing else "Play", icon=":material/pause:" if handle.playing else ":material/play_arrow:",
            type="primary", width="stretch", disabled=waiting, on_click=train_view.act, args=(NS, handle, "play"))
for col, (label, mode) in zip(b[1:4], [("Step", "iteration"), ("Critic step", "critic"), ("Generator step", "generator")]):
    col.button(label, width="stretch", help=f"One {mode} update, then pause.", disabled=waiting,
               on_click=train_view.act, args=(NS, handle, mode))
b[4].button("Reset", width="stretch", help="A fresh run with the same settings and seed.", disabled=waiting,
            on_click=train_view.act, args=(NS, handle, "reset"))
b[5].select_slider("Speed", list(SPEEDS), key=f"{NS}.speed", label_visibility="collapsed",
                   format_func=lambda v: f"speed: {v}", help="Generator steps per second: 3, 15, 60 or as fast as possible.")
handle.speed(SPEEDS[st.session_state[f"{NS}.speed"]])
b[6].toggle("Presenter", key=f"{NS}.presenter", help="Large view for a projector; also ?presenter=1 in the link.")

row = st.columns([5, 1, 1]) if not presenter else [st.container()]
with row[0]:
    layers = st.pills("Layers", LAYERS, selection_mode="multi", key=f"{NS}.layers_pick",
                      default=[x for x in st.session_state[f"{NS}.layers"].split(",") if x], label_visibility="collapsed")
st.session_state[f"{NS}.layers"] = ",".join(layers)
if not presenter:
    with row[1].popover("Share", icon=":material/link:", width="stretch", help="A link that reproduces this run; a link for a class."):
        share.share_panel(NS, {**cfg.to_query(), **view, **({"pts": pts} if pts else {})}, "train_live", link_note)
    with row[2].popover("Export", icon=":material/download:", width="stretch", help="Picture, GIF, curves, checkpoint."):
        share.export_panel(NS, handle, ring, tuple(layers))
        share.checkpoint_uploader(NS, locked)
    if controls.visible(NS, "data"):
        # Drawn only while open: the pad is the page's largest element, and the page reruns in full
        # on every control change of every student.
        pad = st.expander("Your own data: draw points or upload a CSV", icon=":material/draw:", expanded=waiting,
                          key=f"{NS}.own_open", on_change="rerun")
        if pad.open:
            with pad:
                own_data.panel(NS, locked)


# The view redraws at the pace the worker publishes snapshots (its frame interval stretches with its
# load) or the pace the server process can serve all viewers (ui/pace.py), whichever is slower:
# a crowded server slows every view a little instead of freezing.
pace = session.pace()
ticks = train_view.declare_ticks(NS, train_view.tick_for(handle.snapshot(), handle.playing, pace.min_tick()),
                                 handle.playing)


@st.fragment(run_every=ticks["view"])
def view() -> None:
    if waiting:
        st.info("**Your own data** is chosen, but there are no points yet: draw some or upload a CSV "
                "under *Your own data* above, then press *Train on these points*.")
        return
    look = {"layers": tuple(layers), "size": 880 if presenter else 620, "presenter": presenter}
    handle.seen(**look)                                    # the worker draws the frames this way
    err = handle.error()
    if err:
        st.error(err)
    with session.guard("The live view"):
        snap = train_view.frame(handle, **look)
    if snap is None:
        return
    ring.add(snap, run_key=snap.get("serial"))
    pace.ran(handle.rid if handle.playing else None)
    train_view.follow_tick(NS, "view", train_view.tick_for(snap, handle.playing, pace.min_tick()))


@st.fragment(run_every=ticks["side"])
def side() -> None:
    pace.ran()
    train_view.follow_view(NS, "side", handle.playing)
    snap = handle.snapshot()
    if snap is None or waiting:
        return
    if snap["status"] == "diverged":
        st.error(snap["message"])
        if st.button("Restore the last good state", type="primary"):
            handle.resume()
    train_view.status_line(handle, snap)
    train_view.metrics(snap)
    if not presenter:
        st.markdown(train_view.EXPLAIN[snap["config"]["loss"]])
        train_view.pseudo_code(st.session_state.get(f"{NS}.last_action", "loop") if not handle.playing else "loop")


@st.fragment(run_every=ticks["curves"])
def graphs() -> None:
    pace.ran()
    train_view.follow_view(NS, "curves", handle.playing)
    snap = handle.snapshot()
    if snap is not None and snap["gen_steps"] > 0 and not waiting:
        with session.guard("The curves"):
            train_view.curves(snap, presenter)


# presenter: the 880-px picture fills half of a 1920-px projector; the big metrics get the other half
left, right = st.columns([3, 2] if not presenter else [1, 1])
with left:
    view()
with right:
    side()
graphs()
