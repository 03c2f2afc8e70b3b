r"""The sensitivity grid (issue #17): is a WGAN really less sensitive to its settings than a GAN?

A *grid* trains one run per cell: a learning rate (the same for both networks) times
n_critic (critic steps per generator step), for a vanilla GAN and two WGANs, on one
mixture of Gaussians, from one seed. Every cell uses the classroom network (width 64,
batch 128) with its objective's own optimizer, betas, clip and lambda
(`recipes.compare_config`, recipe "classroom"); only ``lr_c = lr_g`` and ``n_critic``
vary. Those are live fields, so the runs of one objective share a stack
(`trainer.stack_key`) and train together, each bit-identical to the same run trained
alone (tests/test_grid.py). Each cell trains a fixed budget of generator steps, then
stops; its outcome is read from its snapshot:

- modes covered (of the mixture's K), the high-quality share (`metrics.mode_stats`:
  a sample within 3 std of its nearest centre; a mode is covered by >= 1 % of 2,500
  samples),
- the exact W1 of 400 generated vs 400 real points against its floor [p5, p95], the
  band where a perfect generator's value falls (`metrics_floor`).

Where the fact sheet says WGAN "is less sensitive to hyperparameters" (and, in the same
list, that it "requires careful tuning"), the grid counts, per objective, the settings
that worked: covered at least 3/4 of the K modes, and all K (`counts`), and says what
that shows (`sentence`): computed from the runs, not from the claim.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from wgan_core.engine import recipes
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.trainer import Run, snapshot_many, stack_key, train
from wgan_core.engine.views import last_measured

METHODS = ("nsgan", "wgan-clip", "wgan-gp")        # a GAN and two WGANs (never a critic-free objective)
LRS = (2e-4, 5e-4, 1e-3, 2e-3)                     # learning rate of both networks
N_CRITICS = (1, 2, 5)                              # critic steps per generator step
STEPS = 2000                                       # generator steps per cell
DATA = ("8gaussians", "25gaussians", "seed3")      # the mixtures (data with modes)
COLOURS = {"modes": "modes covered", "hq": "high-quality share", "w1": "W1 above its floor"}
W1_DECADE = 10.0                                   # colour "w1": 0 at W1 = this many times the floor's top
MOST = 0.75                                        # a setting "works" when it covers at least 3/4 of the modes
TIE = 1                                            # counts within one setting of each other: about as sensitive
SHORT = {"nsgan": "the GAN", "gan": "the GAN"}     # how the sentence names a method (else its short label)
# The whole default grid (36 runs x 2,000 steps, 8gaussians, seed 0), measured 2026-12-03 on the 2-core
# machine with other work on it: `python benchmarks/sensitivity.py --pool` (the app's worker, nothing else on
# the server) 282 s at load average 4.5; `python benchmarks/sensitivity.py` (one process) 150 s at 5.9.
MEASURED = ("the whole grid (36 runs × 2,000 generator steps) took 4.7 minutes through the app's training worker "
            "on a 2-core server with nothing else training (the machine's load average was 4.5 from other work), "
            "so about 2 minutes for each 1,000 steps; with other runs on the server it gets one session's share.")


@dataclass(frozen=True)
class Cell:
    """One setting of the grid."""

    method: str
    lr: float
    n_critic: int

    @property
    def key(self) -> str:
        return f"{self.method}|{self.lr:g}|{self.n_critic}"


def cells(methods=METHODS, lrs=LRS, n_critics=N_CRITICS) -> list[Cell]:
    """Every cell, objective by objective, then n_critic, then learning rate (the page's reading order)."""
    return [Cell(m, lr, n) for m in methods for n in n_critics for lr in lrs]


def cell_config(cell: Cell, data: str, seed: int) -> TrainConfig:
    """The cell's run: Compare's classroom run of its objective with the cell's learning rate (both networks)
    and n_critic."""
    return recipes.compare_config(cell.method, data, seed, "classroom").replace(
        lr_c=cell.lr, lr_g=cell.lr, n_critic=cell.n_critic)


def configs(data: str, seed: int, grid: list[Cell] | None = None) -> dict[Cell, TrainConfig]:
    return {c: cell_config(c, data, seed) for c in (grid or cells())}


# --------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Outcome:
    """What a cell's snapshot says: generator steps, modes covered of ``modes_total``, the high-quality share,
    the newest exact W1 and its floor [p5, p95] (None where not measured yet), and the run's status."""

    steps: int
    modes: int | None = None
    modes_total: int | None = None
    hq: float | None = None
    w1: float | None = None
    floor: tuple[float, float] | None = None
    status: str = "ok"

    @property
    def all_modes(self) -> bool:
        return bool(self.modes_total) and self.modes == self.modes_total

    def colour(self, quantity: str) -> float | None:
        """The cell's heatmap value in [0, 1], 1 the best: the share of modes covered ("modes"), the
        high-quality share ("hq"), or how close W1 is to its floor ("w1": 1 at or below the floor's top,
        falling linearly in log W1 to 0 at ``W1_DECADE`` times it)."""
        if quantity == "modes":
            return None if not self.modes_total or self.modes is None else self.modes / self.modes_total
        if quantity == "hq":
            return self.hq
        if quantity == "w1":
            if self.w1 is None or self.floor is None or not self.w1 > 0:
                return None
            return 1.0 - min(1.0, max(0.0, math.log(self.w1 / self.floor[1]) / math.log(W1_DECADE)))
        raise ValueError(f"colour must be one of {', '.join(COLOURS)}")

    def texts(self) -> dict[str, str]:
        """Short text per quantity: {"modes": "8/8", "hq": "62%", "w1": "0.21"} ("…" where not measured)."""
        return {"modes": f"{self.modes}/{self.modes_total}" if self.modes_total and self.modes is not None else "…",
                "hq": f"{self.hq:.0%}" if self.hq is not None else "…",
                "w1": f"{self.w1:.2f}" if self.w1 is not None else "…"}

    def lines(self) -> list[str]:
        """The cell's outcome in words: modes, high-quality share, W1 against its floor."""
        t = self.texts()
        w1 = f"W1 {t['w1']}" + (f" (floor {self.floor[0]:.2f}–{self.floor[1]:.2f})"
                                 if self.floor is not None and self.w1 is not None else "")
        return [f"{t['modes']} modes", f"hq {t['hq']}", w1]


def outcome(snap: dict | None) -> Outcome | None:
    """A cell's outcome from its newest snapshot (None before the first)."""
    if snap is None:
        return None
    mt = snap["metrics"]
    floor = mt.get("exact_w1_floor")
    return Outcome(steps=int(snap["gen_steps"]), modes=mt.get("modes_covered"), modes_total=mt.get("modes_total"),
                   hq=mt.get("hq_fraction"), w1=last_measured(snap, "exact_w1"),
                   floor=None if not floor else (float(floor[0]), float(floor[1])), status=snap.get("status", "ok"))


# --------------------------------------------------------------------------- what the grid shows
def counts(outcomes: dict[Cell, Outcome | None], need: int | None = None) -> dict[str, tuple[int, int]]:
    """Per objective (in the grid's order): (settings that covered at least ``need`` modes, settings in all);
    ``need`` None: every mode of the data."""
    out: dict[str, list[int]] = {}
    for cell, o in outcomes.items():
        c = out.setdefault(cell.method, [0, 0])
        if o is not None and o.modes_total and o.modes is not None:
            c[0] += o.modes >= (o.modes_total if need is None else need)
        c[1] += 1
    return {m: (a, n) for m, (a, n) in out.items()}


def most_of(k: int) -> int:
    """"Most" of k modes: at least MOST of them (6 of 8, 19 of 25, 3 of 3)."""
    return math.ceil(MOST * k - 1e-9)


def name(method: str) -> str:
    return SHORT.get(method) or OBJECTIVES[method].short


def _verdict(w: int, gan: int) -> str:
    return ("less sensitive to its learning rate and n_critic than" if w > gan + TIE else
            "more sensitive to its learning rate and n_critic than" if w < gan - TIE else
            "about as sensitive to its learning rate and n_critic as")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sentence(outcomes: dict[Cell, Outcome | None], steps: int, data: str, finished: bool) -> str:
    """One sentence on what the grid shows, computed from the outcomes.

    A setting *works* when its run covered most of the K modes (at least `most_of` K; every mode is
    counted beside it). Per objective: in how many settings it worked; each WGAN is less (more) sensitive
    than the GAN when it worked in more (fewer) settings, by more than ``TIE`` (a difference of one setting
    in twelve is too small to call). ``finished`` False: a provisional version ("so far", with the step
    every cell has reached)."""
    got = [o for o in outcomes.values() if o is not None]
    if not got or not any(o.modes_total for o in got):
        return "The grid has no outcome yet: press **Start**."
    k = max(o.modes_total or 0 for o in got)
    most = most_of(k)
    works, every = counts(outcomes, most), counts(outcomes)
    order = sorted(works, key=lambda m: (-works[m][0], -every[m][0]))          # stable among equals
    first, n = order[0], works[order[0]][1]
    if most == k:
        head = _and([f"{name(first)} covered all {k} modes in {works[first][0]} of {n} settings"]
                    + [f"{name(m)} in {works[m][0]}" for m in order[1:]])
    else:
        head = _and([f"{name(first)} covered at least {most} of the {k} modes in {works[first][0]} of {n} "
                     f"settings (all {k} in {every[first][0]})"]
                    + [f"{name(m)} in {works[m][0]} ({every[m][0]})" for m in order[1:]])
    if finished:
        where = f" on {DATASETS[data].label}" if data in DATASETS else ""
        lead = f"Here, after {steps:,} generator steps{where}"
    else:
        done = min(o.steps for o in got) if len(got) == len(outcomes) else 0
        lead = f"So far (every cell at step {done:,} or more of {steps:,})"
    end = "." if finished else " (provisional: the cells are still training)."
    if not any(a for a, _ in works.values()):
        best = max(o.modes or 0 for o in got)
        return (f"{lead}, no setting covered {'every mode' if most == k else f'at least {most} of the {k} modes'} "
                f"(the most any run covered: {best} of {k}), so the grid does not tell the objectives apart"
                f"{' within this budget' if finished else ' yet'}{end}")
    lead = f"{lead}, {head}"
    gans = [m for m in works if not OBJECTIVES[m].wasserstein]
    wgans = [m for m in works if OBJECTIVES[m].wasserstein]
    if not gans or not wgans:
        return lead + end
    gan = max(works[m][0] for m in gans)
    said = "; ".join(f"{name(w)} was {_verdict(works[w][0], gan)} the GAN" for w in wgans)
    better = [w for w in wgans if works[w][0] > gan + TIE]
    if len(better) == len(wgans):
        tail = "here “WGAN is less sensitive” holds" + (" for both" if len(wgans) > 1 else "")
    elif better:
        tail = (f"so “WGAN is less sensitive” holds for {_and([name(w) for w in better])} here, not for every "
                "WGAN: it depends on how the critic is kept 1-Lipschitz, not on the Wasserstein loss alone")
    else:
        tail = "so here no WGAN was less sensitive than the GAN"
    return f"{lead}: {said}; {tail}{end}"


class Rate:
    """Generator steps per second per cell, measured over the last ``window`` seconds of observations."""

    def __init__(self, window: float = 20.0):
        self.window, self.seen = window, []                        # [(t, steps done by every cell)]

    def add(self, t: float, done: int) -> None:
        if self.seen and done < self.seen[-1][1]:                  # a reset: measure afresh
            self.seen = []
        self.seen.append((t, done))
        while len(self.seen) > 2 and t - self.seen[1][0] >= self.window:
            self.seen.pop(0)

    def rate(self) -> float | None:
        if len(self.seen) < 2 or self.seen[-1][0] - self.seen[0][0] < 1.0:
            return None
        (t0, d0), (t1, d1) = self.seen[0], self.seen[-1]
        return (d1 - d0) / (t1 - t0) if d1 > d0 else None


# --------------------------------------------------------------------------- training a grid headless
def train_grid(cfgs: dict[Cell, TrainConfig], steps: int, burst: int = 50, device: str | None = None,
               progress: Callable[[int, float], None] | None = None) -> dict[Cell, Run]:
    """Train every cell for ``steps`` generator steps, the runs of one stack together (as the worker does),
    in bursts of ``burst`` steps; ``progress(steps done by every cell, seconds)`` after each burst."""
    runs = {c: Run(cfg, device=device) for c, cfg in cfgs.items()}
    stacks: dict[tuple, list[Run]] = {}
    for r in runs.values():
        stacks.setdefault(stack_key(r), []).append(r)
    t0, done = time.perf_counter(), 0
    while done < steps:
        n = min(burst, steps - done)
        for group in stacks.values():
            train(group, n)
        done += n
        if progress is not None:
            progress(done, time.perf_counter() - t0)
    return runs


def outcomes_of(runs: dict[Cell, Run]) -> dict[Cell, Outcome]:
    """Each run's outcome from a full snapshot (exact W1 included), the snapshots of one stack together."""
    stacks: dict[tuple, list[Cell]] = {}
    for c, r in runs.items():
        stacks.setdefault(stack_key(r), []).append(c)
    out = {}
    for group in stacks.values():
        for c, snap in zip(group, snapshot_many([runs[c] for c in group], exact=True)):
            out[c] = outcome(snap)
    return out


def eta_s(done: int, total: int, rate: float | None) -> float | None:
    """Seconds left at ``rate`` generator steps per second (per cell); None before a rate is measured."""
    if rate is None or rate <= 0:
        return None
    return max(0, total - done) / rate
