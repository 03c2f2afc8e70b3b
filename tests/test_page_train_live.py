"""Train live under AppTest: controls reach the trainer in its worker process; live vs restart; presets."""
import pytest
from apptest_util import assert_bad_link_warns, open_page, page_path, started
from apptest_util import worker_snapshot as _worker_snapshot

from wgan_core.presets import PRESETS

PAGE = page_path("train_live")


def worker_snapshot(at, cond, timeout=30.0):
    return _worker_snapshot(at, "tl.rid", cond, timeout)


@pytest.fixture
def at():
    return started(PAGE)


def test_page_runs_and_shows_the_view(at):
    worker_snapshot(at, lambda s: s["config"] == PRESETS["classroom-gp"].config.to_dict())   # the page's own run
    at.run()
    assert not at.exception
    assert at.title[0].value == "Train live"
    labels = [m.label for m in at.metric]
    assert "W1, 400 vs 400 points" in labels and "Lower bound" in labels and "Critic's estimate" in labels
    w1 = next(m for m in at.metric if m.label == "W1, 400 vs 400 points")
    assert "floor 0.19–0.42" in str(w1.proto.delta)                      # seed3's sampling floor at n = 400


def test_live_controls_reach_the_trainer_without_reset(at):
    at.button(key="tl.play").click().run()                                  # play
    serial = worker_snapshot(at, lambda s: s["gen_steps"] > 5)["serial"]
    at.select_slider(key="tl.lr_c").set_value(2e-4)
    at.select_slider(key="tl.lr_g").set_value(5e-4)
    at.slider(key="tl.n_critic").set_value(3)
    at.select_slider(key="tl.lam").set_value(1.0).run()
    said = [c.value for c in at.sidebar.caption if "Training with" in c.value or "On its way" in c.value]
    assert said in (["✓ Training with lr 0.0002 / 0.0005 (critic / generator) · n_critic 3 · λ 1"],  # the worker's word
                    ["On its way to the training (the server is busy)…"]), said                    # not within 1 s
    snap = worker_snapshot(at, lambda s: s["config"]["lr_c"] == 2e-4)
    assert snap["config"]["lr_g"] == 5e-4 and snap["config"]["n_critic"] == 3 and snap["config"]["lam"] == 1.0
    assert snap["gen_steps"] > 5 and snap["serial"] == serial    # the same run went on
    assert at.query_params["lr_c"] in ("0.0002", ["0.0002"])


