r"""Hand-written gradients for piecewise-linear networks (ReLU, LeakyReLU), in reusable buffers.

Autograd's double backward for the gradient penalty repeats work this size of
network cannot afford, and at batch 64, width 128 every tensor operation costs
about as much in overhead as in arithmetic. With a piecewise-linear activation
the second derivative is zero almost everywhere, so every gradient is a short
chain of masked matrix products, written here into buffers allocated once per
stack (no autograd, no allocation in the training loop).

Notation and the chain for one loss are in `chain`: with inputs augmented by a
column of ones, :math:`X_{l-1} = [h_{l-1}, 1]`, the gradient with respect to
layer l's :math:`[W_l; b_l]` is :math:`X_{l-1}^\top \Delta_l`, with
:math:`\Delta_{l-1} = (\Delta_l W_l^\top) \odot \sigma'(a_{l-1})`.

**Critic step.** Rows R = [real (B) | fake (B) | interpolates (B)]; the
upstream :math:`c = \partial L / \partial f` is -1/B on real rows and +1/B on
fake rows for WGAN (``Objective.critic_grad`` in general), and 1 on
interpolate rows, where :math:`\Delta_l = \partial f / \partial a_l =: s_l`.
The critic's input gradient there is :math:`g = s_1 W_1^\top` (B x d) and the
penalty is :math:`P = \frac{\lambda}{B}\sum_i \varphi(\|g_i\|)`, with
:math:`\varphi(r) = (r-1)^2` (GP) or :math:`\max(0, r-1)^2` (LP). Its gradient
flows back through the same chain in the other direction:

.. math::
    V_1 = \frac{\lambda}{B} \varphi'(r) \frac{g}{r}, \qquad
    V_{l+1} = (V_l W_l) \odot \sigma'(a_l), \qquad
    \frac{\partial P}{\partial W_l} = V_l^\top s_l

and the penalty does not depend on the biases (almost everywhere). So on the
interpolate rows :math:`X_{l-1}` holds :math:`[V_l, 0]` instead of
:math:`[h_{l-1}, 1]` (the forward pass has used them already), and the one
product :math:`X_{l-1}^\top \Delta_l` per layer gives the whole gradient of
:math:`L + P`.

**Generator step.** :math:`L_G` (WGAN: :math:`-E f(G(z))`) is backpropagated
through the critic to the generated points,
:math:`\partial L_G / \partial x = \Delta^C_1 W^{C\top}_1`, which is the
upstream delta of the generator's last layer; the generator's chain is then
the same as the critic's. Tests compare every gradient here with autograd and
with finite differences.
"""
from __future__ import annotations

from functools import partial

import torch

from wgan_core.engine.chain import (
    SLOPES,
    Backprop,
    FlatGrad,
    Forward,
    Layers,
    NetForward,
    augmented,
    blocks,
    like,
    masked,
    product,
    run,
)
from wgan_core.engine.models import Net, per_run
from wgan_core.engine.objectives import Objective

__all__ = ["SLOPES", "supported", "CriticWork", "critic_grads", "GenWork", "gen_grads", "NetForward"]


def supported(net: Net) -> bool:
    return net.spec.act in SLOPES and not net.spectral


