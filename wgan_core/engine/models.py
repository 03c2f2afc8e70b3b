"""MLP generator and critic for a *stack* of S independent runs.

Each network's parameters for S runs live in one flat tensor ``flat`` of shape
(S, P); the layer weights are views into it, so a whole optimizer update or a
weight clip is a handful of tensor operations however many layers there are,
and S runs that share an architecture train together with batched matrix
products (`torch.baddbmm`). A single run is simply S = 1.

A layer computes ``h' = act(h @ W + b)`` with W of shape (S, in, out), b of
shape (S, 1, out). The last layer has no activation: the critic returns a raw
score f(x) (no sigmoid), the GAN discriminator returns logits.

Initialisation matches ``torch.nn.Linear``: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

ACT = {
    "relu": F.relu,
    "leaky_relu": partial(F.leaky_relu, negative_slope=0.2),
    "tanh": torch.tanh,
    "elu": F.elu,
}


@dataclass(frozen=True)
class MLPSpec:
    """Shapes of an MLP: in_dim -> width x depth hidden layers -> out_dim."""

    in_dim: int
    out_dim: int
    width: int
    depth: int
    act: str

    @property
    def shapes(self) -> list[tuple[int, int]]:
        dims = [self.in_dim] + [self.width] * self.depth + [self.out_dim]
        return list(zip(dims[:-1], dims[1:]))

    @property
    def size(self) -> int:
        """P, the number of parameters of one run."""
        return sum(i * o + o for i, o in self.shapes)

    def init(self, gen: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        """A (1, P) flat parameter vector initialised like torch.nn.Linear."""
        parts = []
        for i, o in self.shapes:
            bound = 1.0 / math.sqrt(i)
            parts.append((torch.rand(i * o + o, generator=gen, device=gen.device) * 2 - 1) * bound)
        return torch.cat(parts).to(device).unsqueeze(0)


SN_WARMUP = 30     # power iterations for a new network's u: one alone left sigma ~30 % low at init


class Net:
    """The S stacked networks of one spec, as leaf views into ``flat`` (S, P).

    The views require grad, so ``torch.autograd.grad(loss, net.params)`` gives
    per-layer gradients; ``flat_grad`` concatenates them back to (S, P). The
    optimizer then updates ``flat`` in place under ``no_grad`` and the views see it.
    """

    def __init__(self, spec: MLPSpec, flat: torch.Tensor, spectral: bool = False,
                 u: list[torch.Tensor] | None = None):
        self.spec, self.flat, self.spectral = spec, flat, spectral
        S = flat.shape[0]
        self.params: list[torch.Tensor] = []
        off = 0
        with torch.no_grad():
            for i, o in spec.shapes:
                w = flat[:, off:off + i * o].view(S, i, o)
                b = flat[:, off + i * o:off + i * o + o].view(S, 1, o)
                off += i * o + o
                self.params += [w, b]
        for p in self.params:
            p.requires_grad_(True)
        # power-iteration vectors for spectral normalisation, one (S, out) per layer; training then
        # refines them by one step per update (as Miyato et al.), so fresh ones start converged
        self.u = u if u is not None else (
            [F.normalize(torch.ones(S, o, device=flat.device), dim=1) for _, o in spec.shapes] if spectral else [])
        if spectral and u is None:
            for _ in range(SN_WARMUP):
                self.weights(update_u=True)

    def weights(self, update_u: bool) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W, b) per layer; with spectral norm, W / sigma_max(W) by one power-iteration step."""
        layers = list(zip(self.params[0::2], self.params[1::2]))
        if not self.spectral:
            return layers
        out = []
        for k, (w, b) in enumerate(layers):
            u = self.u[k]                                                        # (S, out)
            with torch.no_grad():
                v = F.normalize(torch.bmm(w, u.unsqueeze(2)).squeeze(2), dim=1)    # (S, in)
                u_new = F.normalize(torch.bmm(v.unsqueeze(1), w).squeeze(1), dim=1)  # (S, out)
                if update_u:
                    self.u[k] = u_new
            sigma = torch.bmm(torch.bmm(v.unsqueeze(1), w), u_new.unsqueeze(2))    # (S, 1, 1)
            out.append((w / sigma, b))
        return out

    def __call__(self, x: torch.Tensor, update_u: bool = False) -> torch.Tensor:
        """x (S, B, in) -> (S, B, out)."""
        act = ACT[self.spec.act]
        layers = self.weights(update_u)
        h = x
        for k, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)                                            # (S, B, out_k)
            if k < len(layers) - 1:
                h = act(h)
        return h

    def flat_grad(self, grads: tuple[torch.Tensor, ...]) -> torch.Tensor:
        S = self.flat.shape[0]
        return torch.cat([g.reshape(S, -1) for g in grads], dim=1)              # (S, P)
