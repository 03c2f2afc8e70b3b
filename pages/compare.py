"""Compare: GAN, WGAN-clip, WGAN-GP (and LP, spectral norm) trained side by side from the same start."""
import streamlit as st

from ui import session, share, state, vega
from wgan_core.draw import render
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.lessons import lab

NS = "cmp"
N_RUNS = 5
DATA = ("seed3", "8gaussians", "25gaussians", "swissroll", "ring", "moons")
PRESETS = {
    "seed-notebook": dict(label="Seed notebook comparison", methods=["wgan-clip", "wgan-gp"], data="seed3",
                          speed="seed", watch="The seed notebook's WGAN (clip 0.01, RMSprop 5e-5) against its WGAN-GP "
                          "(λ = 10, Adam 1e-4), batch 64: compare the samples, the two W curves and the penalty."),
    "all-8g": dict(label="All methods on 8 Gaussians", methods=["gan", "wgan-clip", "wgan-gp", "wgan-lp", "sngan"],
                   data="8gaussians", speed="classroom", watch="Five objectives race to cover eight small modes: "
                   "watch which ones reach 8 / 8 and how straight their exact-W1 curves fall."),
}
PARAMS = {
    "methods": state.Param(["gan", "wgan-clip", "wgan-gp"], lambda s: [m for m in s.split(",") if m],
                           lambda v: 1 <= len(v) <= N_RUNS and len(set(v)) == len(v)
                           and all(m in lab.COMPARE_METHODS for m in v)),
    "data": state.Param("8gaussians", str, state.one_of(*DATA)),
    "seed": state.Param(0, int, state.number(0, 9999)),
    "speed": state.Param("classroom", str, state.one_of(*lab.SPEEDS)),
    "bound": state.Param(False, state.flag),
    "preset": state.Param("", str, lambda v: v == "" or v in PRESETS),
}


def apply_preset(name: str) -> None:
    p = PRESETS[name]
    st.session_state.update({f"{NS}.methods": list(p["methods"]), f"{NS}.data": p["data"],
                             f"{NS}.speed": p["speed"], f"{NS}.seed": 0, f"{NS}.preset": name})


def at_most_five() -> None:
    """Callback of the method pills: a sixth pick is undone (five runs train side by side)."""
    picked = st.session_state[f"{NS}.methods"]
    if len(picked) > N_RUNS:
        st.session_state[f"{NS}.methods"] = [m for m in picked if m in st.session_state.get(f"{NS}.prev", [])]
        st.session_state[f"{NS}.too_many"] = True


@st.cache_data(show_spinner=False, max_entries=64)
def noise_floor(data: str, seed: int, _real) -> float | None:
    return lab.w1_noise_floor(_real)


state.init(NS, PARAMS)
st.title("Compare")
st.markdown("The same data, the same seed, the same networks, started at the same moment: only the objective "
            "and its way of keeping the critic in check differ. Each method keeps its own reference optimizer, "
            "n_critic and constraint.")
with st.container(border=True):
    b = st.columns(len(PRESETS) + 1)
    b[0].markdown("**Presets**")
    for col, (name, p) in zip(b[1:], PRESETS.items()):
        col.button(p["label"], key=f"{NS}.btn.{name}", on_click=apply_preset, args=(name,), help=p["watch"],
                   width="stretch", type="primary" if st.session_state[f"{NS}.preset"] == name else "secondary")
    st.pills("Methods (up to 5)", lab.COMPARE_METHODS, selection_mode="multi", key=f"{NS}.methods",
             format_func=lambda m: OBJECTIVES[m].label, on_change=at_most_five)
    c = st.columns([1.4, 0.8, 2.6])
    c[0].selectbox("Data", DATA, key=f"{NS}.data", format_func=lambda n: DATASETS[n].label)
    c[1].number_input("Seed", 0, 9999, key=f"{NS}.seed", step=1)
    c[2].radio("Settings", list(lab.SPEEDS), key=f"{NS}.speed", format_func=lambda s: lab.SPEEDS[s])
v = state.values(NS, PARAMS)
if st.session_state.pop(f"{NS}.too_many", False):
    st.warning(f"At most {N_RUNS} methods train side by side: deselect one before adding another.")
st.session_state[f"{NS}.prev"] = list(v["methods"])
p = PRESETS.get(v["preset"])
if p and (v["methods"], v["data"], v["speed"]) != (p["methods"], p["data"], p["speed"]):
    v["preset"] = st.session_state[f"{NS}.preset"] = ""
if not v["methods"]:
    st.info("Pick at least one method.")
    st.stop()
state.write_url({**v, "methods": ",".join(v["methods"])})
state.show_notes(NS)
if v["preset"]:
    st.caption(f"**{PRESETS[v['preset']]['label']}**: {PRESETS[v['preset']]['watch']}")

# -- runs: one handle per method, kept while the method stays selected; all restart together ------------------
handles = session.run_handles("compare", N_RUNS)
slots = st.session_state.setdefault(f"{NS}.slots", {})
for m in [m for m in slots if m not in v["methods"]]:
    handles[slots.pop(m)].play(False)
