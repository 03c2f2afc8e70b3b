"""Earthmover: an interactive classroom for Wasserstein GANs. Run: streamlit run app.py"""
import logging

import streamlit as st

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
st.set_page_config(page_title="Earthmover — Wasserstein GANs", page_icon="assets/icon.png", layout="wide")

PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Lessons": [
        st.Page("pages/why_gans_fail.py", title="Why GANs fail", icon=":material/warning:", url_path="why-gans-fail"),
        st.Page("pages/wasserstein_1d.py", title="Wasserstein in 1D", icon=":material/stacked_line_chart:",
                url_path="wasserstein-1d"),
        st.Page("pages/train_live.py", title="Train live", icon=":material/play_circle:", url_path="train-live"),
        st.Page("pages/lipschitz_lab.py", title="Lipschitz lab", icon=":material/science:", url_path="lipschitz-lab"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:", url_path="compare"),
        st.Page("pages/images.py", title="Images", icon=":material/image:", url_path="images"),
    ],
}

st.navigation(PAGES).run()
