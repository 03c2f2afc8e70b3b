"""Home under AppTest: the overview, the lesson map and the presets, which open Train live with the preset loaded."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from wgan_core.presets import for_page

PRESETS = for_page("train")

ROOT = Path(__file__).resolve().parent.parent


def test_page_runs_alone_with_pictures_lessons_and_presets():
    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Earthmover"
    assert len(at.get("vega_lite_chart")) == 5                        # one picture per paragraph
    assert {b.key for b in at.button} == {f"home.preset.{n}" for n in PRESETS}
    assert [h.value for h in at.header] == ["The lessons, in order", "Presets, one click away", "How to use this app"]


def test_a_bad_url_parameter_is_harmless():
    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60)
    at.query_params["x"] = "nan"
    at.query_params["preset"] = "☃"
    at.run()
    assert not at.exception


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_lessons_are_linked_in_order(app):
    links = app.get("page_link")
    labels = [link.proto.label for link in links]
    assert labels[1:] == ["1 · Why GANs fail", "2 · Wasserstein in 1D", "3 · Train live", "4 · Lipschitz lab",
                          "5 · Compare", "6 · Sensitivity", "7 · Images"]
    assert [link.proto.page for link in links][1:] == ["why_gans_fail", "wasserstein_1d", "train_live",
                                                      "lipschitz_lab", "compare", "sensitivity", "images"]


@pytest.mark.parametrize("first, second", [("classroom-8g", "seed-wgan-clip")])
def test_preset_buttons_open_train_live_with_the_preset_even_on_a_second_visit(app, first, second):
    app.button(key=f"home.preset.{first}").click().run()
    assert not app.exception
    assert app.session_state["tl.preset"] == first
    assert app.session_state["tl.data"] == PRESETS[first].config.data
    assert app.query_params["preset"] in (first, [first])
    app.switch_page("pages/home.py").run()
    app.button(key=f"home.preset.{second}").click().run()
    assert not app.exception
    want = PRESETS[second].config
    assert (app.session_state["tl.loss"], app.session_state["tl.lr_c"], app.session_state["tl.clip"]) == (
        want.loss, want.lr_c, want.clip)
