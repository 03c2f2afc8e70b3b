"""Lipschitz lab under AppTest: the experiments run as worker jobs; controls change the results; bad links warn."""

import pytest
from apptest_util import live_views, open_page, page_path, url
from streamlit.testing.v1 import AppTest

PAGE = page_path("lipschitz_lab")


def page(**params) -> AppTest:
    return open_page(PAGE, {"steps": "100", **params}, timeout=180)        # short jobs


def clip_sentence(at) -> str:
    return next(m.value for m in at.markdown if "lie within 1 % of ±c" in m.value)


def test_page_shows_all_four_parts():
    at = page()
    assert not at.exception and not at.error
    assert [h.value for h in at.header] == ["1 · Slopes along the interpolates", "2 · Where the weights sit",
                                           "3 · Gradients through a deep critic", "4 · What each critic looks like"]
    views = live_views(at)
    assert len(views) == 4                                 # one value surface per method, drawn by the browser
    for v in views:
        assert len(v["frames"]) == 1 and v["frames"][0]["grid"].shape == (48, 48) and v["real"] is not None
    assert at.status[0].state == "complete"
    assert "(c = 0.01)" in clip_sentence(at)
    verdicts = " ".join(m.value for m in at.markdown if m.value.startswith("**WGAN-GP**"))
    assert "mean" in verdicts


def test_clip_value_changes_the_experiment_and_the_url():
    at = page()
    before = clip_sentence(at)
    at.select_slider(key="ll.clip").set_value(0.1).run()
    assert not at.exception
    after = clip_sentence(at)
    assert "(c = 0.1)" in after and after != before
    assert url(at, "clip") == "0.1"


def test_data_and_seed_come_from_the_link():
    at = page(data="8gaussians", seed="3", lam="1")
    assert not at.exception
    assert at.session_state["ll.data"] == "8gaussians" and at.session_state["ll.seed"] == 3
    assert at.session_state["ll.lam"] == 1.0
    assert "8 Gaussians" in at.status[0].label


@pytest.mark.parametrize("bad", [{"clip": "nan"}, {"steps": "1e9"}, {"data": "☃"}, {"lam": "-3"}, {"seed": "x"}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    at = page(**bad)
    assert not at.exception
    assert at.warning and "not valid" in at.warning[0].value
