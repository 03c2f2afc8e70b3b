"""Images under AppTest: the page runs, Start trains digits in a worker, lr acts live, bad links warn."""
import pytest
from apptest_util import assert_bad_link_warns, open_page, page_path, started
from apptest_util import worker_snapshot as _worker_snapshot

from ui import session
from wgan_core.lessons.images import IMAGE_PRESETS

PAGE = page_path("images")


def worker_snapshot(at, cond, timeout=40.0):
    """The newest snapshot of this session's digits run that satisfies cond."""
    return _worker_snapshot(at, "img.rid", lambda s: s["config"]["data"] == "digits" and cond(s), timeout)


@pytest.fixture
def at():
    app = started(PAGE)
    yield app
    pause = [b for b in app.button if b.label == "Pause"]   # AppTests of one process share the run handle
    if pause:
        pause[0].click().run()


def test_page_runs_and_shows_digits(at):
    snap = worker_snapshot(at, lambda s: True)
    at.run()
    assert not at.exception
    assert snap["fake"].shape == (64, 64) and snap["config"] == IMAGE_PRESETS["fast"].to_dict()
    assert "Images" in at.title[0].value
    labels = [m.label for m in at.metric]
    assert "Generator step" in labels and "Recognisable" in labels


def test_start_makes_the_generator_step(at):
    worker_snapshot(at, lambda s: True)
    next(b for b in at.button if "Start" in b.label).click().run()
    assert not at.exception
    worker_snapshot(at, lambda s: s["gen_steps"] >= 3)
    at.run()
    assert at.session_state["img.gen_steps"] >= 3
    assert any("Pause" in b.label for b in at.button)


def test_learning_rate_is_a_live_change(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    at.select_slider(key="img.lr").set_value(1e-4).run()
    assert not at.exception
    assert at.session_state["img.change"] == "live"
    snap = worker_snapshot(at, lambda s: s["config"]["lr_c"] == 1e-4)
    assert snap["config"]["lr_g"] == 1e-4 and snap["serial"] == serial    # the same run goes on
    assert at.query_params["lr"] in ("0.0001", ["0.0001"])


def test_seed_and_preset_start_a_new_run(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    at.number_input(key="img.seed").set_value(3).run()
    assert at.session_state["img.change"] == "restart"
    serial = worker_snapshot(at, lambda s: s["config"]["seed"] == 3 and s["serial"] != serial)["serial"]
    at.radio(key="img.preset").set_value("seed").run()
    assert at.session_state["img.change"] == "restart"                    # a preset starts afresh
    assert at.session_state["img.lr"] == IMAGE_PRESETS["seed"].lr_c      # and brings its learning rate
    snap = worker_snapshot(at, lambda s: s["config"]["lr_c"] == IMAGE_PRESETS["seed"].lr_c and s["serial"] != serial)
    assert snap["config"]["seed"] == 3


def test_settings_from_the_url():
    at = open_page(PAGE, {"preset": "seed", "lr": "0.0002", "n_critic": "3"})
    assert not at.exception and not at.warning
    assert at.session_state["img.preset"] == "seed" and at.session_state["img.lr"] == 2e-4
    assert at.session_state["img.n_critic"] == 3


@pytest.mark.parametrize("bad", [{"lr": "nan"}, {"lam": "-1"}, {"preset": "huge"}, {"n_critic": "2.5"},
                                 {"seed": "x" * 100}])
def test_bad_url_parameter_falls_back_with_a_warning(bad):
    assert_bad_link_warns(PAGE, bad)


def test_a_diverged_run_shows_its_message_and_resume(at):
    snap = worker_snapshot(at, lambda s: True)
    fake = dict(snap, status="diverged", message="Training diverged near generator step 7.", version=-1)
    session.pool().snaps[at.session_state["img.rid"]] = fake        # as the worker would publish it
    at.run()
    assert not at.exception
    assert any("diverged near generator step 7" in e.value for e in at.error)
    next(b for b in at.button if b.label == "Resume").click().run()
    assert not at.exception
    worker_snapshot(at, lambda s: s["status"] == "ok")
