r"""Building blocks of the hand-written gradients: stacked layers, forward and backward chains in buffers.

Notation. A network has layers :math:`a_l = h_{l-1} W_l + b_l`,
:math:`h_l = \sigma(a_l)`, with a piecewise-linear :math:`\sigma` (ReLU,
LeakyReLU): :math:`\sigma'(a_l)` is 1 or the leak, per unit. Parameters of
layer l are stored as one matrix :math:`[W_l; b_l]` (in + 1, out), so with
inputs augmented by a column of ones, :math:`X_{l-1} = [h_{l-1}, 1]`, the
gradient of a loss with backward deltas :math:`\Delta_l = \partial L /
\partial a_l` is one product per layer:

.. math::
    \frac{\partial L}{\partial [W_l; b_l]} = X_{l-1}^\top \Delta_l, \qquad
    \Delta_{l-1} = (\Delta_l W_l^\top) \odot \sigma'(a_{l-1}).

Every function here writes into buffers allocated once (``out=``), because at
batch 64, width 128 allocation and per-operation overhead cost about as much
as the arithmetic. `fastgrad` assembles the critic's and generator's
gradients from these pieces.

Stacked equals alone. A run's numbers must be bit-identical whether it trains
alone (S = 1) or in a stack. On the CPU each product is therefore made of the
same MKL calls for a run whatever S, on operands of the same shape, strides
and alignment: `product` runs one product per run (never MKL's batched
``sgemm_batch``, which rounds otherwise than ``sgemm``), limited to the run's
own rows (`product`'s ``rows``), in buffers whose per-run blocks start
aligned as a lone run's (`blocks`).
"""
from __future__ import annotations

from functools import partial

import torch

from wgan_core.engine.models import THIN, Net, blocks

SLOPES = {"relu": 0.0, "leaky_relu": 0.2}
_LRELU_BW = torch.ops.aten.leaky_relu_backward.grad_input
_RELU_BW = torch.ops.aten.threshold_backward.grad_input
_LRELU_BW, _RELU_BW = getattr(_LRELU_BW, "_op", _LRELU_BW), getattr(_RELU_BW, "_op", _RELU_BW)  # skip a Python frame


def like(t: torch.Tensor) -> dict:
    return {"device": t.device, "dtype": t.dtype}


def augmented(S: int, N: int, n: int, ones: int, kw: dict) -> torch.Tensor:
    """(S, N, n + 1) zeros whose last column is 1 on the first ``ones`` rows (`blocks`)."""
    x = blocks(S, N, n + 1, kw=kw, fill=0.0)
    x[:, :ones, n] = 1.0
    return x


def masked(grad: torch.Tensor, a: torch.Tensor, slope: float, out: torch.Tensor) -> None:
    """out = grad * sigma'(a) for (leaky) ReLU, by ATen's own backward kernels (no comparison tensors)."""
    if slope:
        _LRELU_BW(grad, a, slope, False, grad_input=out)
    else:
        _RELU_BW(grad, a, 0.0, grad_input=out)


def _act(a: torch.Tensor, slope: float, out: torch.Tensor) -> None:
    if slope:
        torch._C._nn.leaky_relu(a, slope, out=out)
    else:
        torch.clamp_min(a, 0.0, out=out)


class Layers:
    """Plain (no autograd) views of stacked parameters ``flat`` (S, P), per layer.

    ``aug[l]`` (S, in+1, out) is [W_l; b_l], the layer's slice of ``flat``; W, b
    and W^T are views of it, so in-place optimizer updates are seen at once.
    """

    def __init__(self, flat: torch.Tensor, shapes: list[tuple[int, int]]):
        S, off = flat.shape[0], 0
        flat = flat.detach()
        self.aug, self.W, self.b, self.WT = [], [], [], []
        for i, o in shapes:
            aug = flat[:, off:off + (i + 1) * o].view(S, i + 1, o)
            off += (i + 1) * o
            self.aug.append(aug)
            self.W.append(aug[:, :i])
            self.b.append(aug[:, i:])
            self.WT.append(aug[:, :i].transpose(1, 2))


def product(a: torch.Tensor, m: torch.Tensor, out: torch.Tensor, bias: torch.Tensor | None = None,
            rows: list[int] | None = None) -> list:
    """The calls that compute ``out = bias + a @ m`` for stacked (S, N, k) @ (S, k, o) -> (S, N, o); run by `run`.

    They are made once, on views of buffers that live as long as the stack. On
    the CPU the product is computed run by run, alone (S = 1) and stacked
    alike: one batched product of one matrix per run (`torch.bmm` /
    `torch.baddbmm` on (1, N, k) views, which is MKL's ``sgemm``), or, for
    o <= `THIN` output columns, one matrix-vector product per run and column
    (``sgemv``). So a run's numbers are bit-identical whatever its stack-mates.
    One batched product for the stack would not do: `torch.bmm` is ``sgemm``
    for S = 1 but ``sgemm_batch`` for S > 1, and the two round differently,
    always with one output column (the critic's score and its last layer's
    gradient, on AVX-512 and AVX2 code paths) and for some wider products on
    AVX2 code paths (e.g. X^T Delta, 21 x 300 by 300 x 20). MKL's matrix
    product is also several times slower with one or two output columns than
    as many matrix-vector products. On a GPU: one batched product.

    ``rows[s]``, when given, limits run s to its first rows (a run with fewer
    critic steps than the stack's most): ``sgemm`` rounds a row otherwise in a
    matrix of other height, so each run's product has the height it has alone.
    """
    S, N, o = out.shape
    if out.device.type != "cpu":
        return [partial(torch.bmm, a, m, out=out) if bias is None else partial(torch.baddbmm, bias, a, m, out=out)]
    r = rows or [N] * S
    if o <= THIN:
        if bias is None:
            return [partial(torch.mv, a[s, :r[s]], m[s, :, j], out=out[s, :r[s], j])
                    for s in range(S) for j in range(o)]
        return [partial(torch.addmv, bias[s, 0, j].expand(r[s]), a[s, :r[s]], m[s, :, j], out=out[s, :r[s], j])
                for s in range(S) for j in range(o)]
    one = [slice(s, s + 1) for s in range(S)]                                   # run s as a batch of one
    if bias is None:
        return [partial(torch.bmm, a[i, :n], m[i], out=out[i, :n]) for i, n in zip(one, r)]
    return [partial(torch.baddbmm, bias[i], a[i, :n], m[i], out=out[i, :n]) for i, n in zip(one, r)]


