"""MLP generator and critic for a *stack* of S independent runs.

Each network's parameters for S runs live in one flat tensor ``flat`` of shape
(S, P); the layer weights are views into it, so a whole optimizer update or a
weight clip is a handful of tensor operations however many layers there are,
and S runs that share an architecture train together. A single run is simply
S = 1.

Stacked equals alone, bit for bit: a run's numbers do not depend on which
runs it trains beside. On the CPU every matrix product is therefore computed
run by run, as a product of one matrix (`torch.baddbmm` on a batch of one, or
`torch.mv`), and elementwise functions whose kernels round by position run on
each run's rows apart (`per_run`): see `chain.product` for what differs
otherwise. On a GPU the stack's products are batched (`torch.baddbmm`).

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


ALIGN = 64      # bytes: torch's CPU allocations start on a multiple of 64 bytes


def blocks(S: int, *shape: int, kw: dict, fill: float | None = None) -> torch.Tensor:
    """A buffer (S, *shape) whose every run's block starts on a multiple of `ALIGN` bytes, as a lone run's does.

    Some of MKL's kernels (its SSE4.2 ``sgemv``, the code path of CPUs without
    AVX2, which MKL may also take on non-Intel CPUs) round by the alignment
    of their operands; blocks that start as a single run's do keep a stacked
    run's numbers equal to its numbers alone. Contiguous within each run.
    """
    n, size = math.prod(shape), torch.empty(0, **kw).element_size()
    per = -(-n * size // ALIGN) * ALIGN // size if torch.device(kw.get("device", "cpu")).type == "cpu" else n
    buf = torch.empty(S, per, **kw) if fill is None else torch.full((S, per), fill, **kw)
    return buf[:, :n].view(S, *shape)


THIN = 4        # products with at most this many output columns run as matrix-vector products, run by run


def per_run(t: torch.Tensor) -> list[torch.Tensor]:
    """Views (1, ...) of each run's row of a stacked tensor on the CPU; one run, or a GPU: the tensor itself.

    For elementwise functions that ATen computes by another formula in the
    vectorised body of a loop than in its scalar tail (sigmoid, softplus, elu
    and their derivatives: a few ulp apart), and for matrix-vector products
    whose kernel depends on the number of rows: where a run's elements fall in
    a (S, ...) tensor depends on S, so stacked they would round otherwise than
    alone. Row by row, a run's numbers are the same whatever its stack-mates.
    """
    return list(t.split(1)) if t.device.type == "cpu" and t.shape[0] > 1 else [t]


def rowwise(fn, *xs: torch.Tensor) -> torch.Tensor:
    """``fn(*xs)`` for stacked (S, ...) tensors, applied to each run's rows apart (`per_run`), concatenated."""
    parts = [fn(*rows) for rows in zip(*(per_run(x) for x in xs))]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _runs(*ts: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
    """The stacked tensors' run-by-run slices (1, ...) on the CPU; one run, or a GPU: the tensors themselves.

    A product of one matrix (a batch of one) is MKL's ``sgemm``, the same call
    alone and stacked; a batch of S > 1 is ``sgemm_batch``, with other rounding.
    """
    S = ts[0].shape[0]
    if S == 1 or ts[0].device.type != "cpu":
        return [ts]
    return [tuple(t[s:s + 1] for t in ts) for s in range(S)]


def _power_step(w: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One power-iteration step for W (S, in, out) from u (S, out): sigma_max (S, 1, 1), with grad, and the new u."""
    with torch.no_grad():
        v = F.normalize(torch.bmm(w, u.unsqueeze(2)).squeeze(2), dim=1)           # (S, in)
        u_new = F.normalize(torch.bmm(v.unsqueeze(1), w).squeeze(1), dim=1)       # (S, out)
    return torch.bmm(torch.bmm(v.unsqueeze(1), w), u_new.unsqueeze(2)), u_new


def _aligned_rows(rows: list[torch.Tensor]) -> torch.Tensor:
    """(1, n) rows as one (S, n) `blocks` buffer."""
    out = blocks(len(rows), rows[0].shape[1], kw={"dtype": rows[0].dtype, "device": rows[0].device})
    for o, r in zip(out, rows):
        o.copy_(r[0])
    return out


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
        """(W, b) per layer; with spectral norm, W / sigma_max(W) by one power-iteration step.

        On the CPU run by run (`_runs`): batched, the power iteration's
        one-column products would round otherwise for S > 1 than for S = 1.
        """
        layers = list(zip(self.params[0::2], self.params[1::2]))
        if not self.spectral:
            return layers
        out = []
        for k, (w, b) in enumerate(layers):
            parts = [_power_step(w_s, u_s) for w_s, u_s in _runs(w, self.u[k])]
            if len(parts) == 1:
                (sigma, u_new), = parts
            else:
                sigma = torch.cat([p[0] for p in parts])
                u_new = _aligned_rows([p[1] for p in parts])
            if update_u:
                self.u[k] = u_new
            out.append((w / sigma, b))
        return out

    def __call__(self, x: torch.Tensor, update_u: bool = False, rows: list[int] | None = None) -> torch.Tensor:
        """x (S, B, in) -> (S, B, out); ``rows[s]``, when given, computes run s on its first rows only (zeros after).

        On the CPU run by run (`_runs`: `torch.baddbmm` on a batch of one, MKL's
        ``sgemm``; the activation on the run's rows only), so a run's numbers
        do not depend on its stack-mates (see `chain.product`); on a GPU batched.
        """
        act = ACT[self.spec.act]
        layers = self.weights(update_u)
        N, outs = x.shape[1], []
        for s, (h, *wb) in enumerate(_runs(x, *(t for layer in layers for t in layer))):
            if rows is not None and rows[s] < N and x.device.type == "cpu":
                h = h[:, :rows[s]]
            for k in range(len(layers)):
                h = torch.baddbmm(wb[2 * k + 1], h, wb[2 * k])                    # (1, rows, out_k) (GPU: (S, ...))
                if k < len(layers) - 1:
                    h = act(h)
            outs.append(h if h.shape[1] == N else F.pad(h, (0, 0, 0, N - h.shape[1])))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def flat_grad(self, grads: tuple[torch.Tensor, ...]) -> torch.Tensor:
        S = self.flat.shape[0]
        return torch.cat([g.reshape(S, -1) for g in grads], dim=1)              # (S, P)
