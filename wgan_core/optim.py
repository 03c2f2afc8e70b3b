"""Optimizers on flat stacked parameters (S, P), with per-run hyperparameters.

Each hyperparameter is an (S, 1) tensor so runs in one stack may use different
learning rates or betas, changed between steps with no reset. ``mask`` (S, 1)
in {0, 1} freezes runs that sit out a step (a run with fewer critic steps than
its stack-mates): a masked run's parameters *and* state stay unchanged.

The update rules are torch.optim's, written out (tests compare trajectories):

Adam:    m <- b1 m + (1-b1) g,   v <- b2 v + (1-b2) g^2,
         p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
RMSprop: v <- a v + (1-a) g^2,   p <- p - lr g / (sqrt(v) + eps)      (a = 0.99)
SGD:     p <- p - lr g
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


@torch.no_grad()
def update(kind: str, p: torch.Tensor, g: torch.Tensor, st: OptState, lr: torch.Tensor,
           b1: torch.Tensor, b2: torch.Tensor, mask: torch.Tensor) -> None:
    """One in-place step of optimizer ``kind`` on p (S, P) with gradient g (S, P)."""
    if kind == "sgd":
        p.sub_(lr * mask * g)
        return
    if kind == "rmsprop":
        st.v.lerp_(g * g, (1 - RMS_ALPHA) * mask)
        p.sub_(lr * mask * g / (st.v.sqrt() + EPS))
        return
    if kind != "adam":
        raise ValueError(f"unknown optimizer {kind!r}")
    st.t.add_(mask)
    t = st.t.clamp(min=1.0)
    st.m.lerp_(g, (1 - b1) * mask)
    st.v.lerp_(g * g, (1 - b2) * mask)
    denom = st.v.sqrt() / (1 - b2 ** t).sqrt() + EPS
    p.sub_((lr * mask / (1 - b1 ** t)) * st.m / denom)
