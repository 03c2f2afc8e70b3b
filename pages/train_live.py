"""Train live: a GAN trains while you watch; every control acts at once."""
import streamlit as st

from ui import controls, live_view, own_data, quiz, run_view, session, share, state, train_view
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.files.export import FrameRing
from wgan_core.lessons import questions
from wgan_core.presets import for_page

PRESETS = for_page("train")
QUESTIONS = questions.for_page("train")                        # predict, then run (under the curves)
PLANE = (*DATASETS, "custom")                                  # the data this page can draw
SPEEDS = {"slow": 3.0, "medium": 15.0, "fast": 60.0, "max": 0.0}       # generator steps/s (0: as fast as possible)
STATE = state.PageState("tl", {
    "layers": state.Param("critic,contours,real,fake,arrows", str,
                          lambda v: all(x in live_view.LAYERS for x in v.split(",") if x)),
    "speed": state.Param("max", str, state.one_of(*SPEEDS)),
    "presenter": state.Param(False, state.flag),
    "preset": state.Param("", str, lambda v: v == "" or v in PRESETS),
    "show": state.Param(None, controls.show_names, max_len=controls.MAX_SHOW_LEN),     # classroom mode
    "lock": state.Param(False, state.flag),
    "s": state.Param("", str),                               # the server that wrote the URL (a restart is noticed)
}, config=PRESETS["classroom-gp"].config, base=lambda v: PRESETS[v["preset"]].config if v["preset"] else None)
NS = STATE.ns
VIEW_KEY = f"{NS}.view"                                           # the live view component's key
VIEW = ("speed", "presenter", "preset", "s")       # the page's own URL parameters the server writes (not layers)
PRESENTER_CSS = """<style>
[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],[data-testid='stHeader']{display:none}
.block-container{padding:0.6rem 1.2rem 0 1.2rem;max-width:100%}
h1{font-size:2.4rem !important;padding:0 !important}
[data-testid='stCaptionContainer'],[data-testid='stCaptionContainer'] p{font-size:1.25rem}
[data-testid='stMetricValue'],[data-testid='stMetricValue'] p{font-size:3rem !important;line-height:1.15}
[data-testid='stMetricLabel'],[data-testid='stMetricLabel'] p{font-size:1.3rem !important}
[data-testid='stMain'] [data-testid='stMarkdownContainer'] p{font-size:1.3rem}
.st-key-tl-presenter{position:fixed;top:0.5rem;right:1.2rem;z-index:999990;width:auto}
.st-key-tl-speed p{font-size:1rem !important}
</style>"""

STATE.load()
if revert := st.session_state.pop(f"{NS}.revert", None):        # a set-up refused as too large: back to the run's
    STATE.set_config(revert[0])
    state.note(NS, revert[1], about_link=False)
if STATE["s"] not in ("", session.BOOT):                     # the URL was written by a server since restarted
    state.note(NS, session.RESTARTED_NOTE, about_link=False)
STATE.set(s=session.BOOT)
if STATE["data"] not in PLANE:                               # the Images lesson's data sets are not 2D
    state.note(NS, f"Train live draws 2D data; '{STATE['data']}' belongs to the Images lesson: using "
                   f"{STATE.default_config.data} instead.")
    STATE.set(data=STATE.default_config.data)
live_view.load()
own_data.init(NS)
handle = session.run_handle("train")
st.session_state[f"{NS}.rid"] = handle.rid
ring = st.session_state.setdefault(f"{NS}.ring", FrameRing())
presenter, locked = STATE["presenter"], controls.locked(NS)
if presenter:
    st.html(PRESENTER_CSS)

cfg = STATE.config()               # the widgets' settings (read before they are drawn: a callback may set them)
points = own_data.points(NS) if cfg.data == "custom" else None
waiting = cfg.data == "custom" and points is None          # "your own data", but nothing drawn yet


def settle(cfg, points) -> str:
    """Hand the widgets' settings to the run: 'same', 'live' or 'restart'. A set-up too large for the shared
    server is refused: the widgets go back to the run's settings (a page run), with the sentence."""
    try:
        return handle.set_config(cfg, points=points)
    except ValueError as err:
        st.session_state[f"{NS}.revert"] = (handle.config, str(err))
        st.rerun()


