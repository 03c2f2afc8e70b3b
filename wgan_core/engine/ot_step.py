r"""The critic-free generator step (objective "ot"): minimise the exact minibatch W1, no critic.

What the WGAN critic approximates, computed exactly on a batch. For every run s of a stack:

    z ~ p(z) (B), x ~ P_r (B)                     # from the run's own generator, in this order
    pi = the exact optimal assignment of G(z) to x  (`transport.assignment`, POT, float64)
    L_G = (1/B) sum_i |G(z_i) - x_pi(i)|            # the exact W1 of the two batches
    G <- G - lr_g * grad L_G                         # pi held fixed: dL/dG(z_i) = (G(z_i) - x_pi(i)) / (B |.|)

There is no critic step: n_critic, the critic's learning rate, clip and lambda are not used.
The assignment is solved on the CPU, run by run, and is most of the step's cost (45 %, 63 % and 82 % at
B = 64, 128 and 256 with the classroom network; it grows about as B^2.2: `transport`, `cost`). Stacked equals alone, bit for bit: the generator's forward and backward passes are
computed run by run (`models.Net`), and each run's assignment and gradient are numpy on its own
points.
"""
from __future__ import annotations

import numpy as np
import torch

from wgan_core.engine import transport
from wgan_core.engine.models import Net


def batches(runs: list, B: int, z_dim: int, device) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Per run, its noise (drawn first) and its real batch, from its own random generator."""
    zs, reals = [], []
    for r in runs:
        zs.append(torch.randn(B, z_dim, generator=r.gen, device=device))
        reals.append(r.dataset.sample(B, r.gen))
    return (zs[0].unsqueeze(0) if len(zs) == 1 else torch.stack(zs)), reals


def grads_at(G: Net, z: torch.Tensor, reals: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat gradient (S, P_G) of each run's minibatch W1 at noise z (S, B, z_dim) against its real batch
    (reals[s]: (B, d)), and the losses (S,) (the exact W1 of each run's two batches, as float32)."""
    with torch.enable_grad():
        x = G(z)                                                               # (S, B, d)
    pts = x.detach().double().cpu().numpy()
    dx, loss = np.empty_like(pts), np.empty(len(pts))
    for s, y in enumerate(reals):                                              # run by run, in numpy
        loss[s], dx[s], _ = transport.minibatch_w1(pts[s], y.detach().double().cpu().numpy())
    up = torch.as_tensor(dx, dtype=x.dtype, device=x.device)                   # (S, B, d) dL/dx
    grads = torch.autograd.grad(x, G.params, grad_outputs=up)
    return G.flat_grad(grads), torch.as_tensor(loss, dtype=x.dtype, device=x.device)


def gen_grads(G: Net, runs: list, B: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One generator step's gradient (S, P_G) and loss (S,) for the runs of a stack (fresh batches)."""
    z, reals = batches(runs, B, G.spec.in_dim, G.flat.device)
    return grads_at(G, z, reals)
