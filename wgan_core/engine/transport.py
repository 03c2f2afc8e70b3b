r"""Exact optimal transport between two equal-size clouds as an assignment, and the minibatch W1 loss.

With n points on each side and uniform weights, the optimal transport problem

.. math::
    W_1 = \min_{\gamma \ge 0,\ \gamma \mathbf{1} = \mathbf{1},\ \gamma^\top \mathbf{1} = \mathbf{1}}
          \frac{1}{n} \sum_{i,j} \gamma_{ij} \lVert x_i - y_j \rVert_2

is a linear program over the Birkhoff polytope, whose vertices are the permutation matrices
(Birkhoff-von Neumann): the network simplex ends on one, so the optimal plan sends each
:math:`x_i` to one :math:`y_{\pi(i)}` and :math:`W_1 = \frac{1}{n} \sum_i \lVert x_i -
y_{\pi(i)} \rVert_2`. `assignment` solves it with POT's ``ot.emd`` on *integer* masses (one
per point), so the flows it returns are exactly 0 or 1 and the permutation is read off them,
together with the W1 of the very same solve (`metrics.exact_w1` solves the same problem with
masses 1/n; the two agree to rounding, ~1e-15).

The live view draws :math:`\pi` as the transport layer (fake[i] to real[plan[i]]). The critic-free
objective "ot" (`ot_step`) trains the generator on the minibatch W1 of B generated and B real
points, :math:`L = \frac{1}{B} \sum_i \lVert x_i - y_{\pi(i)} \rVert_2`, whose gradient with the
assignment held fixed is (`minibatch_w1`)

.. math::
    \frac{\partial L}{\partial x_i} = \frac{1}{B} \frac{x_i - y_{\pi(i)}}{\lVert x_i - y_{\pi(i)} \rVert_2}

(0 where a point sits on its partner). The assignment is locally constant in the points, so this is
the gradient of L wherever the optimum is unique.

Cost, one thread, CPU time (``python benchmarks/ot_step_cost.py``, two shifted Gaussian clouds): the
solve takes about 0.35, 1.1 and 4.5 ms at n = 64, 128 and 256 (12 ms at 400, as `metrics.exact_w1`);
scipy's ``linear_sum_assignment`` took 0.27, 1.6 and 10 ms on the same cost matrices: a little faster
at 64 only, so POT is used throughout. In training, the assignment is 45 %, 63 % and 82 % of an "ot"
generator step at B = 64, 128 and 256 (classroom network).
"""
from __future__ import annotations

import warnings

import numpy as np
import ot
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from wgan_core.engine.metrics import euclidean_cost


def _pair(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 2 or xa.shape != ya.shape or len(xa) == 0:
        raise ValueError(f"x and y must be non-empty (n, d) clouds of one shape, got {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must hold finite values")
    return xa, ya


def assignment(x: ArrayLike, y: ArrayLike, max_iter: int = 1_000_000) -> tuple[np.ndarray, float]:
    """The exact optimal assignment between two equal-size clouds with Euclidean cost, and its W1.

    Parameters
    ----------
    x : (n, d) array-like
        First cloud (the generated points).
    y : (n, d) array-like
        Second cloud (the real points), same shape.
    max_iter : int
        Iteration cap of the network simplex (POT's ``numItermax``).

    Returns
    -------
    plan : (n,) int64 array
        A permutation: x[i] is transported to y[plan[i]].
    w1 : float
        :math:`\\frac1n \\sum_i \\lVert x_i - y_{plan[i]} \\rVert_2`, the exact W1 (float64).

    Raises
    ------
    ValueError
        If the clouds differ in shape or hold non-finite values.
    RuntimeError
        If the solver stops before the optimum (raise ``max_iter``).
    """
    xa, ya = _pair(x, y)
    n = len(xa)
    cost = euclidean_cost(xa, ya)                                          # (n, n)
    ones = np.ones(n)
    with warnings.catch_warnings():                                        # we raise our own error below
        warnings.filterwarnings("ignore", message="numItermax reached", category=UserWarning)
        flow, log = ot.emd(ones, ones, cost, numItermax=int(max_iter), log=True)
    if log.get("result_code") != 1:
        raise RuntimeError(f"ot.emd did not reach the optimum ({log.get('warning')}); raise max_iter")
    rows = np.arange(n)
    plan = flow.argmax(1)
    if not ((flow[rows, plan] == 1.0).all() and len(np.unique(plan)) == n):   # not a 0/1 vertex: never seen
        plan = linear_sum_assignment(cost)[1]                              # an optimal permutation all the same
    return plan.astype(np.int64), float(cost[rows, plan].mean())


def minibatch_w1(x: ArrayLike, y: ArrayLike) -> tuple[float, np.ndarray, np.ndarray]:
    """The minibatch W1 loss of generated points x against real points y, and its gradient in x.

    Returns ``(loss, grad, plan)``: loss = mean_i |x_i - y_plan[i]| (float64), grad (n, d) =
    (x_i - y_plan[i]) / |x_i - y_plan[i]| / n with the assignment held fixed (0 where the distance
    is 0), and the assignment of `assignment`.
    """
    xa, ya = _pair(x, y)
    plan, loss = assignment(xa, ya)
    diff = xa - ya[plan]                                                   # (n, d)
    norm = np.sqrt(np.square(diff).sum(1, keepdims=True)) * len(xa)       # (n, 1) n |x_i - y_pi(i)|
    grad = np.divide(diff, norm, out=np.zeros_like(diff), where=norm > 0)
    return loss, grad, plan
