"""Compare: GAN, WGAN-clip, WGAN-GP (and LP, spectral norm) trained side by side from the same start."""
import streamlit as st

from ui import legend, live_view, quiz, retime, run_view, session, share, state, vega
from wgan_core import presets
from wgan_core.draw import lab_specs
from wgan_core.engine import recipes
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.views import last_measured
from wgan_core.lessons import compare, questions

NS = "cmp"
N_RUNS = 5
DATA = ("seed3", "8gaussians", "25gaussians", "swissroll", "ring", "moons")
PRESETS = presets.for_page("compare")
METHODS = tuple(OBJECTIVES)
LABELS = {m: o.short for m, o in OBJECTIVES.items()}
STATE = state.PageState(NS, {
    "methods": state.Param(["gan", "wgan-clip", "wgan-gp"], lambda s: [m for m in s.split(",") if m],
                           lambda v: 1 <= len(v) <= N_RUNS and len(set(v)) == len(v)
                           and all(m in METHODS for m in v)),
    "data": state.Param("8gaussians", str, state.one_of(*DATA)),
    "seed": state.Param(0, int, state.number(0, 9999)),
    "recipe": state.Param("tuned", str, state.one_of(*recipes.COMPARE_RECIPES)),
    "bound": state.Param(False, state.flag),
    "preset": state.Param("", str, lambda v: v == "" or v in PRESETS),
})


def apply_preset(name: str) -> None:
    p = PRESETS[name]
    STATE.set(methods=list(p.methods), data=p.config.data, recipe=p.recipe, seed=p.config.seed, preset=name)


QUESTION = questions.for_page("compare")["first-full"]


def ask() -> None:
    """The question's "Run it" (a callback): its preset; the page's next full run starts every run fresh."""
    apply_preset(QUESTION.preset)
    st.session_state[f"{NS}.ask"] = True


def at_most_five() -> None:
    """Callback of the method pills: a sixth pick is undone (five runs train side by side)."""
    picked = st.session_state[f"{NS}.methods"]
    if len(picked) > N_RUNS:
        st.session_state[f"{NS}.methods"] = [m for m in picked if m in st.session_state.get(f"{NS}.prev", [])]
        st.session_state[f"{NS}.too_many"] = True


STATE.load()
live_view.load()
st.title("Compare")
st.markdown("The same data, the same seed, the same networks, started at the same moment: only the objective "
            "and its way of keeping the critic in check differ. Each method keeps its own reference optimizer, "
            "n_critic and constraint.")
with st.container(border=True):
    b = st.columns(len(PRESETS) + 1)
    b[0].markdown("**Presets**")
    for col, (name, p) in zip(b[1:], PRESETS.items()):
        col.button(p.label, key=f"{NS}.btn.{name}", on_click=apply_preset, args=(name,), help=p.watch,
                   width="stretch", type="primary" if st.session_state[f"{NS}.preset"] == name else "secondary")
    st.pills("Methods (up to 5)", METHODS, selection_mode="multi", key=f"{NS}.methods",
             format_func=lambda m: OBJECTIVES[m].label, on_change=at_most_five)
    c = st.columns([1.4, 0.8, 2.6])
    c[0].selectbox("Data", DATA, key=f"{NS}.data", format_func=lambda n: DATASETS[n].label)
    c[1].number_input("Seed", 0, 9999, key=f"{NS}.seed", step=1)
    c[2].radio("Settings", recipes.COMPARE_RECIPES, key=f"{NS}.recipe", format_func=recipes.recipe_label)
v = STATE.values()
if st.session_state.pop(f"{NS}.too_many", False):
    st.warning(f"At most {N_RUNS} methods train side by side: deselect one before adding another.")
st.session_state[f"{NS}.prev"] = list(v["methods"])
p = PRESETS.get(v["preset"])
if p and (tuple(v["methods"]), v["data"], v["recipe"]) != (p.methods, p.config.data, p.recipe):
    v["preset"] = st.session_state[f"{NS}.preset"] = ""
if not v["methods"]:
    st.info("Pick at least one method.")
    st.stop()
STATE.write_url({**v, "methods": ",".join(v["methods"])})
STATE.show_notes()
if v["preset"]:
    st.caption(f"**{PRESETS[v['preset']].label}**: {PRESETS[v['preset']].watch}")
