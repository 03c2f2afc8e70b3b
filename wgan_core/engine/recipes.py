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


# The tuned settings: what a user who names only the data set (and perhaps the objective) gets on the
# command line, in Train live ("Tuned settings") and in Compare (recipe "tuned"); explicit settings win.
# Tuned for 2 CPU cores and 30 s on 8gaussians, 25gaussians and seed3 (5 seeds each, raw generator and its
# average both measured by modes covered and high-quality share), starting from CLASSROOM. What moved the
# numbers: averaging the generator's weights (ema 0.99; Yazici et al. 2019) raised the high-quality share
# at equal steps from ~0.80 to ~0.95 on both mixtures and took 25gaussians from 22-24 to 25/25 modes, because
# the raw generator keeps jittering around the tight modes by more than their 3-std radius; with the average
# in place a faster, momentum-free Adam (lr 3e-3 / 1.5e-3, beta1 0) covered 25gaussians in about half the
# steps. One setting served all three mixtures; per-set variants (lr, lambda 0.1..1, n_critic 1..5) did not
# beat it. WGAN-LP takes WGAN-GP's; the GANs take the DCGAN Adam (1e-3, betas 0.5 / 0.999, one critic
# step); spectral norm Adam 2e-3 / 1e-3 with beta1 0. WGAN-clip: RMSprop 5e-4 with c = 0.3 and five critic
# steps, the best of c in 0.01..1, RMSprop 5e-4..2e-3 or Adam (8,000 steps on 8gaussians: 8/8 and 60 %
# high quality where c = 0.05 gave 36 %; 16,000 on 25gaussians: 20/25 where c = 0.05 covered none; with
# Adam or c <= 0.1 the width-64 critic stayed too flat to guide the generator). It remains the slowest.
# benchmarks/literature.py measures every one of them over 10 seeds against the published tables.
TUNED_NET = dict(width=64, depth=2, act_g="relu", act_c="leaky_relu", z_dim=2, batch=128)
_GP = dict(optimizer="adam", lr_c=3e-3, lr_g=1.5e-3, beta1=0.0, beta2=0.9, n_critic=2, lam=0.3, ema=0.99)
_GAN = dict(optimizer="adam", lr_c=1e-3, lr_g=1e-3, beta1=0.5, beta2=0.999, n_critic=1, ema=0.99)
TUNED = {
    "gan": _GAN,
    "nsgan": _GAN,
    "wgan-clip": dict(optimizer="rmsprop", lr_c=5e-4, lr_g=5e-4, clip=0.3, n_critic=5, ema=0.99),
    "wgan-gp": _GP,
    "wgan-lp": _GP,
    "sngan": dict(optimizer="adam", lr_c=2e-3, lr_g=1e-3, beta1=0.0, beta2=0.9, n_critic=2, ema=0.99),
    "ot": dict(optimizer="adam", lr_c=1e-3, lr_g=1.5e-3, beta1=0.0, beta2=0.9, n_critic=1, ema=0.99),
}
# The images: the digits network at its fast rate; MNIST widened to 256 units and z in R^16 (presets.py
# says how each was tuned).
TUNED_IMAGES = {"digits": dict(DIGITS_NET, lr_c=2e-3, lr_g=2e-3),
                "mnist": dict(DIGITS_NET, lr_c=2e-3, lr_g=2e-3, data="mnist", width=256, z_dim=16)}


def tuned_config(loss: str = "wgan-gp", data: str = "seed3", seed: int = 0) -> TrainConfig:
    """The tuned settings for ``loss`` on ``data`` (`TUNED`, or `TUNED_IMAGES` for the digits and MNIST)."""
    if loss not in OBJECTIVES:
        raise ValueError(f"unknown objective {loss!r}; choose from {', '.join(OBJECTIVES)}")
    if data in TUNED_IMAGES:
        return TrainConfig(**TUNED_IMAGES[data]).replace(loss=loss, seed=seed)
    return TrainConfig(loss=loss, data=data, seed=seed, **TUNED_NET, **TUNED[loss])


# --------------------------------------------------------------------------- configs built from these
def reference_config(method: str, data: str, seed: int, clip: float | None = None,
                     lam: float | None = None) -> TrainConfig:
    """The seed notebook's network (width 128, depth 2, batch 64, n_critic 5) with the method's reference
    hyperparameters (`Objective.defaults`, DESIGN.md); ``clip`` and ``lam`` where the method has them."""
    obj = OBJECTIVES[method]
    cfg = TrainConfig(loss=method, data=data, seed=seed, **SEED_NET).replace(**obj.defaults)
    knobs = {k: v for k, v in (("clip", clip), ("lam", lam)) if k in obj.knobs and v is not None}
    return cfg.replace(**knobs)


# Compare's recipes: how every method's run is set up.
COMPARE_RECIPES = ("tuned", "classroom", "seed")


def compare_config(method: str, data: str, seed: int, recipe: str) -> TrainConfig:
    """One Compare run: every method shares data, seed, network and batch.

    ``recipe="seed"``: `reference_config` (the seed notebook's network and batch with the method's
    reference optimizer, betas, learning rates, n_critic, clip and lambda, as in the papers).
    ``recipe="tuned"``: each method's tuned settings (`tuned_config`: its own optimizer and rates, one
    network and batch, the generator's average shown).
    ``recipe="classroom"``: the classroom network, batch and learning rates (`CLASSROOM`) with the
    method's optimizer, betas, n_critic and clip, which reach the modes in seconds instead of minutes.
    """
    if recipe not in COMPARE_RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(COMPARE_RECIPES)}")
    if recipe == "seed":
        return reference_config(method, data, seed)
    if recipe == "tuned":
        return tuned_config(method, data, seed)
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
    name = {"tuned": "Tuned", "classroom": "Classroom", "seed": "Seed notebook"}[recipe]
    ema = {c.ema for c in cfgs.values()}
    avg = f", average {next(iter(ema)):g}" if ema != {0.0} and len(ema) == 1 else ""
    return f"{name} (width {net.width}, batch {net.batch}, {lr}{lam}{avg})"