@st.fragment
def knobs() -> None:
    """The live controls, and under them what the training uses (the worker's word). A move reruns this
    fragment alone, not the page: the change reaches the training and shows here sooner (frames.py)."""
    controls.live_controls(NS)
    settled = st.session_state.pop(f"{NS}.settled", None)      # a full page run settled before drawing this
    now = STATE.config()                                       # settled again all the same: a stale value left
    change = "same" if waiting else settle(now, own_data.points(NS) if now.data == "custom" else None)
    if settled is not None:                                    # by an interrupted page run cannot hide a move
        change = settled
    elif change == "restart":                                  # not a live setting after all: a page run
        st.rerun()
    elif change == "live":
        STATE.write_url(now.to_dict())                         # the page's later runs keep it there
    if change == "live":
        st.caption("✓ Training with " + train_view.live_settings(handle.snapshot()["config"])
                   if handle.wait_applied() else "On its way to the training (the server is busy)…")


if not waiting:
    change = settle(cfg, points)
    if change == "restart" and st.session_state.get(f"{NS}.started"):
        st.toast("New run: objective, data, network or seed changed.", icon="🔄")
    st.session_state[f"{NS}.settled"] = change
    st.session_state[f"{NS}.started"] = True
    if st.session_state.pop(f"{NS}.ask", None):              # "Run it" on a question: its preset, fresh, playing
        if change != "restart":
            handle.reset()
        handle.play(True)
        run_view.wake(NS)
    share.apply_pending_load(NS, handle, ring)

with st.sidebar:
    controls.preset_buttons(NS)
    knobs()
    controls.structural_controls(NS, custom=own_data.points(NS) is not None)
view = {k: v for k, v in STATE.values().items() if k in VIEW}
pts, link_note = own_data.url_param(NS, cfg.data)
STATE.write_url({**cfg.to_dict(), **view, **({"pts": pts} if pts else {})}, drop=() if pts else ("pts",))
# The layers are the URL's: the view's chips toggle them in the browser (no script run) and write them
# there, and every rerun brings the URL back to the server; the server never writes them.
layers = live_view.url_layers(STATE["layers"])


def heading() -> None:
    st.title("Train live" if not presenter else OBJECTIVES[cfg.loss].label)
    STATE.show_notes()
    share.show_messages(NS)
    if view["preset"]:
        st.caption(f"**{PRESETS[view['preset']].label}** — {PRESETS[view['preset']].watch}")


if not presenter:
    heading()
    row = st.columns([1, 1, 3, 1], vertical_alignment="center")
    # Opening it reruns the page: the live controls rerun only their fragment, so the link is made afresh
    with row[0].popover("Share", icon=":material/link:", width="stretch", key=f"{NS}.share_open",
                        on_change="rerun", help="A link that reproduces this run; a link for a class."):
        share.share_panel(NS, {**cfg.to_query(), **view, "layers": ",".join(layers), **({"pts": pts} if pts else {})},
                          "train_live", link_note)
    with row[1].popover("Export", icon=":material/download:", width="stretch", help="Picture, GIF, curves, checkpoint."):
        share.export_panel(NS, handle, ring, tuple(layers))
        share.checkpoint_uploader(NS, locked)
    if controls.visible(NS, "data"):
        # Drawn only while open: the pad is the page's largest element, and the page reruns in full
        # on every control change of every student.
        pad = row[2].expander("Your own data: draw points or upload a CSV", icon=":material/draw:", expanded=waiting,
                              key=f"{NS}.own_open", on_change="rerun")
        if pad.open:
            with pad:
                own_data.panel(NS, locked)
# outside the live fragment: switching it changes the whole page's layout
(row[3] if not presenter else st.container(horizontal=True, horizontal_alignment="right")).toggle(
    "Presenter", key=f"{NS}.presenter", help="Large view for a projector; also ?presenter=1 in the link.")