if v["recipe"] == "tuned":
    st.caption("**Tuned**: each method with the optimizer and rates tuned for it on 2 CPU cores (the command "
               "line's defaults). The points and figures show the average of each generator's weights (decay "
               "0.99), which jitters less around tight modes than the generator itself.")

# -- runs: one per chosen method (made when chosen, closed when dropped); all restart together ------------------
book = session.runs()
for name in [n for n in book.handles if n.startswith("compare.") and n[8:] not in v["methods"]]:
    book.drop(name)
configs = {m: recipes.compare_config(m, v["data"], v["seed"], v["recipe"]) for m in v["methods"]}
runs = {m: book.get(f"compare.{m}", configs[m]) for m in v["methods"]}
st.session_state[f"{NS}.rids"] = {m: h.rid for m, h in runs.items()}
playing = any(h.playing for h in runs.values())
if any([h.set_config(configs[m]) == "restart" for m, h in runs.items()]):
    for h in runs.values():
        h.reset()
        if playing:
            h.play(True)
if st.session_state.pop(f"{NS}.ask", False):
    for h in runs.values():
        h.reset()
        h.play(True)
    playing = True
    run_view.wake(NS)


def act(what: str) -> None:
    """The run buttons (callbacks: they act before the page runs, so this run shows the new state)."""
    run_view.wake(NS)
    for h in runs.values():
        if what == "reset":                         # statements, not expressions: Streamlit's magic would
            h.reset()                               # write an expression's value (None) on the page
        else:
            h.play(not playing)


b = st.columns([1.2, 1, 5])
b[0].button("Pause" if playing else "Start", icon=":material/pause:" if playing else ":material/play_arrow:",
            type="primary", width="stretch", on_click=act, args=("play",))
b[1].button("Reset", width="stretch", help="Fresh runs with the same settings, paused at step 0.",
            on_click=act, args=("reset",))
with b[2].expander("Settings of each run"):
    NO_CRITIC = ("lr_c", "n_critic", "clip", "lam")                     # a critic-free run's: not used, not shown
    st.dataframe([{"method": OBJECTIVES[m].label, **{k: None if OBJECTIVES[m].critic_free and k in NO_CRITIC
                                                     else h.config.to_dict()[k] for k in (
        "optimizer", "lr_c", "lr_g", "beta1", "beta2", "n_critic", "clip", "lam", "batch", "width", "depth")}}
        for m, h in runs.items()], hide_index=True)

pace = session.pace()
VIEWS = [(h, f"{NS}.view.{m}") for m, h in runs.items()]                # (run, its view's key)
tick = run_view.tick_for(playing, pace.min_tick() * len(runs), run_view.awake(NS, *VIEWS))
for m in runs:
    run_view.full_run(f"{NS}.view.{m}")


@st.fragment(run_every=tick)
def frames() -> None:
    cols = st.columns(len(runs))
    now_playing = False
    for (m, h), col in zip(runs.items(), cols):
        h.seen()
        with col, session.guard(f"The {LABELS[m]} picture"):
            err = h.error()
            if err:
                st.warning(err)
            st.markdown(f"**{LABELS[m]}**", help=OBJECTIVES[m].label)
            snap = run_view.show(h, f"{NS}.view.{m}", layers=("critic", "real", "fake"), interval=tick or 1.0)
            now_playing |= h.playing
            if snap is None:
                continue
            mt = snap["metrics"]
            w1 = last_measured(snap, "exact_w1")
            w1 = "…" if w1 is None else f"{w1:.3f}"
            modes = f" · modes {mt['modes_covered']}/{mt['modes_total']}" if mt["modes_total"] else ""
            rate = compare.step_rate(st.session_state.setdefault(f"{NS}.rate.{m}", []), snap.get("t", 0.0),
                                     snap["gen_steps"])                 # measured: what a step costs, shared
            rates = st.session_state.setdefault(f"{NS}.rates", {})     # the last rate, for the paused summary
            if rate is None:
                rates.pop(m, None)
            else:
                rates[m] = rate
            speed = f" · {rate:,.0f} steps/s" if rate is not None else ""
            st.caption(f"step {snap['gen_steps']:,}{speed} · exact W1 {w1}{modes}")
    pace.ran(st.session_state[f"{NS}.rids"][next(iter(runs))] if now_playing else None)
    if tick is not None and not (now_playing or run_view.awake(NS, *VIEWS)):
        if not retime.stop():                       # paused (by the student or the worker): stop the timer
            st.rerun()


