"""Precision and recall of a run on a finite point set (drawn or uploaded): the real set is sampled with
replacement, so its evaluation sample repeats points; the k-NN balls are those of the distinct points."""
import numpy as np
import pytest
import torch
from test_honest_numbers import _brute_pr as brute_pr

from wgan_core.engine import datasets
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.metrics_quality import precision_recall
from wgan_core.engine.models import Net
from wgan_core.engine.trainer import Run

SMALL = dict(width=32, depth=2, batch=64, seed=0)


def clouds(n_per: int = 8, seed: int = 0) -> np.ndarray:
    """Five small clouds, as five clicks on the drawing pad make (40 points)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.3, 0.3], [0.7, 0.3], [0.5, 0.75], [0.33, 0.27], [0.68, 0.33]])
    return np.concatenate([c + rng.normal(0, 0.02, (n_per, 2)) for c in centres])


def fake_of(r: Run) -> np.ndarray:
    with torch.no_grad():
        return Net(r.g_spec, r.g_flat)(r.z_eval[None])[0].double().numpy()


def test_a_generator_on_the_drawn_points_has_precision_against_the_distinct_points():
    pts = clouds()
    ds = datasets.from_points(pts, "custom", "drawn")
    r = Run(TrainConfig(data="custom", **SMALL), device="cpu", dataset=ds)
    real = r.real_eval.double().numpy()
    assert len(np.unique(real, axis=0)) == len(pts) < len(real)          # 2,500 draws of 40 points
    # a generator that has learnt the set: the drawn points themselves, a little blurred
    rng = np.random.default_rng(1)
    fake = real[rng.integers(len(real), size=len(real))] + rng.normal(0, 0.01, real.shape)
    side_real = np.unique(real, axis=0)
    p, rec = precision_recall(side_real, fake)
    assert (p, rec) == pytest.approx(brute_pr(side_real, fake), abs=1e-12)
    assert p > 0.9 and rec == 1.0                                         # with the repeats, p was 0
    assert brute_pr(real, fake)[0] == 0.0                                 # (the repeats' balls have radius 0)


def test_a_run_on_drawn_points_reports_precision_and_recall_against_its_distinct_points():
    pts = clouds()
    r = Run(TrainConfig(data="custom", **SMALL), device="cpu", dataset=datasets.from_points(pts, "custom", "drawn"))
    r.step(300)
    m = r.snapshot(exact=True)["metrics"]
    want = brute_pr(np.unique(r.real_eval.double().numpy(), axis=0), fake_of(r))
    assert (m["precision"], m["recall"]) == pytest.approx(want, abs=1e-12)
    assert m["precision"] > 0.05                                          # a few hundred steps in: not 0


def test_a_set_of_too_few_distinct_points_has_no_precision():
    pts = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 5, axis=0)
    r = Run(TrainConfig(data="custom", **SMALL), device="cpu", dataset=datasets.from_points(pts, "custom", "3"))
    m = r.snapshot(exact=True)["metrics"]
    assert m["precision"] is None and m["recall"] is None
