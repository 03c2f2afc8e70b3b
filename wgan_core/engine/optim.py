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

Every update is torch's fused Adam kernel (SGD: one add), applied to each
run's row of the stack (one call per group of runs with equal
hyperparameters): one call instead of a dozen small tensor operations, which
dominate at this size, and the same kernel on the same row whether a run
trains alone or stacked, so its numbers are bit-identical either way (Adam
amplifies any rounding difference in near-zero gradients to a full step).
RMSprop is the Adam kernel with beta1 = 0 (so m = g), beta2 = a and a step
count so large that both bias corrections are exactly 1:
p <- p - lr g / (sqrt(v) + eps), the rule above.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

EPS = 1e-8
RMS_ALPHA = 0.99


@dataclass
class OptState:
    """Per-run optimizer state for one network: step count t (S, 1), moments m, v (S, P)."""

    t: torch.Tensor
    m: torch.Tensor
    v: torch.Tensor
    _rows: dict = field(default_factory=dict, repr=False, compare=False)   # cached per-run views

    @classmethod
    def zeros(cls, flat: torch.Tensor) -> OptState:
        S = flat.shape[0]
        return cls(torch.zeros(S, 1, device=flat.device), torch.zeros_like(flat), torch.zeros_like(flat))

    def rows(self, p: torch.Tensor, g: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Per run s: (p, g, m, v) rows (1, P) and t as a 0-d view, cached while p and g stay the same."""
        if self._rows.get("of") is None or self._rows["of"][0] is not p or self._rows["of"][1] is not g:
            self._rows["of"] = (p, g)
            self._rows["rows"] = [(p[s:s + 1], g[s:s + 1], self.m[s:s + 1], self.v[s:s + 1], self.t[s, 0])
                                  for s in range(p.shape[0])]
        return self._rows["rows"]


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

    def groups(self, rows: list[int]) -> dict[tuple[float, float, float], list[int]]:
        """The given runs grouped by equal (lr, beta1, beta2)."""
        out: dict[tuple[float, float, float], list[int]] = {}
        for s in rows:
            out.setdefault((self.lr[s], self.b1[s], self.b2[s]), []).append(s)
        return out


_CONSTANTS: dict[tuple[torch.device, float], torch.Tensor] = {}


def _constant(value: float, device: torch.device) -> torch.Tensor:
    """A 0-d tensor (adding one costs half of adding a Python number, which torch wraps every time)."""
    if (device, value) not in _CONSTANTS:
        _CONSTANTS[device, value] = torch.tensor(value, device=device)
    return _CONSTANTS[device, value]


def _huge_step(device: torch.device) -> torch.Tensor:
    """A step count t with b^t == 0 in float arithmetic for every b < 1: bias corrections of exactly 1."""
    return _constant(1e9, device)


def _fused(kind: str, p: list, g: list, m: list, v: list, t: list, lr: float, b1: float, b2: float) -> None:
    """One fused step on lists of tensors (t: 0-d step counts, already counted for Adam)."""
    if kind == "sgd":
        torch._foreach_add_(p, g, alpha=-lr)
        return
    if kind == "rmsprop":                   # m <- g, v <- a v + (1-a) g^2, p <- p - lr m / (sqrt(v) + eps)
        t, b1, b2 = [_huge_step(p[0].device)] * len(p), 0.0, RMS_ALPHA
    torch._fused_adam_(p, g, m, v, [], t, lr=lr, beta1=b1, beta2=b2,
                       weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)


@torch.no_grad()
def update(p: torch.Tensor, g: torch.Tensor, st: OptState, h: Hyper, mask: torch.Tensor | None = None) -> None:
    """One in-place step on p (S, P) with gradient g (S, P); ``mask`` None means every run steps."""
    if p.shape[0] == 1 and mask is None:    # a single run: the whole tensors are its rows
        t = None
        if h.kind == "adam":
            t = st.t.view(())
            t.add_(_constant(1.0, t.device))  # torch.optim.Adam counts the step before the fused kernel
        _fused(h.kind, [p], [g], [st.m], [st.v], [t], h.lr[0], h.b1[0], h.b2[0])
        return
    active = range(p.shape[0]) if mask is None else [s for s, m in enumerate(mask.view(-1).tolist()) if m > 0]
    if h.kind == "adam":
        st.t.add_(1 if mask is None else mask)
    rows = st.rows(p, g)
    for (lr, b1, b2), runs in h.groups(list(active)).items():
        p_, g_, m_, v_, t_ = (list(x) for x in zip(*(rows[s] for s in runs)))
        _fused(h.kind, p_, g_, m_, v_, t_, lr, b1, b2)
