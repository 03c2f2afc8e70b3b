"""Training controls: the sidebar widgets that describe one TrainConfig, and the presets.

Widget keys are f"{ns}.{field}", seeded from the URL by the page's `ui.state.PageState`.
Controls the chosen objective does not use are disabled with the reason
(clip only for WGAN-clip, lambda only for the penalties; the critic's learning
rate and n_critic not for the critic-free exact-OT objective). Option lists always
contain the current value, so any valid value from a link can be shown.

Classroom mode (as TensorFlow Playground's): a link with ``show=lr_c,lam,presets``
shows only the named controls (`CONTROLS`); the others keep the link's values,
hidden. ``lock=1`` disables the controls that start a new run (objective, data,
network, seed, presets), so a class stays on the set-up the teacher chose.
"""
from __future__ import annotations

import streamlit as st

from ui import state
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.recipes import tuned_config
from wgan_core.presets import for_page

OPTIONS = TrainConfig.options      # a control's values, from the config's field metadata (one place)


# Every control a teacher can show or hide, in sidebar order: URL name -> label.
CONTROLS = {
    "presets": "Presets", "lr_c": "Critic learning rate", "lr_g": "Generator learning rate",
    "n_critic": "Critic steps (n_critic)", "clip": "Clip value c", "lam": "Penalty weight λ",
    "ema": "Generator average",
    "loss": "Objective", "data": "Data", "width": "Width", "depth": "Depth",
    "act_g": "Generator activation", "act_c": "Critic activation", "batch": "Batch",
    "z_dim": "Noise dimension", "optimizer": "Optimizer", "seed": "Seed", "beta1": "Adam β1", "beta2": "Adam β2",
}
PRESETS = for_page("train")
NETWORK = ("width", "depth", "act_g", "act_c", "batch", "z_dim", "optimizer", "seed", "beta1", "beta2")
MAX_SHOW_LEN = 400


def show_names(raw: str) -> frozenset:
    """The controls named in a ``show=`` value; ValueError if it names one that does not exist."""
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if any(n not in CONTROLS for n in names):
        raise ValueError("unknown control")
    return frozenset(names)


def show_query(shown) -> str:
    """The ``show=`` value for a set of control names, in sidebar order."""
    return ",".join(n for n in CONTROLS if n in set(shown))


def visible(ns: str, name: str) -> bool:
    shown = st.session_state.get(f"{ns}.show")
    return shown is None or name in shown


def locked(ns: str) -> bool:
    return bool(st.session_state.get(f"{ns}.lock"))


def classroom_params(ns: str) -> dict[str, str]:
    """The ``show`` / ``lock`` URL parameters of this session (empty when it is not in classroom mode)."""
    out = {}
    if st.session_state.get(f"{ns}.show") is not None:
        out["show"] = show_query(st.session_state[f"{ns}.show"])
    if locked(ns):
        out["lock"] = "1"
    return out


def _opts(options: list, key: str) -> list:
    current = st.session_state.get(key)
    return sorted(set(options) | ({current} if current is not None else set()))


def _num(v: float) -> str:
    return f"{v:g}"


def apply_preset(ns: str, name: str) -> None:
    """Callback: load a preset into the widgets (and so into the URL and the run)."""
    state.set_config(ns, PRESETS[name].config)
    st.session_state[f"{ns}.preset"] = name


def apply_tuned(ns: str) -> None:
    """Callback: the tuned settings (`recipes.tuned_config`) for the chosen objective and data, same seed."""
    k = lambda f: st.session_state[f"{ns}.{f}"]
    state.set_config(ns, tuned_config(k("loss"), k("data"), k("seed")))
    st.session_state[f"{ns}.preset"] = ""


def _ema(v: float) -> str:
    return "off" if v == 0 else f"{v:g}"


def preset_buttons(ns: str) -> None:
    if not visible(ns, "presets"):
        return
    st.subheader("Presets")
    st.caption("One click loads a complete set-up." if not locked(ns) else "Locked by the teacher's link.")
    for name, p in PRESETS.items():
        st.button(p.label, key=f"{ns}.btn.{name}", on_click=apply_preset, args=(ns, name),
                  help=p.watch, width="stretch", disabled=locked(ns),
                  type="primary" if st.session_state.get(f"{ns}.preset") == name else "secondary")


