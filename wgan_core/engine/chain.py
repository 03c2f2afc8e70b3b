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
"""
from __future__ import annotations

import torch

from wgan_core.engine.models import Net

SLOPES = {"relu": 0.0, "leaky_relu": 0.2}
_LRELU_BW = torch.ops.aten.leaky_relu_backward.grad_input
_RELU_BW = torch.ops.aten.threshold_backward.grad_input
_LRELU_BW, _RELU_BW = getattr(_LRELU_BW, "_op", _LRELU_BW), getattr(_RELU_BW, "_op", _RELU_BW)  # skip a Python frame


def like(t: torch.Tensor) -> dict:
    return {"device": t.device, "dtype": t.dtype}


def augmented(S: int, N: int, n: int, ones: int, kw: dict) -> torch.Tensor:
    """(S, N, n + 1) zeros whose last column is 1 on the first ``ones`` rows."""
    x = torch.zeros(S, N, n + 1, **kw)
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


THIN = 4        # products with at most this many output columns run as matrix-vector products


def thin_views(a: torch.Tensor, m: torch.Tensor, out: torch.Tensor, bias: torch.Tensor | None = None) -> list | None:
    """Views for ``out = bias + a @ m`` (S, N, o) as one matrix-vector product per run and column, if o <= THIN.

    MKL's matrix product is several times slower with one or two output
    columns (the critic's score, a 2D generator's points, the critic's input
    gradient) than as many matrix-vector products. Run by run, a run's numbers
    are also bit-identical alone or stacked: a batched product with one column
    takes another kernel than a single run's, with other rounding, which Adam
    amplifies in near-zero gradients.
    """
    S, N, o = out.shape
    if o > THIN or out.device.type != "cpu":          # on a GPU, S * o small kernels would cost more
        return None
    return [(None if bias is None else bias[s, 0, j].expand(N), a[s], m[s, :, j], out[s, :, j])
            for s in range(S) for j in range(o)]


def thin_product(views: list) -> None:
    for b, a, v, o in views:
        if b is None:
            torch.mv(a, v, out=o)
        else:
            torch.addmv(b, a, v, out=o)


def forward(p: Layers, inp: list[torch.Tensor], A: list[torch.Tensor], out: torch.Tensor, slope: float,
            thin: list | None = None, ones: list | None = None, last: bool = True) -> None:
    """a_l = h_{l-1} W_l + b_l into A[l], h_l = sigma(a_l) into inp[l+1]; the last layer into ``out``.

    ``thin`` (`thin_views` of the last layer) computes it as matrix-vector
    products. ``ones[l]``, when not None, is inp[l] with its column of ones
    (every row): then a_l = [h, 1] [W; b], one product with no bias copy.
    ``last=False`` stops before the last layer (a WGAN critic's step needs no f).
    """
    L = len(p.W)
    for k in range(L - 1):
        if ones is not None and ones[k] is not None:
            torch.bmm(ones[k], p.aug[k], out=A[k])                              # (S, N, n_k)
        else:
            torch.baddbmm(p.b[k], inp[k], p.W[k], out=A[k])
        _act(A[k], slope, inp[k + 1])
    if not last:
        return
    if thin is None:
        torch.baddbmm(p.b[L - 1], inp[L - 1], p.W[L - 1], out=out)            # (S, N, out)
    else:
        thin_product(thin)


class FlatGrad:
    """The flat gradient (S, P) of a network, assembled from X^T Delta per layer.

    One run writes each layer's block straight into its slice of the flat
    buffer. In a stack those slices are strided, for which the batched product
    takes a path with other rounding than a single run's; stacks write
    contiguous blocks and concatenate them, so a run's gradient is bit-identical
    alone or stacked.
    """

    def __init__(self, params: torch.Tensor, shapes: list[tuple[int, int]]):
        S = params.shape[0]
        self.flat = torch.empty_like(params)
        if S == 1:
            self.blocks, self.parts = Layers(self.flat, shapes).aug, None
        else:
            self.blocks = [torch.empty(S, i + 1, o, **like(params)) for i, o in shapes]
            self.parts = [b.view(S, -1) for b in self.blocks]

    def gather(self, XT: list[torch.Tensor], D: list[torch.Tensor]) -> torch.Tensor:
        """d L / d [W_l; b_l] = X_{l-1}^T Delta_l for every layer, as (S, P)."""
        for X_T, Dl, g in zip(XT, D, self.blocks):
            torch.bmm(X_T, Dl, out=g)                                           # (S, in+1, out)
        if self.parts is not None:
            torch.cat(self.parts, 1, out=self.flat)
        return self.flat


def backprop(p: Layers, D: list[torch.Tensor], A: list[torch.Tensor], slope: float) -> None:
    """Delta_{l-1} = (Delta_l W_l^T) * sigma'(a_{l-1}) into D[l-1], from D[-1] (the upstream) down to D[0]."""
    for k in range(len(p.W) - 2, -1, -1):
        torch.bmm(D[k + 1], p.WT[k + 1], out=D[k])                               # (S, N, n_k)
        masked(D[k], A[k], slope, D[k])


class NetForward:
    """A stacked net on N rows without autograd: ``run(x)`` (S, N, in) -> (S, N, out), a reused buffer."""

    def __init__(self, net: Net, N: int):
        S, kw, shapes = net.flat.shape[0], like(net.flat), net.spec.shapes
        self.p, self.slope = Layers(net.flat, shapes), SLOPES[net.spec.act]
        self.ones = [None] + [augmented(S, N, i, N, kw) for i, _ in shapes[1:]]   # hidden inputs [h, 1]
        self.inp = [torch.empty(S, N, shapes[0][0], **kw)] + [x[..., :-1] for x in self.ones[1:]]
        self.A = [torch.empty(S, N, o, **kw) for _, o in shapes[:-1]]
        self.out = torch.empty(S, N, shapes[-1][1], **kw)
        self.thin = thin_views(self.inp[-1], self.p.W[-1], self.out, self.p.b[-1]) if len(shapes) > 1 else None

    def run(self, x: torch.Tensor) -> torch.Tensor:
        forward(self.p, [x] + self.inp[1:], self.A, self.out, self.slope, self.thin, self.ones)
        return self.out
