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
"""
from __future__ import annotations

import numpy as np
import torch

from wgan_core.engine import datasets, objectives
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import Dataset
from wgan_core.engine.device import default_device
from wgan_core.engine.models import MLPSpec, Net
from wgan_core.engine.optim import OptState
from wgan_core.engine.stack import Stack, autograd_critic_grads, stack_key
from wgan_core.engine.views import EVALS, N_EVAL, STATS, curves, snapshot_many

__all__ = ["Run", "Stack", "train", "stack_key", "snapshot_many", "curves", "autograd_critic_grads",
           "STATS", "EVALS", "N_EVAL"]


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
        self.sn_u = Net(self.c_spec, self.c_flat, spectral=True).u if self.objective.spectral else []
        ev = torch.Generator(self.device).manual_seed(c.seed + 1_000_003)    # fixed evaluation data
        self.z_eval = torch.randn(N_EVAL, c.z_dim, generator=ev, device=self.device)
        self.real_eval = self.dataset.sample(N_EVAL, ev)
        self.eps_eval = torch.rand(N_EVAL, 1, generator=ev, device=self.device)
        self.gen_steps = 0
        self.critic_steps = 0
        self.stats: list[np.ndarray] = []                                     # rows (gen_step, *STATS)
        self.evals: list[np.ndarray] = []                                     # rows (gen_step, *EVALS)
        self.status, self.message = "ok", ""
        self.slopes = None          # (gradient norms at interpolates, max slope) of the last full snapshot
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
        """Plain tensors and numbers only (loads with torch.load(weights_only=True))."""
        return {
            "format": "earthmover-run-1", "config": self.config.to_dict(),
            "g_flat": self.g_flat.cpu(), "c_flat": self.c_flat.cpu(),
            "g_opt": [t.cpu() for t in (self.g_opt.t, self.g_opt.m, self.g_opt.v)],
            "c_opt": [t.cpu() for t in (self.c_opt.t, self.c_opt.m, self.c_opt.v)],
            "sn_u": [u.cpu() for u in self.sn_u], "rng": self.gen.get_state(),
            "gen_steps": self.gen_steps, "critic_steps": self.critic_steps,
            "stats": torch.as_tensor(np.array(self.stats, dtype=np.float64).reshape(-1, 1 + len(STATS))),
            "evals": torch.as_tensor(np.array(self.evals, dtype=np.float64).reshape(-1, 1 + len(EVALS))),
        }

    def load_state_dict(self, sd: dict) -> None:
        """Restore a state saved by `state_dict` for the same architecture (ValueError otherwise)."""
        if sd.get("format") != "earthmover-run-1":
            raise ValueError("not an Earthmover checkpoint")
        other, _ = TrainConfig.from_dict(sd.get("config", {}))
        if other.structural_diff(self.config) and [k for k in other.structural_diff(self.config) if k != "seed"]:
            raise ValueError("checkpoint is for a different set-up: " + ", ".join(other.structural_diff(self.config)))
        shapes = {"g_flat": self.g_flat.shape, "c_flat": self.c_flat.shape}
        for k, shape in shapes.items():
            t = sd.get(k)
            if not isinstance(t, torch.Tensor) or t.shape != shape or not torch.isfinite(t).all():
                raise ValueError(f"checkpoint field {k} does not fit this network")
        with torch.no_grad():
            self.g_flat.copy_(sd["g_flat"])
            self.c_flat.copy_(sd["c_flat"])
            for st, key, flat in ((self.g_opt, "g_opt", self.g_flat), (self.c_opt, "c_opt", self.c_flat)):
                t, m, v = sd[key]
                if m.shape != flat.shape or v.shape != flat.shape or t.shape != (1, 1):
                    raise ValueError("checkpoint optimizer state does not fit this network")
                st.t.copy_(t), st.m.copy_(m), st.v.copy_(v)
            for u, saved in zip(self.sn_u, sd.get("sn_u", [])):
                u.copy_(saved)
        self.config = self.config.replace(**{k: getattr(other, k) for k in TrainConfig.live_fields()})
        self.gen.set_state(sd["rng"])
        self.gen_steps, self.critic_steps = int(sd["gen_steps"]), int(sd["critic_steps"])
        self.stats = list(sd["stats"].numpy())
        self.evals = list(sd["evals"].numpy())
        self.status, self.message = "ok", ""

    # -- views --------------------------------------------------------------------------
    def snapshot(self, exact: bool = True) -> dict:
        """Plain arrays for a view (see `snapshot_many`)."""
        return snapshot_many([self], exact=exact)[0]


def train(runs: list[Run], gen_steps: int) -> None:
    """``gen_steps`` full iterations for runs sharing one `stack_key`, trained together."""
    live = [r for r in runs if r.status == "ok"]
    if not live or gen_steps <= 0:
        return
    s = Stack(live)
    for _ in range(gen_steps):
        s.refresh()
        s.critic_phase([r.config.n_critic for r in live])
        s.gen_phase()
    s.close()
