"""Why GANs fail under AppTest: the sliders move the numbers they should; the two live runs train in a worker."""
import math
import time

import pytest
from apptest_util import ROOT, assert_bad_link_warns, page_path, started
from streamlit.testing.v1 import AppTest

from ui import session
from wgan_core.lessons import push1d, theory
from wgan_core.presets import PRESETS

PAGE = page_path("why_gans_fail")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


@pytest.fixture
def at():
    return started(PAGE)


def test_page_runs_with_its_three_parts(at):
    assert at.title[0].value == "Why GANs fail"
    assert [h.value[:1] for h in at.header] == ["1", "2", "3"]
    assert not at.error


def test_theta_moves_w1_but_not_js(at):
    assert metric(at, "JS(P₀") == f"{math.log(2):.3f}" and metric(at, "W1(P₀") == "0.500"
    at.slider(key="wgf.theta").set_value(-0.3).run()
    assert metric(at, "JS(P₀") == "0.693" and metric(at, "W1(P₀") == "0.300"      # JS stuck, W1 = |θ|
    assert metric(at, "KL(P₀") == "∞" and metric(at, "TV(P₀") == "1.000"
    check = theory.parallel_lines_numeric(-0.3, n=400)
    assert any(f"numeric check **{check['w1']:.3f}**" in c.value for c in at.caption)
    at.slider(key="wgf.theta").set_value(0.0).run()
    assert metric(at, "JS(P₀") == "0.000" and metric(at, "W1(P₀") == "0.000" and metric(at, "KL(P₀") == "0.000"
    assert at.query_params["theta"] in ("0", ["0"])


def test_distance_makes_the_gan_push_vanish_but_not_the_critics(at):
    at.slider(key="wgf.m").set_value(1.5).run()
    near = float(metric(at, "GAN push"))
    assert near == pytest.approx(push1d.gan_push_1d(0.0, 1.5, 1.0), rel=0.05)
    at.slider(key="wgf.m").set_value(8.0).run()
    far = float(metric(at, "GAN push"))
    assert far == pytest.approx(push1d.gan_push_1d(0.0, 8.0, 1.0), rel=0.05) and far < near / 1000
    assert metric(at, "WGAN push") == "1"
    assert float(metric(at, "JS(p, q)")) == pytest.approx(math.log(2), abs=1e-3) and metric(at, "W1(p, q)") == "8.000"


def test_the_two_runs_use_the_presets_and_train_when_started(at):
    rids = at.session_state["wgf.rids"]
    pool = session.pool()
    end = time.monotonic() + 60
    while time.monotonic() < end and not all(pool.snaps.get(r) for r in rids):
        time.sleep(0.3)
        at.run()
    snaps = [pool.snaps[r] for r in rids]
    assert [s["config"]["loss"] for s in snaps] == [PRESETS["gan-collapse"].config.loss,
                                                   PRESETS["classroom-8g"].config.loss]
    assert snaps[0]["config"]["seed"] == snaps[1]["config"]["seed"]
    next(b for b in at.button if b.label == "Start").click().run()
    while time.monotonic() < end and not all(pool.snaps[r]["gen_steps"] > 0 for r in rids):
        time.sleep(0.3)
        at.run()
    assert all(pool.snaps[r]["gen_steps"] > 0 for r in rids)
    assert sum("Modes covered" in m.value for m in at.markdown) == 2
    next(b for b in at.button if b.label == "Pause").click().run()
    assert not at.exception


@pytest.mark.parametrize("bad", [{"theta": "nan"}, {"m": "1e9"}, {"s": "-1"}, {"theta": "x" * 500}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    assert_bad_link_warns(PAGE, bad)


def test_settings_survive_a_visit_to_another_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/why_gans_fail.py").run()
    at.slider(key="wgf.theta").set_value(0.3).run()
    at.switch_page("pages/home.py").run()
    assert "wgf.theta" not in at.session_state                   # Streamlit dropped the widget's state...
    at.switch_page("pages/why_gans_fail.py").run()
    assert not at.exception
    assert at.slider(key="wgf.theta").value == pytest.approx(0.3)   # ...and the page restored it
