"""A one-view app for tests/test_browser_live_view.py: synthetic frames that move (a rotating,
drifting cloud of generated points over 8 real modes, a critic that follows it), 3 frames per
fragment run at 0.1 s spacing, sent to ui.live_view from a st.fragment(run_every=0.3).

Query parameters: still=1 (one payload, no timer: nothing reruns unless something asks),
presenter=1, height=<px>, status=diverged. The page shows how often the script and the fragment ran.
"""
import sys
import time
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ui.live_view import live_view, load  # noqa: E402
from wgan_core.engine import wire  # noqa: E402

EXTENT = (-2.0, 2.0, -2.0, 2.0)
MODES = 1.414 * np.array([(np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 4])   # (8, 2)
G, M, NA, PLAN = 48, 15, 150, 300
LAYERS = ["critic", "contours", "real", "fake", "arrows"]
INTERVAL = 0.3

q = st.query_params
still, presenter = q.get("still") == "1", q.get("presenter") == "1"
st.set_page_config(page_title="live view test", layout="wide" if presenter else "centered")
status = "diverged" if q.get("status") == "diverged" else "ok"


@st.cache_data
def fixed_data():
    rng = np.random.default_rng(0)
    real = MODES[rng.integers(0, 8, 1000)] + rng.normal(0, 0.06, (1000, 2))
    return real, rng.normal(0, 1, (1000, 2))                 # real points, fixed noise z


def generator(z: np.ndarray, tau: float) -> np.ndarray:
    """A moving 'generator': the noise squeezed, rotated by 0.8 tau and drifting around the centre."""
    a = 0.8 * tau
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = 0.45 * np.array([np.cos(0.5 * tau), np.sin(0.5 * tau)])
    x = (z * [0.75, 0.3]) @ rot.T + centre
    return x + 0.12 * np.sin(2 * x[..., ::-1])


def critic(x: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """f and its gradient: bumps at the real modes minus a wide bump where the fake cloud is."""
    centre = 0.45 * np.array([np.cos(0.5 * tau), np.sin(0.5 * tau)])
    d = x[..., None, :] - MODES                                            # (..., 8, 2)
    bumps = np.exp(-(d ** 2).sum(-1) / 0.4)                                # (..., 8)
    dc = x - centre
    pit = 1.6 * np.exp(-(dc ** 2).sum(-1) / 0.8)
    f = bumps.sum(-1) - pit
    grad = (-2 / 0.4 * d * bumps[..., None]).sum(-2) + 2 / 0.8 * dc * pit[..., None]
    return f, grad


def frame(serial: int, t: float) -> bytes:
    real, z = fixed_data()
    tau = t - st.session_state.t0
    fake = generator(z, tau)
    xs = np.linspace(EXTENT[0], EXTENT[1], G)
    gx, gy = np.meshgrid(xs, np.linspace(EXTENT[2], EXTENT[3], G))         # row 0 at ymin
    grid, _ = critic(np.stack([gx, gy], -1), tau)
    _, arrows = critic(fake[:NA], tau)
    m = np.linspace(-2.5, 2.5, M)
    manifold = generator(np.stack(np.meshgrid(m, m, indexing="ij"), -1), tau)
    plan = np.argmin(((fake[:PLAN, None] - real[None]) ** 2).sum(-1), 1)
    return wire.encode_frame(serial=serial, run=1, t=t, gen_steps=10 * serial, status=status, extent=EXTENT,
                             fake=fake, grid=grid, arrows=arrows, manifold=manifold, plan=plan)


st.session_state.setdefault("t0", time.monotonic())
st.session_state.setdefault("serial", 0)
st.session_state.setdefault("frag_runs", 0)
st.session_state.full_runs = st.session_state.get("full_runs", 0) + 1
st.session_state.real_for = None                                 # send real points once per full run
load()
st.title("Live view")
st.caption(f"full runs: {st.session_state.full_runs}")
st.button("Full rerun")


@st.fragment(run_every=None if still else INTERVAL)
def view() -> None:
    st.session_state.frag_runs += 1
    now = time.monotonic()
    frames = []
    for dt in (0.2, 0.1, 0.0):                     # as a worker's snapshots: t only goes forward
        t = max(now - dt, st.session_state.get("last_t", 0.0) + 0.02)
        st.session_state.serial, st.session_state.last_t = st.session_state.serial + 1, t
        frames.append(frame(st.session_state.serial, t))
    real = None
    if st.session_state.real_for != st.session_state.full_runs:
        real, st.session_state.real_for = fixed_data()[0], st.session_state.full_runs
    header = {"layers": LAYERS, "interval": INTERVAL, "message": "lr 0.05 is too large for this critic"}
    height = int(q["height"]) if q.get("height", "").isdigit() else None
    live_view(wire.encode_payload(header, frames, real=real), key="live", presenter=presenter, height=height)
    st.caption(f"fragment runs: {st.session_state.frag_runs}")


view()
