r"""Hand-written critic gradients for piecewise-linear critics (ReLU, LeakyReLU).

Autograd's double backward for the gradient penalty repeats work this size of
network cannot afford; with a piecewise-linear activation the second derivative
is zero almost everywhere, so every gradient is a short chain of masked matrix
products. For a critic with layers :math:`a_l = h_{l-1} W_l + b_l`,
:math:`h_l = \sigma(a_l) = D_l \odot a_l` (D_l the activation's slope, 1 or the
leak, per unit), rows R = [real (B) | fake (B) | interpolates (B)]:

Backward deltas with upstream :math:`c = \partial L / \partial f` (for WGAN,
-1/B on real rows, +1/B on fake rows) and 1 on interpolate rows:

.. math::
    \Delta_{L} = c, \qquad \Delta_{l-1} = (\Delta_l W_l^\top) \odot D_{l-1}

On interpolate rows :math:`\Delta_l = \partial f / \partial a_l =: s_l`, so the
critic's input gradient is :math:`g = s_1 W_1^\top` (B x d) and the penalty is
:math:`P = \frac{\lambda}{B}\sum_i \varphi(\|g_i\|)`, with
:math:`\varphi(r) = (r-1)^2` (GP) or :math:`\max(0, r-1)^2` (LP).
Its gradient flows back through the same chain in the other direction:

.. math::
    V_1 = \frac{\lambda}{B} \varphi'(r) \frac{g}{r}, \qquad
    V_{l+1} = (V_l W_l) \odot D_l, \qquad
    \frac{\partial P}{\partial W_l} = V_l^\top s_l

and the loss part is the usual :math:`h_{l-1}^\top \Delta_l` on real and fake
rows, so both fit one product per layer:

.. math::
    \frac{\partial (L + P)}{\partial W_l} =
      [h_{l-1}^{real,fake} ; V_l]^\top \, \Delta_l, \qquad
    \frac{\partial (L + P)}{\partial b_l} = \textstyle\sum_{real,fake} \Delta_l

The penalty does not depend on the biases (almost everywhere). Tests compare
every gradient here with autograd and with finite differences.
"""
from __future__ import annotations

import torch

from .models import Net
from .objectives import Objective

SLOPES = {"relu": 0.0, "leaky_relu": 0.2}


def supported(net: Net) -> bool:
    return net.spec.act in SLOPES and not net.spectral


def _masked(grad: torch.Tensor, a: torch.Tensor, slope: float) -> torch.Tensor:
    """grad * sigma'(a) for (leaky) ReLU, by ATen's own backward kernels (no comparison tensors)."""
    if slope:
        return torch.ops.aten.leaky_relu_backward(grad, a, slope, False)
    return torch.ops.aten.threshold_backward(grad, a, 0.0)


def _upstream(obj: Objective, f_r: torch.Tensor, f_f: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Loss (S,) and dL/df on real and fake rows (S, B) each."""
    B = f_r.shape[1]
    if obj.wasserstein:                                  # L = mean f(fake) - mean f(real)
        c = torch.full_like(f_r, 1.0 / B)
        return f_f.mean(1) - f_r.mean(1), c.neg(), c
    with torch.enable_grad():
        fr, ff = f_r.detach().requires_grad_(True), f_f.detach().requires_grad_(True)
        loss = obj.critic_loss(fr, ff)
        c_r, c_f = torch.autograd.grad(loss.sum(), (fr, ff))
    return loss.detach(), c_r, c_f


def _penalty_slope(obj: Objective, r: torch.Tensor) -> torch.Tensor:
    """phi'(r) for the two penalties (validated against autograd in the tests)."""
    d = r - 1.0
    return 2.0 * (d if obj.penalty.__name__ == "gp_penalty" else d.clamp(min=0.0))


@torch.no_grad()
def critic_grads(C: Net, obj: Objective, real: torch.Tensor, fake: torch.Tensor,
                 xhat: torch.Tensor | None, lam: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Flat gradient (S, P) of the critic loss (+ lam * penalty), and loss, W estimate, penalty (S,)."""
    slope = SLOPES[C.spec.act]
    W, b = C.params[0::2], C.params[1::2]
    L, B = len(W), real.shape[1]
    x = torch.cat([real, fake] + ([xhat] if xhat is not None else []), 1)   # (S, R, d)
    hs, As, h = [x], [], x
    for k in range(L):
        a = torch.baddbmm(b[k], h, W[k])                                       # (S, R, n_k)
        if k < L - 1:
            h = torch.nn.functional.leaky_relu(a, slope) if slope else torch.relu(a)
            As.append(a)
            hs.append(h)
    f = a.squeeze(-1)                                                          # (S, R)
    f_r, f_f = f[:, :B], f[:, B:2 * B]
    loss, c_r, c_f = _upstream(obj, f_r, f_f)
    ups = [c_r, c_f] + ([torch.ones_like(c_r)] if xhat is not None else [])
    deltas = [torch.cat(ups, 1).unsqueeze(-1)]                                 # Delta_L (S, R, 1)
    for k in range(L - 1, 0, -1):
        deltas.insert(0, _masked(torch.bmm(deltas[0], W[k].transpose(1, 2)), As[k - 1], slope))
    pen = torch.zeros_like(loss)
    Vs: list[torch.Tensor] = []
    if xhat is not None:
        g = torch.bmm(deltas[0][:, 2 * B:], W[0].transpose(1, 2))              # (S, B, d) = grad f(xhat)
        r = (g.pow(2).sum(-1) + 1e-12).sqrt()                                  # (S, B)
        pen = obj.penalty(r).mean(1)
        V = (lam.view(-1, 1, 1) / B) * (_penalty_slope(obj, r) / r).unsqueeze(-1) * g
        Vs.append(V)
        for k in range(L - 1):
            V = _masked(torch.bmm(V, W[k]), As[k][:, 2 * B:], slope)
            Vs.append(V)
    grads = []
    for k in range(L):
        A = torch.cat([hs[k][:, :2 * B], Vs[k]], 1) if Vs else hs[k]           # (S, R, n_{k-1})
        grads.append(torch.bmm(A.transpose(1, 2), deltas[k]))                   # dW_k
        grads.append(deltas[k][:, :2 * B].sum(1, keepdim=True))                # db_k
    flat = torch.cat([gk.reshape(gk.shape[0], -1) for gk in grads], 1)
    return flat, loss, f_r.mean(1) - f_f.mean(1), pen
