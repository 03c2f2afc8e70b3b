"""Data sets: name -> sampler registry, each a `Dataset` drawing from a torch.Generator.

Every sampler has one signature, ``sample(n, gen) -> (n, dim) float32 tensor``,
so a run's data are reproducible from its seed alone. Mixtures also carry their
mode centres and per-coordinate std, which define the quality metrics
(DESIGN.md): a generated sample is *high quality* when it lies within 3 std of
its nearest centre; a mode is *covered* when at least 1 % of the generated
samples are high-quality samples near it.

Definitions follow the seed notebook (seed3) and the WGAN-GP paper's toy script
(8gaussians, 25gaussians, swissroll).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

Sampler = Callable[[int, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    sample: Sampler
    dim: int = 2
    centers: np.ndarray | None = None          # (K, dim) mode centres, mixtures only
    std: float | None = None                   # per-coordinate std of each mode
    extent: tuple[float, float, float, float] | None = None   # fixed axes (xmin, xmax, ymin, ymax)
    # pictures only: generated rows (n, dim) -> (n, side, side) in [0, 1] (0 paper, 1 ink), for the live view
    pictures: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def has_modes(self) -> bool:
        return self.centers is not None


def _mixture(centers: np.ndarray, std: float) -> Sampler:
    """x = c_k + std * noise, k uniform over the centres (four tensor operations: this runs every step)."""
    c = torch.as_tensor(centers, dtype=torch.float32)
    on: dict[torch.device, torch.Tensor] = {c.device: c}

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        dev = gen.device
        cd = on.get(dev)
        if cd is None:
            cd = on[dev] = c.to(dev)
        idx = torch.randint(len(c), (n,), generator=gen, device=dev)
        noise = torch.randn(n, c.shape[1], generator=gen, device=dev)
        return torch.index_select(cd, 0, idx).add_(noise, alpha=std)      # (n, 2)
    return sample


def _square(cx: float, cy: float, half: float) -> tuple[float, float, float, float]:
    return (cx - half, cx + half, cy - half, cy + half)


SEED3_CENTERS = np.array([[0.0, 0.0], [3.0, 3.0], [-2.0, 3.0]])
_UNIT8 = np.array([[1, 0], [-1, 0], [0, 1], [0, -1],
                   [1 / math.sqrt(2), 1 / math.sqrt(2)], [1 / math.sqrt(2), -1 / math.sqrt(2)],
                   [-1 / math.sqrt(2), 1 / math.sqrt(2)], [-1 / math.sqrt(2), -1 / math.sqrt(2)]])
EIGHT_CENTERS = 2.0 * _UNIT8 / 1.414
TWENTYFIVE_CENTERS = np.array([[2.0 * i, 2.0 * j] for i in range(-2, 3) for j in range(-2, 3)]) / 2.828


def _swissroll(n: int, gen: torch.Generator) -> torch.Tensor:
    """x and z of sklearn's swiss roll (t = 1.5 pi (1 + 2u)), noise 0.25, divided by 7.5."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=gen, device=gen.device))
    xy = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    return (xy + 0.25 * torch.randn(n, 2, generator=gen, device=gen.device)) / 7.5


def _ring(n: int, gen: torch.Generator) -> torch.Tensor:
    """A circle of radius 1.5 with radial noise 0.05: one connected support, no modes."""
    a = 2 * math.pi * torch.rand(n, generator=gen, device=gen.device)
    r = 1.5 + 0.05 * torch.randn(n, generator=gen, device=gen.device)
    return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)


def _moons(n: int, gen: torch.Generator) -> torch.Tensor:
    """Two interleaved half circles (sklearn's make_moons), noise 0.05, centred and scaled by 1.5."""
    t = math.pi * torch.rand(n, generator=gen, device=gen.device)
    upper = torch.rand(n, generator=gen, device=gen.device) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    xy = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.5
    return xy + 0.05 * torch.randn(n, 2, generator=gen, device=gen.device)


