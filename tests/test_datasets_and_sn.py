"""The data sets against their definitions (the seed notebook, the WGAN-GP toy script), and spectral norm at start."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wgan_core.engine import datasets
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import Net
from wgan_core.engine.trainer import Run

torch.set_num_threads(1)


def _mode_stats(ds: datasets.Dataset, n: int = 20000):
    x = ds.sample(n, torch.Generator().manual_seed(0)).numpy().astype(np.float64)
    c = np.asarray(ds.centers)
    k = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), 1)
    resid = x - c[k]
    return np.bincount(k, minlength=len(c)) / n, resid.std(0)


def test_eight_and_twentyfive_gaussians_follow_the_wgan_gp_toy_script():
    eight = datasets.get("8gaussians")
    s = 1 / math.sqrt(2)
    unit = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [s, -s], [-s, s], [-s, -s]])
    np.testing.assert_allclose(eight.centers, 2 * unit / 1.414)
    np.testing.assert_allclose(np.linalg.norm(eight.centers, axis=1), 2 / 1.414)
    assert eight.std == pytest.approx(0.02 / 1.414)
    grid = np.array([[2 * i, 2 * j] for i in range(-2, 3) for j in range(-2, 3)]) / 2.828
    twentyfive = datasets.get("25gaussians")
    np.testing.assert_allclose(twentyfive.centers, grid)
    assert twentyfive.std == pytest.approx(0.05 / 2.828)
    for ds in (eight, twentyfive):
        share, std = _mode_stats(ds)
        K = len(ds.centers)
        np.testing.assert_allclose(share, 1 / K, rtol=0.15)
        np.testing.assert_allclose(std, ds.std, rtol=0.05)


def test_seed3_matches_the_seed_notebook():
    ds = datasets.get("seed3")
    np.testing.assert_allclose(ds.centers, [[0, 0], [3, 3], [-2, 3]])
    assert ds.std == 0.5
    share, std = _mode_stats(ds)
    np.testing.assert_allclose(share, 1 / 3, rtol=0.05)
    np.testing.assert_allclose(std, 0.5, rtol=0.05)
    x = ds.sample(30000, torch.Generator().manual_seed(1)).numpy()
    np.testing.assert_allclose(x.mean(0), [1 / 3, 2.0], atol=0.05)


@pytest.mark.parametrize("width", [16, 128])
def test_spectral_norm_starts_at_slope_one(width):
    """Every layer of a fresh SN-GAN critic has largest singular value 1 (exact SVD), not only after
    training has run the power iteration for a while."""
    r = Run(TrainConfig(loss="sngan", width=width, data="8gaussians"), device="cpu")
    net = Net(r.c_spec, r.c_flat, spectral=True, u=[u.clone() for u in r.sn_u])
    with torch.no_grad():
        sigmas = [float(torch.linalg.matrix_norm(w[0], ord=2)) for w, _ in net.weights(update_u=False)]
    assert sigmas == pytest.approx([1.0] * len(sigmas), abs=0.02)