# The view gets a payload of frames every tick (ui/run_view.py): at least VIEW_TICK, longer when the
# server process has many viewers to serve (ui/pace.py): a crowded server slows every view a little
# instead of freezing, and the browser still plays every frame it gets. The run buttons, the view and
# the side panel are one fragment: a click reruns only it, and the status shows what the worker says at
# the view's pace.
pace = session.pace()
ticks = run_view.declare_ticks(NS, run_view.tick_for(handle.playing, pace.min_tick(),
                                                     run_view.awake(NS, (handle, VIEW_KEY))), handle.playing)
run_view.full_run(VIEW_KEY)


def side(snap: dict | None) -> None:
    if snap is None or waiting:
        return
    if snap["status"] == "diverged":
        st.error(snap["message"])
        st.button("Restore the last good state", type="primary", on_click=handle.resume)
    train_view.status_line(handle, snap)
    train_view.metrics(snap)
    if not presenter:
        st.markdown(train_view.EXPLAIN[snap["config"]["loss"]])
        if note := train_view.average_note(snap["config"]):
            st.caption(note)
        st.caption(run_view.TRANSPORT_NOTE)
        train_view.pseudo_code(st.session_state.get(f"{NS}.last_action", "loop") if not handle.playing else "loop",
                               snap["config"]["loss"])
    else:
        train_view.curves(snap, presenter)


@st.fragment(run_every=ticks["view"])
def live() -> None:
    if presenter:
        left, right = st.columns([1.3, 1])
        with right:
            heading()
            train_view.toolbar(NS, handle, waiting, SPEEDS)
    else:
        train_view.toolbar(NS, handle, waiting, SPEEDS)
        left, right = st.columns([3, 2])
    # the numbers first: their few hundred bytes reach the browser before the view's frames (tens of KB),
    # so "Training with ..." says a live change is in the training as soon as the worker has it
    snap = None if waiting else handle.snapshot()
    with right, session.guard("The numbers"):
        side(snap)
    with left:
        if waiting:
            st.info("**Your own data** is chosen, but there are no points yet: draw some or upload a CSV "
                    "under *Your own data* above, then press *Train on these points*.")
        else:
            handle.seen()
            if err := handle.error():
                st.error(err)
            with session.guard("The live view"):
                snap = run_view.show(handle, VIEW_KEY, layers=layers, presenter=presenter,
                                     interval=ticks["view"] or run_view.VIEW_TICK)
    if snap is not None and ring.wants(snap["gen_steps"], run_key=snap.get("serial")):
        ring.add(handle.arrays(), run_key=snap.get("serial"))
    STATE.write_url({"speed": STATE["speed"]})                       # the speed is set in here
    playing = handle.playing
    pace.ran(handle.rid if playing else None)
    run_view.follow_tick(NS, "view", run_view.tick_for(playing, pace.min_tick(), run_view.awake(NS, (handle, VIEW_KEY))))


def ask(name: str) -> None:
    """A question's "Run it" (a callback): load its preset; the page's next full run starts it fresh."""
    controls.apply_preset(NS, QUESTIONS[name].preset)
    st.session_state[f"{NS}.ask"] = name


def outcome(q: questions.Question, snap: dict | None) -> dict | None:
    """The run once it has trained the question's steps with the question's preset (None before)."""
    want = PRESETS[q.preset].config.to_dict()
    return snap if snap is not None and snap["config"] == want and snap["gen_steps"] >= q.steps else None


@st.fragment(run_every=ticks["curves"])
def graphs() -> None:
    if st.session_state.get(f"{NS}.ask"):                     # a question's preset changes the whole page
        st.rerun()
    pace.ran()
    run_view.curves_ran(NS)
    snap = handle.snapshot()
    if snap is not None and snap["gen_steps"] > 0 and not waiting:
        with session.guard("The curves"):
            train_view.curves(snap, presenter)
    if locked:                                                 # a teacher's locked link: no preset changes
        return
    for name, q in QUESTIONS.items():
        quiz.box(NS, q, outcome(q, snap), on_run=lambda name=name: ask(name),
                 progress=f"Training {PRESETS[q.preset].label}… step {snap['gen_steps'] if snap else 0:,} of "
                          f"{q.steps:,}.")


live()
if not presenter:
    graphs()