def run(calls: list) -> None:
    """Run the calls of `product`."""
    for call in calls:
        call()


class Forward:
    """a_l = h_{l-1} W_l + b_l into A[l], h_l = sigma(a_l) into inp[l+1]; the last layer into ``out``.

    ``ones[l]``, when not None, is inp[l] with its column of ones (every row):
    then a_l = [h, 1] [W; b], one product with no bias copy. Calling it with
    ``last=False`` stops before the last layer (a WGAN critic's step needs no f).
    ``rows``: see `product`.
    """

    def __init__(self, p: Layers, inp: list[torch.Tensor], A: list[torch.Tensor], out: torch.Tensor, slope: float,
                 ones: list | None = None, rows: list[int] | None = None):
        L = len(p.W)
        self.slope, self.hidden = slope, []
        for k in range(L - 1):
            if ones is not None and ones[k] is not None:
                calls = product(ones[k], p.aug[k], A[k], rows=rows)             # (S, N, n_k)
            else:
                calls = product(inp[k], p.W[k], A[k], p.b[k], rows)
            self.hidden.append((calls, A[k], inp[k + 1]))
        self.last = product(inp[L - 1], p.W[L - 1], out, p.b[L - 1], rows)      # (S, N, out)

    def __call__(self, last: bool = True) -> None:
        for calls, a, h in self.hidden:
            run(calls)
            _act(a, self.slope, h)
        if last:
            run(self.last)


class Backprop:
    """Delta_{l-1} = (Delta_l W_l^T) * sigma'(a_{l-1}) into D[l-1], from D[-1] (the upstream) down to D[0]."""

    def __init__(self, p: Layers, D: list[torch.Tensor], A: list[torch.Tensor], slope: float):
        self.slope = slope
        self.steps = [(product(D[k + 1], p.WT[k + 1], D[k]), D[k], A[k]) for k in range(len(p.W) - 2, -1, -1)]

    def __call__(self) -> None:
        for calls, d, a in self.steps:
            run(calls)                                                          # (S, N, n_k)
            masked(d, a, self.slope, d)


class FlatGrad:
    """The flat gradient (S, P) of a network, assembled from X^T Delta per layer.

    On the CPU every run writes each layer's block straight into its slice of
    the flat buffer (a contiguous matrix per run), alone and stacked alike (see
    `product`). On a GPU a stack writes contiguous blocks and concatenates them.
    """

    def __init__(self, params: torch.Tensor, shapes: list[tuple[int, int]]):
        S = params.shape[0]
        self.flat = blocks(S, params.shape[1], kw=like(params))
        if S == 1 or params.device.type == "cpu":
            self.blocks, self.parts = Layers(self.flat, shapes).aug, None
        else:
            self.blocks = [torch.empty(S, i + 1, o, **like(params)) for i, o in shapes]
            self.parts = [b.view(S, -1) for b in self.blocks]

    def plan(self, XT: list[torch.Tensor], D: list[torch.Tensor]) -> list:
        """The products of `gather` for these buffers (X_{l-1}^T, Delta_l per layer)."""
        return [c for X_T, Dl, g in zip(XT, D, self.blocks) for c in product(X_T, Dl, g)]

    def gather(self, plan: list) -> torch.Tensor:
        """d L / d [W_l; b_l] = X_{l-1}^T Delta_l for every layer (a `plan`), as (S, P)."""
        run(plan)
        if self.parts is not None:
            torch.cat(self.parts, 1, out=self.flat)
        return self.flat


class NetForward:
    """A stacked net on N rows without autograd: ``run(x)`` (S, N, in) -> (S, N, out), a reused buffer.

    ``rows[s]``, when given, computes run s on its first rows only (`product`); the others are left as they are.
    """

    def __init__(self, net: Net, N: int, rows: list[int] | None = None):
        S, kw, shapes = net.flat.shape[0], like(net.flat), net.spec.shapes
        self.p, self.slope = Layers(net.flat, shapes), SLOPES[net.spec.act]
        self.ones = [None] + [augmented(S, N, i, N, kw) for i, _ in shapes[1:]]   # hidden inputs [h, 1]
        self.inp = [blocks(S, N, shapes[0][0], kw=kw)] + [x[..., :-1] for x in self.ones[1:]]
        self.A = [blocks(S, N, o, kw=kw) for _, o in shapes[:-1]]
        self.out = blocks(S, N, shapes[-1][1], kw=kw)
        self.forward = Forward(self.p, self.inp, self.A, self.out, self.slope, self.ones, rows)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        if x is not self.inp[0]:
            self.inp[0].copy_(x)
        self.forward()
        return self.out
