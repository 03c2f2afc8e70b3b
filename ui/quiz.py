"""Predict, then run: a question box on a lesson page (`wgan_core.lessons.questions`).

The student picks a choice first; "Run it" starts the demonstration (the page's
callback: a preset, Play); once the run has gone far enough the answer appears,
judged from the run's own measured outcome, with the numbers. A revealed answer
stays as it was (later training does not change it); a new prediction asks again.
A link with ``?q=<id>`` opens the question (a teacher can link straight to it).
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from wgan_core.lessons.questions import Question


def _key(ns: str, q: Question, what: str) -> str:
    return f"{ns}.q.{q.id}.{what}"


def asked(ns: str, q: Question) -> bool:
    """The student pressed "Run it" (or "Show the answer") for this question."""
    return bool(st.session_state.get(_key(ns, q, "asked")))


def _ask(ns: str, q: Question, on_run: Callable[[], None] | None) -> None:
    st.session_state[_key(ns, q, "asked")] = True
    st.session_state.pop(_key(ns, q, "answer"), None)
    if on_run is not None:
        on_run()


def box(ns: str, q: Question, outcome: dict | None, on_run: Callable[[], None] | None = None,
        progress: str = "") -> None:
    """The question, the choices, the run button, and the answer once ``outcome`` (measured, or None while
    the run has not gone far enough) is there. ``on_run`` (a callback) starts the demonstration; without
    one the outcome is the page's own experiment, already on screen, and the button reveals it."""
    pick_key, answer_key = _key(ns, q, "pick"), _key(ns, q, "answer")
    with st.expander(f"Predict, then run: {q.prompt}", icon=":material/quiz:",
                     expanded=st.query_params.get("q") == q.id or asked(ns, q)):
        pick = st.radio("Your prediction", range(len(q.choices)), format_func=q.choices.__getitem__, index=None,
                        key=pick_key, on_change=lambda: st.session_state.pop(answer_key, None))
        st.button("Run it" if on_run else "Show the answer", key=_key(ns, q, "run"), disabled=pick is None,
                  icon=":material/play_arrow:", on_click=_ask, args=(ns, q, on_run),
                  help="Pick a prediction first." if pick is None else None)
        answer = st.session_state.get(answer_key)
        if answer is None and asked(ns, q) and outcome is not None:
            answer = st.session_state[answer_key] = q.judge(outcome)
        if answer is not None:
            right, sentence = answer
            text = f"**{q.choices[right]}**. {sentence}"
            if pick == right:
                st.success("You predicted it: " + text, icon=":material/check_circle:")
            else:
                st.warning("The run says: " + text, icon=":material/lightbulb:")
        elif asked(ns, q):
            st.caption(progress or "Running… the answer appears when the run has gone far enough.")
        st.caption(f"A link straight to this question: add `?q={q.id}` to this page's address.")
