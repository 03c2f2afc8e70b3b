"""Presets: name -> `Preset`, one click in the app, one flag on the command line.

Each preset is a complete `TrainConfig` and one sentence on what to watch for.
The seed notebook's own settings are kept as presets because the lessons
compare against them; the classroom presets are tuned to cover every mode in
seconds on 2 CPU cores (benchmarks/engine.py measures their time to coverage).
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig

SEED_NET = dict(width=128, depth=2, act_g="relu", act_c="leaky_relu", z_dim=2, batch=64, n_critic=5)


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    watch: str
    config: TrainConfig


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("classroom-gp", "Fast WGAN-GP on 3 Gaussians",
           "All three modes fill in within seconds while the W estimate falls toward the exact W1.",
           TrainConfig(loss="wgan-gp", data="seed3", batch=256, lr_c=1e-3, lr_g=1e-3, lam=0.1)),
    Preset("classroom-8g", "Fast WGAN-GP on 8 Gaussians",
           "The generator's sheet stretches to reach all eight modes; watch modes covered climb to 8/8.",
           TrainConfig(loss="wgan-gp", data="8gaussians", batch=256, lr_c=1e-3, lr_g=1e-3, lam=0.1)),
    Preset("seed-wgan-gp", "Seed notebook: WGAN-GP",
           "The notebook's settings (Adam 1e-4, lambda 10, batch 64): correct but slow; compare with the fast preset.",
           TrainConfig(loss="wgan-gp", data="seed3", optimizer="adam", lr_c=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9,
                       lam=10.0, **SEED_NET)),
    Preset("seed-wgan-clip", "Seed notebook: WGAN with clipping",
           "RMSprop 5e-5 and clip 0.01, as in the paper: the critic is flat and learning crawls.",
           TrainConfig(loss="wgan-clip", data="seed3", optimizer="rmsprop", lr_c=5e-5, lr_g=5e-5, clip=0.01,
                       **SEED_NET)),
    Preset("gan-collapse", "Vanilla GAN collapsing on 8 Gaussians",
           "A slow discriminator (lr 1e-4) against a fast generator (1e-3): the generator piles onto one or two "
           "modes and hops between them instead of covering all eight.",
           TrainConfig(loss="nsgan", data="8gaussians", optimizer="adam", lr_c=1e-4, lr_g=1e-3, beta1=0.5,
                       beta2=0.999, n_critic=1, batch=256)),
    Preset("clip-large", "Clip too large (c = 1)",
           "With c = 1 the constraint barely binds: the critic's slope grows far past 1 and the W estimate is no bound.",
           TrainConfig(loss="wgan-clip", data="8gaussians", optimizer="rmsprop", lr_c=1e-3, lr_g=1e-3, clip=1.0,
                       batch=256)),
    Preset("clip-small", "Clip too small (c = 0.001)",
           "Tiny weights make a nearly constant critic: its gradients vanish and the generator barely moves.",
           TrainConfig(loss="wgan-clip", data="8gaussians", optimizer="rmsprop", lr_c=1e-3, lr_g=1e-3, clip=0.001,
                       batch=256)),
    Preset("lambda-zero", "No penalty (lambda = 0)",
           "Without a Lipschitz constraint the critic's values and gradients blow up and training turns unstable.",
           TrainConfig(loss="wgan-gp", data="8gaussians", batch=256, lr_c=1e-3, lr_g=1e-3, lam=0.0)),
    Preset("few-critic", "Too few critic steps (n_critic = 1)",
           "The critic never catches up with the generator, so its W estimate and its push are unreliable.",
           TrainConfig(loss="wgan-gp", data="8gaussians", batch=256, lr_c=1e-3, lr_g=1e-3, lam=0.1, n_critic=1)),
]}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