def live_controls(ns: str) -> None:
    """Learning rates, n_critic, clip and lambda: they act on the running training at the next step."""
    k = lambda f: f"{ns}.{f}"
    obj = OBJECTIVES[st.session_state[k("loss")]]
    if not any(visible(ns, n) for n in ("lr_c", "lr_g", "n_critic", "clip", "lam", "ema")):
        return
    st.subheader("Acts live")
    nc = f"{obj.short} has no critic: this control is for the other objectives." if obj.critic_free else None
    if visible(ns, "lr_c"):
        st.select_slider("Critic learning rate", _opts(OPTIONS("lr_c"), k("lr_c")), key=k("lr_c"), format_func=_num,
                         disabled=obj.critic_free, help=nc)
    if visible(ns, "lr_g"):
        st.select_slider("Generator learning rate", _opts(OPTIONS("lr_g"), k("lr_g")), key=k("lr_g"), format_func=_num)
    if visible(ns, "n_critic"):
        n = OPTIONS("n_critic")
        st.slider("Critic steps per generator step (n_critic)", n[0], max(n[-1], st.session_state[k("n_critic")]),
                  key=k("n_critic"), disabled=obj.critic_free, help=nc)
    if visible(ns, "clip"):
        st.select_slider("Clip value c", _opts(OPTIONS("clip"), k("clip")), key=k("clip"), format_func=_num,
                         disabled="clip" not in obj.knobs,
                         help="Every critic weight is clipped to [-c, c]." if "clip" in obj.knobs
                         else f"Only WGAN-clip clips weights; {obj.label} does not.")
    if visible(ns, "lam"):
        st.select_slider("Penalty weight λ", _opts(OPTIONS("lam"), k("lam")), key=k("lam"), format_func=_num,
                         disabled="lam" not in obj.knobs,
                         help="Weight of the gradient penalty." if "lam" in obj.knobs
                         else f"Only WGAN-GP and WGAN-LP use a penalty; {obj.label} does not.")
    if visible(ns, "ema"):
        st.select_slider("Average of the generator's weights", _opts(OPTIONS("ema"), k("ema")), key=k("ema"),
                         format_func=_ema,
                         help="With decay d, the points and every figure show a running average of the "
                              "generator's weights (each step moves it 1 - d of the way to the generator). "
                              "Training itself is unchanged; the average jitters less around tight modes. "
                              "Off: the generator itself.")


def data_label(name: str) -> str:
    return DATASETS[name].label if name in DATASETS else {"custom": "Your own data"}.get(name, name)


def structural_controls(ns: str, custom: bool = False) -> None:
    """Objective, data, architecture, optimizer, seed: a change starts a fresh run.

    ``custom``: the session has its own points, so "Your own data" is a choice.
    """
    k = lambda f: f"{ns}.{f}"
    if not any(visible(ns, n) for n in ("loss", "data", *NETWORK)):
        return
    st.subheader("Starts a new run")
    lock = locked(ns)
    if lock:
        st.caption("🔒 Locked by the teacher's link.")
    data = list(DATASETS) + (["custom"] if custom or st.session_state[k("data")] == "custom" else [])
    data += [] if st.session_state[k("data")] in data else [st.session_state[k("data")]]
    if visible(ns, "loss"):
        st.selectbox("Objective", OPTIONS("loss"), key=k("loss"), format_func=lambda n: OBJECTIVES[n].label,
                     disabled=lock)
    if visible(ns, "data"):
        st.selectbox("Data", data, key=k("data"), format_func=data_label, disabled=lock)
    if visible(ns, "presets"):
        st.button("Tuned settings for this objective and data", key=f"{ns}.btn.tuned", on_click=apply_tuned,
                  args=(ns,), disabled=lock, width="stretch",
                  help="The network, optimizer, rates and average tuned for 2 CPU cores (the command line's "
                       "defaults): on 8 and 25 Gaussians WGAN-GP covers every mode with most samples inside "
                       "them within 30 s.")
    shown = [n for n in NETWORK if visible(ns, n)]
    if not shown:
        return
    widgets = {
        "width": lambda c: c.selectbox("Width", _opts(OPTIONS("width"), k("width")), key=k("width"), disabled=lock),
        "depth": lambda c: c.selectbox("Depth", _opts(OPTIONS("depth"), k("depth")), key=k("depth"), disabled=lock),
        "act_g": lambda c: c.selectbox("Generator activation", OPTIONS("act_g"), key=k("act_g"), disabled=lock),
        "act_c": lambda c: c.selectbox("Critic activation", OPTIONS("act_c"), key=k("act_c"), disabled=lock),
        "batch": lambda c: c.selectbox("Batch", _opts(OPTIONS("batch"), k("batch")), key=k("batch"), disabled=lock),
        "z_dim": lambda c: c.selectbox("Noise dimension", OPTIONS("z_dim"), key=k("z_dim"), disabled=lock),
        "optimizer": lambda c: c.selectbox("Optimizer", OPTIONS("optimizer"), key=k("optimizer"), disabled=lock),
        "seed": lambda c: c.number_input("Seed", *TrainConfig.fields()["seed"].metadata["range"], key=k("seed"),
                                         step=1, disabled=lock),
        "beta1": lambda c: c.select_slider("Adam β1", _opts(OPTIONS("beta1"), k("beta1")), key=k("beta1")),
        "beta2": lambda c: c.select_slider("Adam β2", _opts(OPTIONS("beta2"), k("beta2")), key=k("beta2")),
    }
    with st.expander("Network, optimizer and seed", expanded=st.session_state.get(f"{ns}.show") is not None):
        cols = st.columns(2)
        for i, name in enumerate(shown):
            widgets[name](cols[i % 2])
