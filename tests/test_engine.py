"""The training engine: hand-written gradients, optimizers, live changes, stacking, checkpoints, data sets."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from wgan_core.engine import chain, fastgrad, objectives
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import MLPSpec, Net
from wgan_core.engine.optim import Hyper, OptState, update
from wgan_core.engine.trainer import Run, Stack, autograd_critic_grads, train
from wgan_core.engine.views import GRID, MANIFOLD, N_ARROWS, N_SHOW, N_W1

torch.set_num_threads(1)

SUPPORTED = ["gan", "nsgan", "wgan-clip", "wgan-gp", "wgan-lp"]       # sngan: spectral norm, autograd only
SMALL = dict(width=16, batch=32, data="8gaussians")


def _net(spec: MLPSpec, S: int, seed: int, scale: float = 1.0, dtype=torch.float32) -> Net:
    flat = torch.cat([spec.init(torch.Generator().manual_seed(seed + s)) for s in range(S)]) * scale
    return Net(spec, flat.to(dtype))


def _batch(S: int, B: int, penalty: bool, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(S, B, 2, generator=g, dtype=dtype) * 1.5
    fake = torch.randn(S, B, 2, generator=g, dtype=dtype)
    xhat = fake + torch.rand(S, B, 1, generator=g, dtype=dtype) * (real - fake) if penalty else None
    return real, fake, xhat


# -- hand-written gradients --------------------------------------------------------------
@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
@pytest.mark.parametrize("loss", SUPPORTED)
def test_critic_grads_equal_autograd(loss, act):
    obj = objectives.get(loss)
    C = _net(MLPSpec(2, 1, 24, 2, act), S=3, seed=1, scale=3.0)          # scaled up: gradient norms > 1
    real, fake, xhat = _batch(3, 20, obj.penalty is not None)
    lam = torch.tensor([0.5, 2.0, 10.0])
    fast = fastgrad.critic_grads(C, obj, real, fake, xhat, lam)
    ref = autograd_critic_grads(C, obj, real, fake, xhat, lam)
    for a, b in zip(fast, ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    if obj.penalty is not None:
        assert (fast[3] > 0).all()                                        # the one-sided penalty is active


def _critic_objective(spec: Net, obj, flat, real, fake, xhat, lam) -> torch.Tensor:
    """L_C + lam * penalty summed over runs, with grad f(xhat) by (first-order) autograd."""
    C = Net(spec, flat.clone())
    B = real.shape[1]
    x = xhat.detach().requires_grad_(True) if xhat is not None else None
    with torch.enable_grad():
        out = C(torch.cat([real, fake] + ([x] if x is not None else []), 1)).squeeze(-1)
        total = obj.critic_loss(out[:, :B], out[:, B:2 * B])
        if x is not None:
            (gx,) = torch.autograd.grad(out[:, 2 * B:].sum(), x)
            total = total + lam * obj.penalty((gx.pow(2).sum(-1) + 1e-12).sqrt()).mean(1)
    return total.sum().detach()


def _finite_diff(fn, flat: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    grad = torch.zeros_like(flat)
    for idx in np.ndindex(*flat.shape):
        e = torch.zeros_like(flat)
        e[idx] = h
        grad[idx] = (fn(flat + e) - fn(flat - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
@pytest.mark.parametrize("loss", SUPPORTED)
def test_critic_grads_finite_differences_float64(loss, act):
    obj = objectives.get(loss)
    spec = MLPSpec(2, 1, 5, 2, act)
    C = _net(spec, S=2, seed=3, scale=2.5, dtype=torch.float64)
    real, fake, xhat = _batch(2, 6, obj.penalty is not None, seed=4, dtype=torch.float64)
    lam = torch.tensor([1.0, 3.0], dtype=torch.float64)
    grad = fastgrad.critic_grads(C, obj, real, fake, xhat, lam)[0]
    fd = _finite_diff(lambda f: _critic_objective(spec, obj, f, real, fake, xhat, lam), C.flat)
    torch.testing.assert_close(grad, fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
@pytest.mark.parametrize("loss", SUPPORTED)
def test_generator_grads_equal_autograd(loss, act):
    obj = objectives.get(loss)
    G = _net(MLPSpec(2, 2, 24, 2, act), S=2, seed=5)
    C = _net(MLPSpec(2, 1, 24, 2, "leaky_relu" if act == "relu" else "relu"), S=2, seed=7, scale=2.0)
    z = torch.randn(2, 20, 2, generator=torch.Generator().manual_seed(8))
    grad, gl = fastgrad.gen_grads(G, C, obj, z)
    with torch.enable_grad():
        ref_loss = obj.gen_loss(C(G(z)).squeeze(-1))
        ref = G.flat_grad(torch.autograd.grad(ref_loss.sum(), G.params))
    torch.testing.assert_close(grad, ref, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(gl, ref_loss.detach())


def test_generator_grads_finite_differences_float64():
    obj = objectives.get("wgan-gp")
    gspec = MLPSpec(2, 2, 5, 2, "relu")
    G = _net(gspec, S=1, seed=9, dtype=torch.float64)
    C = _net(MLPSpec(2, 1, 5, 2, "leaky_relu"), S=1, seed=10, scale=2.0, dtype=torch.float64)
    z = torch.randn(1, 6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    grad = fastgrad.gen_grads(G, C, obj, z)[0]

    def loss(flat):
        with torch.no_grad():
            return obj.gen_loss(C(Net(gspec, flat.clone())(z)).squeeze(-1)).sum()
    torch.testing.assert_close(grad, _finite_diff(loss, G.flat), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", SUPPORTED)
def test_objective_derivatives_equal_autograd(loss):
    obj = objectives.get(loss)
    f_r, f_f = torch.randn(2, 9, requires_grad=True), torch.randn(2, 9, requires_grad=True)
    c_r, c_f = torch.autograd.grad(obj.critic_loss(f_r, f_f).sum(), (f_r, f_f))
    mine = obj.critic_grad(f_r.detach(), f_f.detach())
    torch.testing.assert_close(mine[0], c_r)
    torch.testing.assert_close(mine[1], c_f)
    (d_gen,) = torch.autograd.grad(obj.gen_loss(f_f).sum(), f_f)
    torch.testing.assert_close(obj.gen_grad(f_f.detach()), d_gen)
    if obj.penalty is not None:
        r = torch.tensor([0.3, 0.9, 1.0, 1.2, 3.0], requires_grad=True)
        (d_pen,) = torch.autograd.grad(obj.penalty(r).sum(), r)
        torch.testing.assert_close(obj.penalty_grad(1 / r.detach()), d_pen / r.detach())


def test_net_forward_equals_the_module():
    G = _net(MLPSpec(2, 2, 16, 3, "relu"), S=3, seed=2)
    z = torch.randn(3, 40, 2)
    torch.testing.assert_close(fastgrad.NetForward(G, 40).run(z), G(z).detach())


# -- optimizers ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["adam", "rmsprop", "sgd"])
@pytest.mark.parametrize("S", [1, 3])
def test_update_matches_torch_optim(kind, S):
    gen = torch.Generator().manual_seed(0)
    p0 = torch.randn(S, 50, generator=gen)
    lrs, b1s, b2s = [1e-2, 3e-3, 1e-2][:S], [0.5, 0.0, 0.9][:S], [0.9, 0.99, 0.999][:S]
    p, st, h = p0.clone(), OptState.zeros(p0), Hyper(kind, lrs, b1s, b2s)
    refs = [p0[s].clone().requires_grad_(True) for s in range(S)]
    make = {"adam": lambda w, s: torch.optim.Adam([w], lr=lrs[s], betas=(b1s[s], b2s[s])),
            "rmsprop": lambda w, s: torch.optim.RMSprop([w], lr=lrs[s]),
            "sgd": lambda w, s: torch.optim.SGD([w], lr=lrs[s])}[kind]
    opts = [make(w, s) for s, w in enumerate(refs)]
    for _ in range(6):
        g = torch.randn(S, 50, generator=gen)
        update(p, g, st, h)
        for s, (w, o) in enumerate(zip(refs, opts)):
            w.grad = g[s].clone()
            o.step()
    for s, w in enumerate(refs):
        torch.testing.assert_close(p[s], w.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["adam", "rmsprop", "sgd"])
def test_masked_runs_stay_unchanged(kind):
    p = torch.randn(3, 20)
    st, h = OptState.zeros(p), Hyper(kind, [1e-2] * 3, [0.5] * 3, [0.9] * 3)
    update(p, torch.randn(3, 20), st, h)
    before = [t.clone() for t in (p, st.t, st.m, st.v)]
    update(p, torch.randn(3, 20), st, h, mask=torch.tensor([[1.0], [0.0], [1.0]]))
    for old, new in zip(before, (p, st.t, st.m, st.v)):
        assert torch.equal(old[1], new[1])
    assert not torch.equal(before[0][0], p[0]) and not torch.equal(before[0][2], p[2])


# -- runs -----------------------------------------------------------------------------------
def test_clipping_keeps_every_critic_weight_within_c():
    base = dict(loss="wgan-clip", optimizer="rmsprop", lr_c=1e-2, lr_g=1e-2, **SMALL)
    alone = Run(TrainConfig(**base, clip=0.05), device="cpu")
    alone.step(3)
    assert alone.c_flat.abs().max() <= 0.05
    a, b = (Run(TrainConfig(**base, clip=c, n_critic=n, seed=s), device="cpu") for c, n, s in ((0.05, 5, 1), (0.02, 2, 2)))
    train([a, b], 3)
    assert a.c_flat.abs().max() <= 0.05 and b.c_flat.abs().max() <= 0.02
    assert a.c_flat.abs().max() > 0.02                                    # each run its own c


def test_live_learning_rate_reaches_the_optimizer():
    cfg = TrainConfig(**SMALL)
    a, b = Run(cfg, device="cpu"), Run(cfg, device="cpu")
    a.step(2), b.step(2)
    assert a.apply(cfg.replace(lr_c=cfg.lr_c * 10)) is True
    ca, cb = a.c_flat.clone(), b.c_flat.clone()
    a.critic_only(), b.critic_only()                                      # the next update uses the new lr
    torch.testing.assert_close(a.c_flat - ca, 10 * (b.c_flat - cb), rtol=1e-3, atol=3e-7)
    assert (b.c_flat - cb).abs().max() > 1e-4                             # a real step, 10 x larger in a
    # a run told its lr before its first step trains exactly like one created with it
    fast = cfg.replace(lr_c=5e-3, lr_g=2e-3)
    told, made = Run(cfg, device="cpu"), Run(fast, device="cpu")
    assert told.apply(fast)
    told.step(2), made.step(2)
    assert torch.equal(told.c_flat, made.c_flat) and torch.equal(told.g_flat, made.g_flat)


def test_live_n_critic_change_takes_effect_at_the_next_step():
    cfg = TrainConfig(**SMALL)
    r = Run(cfg, device="cpu")
    r.step(1)
    for n in (2, 7, 1):
        before = r.critic_steps
        assert r.apply(cfg.replace(n_critic=n))
        r.step(1)
        assert r.critic_steps - before == n and r.status == "ok"
    assert len(r.work) <= 3                                               # buffers of the newest n_critic only


def test_apply_refuses_a_structural_change():
    cfg = TrainConfig(**SMALL)
    r = Run(cfg, device="cpu")
    assert r.apply(cfg.replace(width=32)) is False
    assert r.apply(cfg.replace(data="25gaussians")) is False
    assert r.config == cfg


@pytest.mark.parametrize("loss", ["wgan-gp", "wgan-clip"])
def test_same_seed_and_config_give_identical_runs(loss):
    cfg = TrainConfig(loss=loss, optimizer="adam", **SMALL)
    a, b, bursts = Run(cfg, device="cpu"), Run(cfg, device="cpu"), Run(cfg, device="cpu")
    a.step(4), b.step(4)
    for _ in range(4):                                                    # reused buffers, burst after burst
        bursts.step(1)
    for r in (b, bursts):
        assert torch.equal(a.c_flat, r.c_flat) and torch.equal(a.g_flat, r.g_flat)
        np.testing.assert_array_equal(np.array(a.stats), np.array(r.stats))


def test_the_hand_written_path_serves_relu_networks():
    fast = Stack([Run(TrainConfig(**SMALL), device="cpu")])
    assert fast.fast_c and fast.fast_g
    assert not Stack([Run(TrainConfig(act_c="tanh", **SMALL), device="cpu")]).fast_c
    assert not Stack([Run(TrainConfig(loss="sngan", **SMALL), device="cpu")]).fast_c


@pytest.mark.parametrize("k,n,o", [(17, 96, 1), (21, 300, 20), (129, 192, 128), (3, 64, 2)])
def test_a_runs_products_do_not_depend_on_its_stack(k, n, o):
    """X^T Delta as the gradient takes it, (k x n) by (n x o), for run s of a stack and alone: bit for bit.

    `torch.bmm` of the stack would not be: MKL's batched sgemm rounds a one-column product (the
    critic's last layer) otherwise than its sgemm of one matrix, and on AVX2 code paths some wider
    ones too (21 x 300 by 300 x 20).
    """
    g = torch.Generator().manual_seed(k * n + o)
    X, D = torch.randn(3, n, k, generator=g), torch.randn(3, n, o, generator=g)
    out = chain.blocks(3, k, o, kw={"dtype": torch.float32, "device": torch.device("cpu")})
    chain.run(chain.product(X.transpose(1, 2), D, out))
    for s in range(3):
        one = torch.empty(1, k, o)
        chain.run(chain.product(X[s:s + 1].clone().transpose(1, 2), D[s:s + 1].clone(), one))
        assert torch.equal(out[s], one[0])
    torch.testing.assert_close(out, torch.bmm(X.transpose(1, 2), D))


ODD = dict(width=20, batch=100, data="25gaussians")       # sizes that are no multiple of a SIMD vector


@pytest.mark.parametrize("loss,opt,act_c,size", [
    ("wgan-gp", "adam", "leaky_relu", SMALL), ("wgan-clip", "rmsprop", "relu", SMALL),
    ("nsgan", "adam", "leaky_relu", SMALL), ("wgan-gp", "adam", "tanh", SMALL),
    ("wgan-gp", "adam", "leaky_relu", ODD), ("gan", "adam", "elu", ODD), ("sngan", "adam", "leaky_relu", ODD),
    ("ot", "adam", "leaky_relu", ODD)])                                   # no critic: the exact minibatch W1
def test_stacked_runs_equal_runs_alone(loss, opt, act_c, size):
    """Bit for bit, whatever the stack-mates and their n_critic: weights, optimizer state, curves.

    Exact equality, on any x86 CPU: MKL's batched product (S > 1) rounds otherwise than its
    single one (S = 1), and some elementwise kernels round by position, so the engine computes
    these run by run (`chain.product`, `models.per_run`); a tolerance would hide a regression
    that Adam then amplifies into visibly different runs.
    """
    cfgs = [TrainConfig(loss=loss, optimizer=opt, act_c=act_c, seed=s, lr_c=1e-3 * (s + 1), n_critic=n, **size)
            for s, n in ((0, 5), (1, 5), (2, 2))]
    stacked = [Run(c, device="cpu") for c in cfgs]
    train(stacked, 4)
    for c, r in zip(cfgs, stacked):
        alone = Run(c, device="cpu")
        alone.step(4)
        assert torch.equal(r.c_flat, alone.c_flat) and torch.equal(r.g_flat, alone.g_flat)
        for st, st1 in ((r.c_opt, alone.c_opt), (r.g_opt, alone.g_opt)):
            assert torch.equal(st.m, st1.m) and torch.equal(st.v, st1.v) and torch.equal(st.t, st1.t)
        assert all(torch.equal(u, u1) for u, u1 in zip(r.sn_u, alone.sn_u))
        np.testing.assert_array_equal(np.array(r.stats), np.array(alone.stats))
        assert r.critic_steps == alone.critic_steps == 4 * c.n_critic * (loss != "ot")


def test_divergence_is_caught_and_the_last_good_state_kept():
    r = Run(TrainConfig(loss="wgan-clip", optimizer="sgd", lr_c=1.0, lr_g=1.0, clip=10.0, **SMALL), device="cpu")
    for _ in range(10):
        before = (r.g_flat.clone(), r.c_flat.clone(), r.gen_steps, len(r.stats))
        r.step(2)                                                         # raises nothing
        if r.status != "ok":
            break
    assert r.status == "diverged"
    assert "diverged" in r.message and "resume" in r.message
    assert torch.isfinite(r.g_flat).all() and torch.isfinite(r.c_flat).all()
    assert torch.equal(r.g_flat, before[0]) and torch.equal(r.c_flat, before[1])
    assert r.gen_steps == before[2] and len(r.stats) == before[3]
    r.step(3)                                                             # a diverged run trains no more
    assert r.gen_steps == before[2]


@pytest.mark.parametrize("loss,opt", [("wgan-gp", "adam"), ("wgan-clip", "rmsprop")])
def test_checkpoint_round_trip_continues_identically(loss, opt):
    cfg = TrainConfig(loss=loss, optimizer=opt, **SMALL)
    r = Run(cfg, device="cpu")
    r.step(3)
    buf = io.BytesIO()
    torch.save(r.state_dict(), buf)
    buf.seek(0)
    fresh = Run(cfg, device="cpu")
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    r.step(1), fresh.step(1)
    assert torch.equal(r.g_flat, fresh.g_flat) and torch.equal(r.c_flat, fresh.c_flat)
    assert fresh.gen_steps == r.gen_steps == 4
    np.testing.assert_array_equal(np.array(fresh.stats), np.array(r.stats))


def test_checkpoint_of_another_architecture_is_refused():
    sd = Run(TrainConfig(**{**SMALL, "width": 32}), device="cpu").state_dict()
    with pytest.raises(ValueError):
        Run(TrainConfig(**SMALL), device="cpu").load_state_dict(sd)


def test_snapshot_shapes_and_keys():
    r = Run(TrainConfig(**SMALL), device="cpu")
    r.step(2)
    snap = r.snapshot(exact=True)
    assert {"config", "status", "message", "gen_steps", "critic_steps", "extent", "real", "fake", "grad_norms",
            "curves", "metrics", "grid", "arrows", "manifold"} <= set(snap)
    assert snap["real"].shape == (N_SHOW, 2) and snap["fake"].shape == (N_SHOW, 2)
    assert snap["grid"].shape == (GRID, GRID) and snap["arrows"].shape == (N_ARROWS, 2)
    assert snap["manifold"].shape == (MANIFOLD, MANIFOLD, 2) and snap["grad_norms"].shape == (N_W1,)
    assert snap["gen_steps"] == 2 and snap["critic_steps"] == 2 * r.config.n_critic
    m = snap["metrics"]
    assert m["modes_total"] == 8 and 0 <= m["modes_covered"] <= 8 and math.isfinite(m["exact_w1"])
    lengths = {len(v) for v in snap["curves"].values()}
    assert len(lengths) == 1 and lengths.pop() == 3                     # 2 training rows + 1 evaluation


# -- data sets ------------------------------------------------------------------------------