def test_structural_change_starts_a_new_run(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    at.selectbox(key="tl.data").set_value("8gaussians").run()
    snap = worker_snapshot(at, lambda s: s["config"]["data"] == "8gaussians")
    assert snap["serial"] != serial and snap["metrics"]["modes_total"] == 8


def test_clip_is_disabled_for_gradient_penalty_and_lambda_for_clipping(at):
    assert at.select_slider(key="tl.clip").disabled
    assert not at.select_slider(key="tl.lam").disabled
    at.selectbox(key="tl.loss").set_value("wgan-clip").run()
    assert not at.select_slider(key="tl.clip").disabled
    assert at.select_slider(key="tl.lam").disabled


@pytest.mark.parametrize("name", ["seed-wgan-clip", "gan-collapse", "lambda-zero"])
def test_presets_set_what_they_say(at, name):
    next(b for b in at.button if b.key == f"tl.btn.{name}").click().run()
    want = PRESETS[name].config
    snap = worker_snapshot(at, lambda s: s["config"] == want.to_dict())
    assert snap["config"]["loss"] == want.loss
    assert at.query_params["loss"] in (want.loss, [want.loss])


def test_tuned_settings_for_the_chosen_pair_and_the_average_shown(at):
    """One click: the tuned settings for the objective and data chosen (seed kept); the run shows the
    generator's average and says so; turning the average off acts live, on the same run."""
    from wgan_core.engine.recipes import tuned_config
    at.selectbox(key="tl.loss").set_value("nsgan")
    at.selectbox(key="tl.data").set_value("25gaussians").run()
    at.button(key="tl.btn.tuned").click().run()
    want = tuned_config("nsgan", "25gaussians", 0)
    snap = worker_snapshot(at, lambda s: s["config"] == want.to_dict())
    assert snap["config"]["ema"] == 0.99 and at.query_params["ema"] in ("0.99", ["0.99"])
    at.run()
    assert any("average of the generator's weights" in c.value for c in at.caption)
    at.select_slider(key="tl.ema").set_value(0.0).run()
    off = worker_snapshot(at, lambda s: s["config"]["ema"] == 0.0)
    assert off["serial"] == snap["serial"]                          # live: the same run
    at.run()
    assert not any("average of the generator's weights" in c.value for c in at.caption)


def test_preset_and_settings_from_the_url():
    at = open_page(PAGE, {"preset": "classroom-8g"})
    assert not at.exception
    assert at.session_state["tl.data"] == "8gaussians"


@pytest.mark.parametrize("bad", [{"lr_c": "nan"}, {"width": "-5"}, {"loss": "☃"}, {"layers": "x,y"},
                                 {"speed": "warp"}, {"preset": "nope"}, {"n_critic": "1e9"}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    assert_bad_link_warns(PAGE, bad)


def test_single_steps(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    next(b for b in at.button if b.label == "Reset").click().run()
    worker_snapshot(at, lambda s: s["serial"] != serial and s["gen_steps"] == 0)
    next(b for b in at.button if b.label == "Critic step").click().run()
    snap = worker_snapshot(at, lambda s: s["critic_steps"] == 1)
    assert snap["gen_steps"] == 0
    next(b for b in at.button if b.label == "Generator step").click().run()
    worker_snapshot(at, lambda s: s["gen_steps"] == 1)


def test_after_a_server_restart_the_page_says_so_and_offers_the_links_run():
    """A URL written by another server process (its ``s=``) gets one sentence; the run is the link's, paused
    at step 0; the URL then carries this server's id; share links leave it out."""
    from ui import session
    at = open_page(PAGE, {"preset": "classroom-8g", "s": "deadbeef"})
    assert not at.exception
    assert any("The server restarted since this page was opened" in i.value for i in at.info)
    assert at.session_state["tl.data"] == "8gaussians" and at.query_params["s"] in (session.BOOT, [session.BOOT])
    from urllib.parse import parse_qs, urlsplit
    assert "s" not in parse_qs(urlsplit(at.code[0].value).query)            # the share link leaves it out
    fresh = open_page(PAGE, {"preset": "classroom-8g"})
    assert not any("restarted" in i.value for i in fresh.info)


def test_run_it_on_a_question_loads_its_preset_and_trains_it_fresh(at):
    at.radio(key="tl.q.clip-small.pick").set_value(2).run()
    at.button(key="tl.q.clip-small.run").click().run()
    want = PRESETS["clip-small"].config.to_dict()
    snap = worker_snapshot(at, lambda s: s["config"] == want and s["playing"] and s["gen_steps"] > 0)
    assert at.session_state["tl.clip"] == 0.001 and at.session_state["tl.preset"] == "clip-small"
    assert snap["gen_steps"] < 1000                                           # a fresh run, not judged yet
    assert any("step" in c.value and "of 1,000" in c.value for c in at.caption)          # not judged yet
    at.button(key="tl.play").click().run()                                                # pause it again


class _Handle:
    """What the run's state looks like when it changed after the button was drawn."""
    def __init__(self, playing):
        self.playing, self.asked = playing, []

    def play(self, on):
        self.asked.append(on)


@pytest.mark.parametrize("said,playing_now", [("play", True), ("pause", False), ("play", False), ("pause", True)])
def test_the_play_button_does_what_it_said_though_the_run_changed_since(said, playing_now):
    """A click on "Play" plays and one on "Pause" pauses, whatever the run's state is when the click arrives
    (it used to toggle that state: a run that started in between was paused by a click on "Play")."""
    from ui import train_view
    h = _Handle(playing_now)
    train_view.act("t", h, said)
    assert h.asked == [said == "play"]
