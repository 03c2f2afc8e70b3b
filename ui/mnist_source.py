"""Where the Images lesson's MNIST comes from: the server's files (EARTHMOVER_MNIST) or this session's upload.

Nothing is ever downloaded. The server's MNIST is read once for every session; an
upload is checked (`wgan_core.files.mnist`) and kept in this session only, and the
uploader then gets a new key so that Streamlit lets go of the files themselves.
"""
from __future__ import annotations

import streamlit as st

from wgan_core.files import mnist
from wgan_core.lessons import images as im


def _k(ns: str, name: str) -> str:
    return f"{ns}.{name}"


@st.cache_resource(show_spinner="Reading the server's MNIST…")
def server_mnist(where: str) -> tuple[im.ImageSet | None, str]:
    """The MNIST named by EARTHMOVER_MNIST (read once for every session), or why it cannot be used."""
    try:
        d = mnist.from_env({mnist.ENV: where})
    except mnist.MnistError as err:
        return None, str(err)
    return (im.mnist_set(d, "the server") if d else None), ""


def take_upload(ns: str, key: str) -> None:
    """Check the uploaded files and keep the pictures for this session only (other students never see them);
    a new uploader key then lets Streamlit drop the files themselves."""
    st.session_state[_k(ns, "upload_error")] = ""
    try:
        if st.session_state[key]:
            st.session_state[_k(ns, "mine")] = im.mnist_set(mnist.from_uploads(st.session_state[key]))
            st.session_state[_k(ns, "uploads")] = st.session_state.get(_k(ns, "uploads"), 0) + 1
    except mnist.MnistError as err:
        st.session_state[_k(ns, "upload_error")] = str(err)


def served() -> tuple[im.ImageSet | None, str]:
    """The server's MNIST (or None) and why it cannot be used ("" when it can, or when none is named)."""
    return server_mnist(mnist.env_path())


def mine(ns: str) -> im.ImageSet | None:
    """This session's uploaded MNIST, if any."""
    return st.session_state.get(_k(ns, "mine"))


def panel(ns: str, sets: dict, expanded: bool, served_error: str) -> None:
    """The sidebar's "Your MNIST" box: the uploader, what the run trains on, and any plain error."""
    with st.expander("Your MNIST", expanded=expanded):
        up = _k(ns, f"upload{st.session_state.get(_k(ns, 'uploads'), 0)}")
        st.file_uploader("Keras' mnist.npz, or the four IDX files (.gz or not)", accept_multiple_files=True, key=up,
                         on_change=take_upload, args=(ns, up), max_upload_size=mnist.MAX_FILE_BYTES // 2**20,
                         help="Nothing is downloaded: the app trains on MNIST only when you give it. What you "
                              "upload stays in your session.")
        if sets["mnist"] is not None:
            st.caption(f"Training on {sets['mnist'].label}.")
        for err in (st.session_state.get(_k(ns, "upload_error")), served_error):
            if err:
                st.error(err)
