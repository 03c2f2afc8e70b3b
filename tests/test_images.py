"""The Images lesson's engine side: picture sets, presets, a short training, what the page shows, the charts."""
import json

import numpy as np
import pytest
import torch

from wgan_core.engine import datasets
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.trainer import Run
from wgan_core.lessons import image_quality as iq
from wgan_core.lessons import images
from wgan_core.presets import for_page


def test_to_images_maps_minus_one_to_white_and_clips_any_square_size():
    v = np.array([[-1.0] * 32 + [1.0] * 31 + [5.0]])
    img = images.to_images(v)
    assert img.shape == (1, 8, 8) and img[0, 0, 0] == 0.0 and img[0, 7, 7] == 1.0
    assert images.to_images(np.zeros((2, 784))).shape == (2, 28, 28)
    for bad in (np.zeros((3, 2)), np.zeros((3, 63)), np.zeros(64)):
        with pytest.raises(ValueError):
            images.to_images(bad)


def test_grid_image_size():
    img = images.grid_image(np.zeros((64, 64)), nrow=8, scale=6, pad=1)
    assert img.size == (8 * 61 + 1, 8 * 61 + 1)
    assert images.png(img)[:8] == b"\x89PNG\r\n\x1a\n"
    assert images.grid_image(np.zeros((64, 784))).size == (8 * 61 + 1, 8 * 61 + 1)     # 30 px tiles, scale 2


def test_digits_set_is_the_shipped_digits_by_name():
    s = images.digits_set()
    assert s.name == "digits" and s.points is None and s.factor == 1.0 and s.side == 8
    assert images.digits_set() is s and s.real_png[:4] == b"\x89PNG" and s.real_png is s.real_png
    v = np.random.default_rng(0).uniform(-1, 1, (3, 64))
    assert np.array_equal(s.to_vectors(v), v)


def fake_mnist(n_train=300, n_test=200, seed=0):
    rng = np.random.default_rng(seed)

    class Data:
        x_train = (rng.random((n_train, 28, 28)) < 0.15).astype(np.uint8) * 255
        y_train = rng.integers(0, 10, n_train).astype(np.uint8)
        x_test = (rng.random((n_test, 28, 28)) < 0.15).astype(np.uint8) * 255
        y_test = rng.integers(0, 10, n_test).astype(np.uint8)
        source, n_train_total = "a test", 1000
    return Data


def test_mnist_set_maps_the_runs_units_back_to_pixels():
    d = fake_mnist()
    s = images.mnist_set(d)
    assert s.name == "mnist" and s.side == 28 and s.points.shape == (300, 784) and not s.points.flags.writeable
    assert "300 of 1,000" in s.label and "a test" in s.label
    ds = datasets.from_points(s.points)                              # what the worker makes of the payload
    x = ds.sample(40, torch.Generator().manual_seed(0)).double().numpy()
    back = s.to_vectors(x)
    assert np.allclose(back, np.rint((back + 1) * 127.5) / 127.5 - 1, atol=1e-4)   # pixel values again
    assert np.linalg.norm(back[0] - back[1]) == pytest.approx(s.factor * np.linalg.norm(x[0] - x[1]), rel=1e-5)


@pytest.mark.parametrize("name", list(for_page("images")))
def test_presets_validate_and_round_trip_through_the_url(name):
    cfg = for_page("images")[name].config.validate()
    assert cfg.data in ("digits", "mnist") and cfg.loss == "wgan-gp" and for_page("images")[name].label
    assert TrainConfig.from_query(cfg.to_query()) == (cfg, [])


def test_seed_preset_matches_the_seed_notebook():
    c = for_page("images")["digits-seed"].config
    assert (c.lr_c, c.lr_g, c.beta1, c.beta2, c.lam, c.n_critic, c.batch) == (1e-4, 1e-4, 0.5, 0.9, 10.0, 5, 64)


def test_a_short_training_gives_a_digits_snapshot():
    run = Run(for_page("images")["digits-fast"].config.replace(seed=1))
    run.step(3)
    snap = run.snapshot(exact=True)
    assert snap["status"] == "ok" and snap["gen_steps"] == 3
    assert snap["fake"].shape == (64, 64) and snap["real"].shape[1] == 64
    assert np.isfinite(snap["fake"]).all() and snap["metrics"]["exact_w1"] > 0
    lo, hi = snap["metrics"]["exact_w1_floor"]
    assert 2.2 < lo < hi < 2.7                                        # metrics_floor's table for digits
    assert np.isfinite(snap["metrics"]["critic_w1_estimate"])
    json.dumps(images.distance_spec(snap["curves"], snap["metrics"]["exact_w1_floor"]), allow_nan=False)


def test_an_mnist_run_trains_on_784_pixels_and_measures_w1():
    s = images.mnist_set(fake_mnist())
    cfg = for_page("images")["mnist-fast"].config.replace(width=32)
    run = Run(cfg, dataset=datasets.from_points(s.points), device="cpu")
    run.step(2)
    snap = run.snapshot(exact=True)
    m = snap["metrics"]
    assert snap["fake"].shape == (64, 784) and snap["status"] == "ok"
    assert m["exact_w1"] > 0 and m["exact_w1_floor"] is not None and np.isfinite(m["critic_w1_estimate"])
    q = iq.quality(images.to_images(s.to_vectors(snap["fake"])), s.reference)
    assert q["n"] == 64 and 0 <= q["recognisable"] <= 1


