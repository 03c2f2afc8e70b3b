"""A one-fragment app for tests/test_retime.py: the fragment runs every 1 s until its second run
changes its own interval to 0.2 s with ui.retime (no page run)."""
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ui import retime  # noqa: E402

st.session_state.setdefault("runs", 0)


@st.fragment(run_every=1.0)
def ticker() -> None:
    st.session_state.runs += 1
    st.write(f"fragment run {st.session_state.runs}")
    if st.session_state.runs == 2:
        retime.retime(0.2)


ticker()
