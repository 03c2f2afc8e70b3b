"""Share and keep on Train live: links round-trip, classroom mode, own data (drawn, uploaded), GIF, checkpoints."""
import io
import time
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from apptest_util import open_page, page_path, worker_snapshot
from PIL import Image
from streamlit.testing.v1 import AppTest

from ui import controls, own_data, session
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.files import checkpoint, upload

PAGE = page_path("train_live")
RNG = np.random.default_rng(3)


def page(**params) -> AppTest:
    """Train live with these query parameters, its "Your own data" panel open."""
    at = open_page(PAGE, params, timeout=90, state={"tl.own_open": True})
    assert not at.exception
    return at


def keys(at) -> set:
    """Keys of the page's buttons and file uploaders."""
    return {w.key for w in list(at.button) + list(at.file_uploader)}


def snapshot(at, cond, timeout=60.0):
    return worker_snapshot(at, "tl.rid", cond, timeout)


def query(at) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def link_params(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def play_button(at):
    return next(b for b in at.button if b.label in ("Play", "Pause"))


def button(at, key):
    return next(b for b in at.button if b.key == key)


# --------------------------------------------------------------------------- links (pure)

def random_config(rng) -> TrainConfig:
    f = TrainConfig.fields()
    kw = {}
    for name, fld in f.items():
        if "choices" in fld.metadata:
            kw[name] = str(rng.choice([c for c in fld.metadata["choices"] if c != "digits"]))
        else:
            lo, hi = fld.metadata["range"]
            kw[name] = int(rng.integers(lo, min(hi, 10_000) + 1)) if fld.type in ("int", int) else \
                float(f"{rng.uniform(lo, hi):.6g}")
    return TrainConfig(**kw).validate()


def test_state_to_url_to_state_is_identical():
    for _ in range(50):
        cfg = random_config(RNG)
        shown = frozenset(n for n in controls.CONTROLS if RNG.random() < 0.5)
        pts = upload.link_ready(RNG.uniform(-4, 4, (int(RNG.integers(10, 301)), 2)))
        params = {**cfg.to_query(), "show": controls.show_query(shown), "pts": upload.encode_points(pts)}
        back = link_params("http://h/train_live?" + "&".join(f"{k}={v}" for k, v in params.items()))
        got, notes = TrainConfig.from_query(back)
        assert got == cfg and not notes
        assert controls.show_names(back["show"]) == shown
        assert np.array_equal(upload.decode_points(back["pts"]), pts)


def test_show_names_refuses_unknown_controls():
    assert controls.show_names("lr_c, lam,") == {"lr_c", "lam"}
    assert controls.show_names("") == frozenset()
    with pytest.raises(ValueError):
        controls.show_names("lr_c,warp")


def test_selection_adds_a_cloud_or_fills_a_box():
    rng = np.random.default_rng(0)
    cloud = own_data.points_from_selection({"pick": [{"x": 1.0, "y": -2.0}]}, rng)
    assert cloud.shape == (own_data.CLICK_CLOUD, 2) and np.abs(cloud.mean(0) - [1, -2]).max() < 0.3
    box = own_data.points_from_selection({"box": {"x": [0.0, 1.0], "y": [-1.0, 0.0]}}, rng)
    assert len(box) == 25 and box.min() >= -1.125 and box.max() <= 1.125        # 5 x 5 grid points, jittered
    assert np.array_equal(upload.link_ready(box), box)                          # rounded for the link
    assert len(own_data.points_from_selection({"pick": [{"x": "nan?"}], "box": {"x": []}}, rng)) == 0


# --------------------------------------------------------------------------- the page

def test_a_link_reproduces_the_page_and_the_share_box_shows_it():
    pts = upload.link_ready(RNG.normal(size=(40, 2)))
    cfg = TrainConfig(loss="wgan-lp", data="custom", seed=7, width=64, lr_c=2e-4, n_critic=3)
    given = {**cfg.to_query(), "pts": upload.encode_points(pts), "speed": "fast", "layers": "real,fake"}
    at = page(**given)
    assert at.session_state["tl.seed"] == 7 and at.session_state["tl.loss"] == "wgan-lp"
    assert np.array_equal(at.session_state["tl.points_raw"], pts)
    written = query(at)
    assert all(written[k] == v for k, v in given.items())                           # the URL stays the link
    shared = link_params(at.code[0].value)
    assert all(shared[k] == v for k, v in given.items())
    assert urlsplit(at.code[0].value).path.endswith("/train_live")
    snap = snapshot(at, lambda s: s["config"]["data"] == "custom")
    assert snap["config"] == cfg.to_dict()
    standardized = upload.standardize(pts)
    real = snap["real"].astype(np.float64)
    assert np.abs(real[:, None, :] - standardized[None]).max(-1).min(1).max() < 1e-5  # drawn from the points


def test_show_hides_the_other_controls_and_lock_disables_the_set_up():
    at = page(show="lr_c,lam,loss,seed", lock="1")
    controls = {s.key for s in at.select_slider if not s.key.startswith("tl.gif_")}      # not the GIF's own
    assert controls == {"tl.speed", "tl.lr_c", "tl.lam"}
    assert at.selectbox(key="tl.loss").disabled and at.number_input(key="tl.seed").disabled
    assert not any(b.key and b.key.startswith("tl.btn.") for b in at.button)       # presets hidden
    assert not at.warning
    shared = link_params(at.code[0].value)
    assert shared["show"] == "lr_c,lam,loss,seed" and shared["lock"] == "1"
    at.toggle(key="tl.share_class").set_value(True).run()
    at.multiselect(key="tl.share_show").set_value(["presets", "lr_g"]).run()
    at.checkbox(key="tl.share_lock").uncheck().run()
    student = link_params(at.code[1].value)
    assert student["show"] == "presets,lr_g" and "lock" not in student


def test_lock_disables_presets_and_own_data():
    at = page(lock="1")
    assert all(b.disabled for b in at.button if b.key and b.key.startswith("tl.btn."))
    assert at.file_uploader(key="tl.csv_file").disabled and at.file_uploader(key="tl.ckpt_file").disabled
    assert not at.select_slider(key="tl.lr_c").disabled                             # live controls stay


@pytest.mark.parametrize("bad", [{"show": "lr_c,warp"}, {"lock": "maybe"}, {"pts": "1.@@"},
                                 {"data": "custom"}, {"pts": upload.encode_points(np.ones((20, 2))),
                                                      "data": "custom"}])
def test_bad_share_parameters_are_noted(bad):
    at = page(**bad)
    assert at.warning and "not valid" in at.warning[0].value


def test_the_own_data_panel_is_drawn_only_while_open():
    at = open_page(PAGE, timeout=90)
    assert not at.exception
    assert [e for e in at.expander if e.label.startswith("Your own")] and "tl.csv_file" not in keys(at)
    at.session_state["tl.own_open"] = True
    at.run()
    assert "tl.csv_file" in keys(at) and "tl.pad_train" in keys(at)


def test_custom_data_without_points_waits_for_a_drawing():
    at = page(data="custom")
    assert any("no points yet" in i.value for i in at.info)
    assert play_button(at).disabled


def test_drawn_points_train_and_travel_in_the_link():
    at = page()
    drawn = upload.link_ready(RNG.uniform(-3, 3, (24, 2)))
    at.session_state["tl.draft"] = [drawn[:12], drawn[12:]]
    at.run()
    button(at, "tl.pad_undo").click().run()
    assert len(np.concatenate(at.session_state["tl.draft"])) == 12
    at.session_state["tl.draft"] = [drawn]
    button(at, "tl.pad_train").click().run()
    assert not at.exception
    assert at.session_state["tl.data"] == "custom"
    assert np.array_equal(upload.decode_points(query(at)["pts"]), drawn)
    snapshot(at, lambda s: s["config"]["data"] == "custom")
    button(at, "tl.pad_clear").click().run()
    assert at.session_state["tl.draft"] == []
    assert at.session_state["tl.data"] == "custom"                                  # training goes on


def test_too_few_drawn_points_cannot_train():
    at = page()
    at.session_state["tl.draft"] = [upload.link_ready(RNG.normal(size=(5, 2)))]
    at.run()
    assert button(at, "tl.pad_train").disabled


def test_csv_upload_trains_on_the_file_and_the_link_says_it_cannot_carry_it():
    pts = RNG.normal(size=(500, 2)) * [3, 1] + [100, -5]
    data = ("x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in pts)).encode()
    at = page()
    at.file_uploader(key="tl.csv_file").set_value(("mine.csv", data, "text/csv")).run()
    assert not at.exception
    assert at.session_state["tl.data"] == "custom" and at.session_state["tl.points_src"] == "upload"
    assert any("500 points" in s.value for s in at.success)
    assert np.allclose(at.session_state["tl.points"], upload.standardize(pts), atol=1e-5)
    assert "pts" not in at.query_params
    assert any("cannot carry" in i.value for i in at.info)
    snapshot(at, lambda s: s["config"]["data"] == "custom")


def test_a_bad_csv_gets_its_message_and_changes_nothing():
    at = page()
    at.file_uploader(key="tl.csv_file").set_value(("bad.csv", b"x,y,z\n" + b"1,2,3\n" * 20, "text/csv")).run()
    assert not at.exception
    assert any("3 columns" in e.value for e in at.error)
    assert at.session_state["tl.data"] == "seed3"


def test_gif_export_from_the_page():
    at = page()
    fresh(at)
    play_button(at).click().run()
    end = time.monotonic() + 90
    while len(at.session_state["tl.ring"]) < 3 and time.monotonic() < end:
        time.sleep(0.6)
        at.run()
    assert len(at.session_state["tl.ring"]) >= 3
    at.select_slider(key="tl.gif_size").set_value("medium")
    button(at, "tl.gif_make").click().run()
    assert not at.exception
    data, name = at.session_state["tl.gif"]
    im = Image.open(io.BytesIO(data))
    assert data[:6] == b"GIF89a" and im.size == (480, 480) and name.endswith(".gif")
    assert im.n_frames >= 2


def fresh(at) -> None:
    """Reset this page's run (AppTest sessions in one process share the run handle; an earlier test may play it)."""
    serial = snapshot(at, lambda s: True)["serial"]
    next(b for b in at.button if b.label == "Reset").click().run()
    snapshot(at, lambda s: s["serial"] != serial and s["gen_steps"] == 0)


def test_prepared_files_are_a_picture_curves_and_a_checkpoint():
    at = page()
    fresh(at)
    next(b for b in at.button if b.label == "Step").click().run()
    snapshot(at, lambda s: s["gen_steps"] == 1)
    button(at, "tl.prep").click().run()
    assert not at.exception
    files = at.session_state["tl.files"]
    assert files["step"] == 1 and files["stem"].endswith("_step1")
    assert Image.open(io.BytesIO(files["png"])).size == (960, 960)
    assert files["csv"].decode().startswith("gen_step,")
    run_bytes, cfg, pts = checkpoint.unpack_checkpoint(files["ckpt"])
    assert cfg.to_dict() == snapshot(at, lambda s: True)["config"] and pts is None and len(run_bytes) > 1000


def _saved(at, steps: int = 1) -> tuple[bytes, int]:
    """The run's state after ``steps`` generator steps (every step sent has been taken), as the worker saves it."""
    rid = at.session_state["tl.rid"]
    snap = snapshot(at, lambda s: s["gen_steps"] == steps)
    return session.pool().request(rid, "save"), snap["gen_steps"]


def test_checkpoint_upload_continues_where_it_stopped():
    at = page()
    fresh(at)
    next(b for b in at.button if b.label == "Step").click().run()
    next(b for b in at.button if b.label == "Step").click().run()
    run_bytes, steps = _saved(at, 2)
    cfg = TrainConfig.from_dict(snapshot(at, lambda s: True)["config"])[0]
    ckpt = checkpoint.pack_checkpoint(run_bytes, cfg.replace(lr_g=5e-4))
    at2 = page(width="64")                                                        # another session, another net
    at2.file_uploader(key="tl.ckpt_file").set_value(("run.ckpt", ckpt, "application/zip")).run()
    assert not at2.exception
    assert at2.session_state["tl.width"] == cfg.width and at2.session_state["tl.lr_g"] == 5e-4
    assert any("Checkpoint loaded" in s.value for s in at2.success)
    snap = snapshot(at2, lambda s: s["gen_steps"] == steps and s["config"]["width"] == cfg.width)
    assert snap["critic_steps"] > 0


@pytest.mark.parametrize("make,message", [
    (lambda run, cfg: b"this is not a checkpoint", "not an Earthmover checkpoint"),
    (lambda run, cfg: checkpoint.pack_checkpoint(run, cfg.replace(width=32)), "different set-up: width"),
    (lambda run, cfg: checkpoint.pack_checkpoint(b"garbage", cfg), "not an Earthmover checkpoint"),
])
def test_bad_checkpoints_get_a_plain_message(make, message):
    at = page()
    fresh(at)
    next(b for b in at.button if b.label == "Step").click().run()
    run_bytes, _ = _saved(at)
    cfg = TrainConfig.from_dict(snapshot(at, lambda s: True)["config"])[0]
    at.file_uploader(key="tl.ckpt_file").set_value(("x.ckpt", make(run_bytes, cfg), "application/zip")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error)


def test_presenter_from_the_link():
    at = page(presenter="1")
    assert at.title[0].value == OBJECTIVES["wgan-gp"].label
    assert not at.code                                                            # no share box on the projector
    assert at.toggle(key="tl.presenter").value


def test_link_box_for_any_page():
    at = AppTest.from_string("""
import streamlit as st
from ui import share
st.query_params["theta"] = "0.5"
share.link_box(page="wasserstein_1d")
""", default_timeout=30)
    at.run()
    assert not at.exception
    assert at.code[0].value == "http://localhost:8501/wasserstein_1d?theta=0.5"


def test_a_link_trains_the_same_run_step_by_step_on_the_cpu():
    """What the page trains on is a function of the link alone: settings, seed and the rounded points."""
    from wgan_core.engine.datasets import from_points
    from wgan_core.engine.trainer import Run
    drawn = own_data.points_from_selection({"box": {"x": [-2, 1], "y": [-1, 2]}}, np.random.default_rng(5))
    cfg = TrainConfig(data="custom", width=16, depth=1, batch=32, n_critic=2, seed=11)
    back = link_params("http://h/train_live?" + "&".join(
        f"{k}={v}" for k, v in {**cfg.to_query(), "pts": upload.encode_points(drawn)}.items()))
    cfg2, _ = TrainConfig.from_query(back)
    runs = [Run(c, dataset=from_points(upload.standardize(p)), device="cpu")
            for c, p in ((cfg, drawn), (cfg2, upload.decode_points(back["pts"])))]
    for r in runs:
        r.step(3)
    a, b = (r.snapshot(exact=False) for r in runs)
    assert np.array_equal(a["fake"], b["fake"]) and np.array_equal(a["grid"], b["grid"])
