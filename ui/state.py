"""Page state that lives in the URL: read once per session (bad values noted), written back on change.

A page declares its parameters as ``{name: Param(default, cast, check)}``; the
widgets use the keys ``f"{ns}.{name}"`` in ``st.session_state``. On the first
run of a session the URL's values are parsed; a value that does not parse or
is out of range falls back to the default with a visible note (never a
traceback). Afterwards the URL mirrors the widgets, so a link reproduces the page.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from wgan_core.engine.config import TrainConfig

MAX_PARAM_LEN = 64


@dataclass(frozen=True)
class Param:
    default: Any
    cast: Callable[[str], Any] = str
    check: Callable[[Any], bool] = lambda v: True
    help: str = ""


def number(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi


def one_of(*choices) -> Callable[[Any], bool]:
    return lambda v: v in choices


def flag(s: str) -> bool:
    if s.lower() in ("1", "true", "yes", "on"):
        return True
    if s.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(s)


def _raw(name: str) -> str | None:
    values = st.query_params.get_all(name)
    return values[-1] if values else None


def _restore(ns: str) -> None:
    """Put back widget values Streamlit dropped while another page was shown.

    Streamlit deletes the state of widgets that were not drawn in a run, so after
    a visit to another page every slider would start from its default again.
    `values` keeps a copy of what the page last used; here it goes back in.
    """
    for name, value in st.session_state.get(f"{ns}.__saved", {}).items():
        st.session_state.setdefault(f"{ns}.{name}", value)


def init(ns: str, params: dict[str, Param]) -> None:
    """Seed the widget keys of namespace ``ns`` from the URL, once per session."""
    if st.session_state.get(f"{ns}.__init"):
        _restore(ns)
        return
    notes = []
    for name, p in params.items():
        raw, value = _raw(name), p.default
        if raw is not None:
            try:
                if len(raw) > MAX_PARAM_LEN:
                    raise ValueError("too long")
                parsed = p.cast(raw)
                if not p.check(parsed):
                    raise ValueError("out of range")
                value = parsed
            except (ValueError, TypeError):
                notes.append(f"URL parameter '{name[:30]}' had a value that does not fit; using {p.default!r}.")
        st.session_state.setdefault(f"{ns}.{name}", value)
    st.session_state[f"{ns}.__notes"] = notes
    st.session_state[f"{ns}.__init"] = True


def init_config(ns: str, base: TrainConfig) -> None:
    """Seed the TrainConfig widgets of ``ns`` from the URL (lenient TrainConfig parsing), once."""
    if st.session_state.get(f"{ns}.__cfg_init"):
        _restore(ns)
        return
    params = {k: st.query_params.get_all(k) for k in TrainConfig.fields() if st.query_params.get_all(k)}
    cfg, notes = TrainConfig.from_query(params, base)
    for name, value in cfg.to_dict().items():
        st.session_state.setdefault(f"{ns}.{name}", value)
    st.session_state[f"{ns}.__notes"] = st.session_state.get(f"{ns}.__notes", []) + [
        "URL: " + n for n in notes]
    st.session_state[f"{ns}.__cfg_init"] = True


def values(ns: str, names) -> dict[str, Any]:
    """The current values of ``names`` (and a copy kept for when the page is shown again)."""
    vals = {n: st.session_state[f"{ns}.{n}"] for n in names}
    st.session_state.setdefault(f"{ns}.__saved", {}).update(vals)
    return vals


def config(ns: str) -> TrainConfig:
    """The TrainConfig the widgets of ``ns`` describe (invalid combinations fall back field by field)."""
    cfg, _ = TrainConfig.from_dict(values(ns, list(TrainConfig.fields())))
    return cfg


def set_config(ns: str, cfg: TrainConfig) -> None:
    """Put a config into the widgets (a preset); call from a callback, before the widgets are drawn."""
    for name, value in cfg.to_dict().items():
        st.session_state[f"{ns}.{name}"] = value


def write_url(params: dict[str, Any]) -> None:
    """Mirror ``params`` into the URL, touching only what changed."""
    want = {k: (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in params.items()}
    have = {k: st.query_params.get(k) for k in want}
    changed = {k: v for k, v in want.items() if have[k] != v}
    if changed:
        st.query_params.update(changed)


def show_notes(ns: str) -> None:
    """The URL notes of this session, once, as a warning the student can read."""
    notes = st.session_state.pop(f"{ns}.__notes", [])
    if notes:
        st.warning("Some settings in the link were not valid and were replaced by defaults:\n\n"
                   + "\n".join(f"- {n}" for n in notes[:8]))
