"""Sensitivity: is a WGAN really less sensitive to its settings? A grid of runs that answers live."""
import streamlit as st

from ui import grid_view, retime, run_view, session, share, state
from ui import sensitivity as S
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.lessons import grid as G

NS = "sens"
STATE = state.PageState(NS, {
    "data": state.Param("8gaussians", str, state.one_of(*G.DATA)),
    "seed": state.Param(0, int, state.number(0, 9999)),
    "colour": state.Param("modes", str, state.one_of(*G.COLOURS)),
    "steps": state.Param(G.STEPS, int, state.number(20, 5000)),     # generator steps per run
})
SETTINGS = ("optimizer", "beta1", "beta2", "clip", "lam", "width", "depth", "batch")

STATE.load()
st.title("Sensitivity")
st.markdown(
    "The fact sheet says a WGAN “is less sensitive to hyperparameters” (facts 7 and 20) and, a few lines "
    "later, that it “requires careful tuning” (fact 25). Both cannot simply be true. This grid tries "
    f"**{len(G.LRS)} learning rates × {len(G.N_CRITICS)} values of n_critic** for a GAN and two WGANs on the "
    "same data, network and seed, trains every run for the same number of generator steps, and shows where "
    "each one got: every tile is one run.")
with st.container(border=True):
    c = st.columns([1.5, 0.7, 2.3])
    c[0].selectbox("Data", G.DATA, key=f"{NS}.data", format_func=lambda n: DATASETS[n].label)
    c[1].number_input("Seed", 0, 9999, key=f"{NS}.seed", step=1)
    c[2].segmented_control("Colour by", list(G.COLOURS), key=f"{NS}.colour", format_func=G.COLOURS.get,
                           required=True)
v = STATE.values()
STATE.write_url(v)
STATE.show_notes()
cells = G.cells()
cfgs = G.configs(v["data"], v["seed"], cells)
steps = v["steps"]
grid = S.current(cfgs, steps)
playing = grid is not None and grid.playing
if grid is not None:                                             # for tests: the grid's place and its runs
    st.session_state[f"{NS}.gid"] = grid.gid
    st.session_state[f"{NS}.rids"] = {c.key: h.rid for c, h in grid.handles.items()}

b = st.columns([1.3, 1.1, 5])
if playing:
    b[0].button("Pause", icon=":material/pause:", type="primary", width="stretch", on_click=S.pause,
                args=(NS, cfgs, steps), key=f"{NS}.play")
else:
    finished = grid is not None and grid.finished()
    b[0].button("Finished" if finished else "Start" if grid is None or grid.steps_done() == 0 else "Go on",
                icon=":material/check:" if finished else ":material/play_arrow:", type="primary", width="stretch",
                on_click=S.start, args=(NS, cfgs, steps), disabled=finished, key=f"{NS}.play")
b[1].button("Clear", icon=":material/restart_alt:", width="stretch", on_click=S.clear, args=(NS,),
            key=f"{NS}.clear", help="Close this grid's runs; Start then trains a fresh grid from step 0.")
with b[2].expander("What every run shares, and what differs"):
    st.markdown(f"Every run: **{DATASETS[v['data']].label}**, seed {v['seed']}, the classroom network and "
                f"**{steps:,} generator steps**. Learning rate (both networks) and n_critic vary; each objective "
                "keeps its own optimizer, clip and λ:")
    st.dataframe([{"objective": OBJECTIVES[m].label, **{k: cfgs[next(c for c in cells if c.method == m)]
                   .to_dict()[k] for k in SETTINGS}} for m in G.METHODS], hide_index=True)
if refused := st.session_state.pop(f"{NS}.refused", None):
    st.warning(refused)

pace = session.pace()
tick = run_view.tick_for(playing, max(1.0, pace.min_tick()), run_view.awake(NS))
HREFS = {c: S.link(cfg) for c, cfg in cfgs.items()}


@st.fragment(run_every=tick)
def board() -> None:
    g = S.current(cfgs, steps)
    with session.guard("The grid"):
        if g is not None:
            g.tend()
        outcomes, points, real, floor = S.read(NS, g, cells)
        done, line = S.progress_line(NS, g, len(cells), steps)
        st.progress(done, text=line)
        grid_view.grid_view(grid_view.payload(cells, outcomes, st.session_state[f"{NS}.colour"], HREFS, points,
                                              real, steps, floor), key=f"{NS}.grid")
        finished = g is not None and g.finished()
        st.markdown(f"**What this grid shows.** {G.sentence(outcomes, steps, v['data'], finished)}")
    now_playing = g is not None and g.playing
    if now_playing:
        pace.ran(g.gid)
    if tick is not None and not (now_playing or run_view.awake(NS)):     # nothing trains (paused, finished):
        if playing or not retime.stop():                                  # the buttons change with a page run,
            st.rerun()                                                    # else the timer stops by a message


board()
st.caption(
    "A tile's colour is the quantity chosen above; its big number is that quantity, the two small lines the others. "
    "**Modes covered**: of the mixture's modes, how many got at least 1 % of 2,500 samples within 3 standard "
    "deviations of their centre; **high-quality share**: the share of all samples that close to some centre; "
    "**W1**: the exact Wasserstein-1 distance of 400 generated to 400 real points, measured about every 30 s "
    "and at the end. Two samples of the real data are already as far apart as the floor, so a perfect "
    "generator lands there, not at 0. The points are 150 generated samples (the same noise in every tile) "
    "over the real data. Runs of one objective train together in one stack, each exactly as it would alone, "
    "so a tile's link replays its run in Train live step by step.")
st.caption(f"How long: {G.MEASURED}")
share.link_box(page="sensitivity")
