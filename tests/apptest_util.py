"""Helpers shared by the AppTest page tests: open a page, read the URL, wait for the worker, bad links."""
from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import session

ROOT = Path(__file__).resolve().parent.parent


def page_path(name: str) -> str:
    """Absolute path of pages/<name>.py (AppTest resolves relative paths against the caller's folder)."""
    return str(ROOT / "pages" / f"{name}.py")


def open_page(path: str, params: dict | None = None, timeout: float = 60, state: dict | None = None) -> AppTest:
    """Run a page once, with these query parameters (and these session-state values set first)."""
    at = AppTest.from_file(path, default_timeout=timeout)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.run()


def started(path: str, timeout: float = 60) -> AppTest:
    """A page that ran once without an exception."""
    at = open_page(path, timeout=timeout)
    assert not at.exception
    return at


def url(at: AppTest, key: str) -> str:
    """A query parameter's value (AppTest gives a list or a string depending on who set it)."""
    v = at.query_params[key]
    return v[-1] if isinstance(v, list) else v


def worker_snapshot(at: AppTest, rid_key: str, cond, timeout: float = 30.0) -> dict:
    """Rerun the page until the worker's newest snapshot of the run at session_state[rid_key] satisfies cond."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = session.pool().snaps.get(at.session_state[rid_key])
        if snap is not None and cond(snap):
            return snap
        time.sleep(0.3)
        at.run()
    raise AssertionError("the worker never published a matching snapshot")


def assert_bad_link_warns(path: str, bad: dict) -> None:
    """A link with bad query parameters runs, falls back and says so in a warning."""
    at = open_page(path, bad)
    assert not at.exception
    assert at.warning and "not valid" in at.warning[0].value


def live_views(at: AppTest) -> list[dict]:
    """The live views the page mounted (`ui.live_view`), each its decoded payload: ``header``, ``real``,
    ``frames`` (the drawing code's own element is left out)."""
    from ui.live_view import NAME
    from wgan_core.engine import wire
    out = []
    for el in at.get("bidi_component"):
        proto = el.proto
        if proto.component_name == NAME:
            out.append(wire.decode_payload(proto.bytes))
    return out