class CriticWork:
    """Buffers of K critic steps for a stack of S runs, and the gradient of one step.

    The caller writes step k's batches into ``real[:, k]``, ``fake[:, k]`` and
    ``hat[:, k]`` (each (S, K, B, d)), then `grads` (k, lam / B) returns the flat
    gradient (S, P) of L_C + lambda P (a buffer, overwritten by the next call)
    and, when asked, the stats (S, 3): loss, W estimate, penalty.
    """

    def __init__(self, C: Net, obj: Objective, B: int, K: int, penalty: bool):
        S, kw, shapes = C.flat.shape[0], like(C.flat), C.spec.shapes
        self.obj, self.B, self.slope, self.penalty = obj, B, SLOPES[C.spec.act], penalty
        R, d, hidden = (3 if penalty else 2) * B, shapes[0][0], [o for _, o in shapes[:-1]]
        self.p = Layers(C.flat, shapes)
        x = augmented(K * S, R, d, 2 * B, kw).view(K, S, R, d + 1)            # step inputs, rows [real|fake|hat]
        self.real, self.fake, self.hat = (x[:, :, rows, :d].transpose(0, 1) for rows in       # (S, K, B, d) views
                                          (slice(0, B), slice(B, 2 * B), slice(2 * B, 3 * B)))
        X = [augmented(S, R, n, 2 * B, kw) for n in hidden]                    # X_l = [h_l, 1] / [V_l, 0]
        self.inp = [[x[k, :, :, :d]] + [t[..., :-1] for t in X] for k in range(K)]
        self.XT = [[x[k].transpose(1, 2)] + [t.transpose(1, 2) for t in X] for k in range(K)]
        self.V = [[x[k, :, 2 * B:, :d]] + [t[:, 2 * B:, :-1] for t in X] for k in range(K)]
        self.A = [blocks(S, R, n, kw=kw) for n in hidden]
        self.T = [blocks(S, B, n, kw=kw) for n in hidden]
        c = blocks(S, R, 1, kw=kw, fill=1.0)                                     # dL/df; 1 on interpolates
        self.c_r, self.c_f = c[:, :B, 0], c[:, B:2 * B, 0]
        if obj.wasserstein:                                                     # constant: set once
            c_r, c_f = obj.critic_grad(torch.zeros(S, B, **kw), torch.zeros(S, B, **kw))
            self.c_r.copy_(c_r), self.c_f.copy_(c_f)
        self.D = [blocks(S, R, n, kw=kw) for n in hidden] + [c]
        self.D_hat = self.D[0][:, 2 * B:]
        self.f = blocks(S, R, 1, kw=kw)
        self.f_r, self.f_f, self.f_rf = self.f[:, :B, 0], self.f[:, B:2 * B, 0], self.f[:, :2 * B, 0]
        self.w_vec = torch.cat([torch.full((B,), 1.0 / B, **kw), torch.full((B,), -1.0 / B, **kw)])
        self.grad = FlatGrad(C.flat, shapes)
        self.g = blocks(S, B, d, kw=kw)                                         # grad f(xhat)
        self.r_inv = blocks(S, B, 1, kw=kw, fill=1.0)                           # 1 / ||grad f(xhat)||
        self.eps = torch.tensor(1e-12, **kw)                                    # r = sqrt(|g|^2 + eps)
        self.A_hat = [a[:, 2 * B:] for a in self.A]
        ones = [[x[k]] + X for k in range(K)] if not penalty else [None] * K   # every row has its 1
        # the products of every step, on views made once (`chain.product`)
        self.forward = [Forward(self.p, self.inp[k], self.A, self.f, self.slope, ones[k]) for k in range(K)]
        self.backprop = Backprop(self.p, self.D, self.A, self.slope)
        self.plans = [self.grad.plan(self.XT[k], self.D) for k in range(K)]
        self.g_calls = product(self.D_hat, self.p.WT[0], self.g)               # g = s_1 W_1^T
        self.V_calls = [[(product(V[j], self.p.W[j], self.T[j]), self.T[j], self.A_hat[j], V[j + 1])
                         for j in range(len(V) - 1)] for V in self.V]
        self.rows = list(zip(*(per_run(t) for t in (self.f_r, self.f_f, self.c_r, self.c_f, self.f_rf))))
        self.st = torch.zeros(3, S, **kw)                                       # loss, W estimate, penalty
        self.st_w = [partial(torch.mv, f_rf, self.w_vec, out=w)                  # W estimate, run by run
                     for (*_, f_rf), w in zip(self.rows, per_run(self.st[1]))]
        self.st_loss = per_run(self.st[0])

    def grads(self, k: int, lam_b: torch.Tensor, stats: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Gradient (S, P) of step k; ``lam_b`` (S, 1, 1) is lambda / B per run."""
        self.forward[k](last=stats or not self.obj.wasserstein)                 # WGAN: dL/df is constant
        if not self.obj.wasserstein:
            self._upstream()
        self.backprop()
        if self.penalty:
            self._penalty(k, lam_b)
        return self.grad.gather(self.plans[k]), (self._stats() if stats else None)

    def _upstream(self) -> None:
        for f_r, f_f, c_r, c_f, _ in self.rows:                                 # run by run (`per_run`)
            g_r, g_f = self.obj.critic_grad(f_r, f_f)
            c_r.copy_(g_r), c_f.copy_(g_f)

    def _penalty(self, k: int, lam_b: torch.Tensor) -> None:
        """V_1 = lam/B phi'(r) g / r on the interpolate rows, then V_{l+1} = (V_l W_l) * sigma'(a_l)."""
        g = self.g                                                              # (S, B, d) = grad f(xhat)
        run(self.g_calls)
        torch.sum(g.square(), -1, keepdim=True, out=self.r_inv)
        self.r_inv.add_(self.eps).rsqrt_()                                      # (S, B, 1) 1 / r
        coef = self.obj.penalty_grad(self.r_inv).mul_(lam_b)                    # lam/B phi'(r) / r
        torch.mul(g, coef, out=self.V[k][0])
        for calls, t, a, v in self.V_calls[k]:
            run(calls)                                                          # (S, B, n_j)
            masked(t, a, self.slope, v)

    def _stats(self) -> torch.Tensor:
        """(S, 3): loss, W estimate E f(real) - E f(fake), penalty (a fresh tensor); run by run (`per_run`)."""
        st = self.st
        run(self.st_w)                                                          # (S,) W estimate
        if self.obj.wasserstein:
            torch.neg(st[1], out=st[0])                                         # L_C = -(W estimate)
        else:
            for (f_r, f_f, _, _, _), loss in zip(self.rows, self.st_loss):
                loss.copy_(self.obj.critic_loss(f_r, f_f))
        if self.penalty:
            torch.mean(self.obj.penalty(self.r_inv[..., 0].reciprocal()), 1, out=st[2])
        return st.t().clone()


@torch.no_grad()
def critic_grads(C: Net, obj: Objective, real: torch.Tensor, fake: torch.Tensor,
                 xhat: torch.Tensor | None, lam: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Flat gradient (S, P) of the critic loss (+ lam * penalty), and loss, W estimate, penalty (S,)."""
    B = real.shape[1]
    work = CriticWork(C, obj, B, 1, xhat is not None)
    work.real[:, 0].copy_(real), work.fake[:, 0].copy_(fake)
    if xhat is not None:
        work.hat[:, 0].copy_(xhat)
    grad, st = work.grads(0, lam.view(-1, 1, 1) / B, True)
    return grad, st[:, 0], st[:, 1], st[:, 2]


class GenWork:
    """Buffers of one generator step for a stack of S runs, and its gradient through the critic.

    The caller writes the noise into ``z`` (S, B, z_dim); `grads` returns the
    flat gradient (S, P_G) of L_G (a buffer) and L_G (S,).
    """

    def __init__(self, G: Net, C: Net, obj: Objective, B: int):
        S, kw, gs = G.flat.shape[0], like(G.flat), G.spec.shapes
        self.obj, self.slope_g = obj, SLOPES[G.spec.act]
        self.g, self.grad = Layers(G.flat, gs), FlatGrad(G.flat, gs)
        X = self.X = [augmented(S, B, i, B, kw) for i, _ in gs]                # [z, 1], [h_l, 1]
        self.z, self.XT = X[0][..., :-1], [t.transpose(1, 2) for t in X]
        self.z_rows = list(self.z)                                              # (B, z_dim) per run
        self.inp = [t[..., :-1] for t in X]
        self.A = [blocks(S, B, o, kw=kw) for _, o in gs[:-1]]
        self.D = [blocks(S, B, o, kw=kw) for _, o in gs]              # D[-1] = dL/dx
        self.critic = NetForward(C, B)
        self.c = blocks(S, B, 1, kw=kw)
        self.f = self.critic.out[..., 0]                                        # (S, B)
        if obj.wasserstein:                                                     # constant: L_G = f . c
            self.c[..., 0] = obj.gen_grad(torch.zeros(S, B, **kw))
        self.c_vec = self.c[0, :, 0]
        self.DC = [blocks(*a.shape, kw=kw) for a in self.critic.A] + [self.c]
        self.forward = Forward(self.g, self.inp, self.A, self.critic.inp[0], self.slope_g, self.X)   # x = G(z)
        self.backprop_c = Backprop(self.critic.p, self.DC, self.critic.A, self.critic.slope)
        self.dx_calls = product(self.DC[0], self.critic.p.WT[0], self.D[-1])  # dL/dx (S, B, d)
        self.backprop_g = Backprop(self.g, self.D, self.A, self.slope_g)
        self.plan = self.grad.plan(self.XT, self.D)
        self.rows = list(zip(per_run(self.f), per_run(self.c[..., 0])))

    def grads(self) -> tuple[torch.Tensor, torch.Tensor]:
        """x = G(z), f(x), then dL_G/df back through the critic to x and through the generator."""
        self.forward()                                                          # x = G(z) (S, B, d)
        self.critic.forward()                                                   # f(x) (S, B, 1)
        if not self.obj.wasserstein:
            for f, c in self.rows:                                              # run by run (`per_run`)
                c.copy_(self.obj.gen_grad(f))
        self.backprop_c()
        run(self.dx_calls)
        self.backprop_g()
        loss = [torch.mv(f, self.c_vec) if self.obj.wasserstein else self.obj.gen_loss(f) for f, _ in self.rows]
        return self.grad.gather(self.plan), (loss[0] if len(loss) == 1 else torch.cat(loss))


@torch.no_grad()
def gen_grads(G: Net, C: Net, obj: Objective, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat gradient (S, P_G) of the generator loss at noise z (S, B, z_dim), and the loss (S,)."""
    work = GenWork(G, C, obj, z.shape[1])
    work.z.copy_(z)
    grad, loss = work.grads()
    return grad, loss
