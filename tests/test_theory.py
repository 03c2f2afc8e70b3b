"""wgan_core.lessons.theory: closed forms against quadrature, samples and independent discretisations."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm, wasserstein_distance

from wgan_core.lessons.push1d import (
    gan_generator_grad_1d,
    gan_push_1d,
    optimal_critic_1d,
    optimal_discriminator,
    wgan_push_1d,
)
from wgan_core.lessons.theory import js_gaussians_1d, parallel_lines, parallel_lines_numeric, w1_gaussians_1d

LOG2 = math.log(2.0)
GAUSSIAN_PAIRS = [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 3.0, 1.0), (0.0, 1.0, 0.5, 2.0), (-1.0, 0.3, 2.0, 1.7),
                  (1.0, 2.0, 1.0, 0.5), (0.0, 1.0, 0.0, 0.0)]


# --------------------------------------------------------------------------- W1 of Gaussians
@pytest.mark.parametrize("mu1, s1, mu2, s2", GAUSSIAN_PAIRS[:-1])
def test_w1_gaussians_matches_area_between_cdfs(mu1, s1, mu2, s2):
    lo = min(mu1 - 12 * s1, mu2 - 12 * s2)
    hi = max(mu1 + 12 * s1, mu2 + 12 * s2)
    area, _ = integrate.quad(lambda x: abs(norm.cdf(x, mu1, s1) - norm.cdf(x, mu2, s2)), lo, hi,
                             points=[mu1, mu2], limit=500, epsabs=1e-12)
    assert w1_gaussians_1d(mu1, s1, mu2, s2) == pytest.approx(area, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("mu1, s1, mu2, s2", GAUSSIAN_PAIRS[1:4])
def test_w1_gaussians_matches_scipy_on_samples(mu1, s1, mu2, s2):
    rng = np.random.default_rng(0)
    x, y = rng.normal(mu1, s1, 200_000), rng.normal(mu2, s2, 200_000)
    assert w1_gaussians_1d(mu1, s1, mu2, s2) == pytest.approx(wasserstein_distance(x, y), rel=0.02)


def test_w1_gaussians_special_cases():
    assert w1_gaussians_1d(0, 1, 2.5, 1) == pytest.approx(2.5)             # pure shift
    assert w1_gaussians_1d(0, 1, 0, 3) == pytest.approx(2 * math.sqrt(2 / math.pi))  # E|2 Z|
    assert w1_gaussians_1d(0, 0, 0, 1) == pytest.approx(math.sqrt(2 / math.pi))     # point mass vs N(0, 1)
    assert w1_gaussians_1d(0.3, 1.2, -1.0, 0.4) == pytest.approx(w1_gaussians_1d(-1.0, 0.4, 0.3, 1.2))
    with pytest.raises(ValueError):
        w1_gaussians_1d(0, -1, 0, 1)


# --------------------------------------------------------------------------- parallel lines
def test_parallel_lines_closed_form_values():
    out = parallel_lines(0.7)
    assert out == {"js": pytest.approx(LOG2), "kl": math.inf, "tv": 1.0, "w1": pytest.approx(0.7)}
    assert parallel_lines(0.0) == {"js": 0.0, "kl": 0.0, "tv": 0.0, "w1": 0.0}
    assert all(isinstance(v, float) for v in out.values())


def test_parallel_lines_is_vectorised():
    theta = np.array([-1.0, -0.01, 0.0, 0.5])
    out = parallel_lines(theta)
    assert out["w1"].tolist() == [1.0, 0.01, 0.0, 0.5]
    assert np.allclose(out["js"], [LOG2, LOG2, 0.0, LOG2])
    assert out["tv"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert np.isinf(out["kl"][[0, 1, 3]]).all() and out["kl"][2] == 0.0
    assert parallel_lines(np.zeros((2, 3)))["js"].shape == (2, 3)


@pytest.mark.parametrize("theta", [-1.0, -0.3, 0.05, 0.5, 2.0])
def test_parallel_lines_closed_form_agrees_with_discretisation(theta):
    closed, numeric = parallel_lines(theta), parallel_lines_numeric(theta, n=400, cell=0.01, seed=1)
    assert numeric["js"] == pytest.approx(closed["js"], rel=1e-12)
    assert numeric["tv"] == pytest.approx(closed["tv"], rel=1e-12)
    assert numeric["kl"] == closed["kl"] == math.inf
    # exact W1 of 400 samples per segment: |theta| plus a sampling error of order 1/sqrt(n)
    assert closed["w1"] <= numeric["w1"] + 1e-9
    assert numeric["w1"] == pytest.approx(closed["w1"], abs=0.05)


def test_parallel_lines_numeric_at_zero():
    numeric = parallel_lines_numeric(0.0, n=400, seed=1)
    assert numeric["js"] == numeric["tv"] == numeric["kl"] == 0.0
    assert numeric["w1"] < 0.05                            # two samples of the same segment


# --------------------------------------------------------------------------- discriminator vs critic
def test_optimal_discriminator_values():
    d = optimal_discriminator([1.0, 0.0, 0.0, 3.0], [1.0, 2.0, 0.0, 1.0])
    assert d.tolist() == [0.5, 0.0, 0.5, 0.75]
    with pytest.raises(ValueError):
        optimal_discriminator([-1.0], [1.0])


def test_gan_generator_grad_matches_finite_differences():
    mu_r, mu_f, s = 0.0, 2.0, 0.8
    x = np.linspace(-2.0, 5.0, 15)

    def log_one_minus_d(t):
        p, q = norm.pdf(t, mu_r, s), norm.pdf(t, mu_f, s)
        return np.log(1.0 - optimal_discriminator(p, q))

    h = 1e-5
    fd = (log_one_minus_d(x + h) - log_one_minus_d(x - h)) / (2 * h)
    assert np.allclose(gan_generator_grad_1d(mu_r, mu_f, s, x), np.abs(fd), rtol=1e-6, atol=1e-9)


def test_gan_push_matches_monte_carlo():
    rng = np.random.default_rng(0)
    for m in (0.5, 2.0, 4.0):
        fake = rng.normal(m, 1.0, 400_000)
        mc = gan_generator_grad_1d(0.0, m, 1.0, fake).mean()
        assert gan_push_1d(0.0, m, 1.0) == pytest.approx(mc, rel=0.01)


def test_gan_push_vanishes_as_the_gaussians_separate_while_wgan_push_stays_1():
    s = 1.0
    ms = np.arange(2.0, 21.0, 1.0)
    gan = np.array([gan_push_1d(0.0, m, s) for m in ms])
    assert np.all(np.diff(gan) < 0)                         # past the peak (~1.6 s) it only falls
    assert gan_push_1d(0.0, 10.0, s) < 1e-5
    assert gan_push_1d(0.0, 20.0, s) < 1e-20               # numerically ~2.4e-22
    assert [wgan_push_1d(0.0, m, s) for m in ms] == [1.0] * len(ms)
    assert gan_push_1d(0.0, 0.0, s) == wgan_push_1d(0.0, 0.0, s) == 0.0


def test_gan_push_depends_on_distance_in_units_of_s():
    # push(m, s) = push(m / s, 1) / s: the same picture at every scale.
    assert gan_push_1d(1.0, 7.0, 2.0) == pytest.approx(gan_push_1d(0.0, 3.0, 1.0) / 2.0, rel=1e-8)
    assert gan_push_1d(0.0, -3.0, 1.0) == pytest.approx(gan_push_1d(0.0, 3.0, 1.0), rel=1e-10)


def test_optimal_critic_attains_w1_with_slope_one():
    rng = np.random.default_rng(0)
    z = rng.normal(size=100_000)
    for m in (-2.0, 0.5, 6.0):
        real, fake = 1.0 + 0.7 * z, 1.0 + m + 0.7 * z          # translated copies
        gap = optimal_critic_1d(real, 1.0, 1.0 + m).mean() - optimal_critic_1d(fake, 1.0, 1.0 + m).mean()
        assert gap == pytest.approx(w1_gaussians_1d(1.0, 0.7, 1.0 + m, 0.7), rel=1e-9)
        slope = np.diff(optimal_critic_1d([0.0, 1.0], 1.0, 1.0 + m))[0]
        assert abs(slope) == 1.0


# --------------------------------------------------------------------------- JS of Gaussians
def test_js_gaussians_zero_symmetric_and_saturating():
    assert js_gaussians_1d(0.3, 1.2, 0.3, 1.2) == pytest.approx(0.0, abs=1e-12)
    assert js_gaussians_1d(0, 1, 1, 3) == pytest.approx(js_gaussians_1d(1, 3, 0, 1), rel=1e-10)
    values = [js_gaussians_1d(0, 1, m, 1) for m in (0.5, 1, 2, 4, 8, 16)]
    assert np.all(np.diff(values) > 0)
    assert 0 < values[0] < values[-1] <= LOG2
    assert values[-1] == pytest.approx(LOG2, abs=1e-12)


@pytest.mark.parametrize("mu1, s1, mu2, s2", [(0.0, 1.0, 1.0, 1.0), (0.0, 1.0, 0.5, 2.0), (-1.0, 0.3, 2.0, 1.7)])
def test_js_gaussians_matches_scipy_on_a_fine_grid(mu1, s1, mu2, s2):
    x = np.linspace(min(mu1 - 12 * s1, mu2 - 12 * s2), max(mu1 + 12 * s1, mu2 + 12 * s2), 200_001)
    p, q = norm.pdf(x, mu1, s1), norm.pdf(x, mu2, s2)
    grid_js = jensenshannon(p, q) ** 2                      # scipy returns the JS *distance* (its root)
    assert js_gaussians_1d(mu1, s1, mu2, s2) == pytest.approx(grid_js, rel=1e-5)


def test_the_push_sentence_follows_the_sliders_and_quotes_the_computed_ratio():
    """At m = 0 nothing is pushed; at the default m = 3, s = 1 the GAN still gets ~30 % of the WGAN's push
    (not a vanished gradient); the sentence's thresholds are where the ratio really crosses 5 % and 1 %."""
    from wgan_core.lessons.push1d import distance_for_ratio, push_ratio, push_story
    assert "neither generator is pushed" in push_story(0.0, 1.0)
    r = gan_push_1d(0.0, 3.0, 1.0) / wgan_push_1d(0.0, 3.0, 1.0)
    assert 0.25 < r < 0.35 and f"**{r:.0%}**" in push_story(3.0, 1.0) and "not yet vanished" in push_story(3.0, 1.0)
    five, one = distance_for_ratio(0.05, 1.0), distance_for_ratio(0.01, 1.0)
    assert push_ratio(five, 1.0) == pytest.approx(0.05, rel=1e-3) and push_ratio(one, 1.0) == pytest.approx(0.01, rel=1e-3)
    assert push_ratio(five + 0.5, 1.0) < 0.05 < push_ratio(five - 0.5, 1.0)
    assert "vanishing gradient" in push_story(7.0, 1.0) and "vanishing" not in push_story(2.0, 1.0)
    assert f"{five:.1f}" in push_story(2.0, 1.0)
