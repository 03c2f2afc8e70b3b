"""Predict, then run: every question's answer is judged from the measured outcome of its own run."""
from __future__ import annotations

import numpy as np
import pytest
from apptest_util import open_page, page_path

from wgan_core import presets
from wgan_core.engine.device import configure_threads
from wgan_core.engine.trainer import Run
from wgan_core.lessons import lab, questions

PAGES = ("train", "why", "w1d", "lab", "compare", "images")


def test_every_lesson_page_has_a_question_with_a_runnable_preset():
    for page in PAGES:
        assert questions.for_page(page), page
    for q in questions.QUESTIONS.values():
        assert q.prompt.endswith("?") and len(q.choices) >= 3
        if q.preset:
            assert q.preset in presets.PRESETS and q.steps > 0


def _outcome(name: str, steps: int) -> dict:
    """A preset trained ``steps`` generator steps, with a full snapshot every 100: what a page hands the judge."""
    configure_threads(1)
    run = Run(presets.get(name).config, device="cpu")
    while run.gen_steps < steps:
        run.step(100)
        snap = run.snapshot(exact=True)
    return snap


@pytest.mark.parametrize("qid,right", [("clip-small", 2), ("clip-large", 2), ("lambda-zero", 2), ("gan-modes", 2)])
def test_a_train_question_is_answered_by_its_run(qid, right):
    q = questions.QUESTIONS[qid]
    snap = _outcome(q.preset, q.steps)
    idx, sentence = q.judge(snap)
    assert idx == right                                               # what these presets do (seed 0)
    assert f"{snap['gen_steps']:,}" in sentence or f"{snap['metrics']['largest_slope_seen']:,.0f}" in sentence


def test_the_answer_follows_the_run_not_a_script():
    """The same judge gives another answer when the run does something else (a healthy run, no collapse)."""
    q = questions.QUESTIONS["gan-modes"]
    healthy = {"gen_steps": 2000, "metrics": {"modes_total": 8}, "curves": {
        "modes_covered": np.array([2.0, 8.0, np.nan]), "modes_visited": np.array([8.0, 8.0, np.nan])}}
    idx, sentence = q.judge(healthy)
    assert idx == 0 and "all 8 modes were covered" in sentence


def test_the_lab_question_is_answered_by_the_experiment():
    result = lab.lipschitz_experiment("seed3", steps=50, seed=0)
    idx, sentence = questions.QUESTIONS["closest-to-one"].judge(result)
    means = {m: r["summary"]["mean"] for m, r in result["methods"].items()}
    assert list(means)[idx] == min(means, key=lambda m: abs(means[m] - 1))
    assert f"{means['wgan-gp']:.3g}" in sentence


def test_the_compare_question_names_the_first_to_cover_everything():
    def run(first):                                                   # modes covered over steps 0, 100, 200
        cov = [0.0, 8.0 if first <= 100 else 5.0, 8.0 if first <= 200 else 6.0]
        return {"curves": {"gen_step": np.array([0.0, 100.0, 200.0]), "modes_covered": np.array(cov)},
                "metrics": {"modes_total": 8}}
    runs = {"gan": run(300), "wgan-clip": run(300), "wgan-gp": run(200), "wgan-lp": run(100), "sngan": run(300)}
    labels = {m: m.upper() for m in runs}
    idx, sentence = questions.QUESTIONS["first-full"].judge({"runs": runs, "labels": labels})
    assert questions.QUESTIONS["first-full"].choices[idx] == "WGAN-LP" and "WGAN-LP: step 100" in sentence
    none = {m: run(300) for m in runs}
    assert questions.QUESTIONS["first-full"].judge({"runs": none, "labels": labels})[0] == 5


def test_a_question_opens_from_its_link_and_reveals_after_a_prediction():
    at = open_page(page_path("lipschitz_lab"), {"steps": "100", "q": "closest-to-one"}, timeout=180)
    assert not at.exception
    box = next(e for e in at.expander if "Whose slopes" in e.label)
    assert box.proto.expanded                                         # ?q=... opens it
    run = next(b for b in at.button if b.key == "ll.q.closest-to-one.run")
    assert run.disabled                                               # predict first
    at.radio(key="ll.q.closest-to-one.pick").set_value(1).run()
    next(b for b in at.button if b.key == "ll.q.closest-to-one.run").click().run()
    shown = [a.value for a in at.success] + [a.value for a in at.warning]
    assert any("Measured mean slopes at the 400 interpolates" in v for v in shown)