for m in v["methods"]:
    if m not in slots:
        slots[m] = min(set(range(N_RUNS)) - set(slots.values()))
runs = {m: handles[slots[m]] for m in v["methods"]}
st.session_state[f"{NS}.rids"] = {m: h.rid for m, h in runs.items()}
playing = any(h.playing for h in runs.values())
if any([h.set_config(lab.compare_config(m, v["data"], v["seed"], v["speed"])) == "restart"
        for m, h in runs.items()]):
    for h in runs.values():
        h.reset()
        if playing:
            h.play(True)

b = st.columns([1.2, 1, 5])
if b[0].button("Pause" if playing else "Start", icon=":material/pause:" if playing else ":material/play_arrow:",
               type="primary", width="stretch"):
    for h in runs.values():
        h.play(not playing)
    st.rerun()
if b[1].button("Reset", width="stretch", help="Fresh runs with the same settings, paused at step 0."):
    for h in runs.values():
        h.reset()
    st.rerun()
with b[2].expander("Settings of each run"):
    st.dataframe([{"method": OBJECTIVES[m].label, **{k: h.config.to_dict()[k] for k in (
        "optimizer", "lr_c", "lr_g", "beta1", "beta2", "n_critic", "clip", "lam", "batch", "width", "depth")}}
        for m, h in runs.items()], hide_index=True)

SIZE = {1: 480, 2: 440, 3: 400}.get(len(runs), 330)


@st.fragment(run_every=0.4)
def frames() -> None:
    cols = st.columns(len(runs))
    for (m, h), col in zip(runs.items(), cols):
        h.seen()
        with col, session.guard(f"The {lab.SHORT[m]} picture"):
            err = h.error()
            if err:
                st.warning(err)
            st.markdown(f"**{lab.SHORT[m]}**", help=OBJECTIVES[m].label)
            png, snap = h.frame_png(render.frame_png, layers=("critic", "real", "fake"), size=SIZE)
            if png is None:
                st.caption("Starting the run…")
                continue
            st.image(png, width=SIZE)
            mt = snap["metrics"]
            w1 = lab.last_measured(snap, "exact_w1")
            w1 = "…" if w1 is None else f"{w1:.3f}"
            modes = f" · modes {mt['modes_covered']}/{mt['modes_total']}" if mt["modes_total"] else ""
            st.caption(f"step {snap['gen_steps']:,} · exact W1 {w1}{modes}")


@st.fragment(run_every=1.5)
def charts() -> None:
    snaps = {m: s for m, h in runs.items() if (s := h.snapshot()) is not None}
    if not snaps or max(s["gen_steps"] for s in snaps.values()) == 0:
        st.info("Press **Start**: the curves of all runs appear here, on shared axes.")
        return
    curves = {m: s["curves"] for m, s in snaps.items()}
    first = next(iter(snaps.values()))
    floor = noise_floor(v["data"], v["seed"], first["real"])
    wq = "w_corrected" if v["bound"] else "w_estimate"
    total = first["metrics"]["modes_total"]
    x = max(s["gen_steps"] for s in snaps.values())
    chart = lambda col, cv, q, **kw: vega.chart(col, lab.method_curves_spec(cv, q, x_max=x, **kw), width="stretch")
    st.html(lab.legend_html(list(curves)))
    c = st.columns(2)
    wcurves = {m: cv for m, cv in curves.items() if OBJECTIVES[m].wasserstein}
    if wcurves:
        chart(c[0], wcurves, wq)
    else:
        c[0].info("A GAN's discriminator estimates no distance: add a WGAN to see a W estimate.")
    chart(c[1], curves, "exact_w1", rule=floor, rule_label=f"two real samples: {floor:.2f}" if floor else "")
    pen = {m: cv for m, cv in curves.items() if OBJECTIVES[m].penalty is not None}
    c = st.columns(3 if pen else 2)
    if total:
        chart(c[0], curves, "modes_covered", rule=total, rule_label=f"all {total}")
        chart(c[1], curves, "hq_fraction")
    else:
        c[0].info(f"{DATASETS[v['data']].label} has no modes: modes covered and high-quality share do not apply.")
    if pen:
        chart(c[-1], pen, "penalty")
    if not any(h.playing for h in runs.values()):
        st.subheader("Where each run stands")
        st.dataframe(lab.summary_rows(snaps), hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="%.3f") for k in ("exact W1", "W estimate", "estimate ÷ max slope")}
            | {"high-quality share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})


frames()
st.toggle("Show the W estimate divided by the critic's largest slope (a lower bound on W1 for any critic)",
          key=f"{NS}.bound")
st.caption("The W estimate E f(real) − E f(fake) equals W1 only for the best 1-Lipschitz critic: the clipped "
           "critic's is W1 times an unknown small factor. A GAN's discriminator estimates no distance, so it has "
           "no W curve. Exact W1 is measured between 400 generated and 400 real points; even a perfect generator "
           "stays near the dashed line.")
charts()
share.link_box(page="compare")