DATASETS: dict[str, Dataset] = {
    "seed3": Dataset("seed3", "3 Gaussians (seed notebook)", _mixture(SEED3_CENTERS, 0.5),
                     centers=SEED3_CENTERS, std=0.5, extent=_square(0.5, 2.0, 4.5)),
    "8gaussians": Dataset("8gaussians", "8 Gaussians on a ring", _mixture(EIGHT_CENTERS, 0.02 / 1.414),
                          centers=EIGHT_CENTERS, std=0.02 / 1.414, extent=_square(0, 0, 2.0)),
    "25gaussians": Dataset("25gaussians", "25 Gaussians on a grid", _mixture(TWENTYFIVE_CENTERS, 0.05 / 2.828),
                           centers=TWENTYFIVE_CENTERS, std=0.05 / 2.828, extent=_square(0, 0, 2.0)),
    "swissroll": Dataset("swissroll", "Swiss roll", _swissroll, extent=_square(0, 0, 2.4)),
    "ring": Dataset("ring", "Ring", _ring, extent=_square(0, 0, 2.2)),
    "moons": Dataset("moons", "Two moons", _moons, extent=_square(0, 0, 2.6)),
}


def to_pictures(vectors) -> np.ndarray:
    """(N, side^2) vectors with pixels in [-1, 1] -> (N, side, side) pictures in [0, 1] (0 paper, 1 ink; clipped:
    the generator is unbounded; not finite: paper)."""
    x = np.asarray(vectors, dtype=np.float32)
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if x.ndim != 2 or side < 2 or side * side != x.shape[1]:
        raise ValueError(f"pictures need (N, side^2) vectors, a square number of pixels; got shape {x.shape}")
    return np.clip((np.nan_to_num(x, nan=-1.0) + 1) / 2, 0, 1).reshape(len(x), side, side)


def from_points(points: np.ndarray, name: str = "custom", label: str = "Your data", pixels: bool = False) -> Dataset:
    """A data set that resamples (with replacement) from a user's (N, d) array, standardised.

    The points are centred and divided by their overall standard deviation, so
    the same learning rates work as for the built-in sets. ``pixels``: the rows
    are square pictures with pixels 0..255 (MNIST); the data set then maps
    generated rows back to pictures (`Dataset.pictures`).
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or not np.isfinite(x).all():
        raise ValueError("points must be a finite (N, d) array with N >= 2")
    mean = x.mean(0)
    x = x - mean
    s = max(float(x.std()), 1e-8)
    x = x / s                                               # centre first, then scale (offsets do not shrink)
    pictures = None
    if pixels:
        to_pictures(np.zeros((1, x.shape[1])))             # a square number of pixels, or a plain error now

        def pictures(v: np.ndarray) -> np.ndarray:        # back to pixels 0..255, then to [-1, 1]
            return to_pictures((np.asarray(v, dtype=np.float64) * s + mean) * (2 / 255) - 1)
    data = torch.as_tensor(x, dtype=torch.float32)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(data), (n,), generator=gen, device=gen.device)
        return data.to(gen.device)[idx]

    extent = None
    if x.shape[1] == 2:
        lo, hi = x.min(0), x.max(0)
        c, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * 1.15 + 0.1
        extent = _square(float(c[0]), float(c[1]), half)
    return Dataset(name, label, sample, dim=x.shape[1], extent=extent, pictures=pictures)


@functools.lru_cache(maxsize=1)
def digits() -> Dataset:
    """scikit-learn's 8x8 handwritten digits (shipped in assets/), as 64-d vectors in [-1, 1]."""
    path = Path(__file__).resolve().parents[2] / "assets" / "digits.npz"
    images = np.load(path)["images"].astype(np.float32) / 16.0            # (1797, 8, 8) in [0, 1]
    data = torch.as_tensor(images.reshape(len(images), 64) * 2 - 1)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(data), (n,), generator=gen, device=gen.device)
        return data.to(gen.device)[idx]
    return Dataset("digits", "Handwritten digits 8x8", sample, dim=64, pictures=to_pictures)


def mnist() -> Dataset:
    """MNIST is never shipped nor downloaded: a run on it is given the user's pictures as points
    (`wgan_core.files.mnist`: ``Run(config, dataset=from_points(pixels))``), so the name alone cannot build it."""
    raise ValueError("MNIST trains on the pictures you give it (an upload on the Images page, or the file "
                     "named by EARTHMOVER_MNIST), so it cannot be made from its name alone.")


# Data sets loaded from files on first use, by name (the image sets of the Images lesson). "mnist" is
# registered so that a config may name it; its pictures always travel with the run (see `mnist`).
LOADED: dict[str, Callable[[], Dataset]] = {"digits": digits, "mnist": mnist}
CUSTOM = "custom"              # the user's own points: `from_points`, never built by name


def names() -> tuple[str, ...]:
    """Every data set a config may name: the 2D sets, the loaded ones, and the user's own points."""
    return (*DATASETS, *LOADED, CUSTOM)


def get(name: str) -> Dataset:
    if name in LOADED:
        return LOADED[name]()
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[name]
