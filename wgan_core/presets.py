"""Presets: name -> `Preset`, one click in the app, one flag on the command line.

Each preset is a complete `TrainConfig` and one sentence on what to watch for.
The seed notebook's own settings are kept as presets because the lessons
compare against them; the classroom presets are tuned to cover every mode in
seconds on 2 CPU cores, measured with

    python -m wgan_core train --preset classroom-8g --seed K --seconds 60 --json

(the JSON line's ``covered_at`` and ``hq_at``; benchmarks/engine.py measures
the time to coverage too). The failure demonstrations change one or two knobs
of a working set-up and were checked to show what their sentence says within
about 30 s (seeds 0..4).
"""
from __future__ import annotations

from dataclasses import dataclass

from wgan_core.engine.config import TrainConfig

SEED_NET = dict(width=128, depth=2, act_g="relu", act_c="leaky_relu", z_dim=2, batch=64, n_critic=5)
# The network of the GAN and clipping demonstrations, pinned so that they do not follow TrainConfig's defaults.
DEMO_NET = dict(width=128, depth=2, act_g="relu", act_c="leaky_relu", z_dim=2)

# The fast classroom WGAN-GP. Tuned on 8gaussians (std 0.014: the hard case) over width 32..256,
# depth 2..3, batch 64..512, lr 1e-3..5e-3, betas (0|0.5|0.9, 0.9..0.999), lambda 0.1..1, n_critic
# 1..5, z_dim 2..4, seeds 0..4. What mattered: a small, cheap network (width 64, batch 128, n_critic 2:
# about 10x the generator steps per second of width 128 / batch 256 / n_critic 5) and a critic that
# learns faster than the generator (lr_c 2x lr_g) but takes few steps, so it stays ahead without
# re-fitting every sampling wobble: with n_critic 5 the whole cloud shook by ~0.05 per step (3 std is
# 0.042), modes kept dropping out and the high-quality share stalled near 0.4. lambda 0.3 covered about
# 25 % sooner than 0.1 (the toy script's) and dropped modes less; 1.0 was uneven across seeds.
# Adam beta1 0 or 0.9, beta2 0.99..0.999, batch 64 or 256, n_critic 3 were slower or less steady.
CLASSROOM = dict(loss="wgan-gp", width=64, depth=2, act_g="relu", act_c="leaky_relu", z_dim=2, batch=128,
                 optimizer="adam", lr_c=2e-3, lr_g=1e-3, beta1=0.5, beta2=0.9, n_critic=2, lam=0.3)


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    watch: str
    config: TrainConfig


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("classroom-gp", "Fast WGAN-GP on 3 Gaussians",
           "All three modes fill in within a second while the critic's W estimate falls toward the exact W1; "
           "then both hover near the sampling noise (about 0.3).",
           TrainConfig(data="seed3", **CLASSROOM)),
    Preset("classroom-8g", "Fast WGAN-GP on 8 Gaussians",
           "The generator's sheet stretches to reach all eight modes: modes covered climbs to 8/8 within a few "
           "seconds, and soon most samples sit inside the tight modes.",
           TrainConfig(data="8gaussians", **CLASSROOM)),
    Preset("seed-wgan-gp", "Seed notebook: WGAN-GP",
           "The notebook's settings (Adam 1e-4, lambda 10, batch 64): correct but slow; compare with the fast preset.",
           TrainConfig(loss="wgan-gp", data="seed3", optimizer="adam", lr_c=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9,
                       lam=10.0, **SEED_NET)),
    Preset("seed-wgan-clip", "Seed notebook: WGAN with clipping",
           "RMSprop 5e-5 and clip 0.01, as in the paper: the critic is nearly flat (W estimate ~0.001) and the "
           "samples take about ten times as long as with the fast preset to settle.",
           TrainConfig(loss="wgan-clip", data="seed3", optimizer="rmsprop", lr_c=5e-5, lr_g=5e-5, clip=0.01,
                       **SEED_NET)),
    Preset("gan-collapse", "Vanilla GAN collapsing on 8 Gaussians",
           "A slow discriminator (lr 1e-4) against a fast generator (1e-3): the generator piles onto one or two "
           "modes and hops between them instead of covering all eight.",
           TrainConfig(loss="nsgan", data="8gaussians", optimizer="adam", lr_c=1e-4, lr_g=1e-3, beta1=0.5,
                       beta2=0.999, n_critic=1, batch=256, **DEMO_NET)),
    Preset("clip-large", "Clip too large (c = 1)",
           "With c = 1 the constraint barely binds: the critic's slope grows far past 1 and the W estimate is no bound.",
           TrainConfig(loss="wgan-clip", data="8gaussians", optimizer="rmsprop", lr_c=1e-3, lr_g=1e-3, clip=1.0,
                       n_critic=5, batch=256, **DEMO_NET)),
    Preset("clip-small", "Clip too small (c = 0.001)",
           "Tiny weights make a nearly flat critic (gradient norms of 1e-6 and less): it tells the generator almost "
           "nothing, so after a first spread the exact W1 stalls and no mode is ever covered.",
           TrainConfig(loss="wgan-clip", data="8gaussians", optimizer="rmsprop", lr_c=1e-3, lr_g=1e-3, clip=0.001,
                       n_critic=5, batch=256, **DEMO_NET)),
    Preset("lambda-zero", "No penalty (lambda = 0)",
           "The fast WGAN-GP without its penalty: the critic's slope grows into the thousands and its W estimate "
           "swings wildly, even below zero, so it measures nothing; most runs go unstable.",
           TrainConfig(data="8gaussians", **{**CLASSROOM, "lam": 0.0})),
    Preset("few-critic", "Too few critic steps (n_critic = 1)",
           "One critic step per generator step, at half the generator's learning rate: for about ten seconds the "
           "critic lags, its W estimate swings below zero and it scatters the samples, then it catches up.",
           TrainConfig(data="8gaussians", **{**CLASSROOM, "n_critic": 1, "lr_c": 5e-4})),
]}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
