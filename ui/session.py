"""Server-wide worker pool, per-session run handles, and the page error guard."""
from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import uuid

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from ui.pace import Pace
from wgan_core import presets
from wgan_core.engine.config import TrainConfig
from wgan_core.serve.grid import GridRuns
from wgan_core.serve.handle import RunHandle
from wgan_core.serve.pool import Pool

log = logging.getLogger("earthmover.ui")
BOOT = uuid.uuid4().hex[:8]     # this server process; a page's URL carries it (``s=``) to notice a restart
RESTARTED_NOTE = ("The server restarted since this page was opened, so its training run was lost: the page shows "
                  "the link's set-up again, at step 0. Press Play to train it again.")
DEEP_MAX_STEPS = 200            # the Lipschitz lab's deep critic: at most this many steps (it costs ~6x more)


@st.cache_resource(show_spinner="Starting the training workers…")
def pool() -> Pool:
    """One pool of worker processes for the whole server (every session shares it)."""
    p = Pool()
    atexit.register(p.close)
    p.warm(warm_jobs())
    return p


def warm_jobs() -> list[tuple[str, dict]]:
    """The lesson experiments most visitors ask for, computed once at start-up in the jobs process: the
    Lipschitz lab's presets (its default is the first), exactly as the lab page asks for them."""
    out = []
    for p in presets.for_page("lab").values():
        c = p.config
        out.append(("lipschitz_experiment", dict(data=c.data, steps=p.steps, seed=c.seed, clip=c.clip, lam=c.lam)))
        out.append(("layer_gradients", dict(data=c.data, steps=min(p.steps, DEEP_MAX_STEPS), seed=c.seed)))
    return out


@st.cache_resource(show_spinner=False)
def freeze_heap() -> bool:
    """Once per server process, after the first page run has imported torch and the rest: move every
    live object into the collector's permanent generation. A full collection then skips them
    (measured: ~195 ms over ~330,000 objects before, under 1 ms after), so Python's automatic
    gen-2 collections stop stalling every session's frames."""
    gc.collect()
    gc.freeze()
    return True


@st.cache_resource(show_spinner=False)
def pace() -> Pace:
    """The server-wide redraw budget of the live views (see ui/pace.py)."""
    return Pace()


def client_address() -> str:
    """Who this session is, as far as caps go: the first address the proxy forwards (a Hugging Face
    Space sets X-Forwarded-For), else the socket's address."""
    try:
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        return forwarded or st.context.ip_address or "local"
    except Exception:                                # no browser session (AppTest, bare mode)
        return "local"


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


class SessionRuns:
    """This session's training runs by name ("train", "compare.wgan-gp", ...): each is made on first use,
    closed when a page drops it (a method deselected in Compare) and all when the session ends. At most
    ``Caps.runs_per_session`` at once; the worker shares its time per session (``owner``).

    Besides them, at most one sensitivity grid (`grid`, `open_grid`): its runs are its own (up to
    ``Caps.grid_runs``, not counted in ``runs_per_session``), admitted as one grid (``Caps.grids`` on
    the server) and closed with the session."""

    def __init__(self, owner: str = "", client: str = "local"):
        self.handles: dict[str, RunHandle] = {}
        self.owner, self.client = owner, client
        self.grid: GridRuns | None = None

    def get(self, name: str, config: TrainConfig | None = None) -> RunHandle:
        """The run called ``name``, made with ``config`` (default: TrainConfig()) if it does not exist yet."""
        h = self.handles.get(name)
        if h is None:
            if len(self.handles) >= pool().admission.caps.runs_per_session:
                raise ValueError(f"This session already holds {len(self.handles)} runs, the most one visitor may; "
                                 "close another page's runs (or reload) first.")
            h = self.handles[name] = RunHandle(pool(), config or TrainConfig(), owner=self.owner,
                                               client=self.client)
        return h

    def drop(self, name: str) -> None:
        h = self.handles.pop(name, None)
        if h is not None:
            h.close()

    def open_grid(self, cfgs: dict, steps: int) -> GridRuns:
        """This session's grid, made afresh (the old one closed) with one run per cell of ``cfgs``, each
        stopping at ``steps`` generator steps; `GridRefused` with the page's sentence when the server has
        no place for it now."""
        self.close_grid()
        self.grid = GridRuns(pool(), cfgs, steps, owner=self.owner, client=self.client)
        return self.grid

    def close_grid(self) -> None:
        if self.grid is not None:
            self.grid.close()
            self.grid = None

    def close(self) -> None:
        for name in list(self.handles):
            self.drop(name)
        self.close_grid()


@st.cache_resource(scope="session", on_release=SessionRuns.close, show_spinner=False)
def runs() -> SessionRuns:
    """This session's runs (see `SessionRuns`); stopped and freed when the session ends."""
    return SessionRuns(session_id(), client_address())


@st.cache_resource(show_spinner=False)
def _visitors() -> dict[str, set]:
    """Server-wide: client address -> ids of its open sessions."""
    return {}


def _leave(entry: tuple[str, str]) -> None:
    _visitors().get(entry[0], set()).discard(entry[1])


@st.cache_resource(scope="session", on_release=_leave, show_spinner=False)
def _arrive(client: str, sid: str) -> tuple[str, str]:
    _visitors().setdefault(client, set()).add(sid)
    return client, sid


def admit() -> None:
    """Call once per page run (app.py): a client with too many open sessions gets one plain sentence and
    nothing else (no runs are made for it)."""
    client, sid = client_address(), session_id()
    _arrive(client, sid)
    open_here = len(_visitors().get(client, ()))
    cap = pool().admission.caps.sessions_per_client
    if open_here > cap:
        st.error(f"There are {open_here} sessions open from your address, more than the {cap} this shared server "
                 "allows one address: close some tabs, then reload this one.")
        st.stop()


def run_handle(slot: str) -> RunHandle:
    """This session's training run for one page ``slot``."""
    return runs().get(slot)


@contextlib.contextmanager
def guard(what: str = "This part of the page"):
    """Show one plain sentence instead of a traceback; log the traceback on the server."""
    try:
        yield
    except ScriptControlException:                   # st.rerun / st.stop are control flow, not errors
        raise
    except Exception:
        log.exception("page error in %s", what)
        st.error(f"{what} could not be shown because of an error on the server. "
                 "It has been logged; try again or reset.")


@st.cache_data(show_spinner=False, max_entries=256)
def _job(name: str, **kwargs):
    return pool().job(name, **kwargs)


def job(name: str, **kwargs):
    """A lesson experiment computed in the jobs process, cached for every session; None (with the reason
    shown) when the server refused it: busy, or over its time cap."""
    try:
        return _job(name, **kwargs)
    except ValueError as err:
        st.warning(str(err))
        return None
