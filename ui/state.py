"""One state object per page: a declared table of properties drives defaults, validation, URL read and write.

As TensorFlow Playground's ``state.ts``: a page declares its properties once,

    STATE = PageState("cmp", {"data": Param("8gaussians", str, one_of(*DATA)), ...})
    STATE.load()            # first run of a session: read the URL (bad values -> default + a note)
    v = STATE.values()      # every property, as the widgets now hold it
    STATE.write_url(v)      # the URL mirrors the page, so a link reproduces it

A page that trains a run also declares the `TrainConfig` it edits (``config=``):
its fields are properties too, parsed leniently from the URL on top of a base
config (``base``: e.g. the preset named in the URL).

Widgets use the keys ``STATE.key(name)`` (``f"{ns}.{name}"``) in
``st.session_state``. Streamlit drops the state of widgets that were not drawn
in a run (another page was shown in between); ``values()`` keeps a copy that
``load()`` puts back, so a page comes back as it was left. Every key this module
keeps for itself starts with ``f"{ns}.__"``; other modules use the public
methods (``note``, ``forget``) instead of those keys.
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
    """One property: its default, how to read it from the URL's text, and what values are valid."""

    default: Any
    cast: Callable[[str], Any] = str
    check: Callable[[Any], bool] = lambda v: True
    help: str = ""
    max_len: int = MAX_PARAM_LEN          # longer URL values are refused before parsing


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


def url_text(v: Any) -> str:
    """How a value is written in the URL (floats as %.6g, as TrainConfig.to_query does)."""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _raw(name: str) -> str | None:
    values = st.query_params.get_all(name)
    return values[-1] if values else None


def note(ns: str, text: str, about_link: bool = True) -> None:
    """Add a note for the student to the page ``ns`` (shown once by ``show_notes``): one about a value in
    the link (listed under "some settings in the link were not valid"), or, with ``about_link=False``, a
    sentence of its own (shown as information)."""
    st.session_state.setdefault(f"{ns}.__notes" if about_link else f"{ns}.__info", []).append(text)


def set_config(ns: str, cfg: TrainConfig) -> None:
    """Put a config into the widgets of page ``ns`` (a preset, a checkpoint); call from a callback."""
    for name, value in cfg.to_dict().items():
        st.session_state[f"{ns}.{name}"] = value


def forget(ns: str, *names: str) -> None:
    """Make page ``ns`` read its URL afresh on its next run (e.g. a link to it with a preset)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{ns}.__")]:
        del st.session_state[key]
    for name in names:
        st.session_state.pop(f"{ns}.{name}", None)


class PageState:
    """The declared properties of one page (and the TrainConfig it edits, if any)."""

    def __init__(self, ns: str, params: dict[str, Param], config: TrainConfig | None = None,
                 base: Callable[[dict], TrainConfig] | None = None):
        self.ns, self.params = ns, params
        self.default_config, self.base = config, base
        clash = set(params) & set(TrainConfig.fields()) if config is not None else set()
        if clash:
            raise ValueError(f"page properties shadow TrainConfig fields: {sorted(clash)}")

    # -- names --------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self.ns}.{name}"

    def names(self) -> list[str]:
        return list(self.params) + (list(TrainConfig.fields()) if self.default_config is not None else [])

    def __getitem__(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def get(self, name: str, default: Any = None) -> Any:
        return st.session_state.get(self.key(name), default)

    def set(self, **values: Any) -> None:
        """Put values into the widgets; call from a callback, before the widgets are drawn."""
        for name, value in values.items():
            st.session_state[self.key(name)] = value

    # -- the first run of a session, and the runs after --------------------------------
    def load(self) -> None:
        """Seed every property from the URL once per session (notes for bad values); afterwards put
        back what Streamlit dropped while another page was shown."""
        if st.session_state.get(f"{self.ns}.__loaded"):
            for name, value in st.session_state.get(f"{self.ns}.__saved", {}).items():
                st.session_state.setdefault(self.key(name), value)
            for name, p in self.params.items():
                st.session_state.setdefault(self.key(name), p.default)
            return
        values = {name: self._read(name, p) for name, p in self.params.items()}
        for name, value in values.items():
            st.session_state.setdefault(self.key(name), value)
        if self.default_config is not None:
            base = (self.base(values) if self.base else None) or self.default_config
            params = {k: st.query_params.get_all(k) for k in TrainConfig.fields() if st.query_params.get_all(k)}
            cfg, notes = TrainConfig.from_query(params, base)
            for text in notes:
                note(self.ns, "URL: " + text)
            for name, value in cfg.to_dict().items():
                st.session_state.setdefault(self.key(name), value)
        st.session_state[f"{self.ns}.__loaded"] = True

    def _read(self, name: str, p: Param) -> Any:
        raw = _raw(name)
        if raw is None:
            return p.default
        try:
            if len(raw) > p.max_len:
                raise ValueError("too long")
            value = p.cast(raw)
            if not p.check(value):
                raise ValueError("out of range")
            return value
        except (ValueError, TypeError):
            note(self.ns, f"URL parameter '{name[:30]}' had a value that does not fit; using {p.default!r}.")
            return p.default

    # -- reading the page ----------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The page's own properties as the widgets hold them now (and kept for ``load``)."""
        vals = {n: st.session_state[self.key(n)] for n in self.params}
        self._keep(vals)
        return vals

    def config(self) -> TrainConfig:
        """The TrainConfig the widgets describe (invalid values fall back field by field)."""
        vals = {n: st.session_state[self.key(n)] for n in TrainConfig.fields()}
        self._keep(vals)
        cfg, _ = TrainConfig.from_dict(vals, self.default_config)
        return cfg

    def set_config(self, cfg: TrainConfig) -> None:
        """Put a config into the widgets (a preset, a checkpoint); call from a callback."""
        set_config(self.ns, cfg)

    def _keep(self, vals: dict) -> None:
        st.session_state.setdefault(f"{self.ns}.__saved", {}).update(vals)

    # -- writing the URL, showing notes --------------------------------------------------
    @staticmethod
    def write_url(params: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
        """Mirror ``params`` into the URL, touching only what changed; remove the names in ``drop``."""
        want = {k: url_text(v) for k, v in params.items()}
        changed = {k: v for k, v in want.items() if st.query_params.get(k) != v}
        if changed:
            st.query_params.update(changed)
        for name in drop:
            if name in st.query_params:
                del st.query_params[name]

    def show_notes(self) -> None:
        """The URL notes of this session, once, as a warning the student can read."""
        for text in st.session_state.pop(f"{self.ns}.__info", []):
            st.info(text)
        notes = st.session_state.pop(f"{self.ns}.__notes", [])
        if notes:
            st.warning("Some settings in the link were not valid and were replaced by defaults:\n\n"
                       + "\n".join(f"- {n}" for n in notes[:8]))
