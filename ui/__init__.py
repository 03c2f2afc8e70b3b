"""Streamlit glue shared by the pages: sessions, URL state, controls. The engine is in wgan_core."""
