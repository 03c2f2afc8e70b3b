"""The Images lesson's engine side: the quality score against ground truth, presets, a short training."""
import json

import numpy as np
import pytest
import torch

from wgan_core.engine import datasets, metrics
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.trainer import Run
from wgan_core.lessons import images


def test_split_is_fixed_disjoint_and_covers_every_class():
    s = images.digits_split()
    assert s["ref"].shape == (1297, 64) and s["held"].shape == (500, 64)
    assert set(np.unique(s["held_labels"])) == set(range(10))
    both = np.concatenate([s["ref"], s["held"]])
    assert both.min() >= 0 and both.max() <= 1
    assert images.digits_split() is s                                   # computed once


def test_real_held_out_digits_score_like_real_digits():
    q = images.quality(images.digits_split()["held"][:128])
    assert 0.85 < q["nn_ratio"] < 1.15                                  # about 1 by construction
    assert q["recognisable"] > 0.8 and q["classes"] == 10
    assert q["class_counts"].sum() == round(q["recognisable"] * 128)


def test_noise_scores_far_worse_than_real_digits():
    rng = np.random.default_rng(0)
    real = images.quality(images.digits_split()["held"][:64])
    for noise in (rng.random((64, 64)), np.zeros((64, 64)), np.full((64, 64), 0.5)):
        q = images.quality(noise)
        assert q["nn_ratio"] > 2 * real["nn_ratio"]
        assert q["recognisable"] == 0.0 and q["classes"] == 0


def test_reference_digits_are_their_own_nearest_neighbours():
    s = images.digits_split()
    q = images.quality(s["ref"][:50])
    assert q["nn_ratio"] == pytest.approx(0.0, abs=1e-3) and q["recognisable"] == 1.0


def test_mode_collapse_shows_as_one_class():
    s = images.digits_split()
    one = np.repeat(s["held"][s["held_labels"] == 3][:1], 64, axis=0)
    q = images.quality(one)
    assert q["classes"] <= 1


def test_quality_accepts_pictures_and_rejects_bad_shapes():
    x = images.digits_split()["held"][:10]
    a, b = images.quality(x.reshape(10, 8, 8)), images.quality(x)
    assert a["nn_ratio"] == pytest.approx(b["nn_ratio"]) and a["recognisable"] == b["recognisable"]
    with pytest.raises(ValueError):
        images.quality(np.zeros((5, 63)))
    with pytest.raises(ValueError):
        images.quality(np.zeros((0, 64)))


def test_to_images_maps_minus_one_to_white_and_clips():
    v = np.array([[-1.0] * 32 + [1.0] * 31 + [5.0]])
    img = images.to_images(v)
    assert img.shape == (1, 8, 8) and img[0, 0, 0] == 0.0 and img[0, 7, 7] == 1.0
    with pytest.raises(ValueError):
        images.to_images(np.zeros((3, 2)))


def test_real_row_has_one_digit_of_each_class():
    row = images.real_row()
    assert row.shape == (10, 8, 8)
    q = images.quality(row)
    assert q["classes"] == 10 and q["recognisable"] == 1.0


def test_grid_image_size():
    img = images.grid_image(np.zeros((64, 64)), nrow=8, scale=6, pad=1)
    assert img.size == (8 * 61 + 1, 8 * 61 + 1)
    assert images.png(img)[:8] == b"\x89PNG\r\n\x1a\n"


def test_w1_floor_is_the_exact_w1_between_real_samples():
    ds, gen = datasets.digits(), torch.Generator().manual_seed(0)
    vals = [metrics.exact_w1(ds.sample(400, gen).double().numpy(), ds.sample(400, gen).double().numpy())
            for _ in range(4)]
    assert np.mean(vals) == pytest.approx(images.W1_FLOOR, abs=0.1)


@pytest.mark.parametrize("name", list(images.IMAGE_PRESETS))
def test_presets_validate_and_round_trip_through_the_url(name):
    cfg = images.IMAGE_PRESETS[name].validate()
    assert cfg.data == "digits" and cfg.loss == "wgan-gp" and name in images.PRESET_LABELS
    assert TrainConfig.from_query(cfg.to_query()) == (cfg, [])


def test_seed_preset_matches_the_seed_notebook():
    c = images.IMAGE_PRESETS["seed"]
    assert (c.lr_c, c.lr_g, c.beta1, c.beta2, c.lam, c.n_critic, c.batch) == (1e-4, 1e-4, 0.5, 0.9, 10.0, 5, 64)


def test_a_short_training_gives_a_digits_snapshot():
    run = Run(images.IMAGE_PRESETS["fast"].replace(seed=1))
    run.step(3)
    snap = run.snapshot(exact=True)
    assert snap["status"] == "ok" and snap["gen_steps"] == 3
    assert snap["fake"].shape == (64, 64) and snap["real"].shape[1] == 64
    assert np.isfinite(snap["fake"]).all() and snap["metrics"]["exact_w1"] > 0
    assert images.quality(images.to_images(snap["fake"]))["n"] == 64
    json.dumps(images.distance_spec(snap["curves"]), allow_nan=False)


def test_chart_specs_are_plain_json_and_drop_unmeasured_points():
    curves = {"gen_step": np.array([1.0, 2.0, 2.0]), "w_estimate": np.array([0.5, 0.4, np.nan]),
              "exact_w1": np.array([np.nan, np.nan, 3.0])}
    spec = images.distance_spec(curves)
    rows = spec["layer"][0]["data"]["values"]
    assert len(rows) == 3 and {r["series"] for r in rows} == {"critic's W estimate", "exact W1 (400 vs 400)"}
    q = images.quality_spec([(0, 0.1), (10, 0.5)])
    assert [r["value"] for r in q["layer"][0]["data"]["values"]] == [0.1, 0.5]
    json.dumps(q, allow_nan=False)
