"""Compare under AppTest: one frame per chosen method, runs start together in the worker, presets, bad links."""
import time

import pytest
from apptest_util import assert_bad_link_warns, live_views, open_page, page_path, url

from ui import session
from wgan_core.engine.objectives import OBJECTIVES

PAGE = page_path("compare")


def snaps(at) -> dict:
    return {m: session.pool().snaps.get(rid) for m, rid in at.session_state["cmp.rids"].items()}


def until(at, cond, timeout=60.0):
    """Rerun the page until cond(snapshots of this session's runs) holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = snaps(at)
        if cond(s):
            return s
        time.sleep(0.4)
        at.run()
    raise AssertionError(f"the runs never reached the expected state: { {m: x and x['gen_steps'] for m, x in s.items()} }")


def ready(s: dict) -> bool:
    return all(x is not None for x in s.values())


@pytest.fixture
def at():
    app = open_page(PAGE, {"data": "seed3"})
    assert not app.exception
    yield app
    for rid in app.session_state["cmp.rids"].values():      # never leave runs training for the next test
        session.pool().pause(rid)


def test_page_runs_with_one_live_view_per_default_method(at):
    until(at, ready)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Compare"
    views = live_views(at)
    assert len(views) == 3 == len(at.session_state["cmp.methods"])
    for v in views:                                    # each view gets its run's real points and the compare layers
        assert v["header"]["layers"] == ["critic", "real", "fake"]
        assert v["real"] is not None and v["real"].shape[1] == 2
    assert len(at.session_state["cmp.rids"]) == 3      # runs only for the chosen methods


def test_choosing_methods_changes_the_number_of_frames(at):
    at.pills(key="cmp.methods").set_value(["wgan-gp"]).run()
    until(at, ready)
    at.run()
    assert len(live_views(at)) == 1
    at.pills(key="cmp.methods").set_value(["gan", "wgan-clip", "wgan-gp", "sngan"]).run()
    s = until(at, lambda s: ready(s) and all(x["config"]["loss"] == m for m, x in s.items()))   # the new runs'
    at.run()
    assert len(live_views(at)) == 4
    assert {m: x["config"]["loss"] for m, x in s.items()} == {m: m for m in s}
    assert url(at, "methods") == "gan,wgan-clip,wgan-gp,sngan"


def test_a_sixth_method_is_refused(at):
    at.pills(key="cmp.methods").set_value(["gan", "wgan-clip", "wgan-gp", "wgan-lp", "sngan"]).run()
    at.pills(key="cmp.methods").set_value(list(tuple(OBJECTIVES))).run()
    assert not at.exception
    assert len(at.session_state["cmp.methods"]) == 5
    assert at.warning and "At most 5" in at.warning[0].value


def test_start_trains_every_run_on_the_same_data_and_seed(at):
    until(at, ready)
    next(b for b in at.button if b.label == "Start").click().run()
    s = until(at, lambda s: ready(s) and all(x["gen_steps"] > 0 for x in s.values()))
    assert len({(x["config"]["data"], x["config"]["seed"], x["config"]["batch"], x["config"]["width"])
                for x in s.values()}) == 1
    next(b for b in at.button if b.label == "Pause").click().run()
    at.run()
    assert not at.exception
    assert any(h.value == "Where each run stands" for h in at.subheader)   # the summary table when paused


def test_a_settings_change_restarts_all_runs_together(at):
    until(at, ready)
    at.number_input(key="cmp.seed").set_value(7).run()
    s = until(at, lambda s: ready(s) and all(x["config"]["seed"] == 7 for x in s.values()))
    assert all(x["gen_steps"] == 0 for x in s.values())
    assert url(at, "seed") == "7"


def test_presets_set_methods_data_and_settings(at):
    next(b for b in at.button if b.key == "cmp.btn.seed-notebook").click().run()
    assert not at.exception
    assert at.session_state["cmp.methods"] == ["wgan-clip", "wgan-gp"]
    s = until(at, lambda s: ready(s) and all(x["config"]["batch"] == 64 for x in s.values()))
    assert s["wgan-clip"]["config"]["lr_c"] == 5e-5 and s["wgan-gp"]["config"]["lam"] == 10.0
    assert url(at, "recipe") == "seed" and url(at, "preset") == "seed-notebook"


@pytest.mark.parametrize("bad", [{"methods": "x,y"}, {"methods": ",".join(tuple(OBJECTIVES))},
                                 {"data": "nan"}, {"seed": "-1"}, {"recipe": "warp"}, {"preset": "nope"},
                                 {"bound": "maybe"}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    assert_bad_link_warns(PAGE, bad)


def test_run_it_on_the_question_races_the_five_methods(at):
    at.radio(key="cmp.q.first-full.pick").set_value(2).run()
    at.button(key="cmp.q.first-full.run").click().run()
    assert not at.exception
    assert at.session_state["cmp.methods"] == ["gan", "wgan-clip", "wgan-gp", "wgan-lp", "sngan"]
    assert at.session_state["cmp.data"] == "8gaussians" and at.session_state["cmp.preset"] == "all-8g"
    until(at, lambda s: len(s) == 5 and ready(s) and all(x["playing"] and x["config"]["data"] == "8gaussians"
                                                         for x in s.values()))
    assert any("slowest run is at step" in c.value for c in at.caption)                # judged at 3,000 steps