def outcome(snaps: dict) -> dict | None:
    """The race of the question's preset once every run has trained the question's steps (None before)."""
    p = PRESETS[QUESTION.preset]
    if (tuple(v["methods"]), v["data"], v["recipe"]) != (p.methods, p.config.data, p.recipe) or \
            len(snaps) < len(p.methods) or min(s["gen_steps"] for s in snaps.values()) < QUESTION.steps:
        return None
    return {"runs": snaps, "labels": LABELS}


@st.fragment(run_every=None if tick is None else max(1.5, 4 * tick))
def charts() -> None:
    if st.session_state.get(f"{NS}.ask"):                 # the question's preset changes the whole page
        st.rerun()
    snaps = {m: s for m, h in runs.items() if (s := h.snapshot()) is not None}
    slowest = min((s["gen_steps"] for s in snaps.values()), default=0)
    quiz.box(NS, QUESTION, outcome(snaps), on_run=ask,
             progress=f"Racing… the slowest run is at step {slowest:,} of {QUESTION.steps:,}.")
    if not snaps or max(s["gen_steps"] for s in snaps.values()) == 0:
        st.info("Press **Start**: the curves of all runs appear here, on shared axes.")
        return
    curves = {m: s["curves"] for m, s in snaps.items()}
    first = next(iter(snaps.values()))["metrics"]
    floor = first.get("exact_w1_floor")
    band = None if not floor else (floor[0], floor[1], f"two real samples: {floor[0]:.2f}–{floor[1]:.2f}")
    total = first.get("modes_total")
    x = max(s["gen_steps"] for s in snaps.values())
    chart = lambda col, cv, q, **kw: vega.chart(col, lab_specs.method_curves_spec(cv, q, LABELS, x_max=x, **kw),
                                                width="stretch")
    st.html(legend.legend_html(list(curves)))
    c = st.columns(2)
    wcurves = {m: cv for m, cv in curves.items() if OBJECTIVES[m].wasserstein}
    if wcurves:
        chart(c[0], wcurves, "w_corrected" if v["bound"] else "critic_w1_estimate")
    else:
        c[0].info("A GAN's discriminator estimates no distance: add a WGAN to see a critic's estimate.")
    chart(c[1], curves, "exact_w1", band=band)
    pen = {m: cv for m, cv in curves.items() if OBJECTIVES[m].penalty is not None}
    c = st.columns(3 if pen else 2)
    if total:
        chart(c[0], curves, "modes_covered", rule=total, rule_label=f"all {total}")
        chart(c[1], curves, "hq_fraction")
    else:
        chart(c[0], curves, "precision")
        chart(c[1], curves, "recall")
    if pen:
        chart(c[-1], pen, "penalty")
    if note := compare.gan_beat_clipping(snaps):
        st.info(note)
    if not any(h.playing for h in runs.values()):
        st.subheader("Where each run stands")
        rates = {m: r for m, r in st.session_state.get(f"{NS}.rates", {}).items() if m in snaps}
        st.dataframe(compare.summary_rows(snaps, rates), hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="%.3f") for k in compare.SUMMARY_NUMBERS}
            | {"generator steps/s": st.column_config.NumberColumn(format="%.0f")}
            | {"high-quality share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})


frames()
st.toggle("Show the lower bound from each critic instead of its estimate (a bound that holds for any critic)",
          key=f"{NS}.bound")
st.caption("The critic's estimate E f(real) − E f(fake) equals W1 only for the best 1-Lipschitz critic: the "
           "clipped critic's is W1 times an unknown small factor. The lower bound makes the critic's values "
           "feasible (their c-transform), so it never exceeds the exact W1 of the same 400 vs 400 points. A GAN's "
           "discriminator estimates no distance, so it has no curve there. Two samples of the real data are "
           "already as far apart as the shaded band: a perfect generator's exact W1 lands in it, not at 0.")
if any(OBJECTIVES[m].critic_free for m in v["methods"]):
    st.caption("**Exact OT** has no critic: each generator step solves the exact optimal assignment between a batch "
               "of generated and a batch of real points and moves each point towards its partner (its steps/s, "
               "beside the others', is what that costs here). " + compare.OT_AT_SCALE)
charts()
share.link_box(page="compare")