def test_the_tracker_scores_once_a_second_and_keeps_the_history():
    s, now = images.digits_set(), [0.0]
    t = images.Tracker(clock=lambda: now[0])
    held = s.reference.held[:64] * 2 - 1
    snap = {"config": {"data": "digits"}, "serial": 1, "version": 1, "gen_steps": 0, "fake": held, "metrics": {}}
    assert t.update(snap, s) and t.q["recognisable"] > 0.8
    now[0] = 0.5
    soon = {**snap, "version": 2, "gen_steps": 5, "fake": -np.ones((64, 64))}
    q = t.q
    assert t.update(soon, s) and t.q is q and len(t.history) == 1      # within a second: not scored again
    now[0] = 1.2
    later = {**snap, "version": 3, "gen_steps": 9, "fake": -np.ones((64, 64))}
    assert t.update(later, s) and t.q["recognisable"] == 0 and [h[0] for h in t.history] == [0, 9]
    assert not t.update({**snap, "config": {"data": "mnist"}}, s)        # a late snapshot of another set
    now[0] = 1.3
    again = {**snap, "serial": 2, "version": 1, "gen_steps": 0}
    assert t.update(again, s) and [h[0] for h in t.history] == [0]       # a new run: scored at once, afresh
    now[0] = 1.4
    many = {**snap, "serial": 2, "version": 2, "gen_steps": 3, "fake": s.reference.held[:300] * 2 - 1}
    assert t.update(many, s) and t.q["n"] == 250 and t.history[-1][0] == 3      # more pictures: all scored
    light = {**snap, "serial": 2, "version": 3, "gen_steps": 4}
    del light["fake"]
    assert t.update(light, s) and t.history[-1][0] == 3                           # no vectors: nothing to score


def test_figures_show_a_dash_until_measured_and_scale_to_pixels():
    q = iq.quality(images.digits_set().reference.held[:64])
    snap = {"gen_steps": 0, "metrics": {"critic_w1_estimate": float("nan"), "exact_w1": None,
                                        "exact_w1_floor": [2.0, 3.0]}, "curves": {"exact_w1": [np.nan]}}
    run, *quality = images.figures(snap, q, 2.0, playing=False)
    assert [f["value"] for f in run] == ["0", "—", "—"] and run[2]["delta"] == "floor 4–6"
    snap["metrics"].update(critic_w1_estimate=1.5, exact_w1=1.25)
    run, *_ = images.figures(snap, q, 2.0, playing=True)
    assert [f["value"] for f in run] == ["0", "3.00", "2.50"] and run[0]["delta"] == "training"
    assert [f["label"] for row in quality for f in row] == ["Recognisable", "Classes", "Variety", "Too close"]
    assert quality[0][0]["delta"].startswith("± ")


def test_chart_specs_are_plain_json_with_integer_steps_and_the_floor_band():
    curves = {"gen_step": np.array([1.0, 2.0, 2.0]), "critic_w1_estimate": np.array([0.5, 0.4, np.nan]),
              "exact_w1": np.array([np.nan, np.nan, 3.0])}
    spec = images.distance_spec(curves, [2.3, 2.5], factor=2.0)
    text = json.dumps(spec, allow_nan=False)
    band = spec["layer"][0]["data"]["values"][0]
    assert (band["lo"], band["hi"]) == (4.6, 5.0) and "4.60–5.00" in band["label"]
    rows = spec["layer"][2]["data"]["values"]
    assert [r["value"] for r in rows] == [1.0, 0.8, 6.0]                 # measured points only, in pixels
    assert spec["layer"][2]["encoding"]["x"]["axis"]["format"] == ",d" and '"0.000000"' not in text
    assert len(images.distance_spec(curves)["layer"]) == 2               # no floor known: no band
    q = images.quality_spec([(0, 0.1, 0.05), (10, 0.5, 0.06)])
    assert [r["value"] for r in q["layer"][1]["data"]["values"]] == [0.1, 0.5]
    assert q["layer"][0]["data"]["values"][0]["lo"] == pytest.approx(0.05)
    json.dumps(q, allow_nan=False)


def test_the_view_shows_the_same_pictures_the_page_scores():
    """Dataset.pictures (the worker's frames) against the page's own mapping (ImageSet.to_vectors, to_images)."""
    rng = np.random.default_rng(1)
    v = rng.normal(0, 0.8, (64, 64))
    assert np.allclose(datasets.digits().pictures(v), images.to_images(v), atol=1e-6)
    s = images.mnist_set(fake_mnist())
    x = rng.normal(0, 1.5, (64, 784))
    ds = datasets.from_points(s.points, name="mnist", pixels=True)
    assert np.allclose(ds.pictures(x), images.to_images(s.to_vectors(x)), atol=1e-6)
    assert datasets.from_points(s.points).pictures is None and datasets.get("8gaussians").pictures is None
    with pytest.raises(ValueError, match="square"):
        datasets.from_points(np.ones((5, 3)) * np.arange(5)[:, None], pixels=True)


def test_the_worker_sends_every_snapshots_pictures_and_their_vectors_about_once_a_second():
    from wgan_core.engine import wire
    from wgan_core.serve.scheduler import Scheduler, Slot
    run = Run(for_page("images")["digits-fast"].config, device="cpu")
    run.step(2)
    sched, slot = Scheduler(lambda rid, snap: None), Slot("r", run)
    full = run.snapshot(exact=True)
    vectors = full["fake"].copy()
    first = sched._packed(slot, full, now=1.0, interval=0.1)
    f = wire.decode_frame(first["frame"])
    assert f["kind"] == "pictures" and f["pictures"].shape == (64, 8, 8) and f["gen_steps"] == 2
    assert np.abs(f["pictures"] - images.to_images(vectors)).max() <= 0.5 / 255 + 1e-6
    assert np.array_equal(first["fake"], vectors)                      # the page scores these
    light = sched._packed(slot, run.snapshot(exact=False), now=1.1, interval=0.1)
    assert "fake" not in light and wire.decode_frame(light["frame"])["serial"] == f["serial"] + 1
