"""Streamlit glue shared by the pages: sessions, URL state, controls. The engine is in wgan_core.

Importing this package also makes sure every page runs inside app.py's navigation.
Streamlit treats a folder named ``pages/`` as "pages directory" mode until the main
script calls ``st.navigation``; if the very first request a server gets is a deep
link (a teacher's link to Train live, say), Streamlit would run that page file on
its own, without app.py's page config and navigation. In that case we switch the
flag off and rerun, so the same link runs through app.py.
"""
import streamlit as st

try:
    from streamlit.runtime.pages_manager import PagesManager
except ImportError:                                        # pragma: no cover - other Streamlit layouts
    PagesManager = None

if PagesManager is not None and PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
