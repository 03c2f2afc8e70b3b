"""Change a running fragment's redraw interval without a full page run.

``st.fragment(run_every=s)`` sets the interval when the page *declares* the
fragment: Streamlit then sends the browser an ``AutoRerun(interval, fragment id)``
message, and the browser keeps one timer per fragment id, replacing it when a
message with another interval arrives for the same id (the frontend's
``handleAutoRerun``). Re-declaring means rerunning the whole page, which is what
the live view did when the server's load changed its pace: measured with py-spy
at 30 students on 2 cores, those full runs (the whole Train live page, ~36 ms
each, ~4 a second) were ~40 % of the Streamlit process's CPU, more than all the
frame redraws together. ``retime`` sends the same message from inside the
fragment's own run, which costs next to nothing.

``stop`` ends the running fragment's timer the same way (a ``StopAutoRerun``
message, which the frontend's ``handleStopAutoRerun`` obeys): a paused view goes
quiet without a page run, and the next page run (any click) declares it again.

It reaches two Streamlit internals (the run context's ``enqueue`` and the
fragment id of the running fragment); where they are missing it returns False
and the caller falls back to ``st.rerun()``.
"""
from __future__ import annotations


def current_fragment() -> tuple[object, str] | None:
    """(run context, fragment id) of the fragment running in this thread, or None."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState
        ctx, fid = get_script_run_ctx(suppress_warning=True), ThreadState.get().fragment_id
    except (ImportError, RuntimeError, AttributeError, TypeError):
        return None
    return (ctx, fid) if ctx is not None and fid else None


def _context():
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        return get_script_run_ctx(suppress_warning=True)
    except (ImportError, RuntimeError, AttributeError, TypeError):
        return None


def retime(seconds: float, fragment_id: str | None = None) -> bool:
    """From now on, rerun the fragment that is running (or the fragment ``fragment_id`` of this page, e.g.
    one a click in another fragment should wake) every ``seconds``. False: not possible here."""
    def fill(msg, fid: str) -> None:
        msg.auto_rerun.interval = float(seconds)
        msg.auto_rerun.fragment_id = fid
    return _send(fill, fragment_id)


def stop(fragment_id: str | None = None) -> bool:
    """Stop the running fragment's timer (or that of ``fragment_id``); it runs again with the next page
    run, or when `retime` wakes it. False: not possible here."""
    return _send(lambda msg, fid: msg.stop_auto_rerun.fragment_ids.append(fid), fragment_id)


def _send(fill, fragment_id: str | None) -> bool:
    """A message to the browser about the running fragment (or ``fragment_id``); False: not possible here."""
    here = current_fragment()
    ctx = here[0] if here else _context()
    fid = fragment_id or (here[1] if here else None)
    if ctx is None or not fid:
        return False
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    msg = ForwardMsg()
    fill(msg, fid)
    ctx.enqueue(msg)
    return True
