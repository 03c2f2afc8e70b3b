"""Training controls: the sidebar widgets that describe one TrainConfig, and the presets.

Widget keys are f"{ns}.{field}", seeded from the URL by `ui.state.init_config`.
Controls the chosen objective does not use are disabled with the reason
(clip only for WGAN-clip, lambda only for the penalties). Option lists always
contain the current value, so any valid value from a link can be shown.
"""
from __future__ import annotations

import streamlit as st

from ui import state
from wgan_core.config import ACTIVATIONS, OPTIMIZERS
from wgan_core.datasets import DATASETS
from wgan_core.objectives import OBJECTIVES
from wgan_core.presets import PRESETS

LRS = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.5, 1.0]
CLIPS = [1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0]
LAMS = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
WIDTHS = [8, 16, 32, 64, 128, 256, 512]
BATCHES = [16, 32, 64, 128, 256, 512, 1024]


def _opts(options: list, key: str) -> list:
    current = st.session_state.get(key)
    return sorted(set(options) | ({current} if current is not None else set()))


def _num(v: float) -> str:
    return f"{v:g}"


def apply_preset(ns: str, name: str) -> None:
    """Callback: load a preset into the widgets (and so into the URL and the run)."""
    state.set_config(ns, PRESETS[name].config)
    st.session_state[f"{ns}.preset"] = name


def preset_buttons(ns: str) -> None:
    st.caption("One click loads a complete set-up.")
    for name, p in PRESETS.items():
        st.button(p.label, key=f"{ns}.btn.{name}", on_click=apply_preset, args=(ns, name),
                  help=p.watch, width="stretch",
                  type="primary" if st.session_state.get(f"{ns}.preset") == name else "secondary")


def live_controls(ns: str) -> None:
    """Learning rates, n_critic, clip and lambda: they act on the running training at the next step."""
    k = lambda f: f"{ns}.{f}"
    obj = OBJECTIVES[st.session_state[k("loss")]]
    st.select_slider("Critic learning rate", _opts(LRS, k("lr_c")), key=k("lr_c"), format_func=_num)
    st.select_slider("Generator learning rate", _opts(LRS, k("lr_g")), key=k("lr_g"), format_func=_num)
    st.slider("Critic steps per generator step (n_critic)", 1, max(20, st.session_state[k("n_critic")]),
              key=k("n_critic"))
    st.select_slider("Clip value c", _opts(CLIPS, k("clip")), key=k("clip"), format_func=_num,
                     disabled="clip" not in obj.knobs,
                     help="Every critic weight is clipped to [-c, c]." if "clip" in obj.knobs
                     else f"Only WGAN-clip clips weights; {obj.label} does not.")
    st.select_slider("Penalty weight λ", _opts(LAMS, k("lam")), key=k("lam"), format_func=_num,
                     disabled="lam" not in obj.knobs,
                     help="Weight of the gradient penalty." if "lam" in obj.knobs
                     else f"Only WGAN-GP and WGAN-LP use a penalty; {obj.label} does not.")


def structural_controls(ns: str) -> None:
    """Objective, data, architecture, optimizer, seed: a change starts a fresh run."""
    k = lambda f: f"{ns}.{f}"
    data = [d for d in DATASETS] + ([st.session_state[k("data")]] if st.session_state[k("data")] not in DATASETS else [])
    st.selectbox("Objective", list(OBJECTIVES), key=k("loss"), format_func=lambda n: OBJECTIVES[n].label)
    st.selectbox("Data", data, key=k("data"), format_func=lambda n: DATASETS[n].label if n in DATASETS else n)
    with st.expander("Network, optimizer and seed"):
        c1, c2 = st.columns(2)
        c1.selectbox("Width", _opts(WIDTHS, k("width")), key=k("width"))
        c2.selectbox("Depth", [1, 2, 3, 4, 5, 6], key=k("depth"))
        c1.selectbox("Generator activation", ACTIVATIONS, key=k("act_g"))
        c2.selectbox("Critic activation", ACTIVATIONS, key=k("act_c"))
        c1.selectbox("Batch", _opts(BATCHES, k("batch")), key=k("batch"))
        c2.selectbox("Noise dimension", list(range(1, 17)), key=k("z_dim"))
        c1.selectbox("Optimizer", OPTIMIZERS, key=k("optimizer"))
        c2.number_input("Seed", 0, 2**31 - 1, key=k("seed"), step=1)
        c1.select_slider("Adam β1", _opts([0.0, 0.5, 0.9], k("beta1")), key=k("beta1"))
        c2.select_slider("Adam β2", _opts([0.9, 0.99, 0.999], k("beta2")), key=k("beta2"))
