r"""Objectives: name -> `Objective` registry, one small object each.

Notation: f is the critic (discriminator logits for the GANs), x ~ P_r real,
x~ = G(z) generated, all expectations over a batch, per run (shape (S,)).

Vanilla GAN (Goodfellow et al.), with D = sigmoid(f):

.. math::
    L_D = -E[\log D(x)] - E[\log(1 - D(\tilde x))]
        = E[\mathrm{softplus}(-f(x))] + E[\mathrm{softplus}(f(\tilde x))]

    L_G^{minimax} = E[\log(1 - D(\tilde x))] = -E[\mathrm{softplus}(f(\tilde x))]
    \qquad L_G^{NS} = -E[\log D(\tilde x)] = E[\mathrm{softplus}(-f(\tilde x))]

WGAN (Arjovsky et al.): the critic maximises the Kantorovich-Rubinstein dual

.. math::
    W_1(P_r, P_g) = \sup_{\|f\|_L \le 1} E[f(x)] - E[f(\tilde x)],
    \qquad L_C = E[f(\tilde x)] - E[f(x)], \qquad L_G = -E[f(\tilde x)]

and the 1-Lipschitz constraint is enforced by one of:

- clipping every critic weight to [-c, c] after each critic update;
- the gradient penalty (WGAN-GP) at interpolates
  :math:`\hat x = \epsilon x + (1-\epsilon)\tilde x,\ \epsilon \sim U[0,1]`:
  :math:`\lambda E[(\|\nabla f(\hat x)\|_2 - 1)^2]`;
- the one-sided penalty (WGAN-LP, Petzka et al.): :math:`\lambda E[\max(0, \|\nabla f(\hat x)\|_2 - 1)^2]`;
- spectral normalisation (Miyato et al.): every layer's W divided by its largest singular value.

Each loss also carries its derivative with respect to the critic's outputs
(``critic_grad``: dL_C/df on real and fake rows; ``gen_grad``: dL_G/df on fake
rows; ``penalty_grad``: phi'(r) / r of the penalty phi, as a function of 1 / r,
the form the chain needs), which the hand-written
gradients in `fastgrad` chain through the networks; tests check them against
autograd. With D = sigmoid(f): d softplus(f)/df = sigmoid(f).

Exact minibatch W1 (``ot``, no critic): what the critic approximates, computed exactly on
each batch of B generated and B real points and minimised directly,

.. math::
    L_G = \frac{1}{B} \sum_i \lVert G(z_i) - x_{\pi(i)} \rVert_2, \qquad
    \pi = \arg\min_{\sigma} \sum_i \lVert G(z_i) - x_{\sigma(i)} \rVert_2 ,

with the assignment held fixed in the gradient (`transport`, `ot_step`). It has no critic
(``critic_free``): its critic losses are never called, and n_critic, clip and lambda are unused.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _wgan_critic(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    return f_fake.mean(1) - f_real.mean(1)                                 # (S,)


def _wgan_gen(f_fake: torch.Tensor) -> torch.Tensor:
    return -f_fake.mean(1)


def _wgan_critic_grad(f_real: torch.Tensor, f_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B = f_real.shape[1]
    return torch.full_like(f_real, -1.0 / B), torch.full_like(f_fake, 1.0 / B)


def _wgan_gen_grad(f_fake: torch.Tensor) -> torch.Tensor:
    return torch.full_like(f_fake, -1.0 / f_fake.shape[1])


def _gan_critic(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-f_real).mean(1) + F.softplus(f_fake).mean(1)


def _gan_gen_minimax(f_fake: torch.Tensor) -> torch.Tensor:
    return -F.softplus(f_fake).mean(1)


def _gan_gen_ns(f_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-f_fake).mean(1)


def _gan_critic_grad(f_real: torch.Tensor, f_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B = f_real.shape[1]
    return torch.sigmoid(-f_real).div_(-B), torch.sigmoid(f_fake).div_(B)


def _gan_gen_minimax_grad(f_fake: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(f_fake).div_(-f_fake.shape[1])


def _gan_gen_ns_grad(f_fake: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(-f_fake).div_(-f_fake.shape[1])


def _no_critic(*_: torch.Tensor) -> torch.Tensor:
    raise ValueError("the exact-OT objective has no critic (Objective.critic_free): see engine/ot_step.py")


def gp_penalty(grad_norm: torch.Tensor) -> torch.Tensor:
    """Two-sided penalty (||grad f|| - 1)^2 per interpolate."""
    return (grad_norm - 1.0) ** 2


def lp_penalty(grad_norm: torch.Tensor) -> torch.Tensor:
    """One-sided penalty max(0, ||grad f|| - 1)^2 per interpolate."""
    return F.relu(grad_norm - 1.0) ** 2


def gp_penalty_grad(inv_norm: torch.Tensor) -> torch.Tensor:
    """phi'(r) / r = 2 (r - 1) / r = 2 - 2 / r of the two-sided penalty, from 1 / r."""
    return torch.rsub(inv_norm, 2.0, alpha=2.0)


