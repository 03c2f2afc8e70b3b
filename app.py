"""Earthmover: an interactive classroom for Wasserstein GANs. Run: streamlit run app.py"""
import logging

import streamlit as st

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
st.set_page_config(page_title="Earthmover — Wasserstein GANs", page_icon="assets/icon.png", layout="wide")

# URL paths are the file names (train_live, ...): Streamlit resolves a direct link against the files
# in pages/ before this script runs, so any other url_path shows a "Page not found" dialog first.
PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Lessons": [
        st.Page("pages/why_gans_fail.py", title="Why GANs fail", icon=":material/warning:"),
        st.Page("pages/wasserstein_1d.py", title="Wasserstein in 1D", icon=":material/stacked_line_chart:"),
        st.Page("pages/train_live.py", title="Train live", icon=":material/play_circle:"),
        st.Page("pages/lipschitz_lab.py", title="Lipschitz lab", icon=":material/science:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("pages/sensitivity.py", title="Sensitivity", icon=":material/grid_view:"),
        st.Page("pages/images.py", title="Images", icon=":material/image:"),
    ],
}

from ui import session  # noqa: E402  (after set_page_config)

session.admit()                      # too many sessions from one address get a sentence, not runs
st.navigation(PAGES).run()

session.freeze_heap()                # after the page: its imports are what the heap freeze keeps out of gc
