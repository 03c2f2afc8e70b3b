"""Optimizers on flat stacked parameters (S, P), with per-run hyperparameters.

Each hyperparameter is one value per run, so runs in one stack may use
different learning rates or betas, changed between steps with no reset.
``mask`` (S, 1) in {0, 1} freezes runs that sit out a step (a run with fewer
critic steps than its stack-mates): a masked run's parameters *and* state stay
unchanged.

The update rules are torch.optim's (tests compare trajectories):

Adam:    m <- b1 m + (1-b1) g,   v <- b2 v + (1-b2) g^2,
         p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
RMSprop: v <- a v + (1-a) g^2,   p <- p - lr g / (sqrt(v) + eps)      (a = 0.99)
SGD:     p <- p - lr g

A single run (S = 1) takes torch's fused kernels where they exist: one call
instead of a dozen small tensor operations, which dominate at this size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

EPS = 1e-8
RMS_ALPHA = 0.99


@dataclass
class OptState:
    """Per-run optimizer state for one network: step count t (S, 1), moments m, v (S, P)."""

    t: torch.Tensor
    m: torch.Tensor
    v: torch.Tensor

    @classmethod
    def zeros(cls, flat: torch.Tensor) -> OptState:
        S = flat.shape[0]
        return cls(torch.zeros(S, 1, device=flat.device), torch.zeros_like(flat), torch.zeros_like(flat))


@dataclass
class Hyper:
    """Learning rate and betas of one network's optimizer, per run (lists of length S)."""

    kind: str
    lr: list[float]
    b1: list[float]
    b2: list[float]

    def __post_init__(self) -> None:
        if self.kind not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"unknown optimizer {self.kind!r}")
        self._t: dict[str, torch.Tensor] = {}

    def col(self, name: str, device) -> torch.Tensor:
        """The hyperparameter as an (S, 1) tensor (cached)."""
        if name not in self._t:
            self._t[name] = torch.tensor(getattr(self, name), device=device).view(-1, 1)
        return self._t[name]


@torch.no_grad()
def update(p: torch.Tensor, g: torch.Tensor, st: OptState, h: Hyper, mask: torch.Tensor | None = None) -> None:
    """One in-place step on p (S, P) with gradient g (S, P); ``mask`` None means every run steps."""
    if p.shape[0] == 1 and mask is None:
        _single(p, g, st, h)
        return
    d = p.device
    lr = h.col("lr", d) if mask is None else h.col("lr", d) * mask
    if h.kind == "sgd":
        p.sub_(lr * g)
        return
    if h.kind == "rmsprop":
        w = 1 - RMS_ALPHA if mask is None else (1 - RMS_ALPHA) * mask
        st.v.lerp_(g * g, w)
        p.sub_(lr * g / (st.v.sqrt() + EPS))
        return
    b1, b2 = h.col("b1", d), h.col("b2", d)
    st.t.add_(1 if mask is None else mask)
    t = st.t.clamp(min=1.0)
    st.m.lerp_(g, (1 - b1) if mask is None else (1 - b1) * mask)
    st.v.lerp_(g * g, (1 - b2) if mask is None else (1 - b2) * mask)
    denom = st.v.sqrt() / (1 - b2 ** t).sqrt() + EPS
    p.sub_((lr / (1 - b1 ** t)) * st.m / denom)


def _single(p: torch.Tensor, g: torch.Tensor, st: OptState, h: Hyper) -> None:
    lr, b1, b2 = h.lr[0], h.b1[0], h.b2[0]
    if h.kind == "sgd":
        p.add_(g, alpha=-lr)
    elif h.kind == "rmsprop":
        st.v.mul_(RMS_ALPHA).addcmul_(g, g, value=1 - RMS_ALPHA)
        p.addcdiv_(g, st.v.sqrt().add_(EPS), value=-lr)
    else:
        st.t.add_(1)                     # torch.optim.Adam counts the step before the fused kernel
        torch._fused_adam_([p], [g], [st.m], [st.v], [], [st.t.view(())], lr=lr, beta1=b1, beta2=b2,
                           weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)
