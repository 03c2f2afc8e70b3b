"""Named bundles of settings that presets and lessons share: networks and tuned hyperparameters.

``SEED_NET`` is the seed notebook's network; ``CLASSROOM`` the fast classroom
WGAN-GP, tuned on 2 CPU cores (how, below). Presets (`wgan_core.presets`) and the
lessons' experiments (`wgan_core.lessons`) build their configs from these, so a
setting is written once.
"""
from __future__ import annotations

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.objectives import OBJECTIVES

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

# The digits network of the Images lesson: MLPs of 2 hidden layers of 128 units, z in R^8, batch 64,
# lambda 10, n_critic 5, Adam betas (0.5, 0.9). Its fast learning rate (2e-3) was tuned on 2 CPU cores
# against widths 128-512, depths 2-3, z 8-16, batch 64-128, lr 1e-4..2e-3 and beta1 0 or 0.5, by
# generator steps to a recognisable share: half of the digits are recognisable after ~1,000 steps and
# ~3/4 after 2,000 (two seeds), at ~2.5x the steps per second of width 256.
DIGITS_NET = dict(loss="wgan-gp", data="digits", width=128, depth=2, act_g="relu", act_c="leaky_relu", z_dim=8,
                  batch=64, optimizer="adam", beta1=0.5, beta2=0.9, n_critic=5, lam=10.0, seed=0)


# --------------------------------------------------------------------------- configs built from these
def reference_config(method: str, data: str, seed: int, clip: float | None = None,
                     lam: float | None = None) -> TrainConfig:
    """The seed notebook's network (width 128, depth 2, batch 64, n_critic 5) with the method's reference
    hyperparameters (`Objective.defaults`, DESIGN.md); ``clip`` and ``lam`` where the method has them."""
    obj = OBJECTIVES[method]
    cfg = TrainConfig(loss=method, data=data, seed=seed, **SEED_NET).replace(**obj.defaults)
    knobs = {k: v for k, v in (("clip", clip), ("lam", lam)) if k in obj.knobs and v is not None}
    return cfg.replace(**knobs)


# Compare's two recipes: how every method's run is set up.
COMPARE_RECIPES = ("classroom", "seed")


def compare_config(method: str, data: str, seed: int, recipe: str) -> TrainConfig:
    """One Compare run: every method shares data, seed, network and batch.

    ``recipe="seed"``: `reference_config` (the seed notebook's network and batch with the method's
    reference optimizer, betas, learning rates, n_critic, clip and lambda, as in the papers).
    ``recipe="classroom"``: the classroom network, batch and learning rates (`CLASSROOM`) with the
    method's optimizer, betas, n_critic and clip, which reach the modes in seconds instead of minutes.
    """
    if recipe not in COMPARE_RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(COMPARE_RECIPES)}")
    if recipe == "seed":
        return reference_config(method, data, seed)
    keep = {k: v for k, v in OBJECTIVES[method].defaults.items() if k not in ("lr_c", "lr_g", "lam")}
    return TrainConfig(data=data, seed=seed, **CLASSROOM).replace(loss=method, **keep)


def recipe_label(recipe: str) -> str:
    """What a Compare recipe sets, read off the configs it makes (so the label cannot drift from them)."""
    cfgs = {m: compare_config(m, "seed3", 0, recipe) for m in OBJECTIVES}
    net = next(iter(cfgs.values()))
    lrs = {(c.lr_c, c.lr_g) for c in cfgs.values()}
    lams = {c.lam for m, c in cfgs.items() if "lam" in OBJECTIVES[m].knobs}
    lr = (f"lr {next(iter(lrs))[0]:g} / {next(iter(lrs))[1]:g}" if len(lrs) == 1 else "each method's lr")
    lam = f", λ {next(iter(lams)):g}" if len(lams) == 1 else ""
    name = {"classroom": "Classroom", "seed": "Seed notebook"}[recipe]
    return f"{name} (width {net.width}, batch {net.batch}, {lr}{lam})"