def lp_penalty_grad(inv_norm: torch.Tensor) -> torch.Tensor:
    """phi'(r) / r = 2 max(0, r - 1) / r = max(0, 2 - 2 / r) of the one-sided penalty, from 1 / r."""
    return torch.rsub(inv_norm, 2.0, alpha=2.0).clamp_(min=0.0)


@dataclass(frozen=True)
class Objective:
    name: str
    label: str
    critic_loss: Loss
    gen_loss: Callable[[torch.Tensor], torch.Tensor]
    penalty: Callable[[torch.Tensor], torch.Tensor] | None = None
    clip: bool = False
    spectral: bool = False
    wasserstein: bool = True            # E f(real) - E f(fake) estimates W1
    defaults: dict = field(default_factory=dict)   # reference hyperparameters (DESIGN.md)
    critic_grad: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None
    gen_grad: Callable[[torch.Tensor], torch.Tensor] | None = None
    penalty_grad: Callable[[torch.Tensor], torch.Tensor] | None = None
    short: str = ""                     # a short name for legends and column headers
    critic_free: bool = False           # no critic: the generator minimises the exact minibatch W1 (`ot_step`)

    @property
    def knobs(self) -> frozenset[str]:
        """The constraint knobs this objective uses ('clip', 'lam')."""
        return frozenset({"clip"} if self.clip else {"lam"} if self.penalty else set())


_WGRAD = dict(critic_grad=_wgan_critic_grad, gen_grad=_wgan_gen_grad)

OBJECTIVES: dict[str, Objective] = {o.name: o for o in [
    Objective("gan", "Vanilla GAN (minimax)", _gan_critic, _gan_gen_minimax, wasserstein=False,
              critic_grad=_gan_critic_grad, gen_grad=_gan_gen_minimax_grad,
              short="GAN (minimax)",
              defaults=dict(optimizer="adam", lr_c=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999, n_critic=1)),
    Objective("nsgan", "GAN (non-saturating)", _gan_critic, _gan_gen_ns, wasserstein=False,
              critic_grad=_gan_critic_grad, gen_grad=_gan_gen_ns_grad,
              short="GAN (non-saturating)",
              defaults=dict(optimizer="adam", lr_c=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999, n_critic=1)),
    Objective("wgan-clip", "WGAN (weight clipping)", _wgan_critic, _wgan_gen, clip=True, **_WGRAD,
              short="WGAN-clip",
              defaults=dict(optimizer="rmsprop", lr_c=5e-5, lr_g=5e-5, clip=0.01, n_critic=5)),
    Objective("wgan-gp", "WGAN-GP (gradient penalty)", _wgan_critic, _wgan_gen, penalty=gp_penalty,
              penalty_grad=gp_penalty_grad, **_WGRAD,
              short="WGAN-GP",
              defaults=dict(optimizer="adam", lr_c=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9, lam=10.0, n_critic=5)),
    Objective("wgan-lp", "WGAN-LP (one-sided penalty)", _wgan_critic, _wgan_gen, penalty=lp_penalty,
              penalty_grad=lp_penalty_grad, **_WGRAD,
              short="WGAN-LP",
              defaults=dict(optimizer="adam", lr_c=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9, lam=10.0, n_critic=5)),
    Objective("sngan", "WGAN + spectral norm", _wgan_critic, _wgan_gen, spectral=True, **_WGRAD,
              short="Spectral norm",
              defaults=dict(optimizer="adam", lr_c=2e-4, lr_g=2e-4, beta1=0.0, beta2=0.9, n_critic=5)),
    # no paper's settings: Adam at the classroom generator's rate (`recipes.CLASSROOM`); lr_c, n_critic unused
    Objective("ot", "Exact minibatch W1 (no critic)", _no_critic, _no_critic, wasserstein=False,
              critic_free=True, short="Exact OT",
              defaults=dict(optimizer="adam", lr_c=1e-3, lr_g=1e-3, beta1=0.5, beta2=0.9, n_critic=1)),
]}


def get(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose from {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]
