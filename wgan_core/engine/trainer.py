r"""Training runs: `Run` holds one run's state; `train` trains runs together in a `Stack`.

A run is one WGAN (or GAN) training: its config, data set, both networks as
flat parameters, optimizer states, random generator, curves and status. The
algorithm itself, and how S runs that share an architecture train together,
is in `stack` (`Stack`); the views of a run as plain arrays are in `views`.

Runs share a stack when they share an architecture, objective, batch size,
optimizer and device (`stack_key`); each run keeps its own random generator,
so its numbers do not depend on which other runs it trained beside.
Learning rates, betas, clip, lambda and n_critic are read from each run's
config at every step: a live change needs no reset.

A run whose losses or weights become NaN/inf is restored to its state before
the burst and marked ``status = "diverged"``; it trains no more until resumed.

With ``config.ema`` = d > 0 a run also keeps an exponential moving average of
its generator's weights (Yazici et al. 2019, "The Unusual Effectiveness of
Averaging in GAN Training"), and that average is what its views show and
measure (`g_view`); training itself never reads it.

Its curves (``stats``: one row per generator step; ``evals``: one per full
snapshot) are `CurveBuffer`s: at most CURVE_ROWS rows each, the older half
merged pairwise as they fill, so memory, snapshots and checkpoints stay bounded
however long a run trains.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from wgan_core.engine import datasets, objectives
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.curve_buffer import CURVE_ROWS, CurveBuffer
from wgan_core.engine.datasets import Dataset
from wgan_core.engine.device import default_device
from wgan_core.engine.models import MLPSpec, Net
from wgan_core.engine.optim import OptState
from wgan_core.engine.stack import Stack, autograd_critic_grads, stack_key
from wgan_core.engine.state_check import validate_state
from wgan_core.engine.views import EVALS, MODES_EVERY_S, N_EVAL, STATS, curves, eval_table, snapshot_many

__all__ = ["Run", "Stack", "train", "stack_key", "snapshot_many", "curves", "autograd_critic_grads",
           "STATS", "EVALS", "N_EVAL", "MODES_EVERY_S", "CURVE_ROWS"]


class Run:
    """One training run: config, data, both networks, optimizer states, curves, status."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None,
                 device: torch.device | str | None = None):
        self.config = config.validate()
        if dataset is None and config.data == "custom":
            raise ValueError("data='custom' needs the points: pass dataset=datasets.from_points(...)")
        self.dataset = dataset or datasets.get(config.data)
        self.device = torch.device(device) if device is not None else default_device()
        self.objective = objectives.get(config.loss)
        dim, c = self.dataset.dim, config
        self.g_spec = MLPSpec(c.z_dim, dim, c.width, c.depth, c.act_g)
        self.c_spec = MLPSpec(dim, 1, c.width, c.depth, c.act_c)
        self.gen = torch.Generator(self.device).manual_seed(c.seed)           # training randomness
        self.g_flat = self.g_spec.init(self.gen, self.device)                 # (1, P_G)
        self.c_flat = self.c_spec.init(self.gen, self.device)                 # (1, P_C)
        self.g_opt, self.c_opt = OptState.zeros(self.g_flat), OptState.zeros(self.c_flat)
        self.g_ema = self.g_flat.clone()              # the generator's weight average (config.ema > 0)
        self.ema_steps = 0                            # generator steps averaged into g_ema (0: not started)
        self.sn_u = Net(self.c_spec, self.c_flat, spectral=True).u if self.objective.spectral else []
        ev = torch.Generator(self.device).manual_seed(c.seed + 1_000_003)    # fixed evaluation data
        self.z_eval = torch.randn(N_EVAL, c.z_dim, generator=ev, device=self.device)
        self.real_eval = self.dataset.sample(N_EVAL, ev)
        self.eps_eval = torch.rand(N_EVAL, 1, generator=ev, device=self.device)
        self.gen_steps = 0
        self.critic_steps = 0
        self.stats = CurveBuffer(1 + len(STATS))                              # rows (gen_step, *STATS)
        self.evals = CurveBuffer(1 + len(EVALS))                              # rows (gen_step, *EVALS)
        self.status, self.message = "ok", ""
        # the critic's last check (`views.CriticCheck`: slopes, estimate, spectral and c-transform bounds),
        # taken by a full snapshot and repeated by light ones; None: check at the next snapshot
        self.slopes = None
        # the last full snapshot's exact assignment (`transport`): fake_eval[i] -> real_eval[plan[i]], i < N_W1
        self.plan = None
        self.work: dict = {}                          # the engine's reusable buffers (`Stack`); not state

    # -- live configuration -------------------------------------------------------------
    def apply(self, config: TrainConfig) -> bool:
        """Take a new config. Live fields change in place; returns False when a new run is needed."""
        if self.config.structural_diff(config.validate()):
            return False
        self.config = config
        return True

    def resume(self) -> None:
        self.status, self.message = "ok", ""

    # -- training -----------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """n generator steps (each after n_critic critic steps)."""
        train([self], n)

    def critic_only(self) -> None:
        """GAN Lab's 'discriminator only' step: one critic update, no generator update."""
        s = Stack([self])
        s.critic_phase([1])
        s.close(gen_step_done=False)

    def generator_only(self) -> None:
        s = Stack([self])
        s.gen_phase()
        s.close()

    # -- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Plain tensors and numbers only (loads with torch.load(weights_only=True)); the curves are the rows
        their `CurveBuffer`s keep (at most CURVE_ROWS each; a merged row holds its span's mean step)."""
        return {
            "format": "earthmover-run-1", "config": self.config.to_dict(),
            "g_flat": self.g_flat.cpu(), "c_flat": self.c_flat.cpu(), "g_ema": self.g_view.cpu(),
            "g_opt": [t.cpu() for t in (self.g_opt.t, self.g_opt.m, self.g_opt.v)],
            "c_opt": [t.cpu() for t in (self.c_opt.t, self.c_opt.m, self.c_opt.v)],
            "sn_u": [u.cpu() for u in self.sn_u], "rng": self.gen.get_state(),
            "gen_steps": self.gen_steps, "critic_steps": self.critic_steps,
            "stats": torch.as_tensor(np.array(self.stats, dtype=np.float64).reshape(-1, 1 + len(STATS))),
            "evals": torch.as_tensor(eval_table(self.evals)),                # older rows widened
        }

    def load_state_dict(self, sd: dict) -> None:
        """Restore a state saved by `state_dict` for the same architecture.

        Every field is checked first (`state_check.validate_state`: ValueError with one plain
        sentence, the run untouched); the cleaned state is then applied by steps that cannot fail
        (copies between tensors of equal shape, dtype and device; an RNG state already accepted).
        """
        new = validate_state(sd, self)
        stats = CurveBuffer(1 + len(STATS), rows=new["stats"])              # longer curves are decimated
        evals = CurveBuffer(1 + len(EVALS), rows=eval_table(new["evals"]))  # older rows widened
        with torch.no_grad():
            self.g_flat.copy_(new["g_flat"])
            self.g_ema.copy_(new.get("g_ema", new["g_flat"]))           # older checkpoints: no average
            self.c_flat.copy_(new["c_flat"])
            for st, key in ((self.g_opt, "g_opt"), (self.c_opt, "c_opt")):
                for mine, saved in zip((st.t, st.m, st.v), new[key]):
                    mine.copy_(saved)
            for u, saved in zip(self.sn_u, new["sn_u"]):
                u.copy_(saved)
        self.config = new["config"]
        self.gen.set_state(new["rng"])
        self.gen_steps, self.critic_steps = new["gen_steps"], new["critic_steps"]
        self.ema_steps = self.gen_steps if "g_ema" in new and self.config.ema > 0 else 0
        self.stats, self.evals = stats, evals
        self.status, self.message = "ok", ""
        self.slopes = None                                                  # measure the loaded critic afresh
        self.plan = None                                                    # ... and the transport plan

    # -- views --------------------------------------------------------------------------
    @property
    def g_view(self) -> torch.Tensor:
        """The generator weights that are shown and measured: their average while ``config.ema`` > 0
        (`Stack.average`), else the generator itself."""
        return self.g_ema if self.config.ema > 0 and self.ema_steps > 0 else self.g_flat

    def snapshot(self, exact: bool = True) -> dict:
        """Plain arrays for a view (see `snapshot_many`)."""
        return snapshot_many([self], exact=exact)[0]


def train(runs: list[Run], gen_steps: int, timing: dict | None = None,
          stop: Callable[[], bool] | None = None) -> int:
    """``gen_steps`` full iterations for runs sharing one `stack_key`, trained together; returns how many ran.

    ``timing``, when given, gets ``first`` (seconds of stacking and the first step, which makes the
    stack's buffers: for many runs most of a short burst) and ``rest`` (the other steps, and writing back).
    ``stop``, when given, is asked after each iteration: True ends the burst there (a command is waiting)."""
    live = [r for r in runs if r.status == "ok"]
    if not live or gen_steps <= 0:
        return 0
    t0 = time.perf_counter()
    s = Stack(live)
    done = 0
    while done < gen_steps:
        s.refresh()
        s.critic_phase([r.config.n_critic for r in live])
        s.gen_phase()
        done += 1
        if done == 1:
            t1 = time.perf_counter()
        if stop is not None and stop():
            break
    s.close()
    if timing is not None:
        timing["first"], timing["rest"] = t1 - t0, time.perf_counter() - t1
    return done
