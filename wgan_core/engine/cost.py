r"""What one generator step of a config costs, estimated before it runs.

A step is ``n_critic`` critic updates and one generator update on batches of ``B``
points. Counting multiply-adds of the two MLPs (``P_c``, ``P_g`` weights each):

.. math::
    \text{MACs} \approx B \,\big[\, n_{\text{critic}} \,(k\,P_c + P_g) + 3\,(P_c + P_g) \big]

with :math:`k = 13` for a gradient penalty (forward on real, fake and interpolates,
their backward passes, and the penalty's double backward) and :math:`k = 6`
otherwise; the generator's update is a forward and backward through both networks.
Divided by ``MACS_PER_S`` (measured below) plus a fixed ``OVERHEAD_S``, this is the
estimate the server uses to keep one student's huge network from stalling the class
(`wgan_core.serve.pool`): above ``HEAVY_S`` a run trains in a low-priority process of
its own; above ``REFUSE_S`` it is refused with the estimate as the reason.

Measured with one torch thread on this 2-core machine (process time, 8gaussians):

==================================  ==============  ===========
config (width, depth, batch, n_c)   WGAN-GP         estimate
==================================  ==============  ===========
64, 2, 128, 2 (classroom)           1.2 ms          1.0 ms
128, 2, 256, 5                      8.3 ms          8.8 ms
256, 3, 256, 5                      44 ms           65 ms
512, 2, 256, 5                      78 ms           129 ms
512, 4, 512, 5                      400 ms          769 ms
512, 6, 1024, 20                    8.6-18 s        9.6 s
==================================  ==============  ===========

(WGAN-clip ~0.65x of these.) The estimate errs high for large networks, which only
makes the guard earlier.

The critic-free objective (exact minibatch W1, `ot_step`) makes no critic update: its
step is the generator's forward and backward passes and the exact assignment of B
points to B, about ``ASSIGN_S`` x B^2.2 seconds (measured, `benchmarks/ot_step_cost.py`:
1.0, 1.6, 4.2, 23 and 100 ms a step at B = 64, 128, 256, 512 and 1,024 with the
classroom network; the assignment is 45 %, 63 % and 82 % of it at 64, 128 and 256).
"""
from __future__ import annotations

import os

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import DATASETS
from wgan_core.engine.objectives import OBJECTIVES

MACS_PER_S = 40e9              # multiply-adds per second, one thread (measured: 37-39e9 at width 128-256)
OVERHEAD_S = 0.5e-3            # per generator step (small networks are dominated by it)
HEAVY_S = float(os.environ.get("EARTHMOVER_HEAVY_STEP_S", 0.1))      # slower: its own low-priority process
REFUSE_S = float(os.environ.get("EARTHMOVER_MAX_STEP_S", 5.0))       # slower: refused
ASSIGN_S = 2.4e-8              # the exact assignment of B points: about ASSIGN_S * B ** 2.2 seconds (POT, one thread)


def mlp_weights(n_in: int, n_out: int, width: int, depth: int) -> int:
    """Weights and biases of an MLP with ``depth`` hidden layers of ``width`` units."""
    sizes = [n_in] + [width] * depth + [n_out]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def step_seconds(config: TrainConfig, dim: int | None = None) -> float:
    """Estimated seconds of one generator step of ``config`` (one torch thread on a CPU core)."""
    c = config
    dim = dim or (DATASETS[c.data].dim if c.data in DATASETS else 64 if c.data == "digits" else 2)
    p_c = mlp_weights(dim, 1, c.width, c.depth)
    p_g = mlp_weights(c.z_dim, dim, c.width, c.depth)
    if OBJECTIVES[c.loss].critic_free:                                  # no critic: G's passes, the assignment
        return OVERHEAD_S + 3 * c.batch * p_g / MACS_PER_S + ASSIGN_S * c.batch ** 2.2
    k = 13 if OBJECTIVES[c.loss].penalty is not None else 6
    macs = c.batch * (c.n_critic * (k * p_c + p_g) + 3 * (p_c + p_g))
    return OVERHEAD_S + macs / MACS_PER_S


def check(config: TrainConfig, dim: int | None = None) -> float:
    """The estimate, or ValueError with one plain sentence when it is too slow for a shared server."""
    s = step_seconds(config, dim)
    if s > REFUSE_S:
        raise ValueError(f"This set-up is too large for the shared server: one generator step would take about "
                         f"{s:.0f} s. Choose a smaller width, depth, batch or n_critic.")
    return s
