r"""`Stack`: S compatible runs trained together on flat (S, P) parameters.

One generator step is the WGAN algorithm (Arjovsky et al., Algorithm 1; the
seed notebook's loop), for every run s of the stack:

    for k in 1..n_critic[s]:
        x ~ P_r, z ~ p(z), x~ = G(z)                       # fresh batches each critic step
        critic step on L_C (+ lambda * penalty at interpolates); clip weights if WGAN-clip
    z ~ p(z);  generator step on L_G = -E f(G(z))          (GAN: its own L_G)

The generator does not change during the critic steps, so the batches of all
n_critic steps are drawn and generated at once; each run draws from its own
random generator, in the same order whatever its stack-mates. Runs with fewer
critic steps than the stack's largest n_critic sit out the extra steps (masked
updates: parameters, optimizer state and spectral-norm vectors unchanged) and
keep the statistics of their own last step.

Stacked equals alone, bit for bit (on the CPU): a run's numbers do not depend
on which runs it trains beside, nor on their n_critic. Every product is
computed run by run in the shape the run has alone (`chain.product`;
`models.Net`), as are elementwise functions whose kernels round by position
(`models.per_run`: the GAN losses, sigmoid, softplus, elu), and each run's
optimizer step is a kernel call on its own row (`optim`).

Gradients come from `fastgrad` (hand-written, in reused buffers) for (leaky)
ReLU networks without spectral norm, and from autograd otherwise.

A critic-free objective (``Objective.critic_free``: the exact minibatch W1)
makes no critic steps: its generator step is `ot_step`'s, and its critic's
statistics (loss, W estimate, penalty) are NaN.
"""
from __future__ import annotations

import numpy as np
import torch

from wgan_core.engine import fastgrad, ot_step
from wgan_core.engine.chain import like
from wgan_core.engine.models import Net, blocks, rowwise
from wgan_core.engine.optim import Hyper, OptState, update


def stack_key(run) -> tuple:
    """Runs with equal keys can share a stack."""
    c = run.config
    return (str(run.device), c.loss, c.width, c.depth, c.act_g, c.act_c, c.z_dim, c.batch,
            c.optimizer, run.dataset.dim)


def _pad(x: torch.Tensor, pad: tuple[int, ...]) -> torch.Tensor:
    return x if pad[-1] == 0 else torch.nn.functional.pad(x, pad)


def _cat(xs: list[torch.Tensor]) -> torch.Tensor:
    return xs[0] if len(xs) == 1 else torch.cat(xs)


def stack_rows(xs: list[torch.Tensor]) -> torch.Tensor:
    """The runs' (1, P) tensors as one (S, P), each row aligned as the run's own tensor (`models.blocks`)."""
    if len(xs) == 1:
        return xs[0]
    out = blocks(len(xs), xs[0].shape[1], kw=like(xs[0]))
    for row, x in zip(out, xs):
        row.copy_(x[0])
    return out


class Stack:
    """S runs with one `stack_key`, stacked for a burst of steps; `close()` writes back."""

    def __init__(self, runs: list):
        keys = {stack_key(r) for r in runs}
        if len(keys) != 1:
            raise ValueError("runs in a stack must share architecture, objective, batch, optimizer and device")
        self.runs, r0 = runs, runs[0]
        self.S, self.dev, self.obj, self.cfg0 = len(runs), r0.device, r0.objective, r0.config
        self.G = Net(r0.g_spec, stack_rows([r.g_flat for r in runs]))
        u = [stack_rows([r.sn_u[k] for r in runs]) for k in range(len(r0.sn_u))] if self.obj.spectral else None
        self.C = Net(r0.c_spec, stack_rows([r.c_flat for r in runs]), spectral=self.obj.spectral, u=u)
        self.g_opt = OptState(*(_cat([getattr(r.g_opt, a) for r in runs]) for a in "tmv"))
        self.c_opt = OptState(*(_cat([getattr(r.c_opt, a) for r in runs]) for a in "tmv"))
        self.good = [(r.g_flat.clone(), r.c_flat.clone()) for r in runs]       # last good state
        self.rows: list[tuple[torch.Tensor, torch.Tensor]] = []                 # (S, 3), (S,) per gen step
        self.last = torch.full((self.S, 3), torch.nan if self.obj.critic_free else 0.0,
                               device=self.dev)                                 # critic loss, w, penalty
        self.critic_counts = [0] * self.S
        self.fast_c = fastgrad.supported(self.C)
        self.fast_g = self.fast_c and fastgrad.supported(self.G)
        # fastgrad buffers, made on first use; a single run's stack trains its own tensors, so its
        # buffers live on the run and are reused burst after burst (warm, no fresh memory to fault in)
        self._work: dict = runs[0].work if self.S == 1 else {}
        self._seen: list | None = None
        self.refresh()

    def refresh(self) -> None:
        """Read live hyperparameters from the runs' configs (called every step by `train`)."""
        cf = [r.config for r in self.runs]
        if self._seen is not None and all(a is b for a, b in zip(cf, self._seen)):
            return                                                              # configs unchanged
        self._seen = cf
        kind = self.cfg0.optimizer
        self.h_c = Hyper(kind, [c.lr_c for c in cf], [c.beta1 for c in cf], [c.beta2 for c in cf])
        self.h_g = Hyper(kind, [c.lr_g for c in cf], [c.beta1 for c in cf], [c.beta2 for c in cf])
        self.clip = torch.tensor([c.clip for c in cf], device=self.dev).view(-1, 1)
        self.lam = torch.tensor([c.lam for c in cf], device=self.dev)
        self.lam_b = self.lam.view(-1, 1, 1) / self.cfg0.batch                  # (S, 1, 1) lambda / B

    def _buffers(self, key: tuple, make):
        """The buffers under ``key`` (kind, size), made on first use; one size per kind is kept."""
        if key not in self._work:
            for old in [k for k in self._work if k[0] == key[0]]:                # n_critic changed: drop the old
                del self._work[old]
            self._work[key] = make()
        return self._work[key]

    # -- critic ----------------------------------------------------------------------------
    def _batches(self, counts: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Per run, its own n*B real samples, noise and interpolation weights, padded to K*B."""
        B, K, zd = self.cfg0.batch, max(counts), self.cfg0.z_dim
        real, z, eps = [], [], []
        for r, n in zip(self.runs, counts):
            pad = (0, 0, 0, (K - n) * B)
            real.append(_pad(r.dataset.sample(n * B, r.gen), pad))
            z.append(_pad(torch.randn(n * B, zd, generator=r.gen, device=self.dev), pad))
            if self.obj.penalty is not None:
                eps.append(_pad(torch.rand(n * B, 1, generator=r.gen, device=self.dev), pad))
        if self.S == 1:
            return real[0].unsqueeze(0), z[0].unsqueeze(0), (eps[0].unsqueeze(0) if eps else None)
        return torch.stack(real), torch.stack(z), (torch.stack(eps) if eps else None)

    @torch.no_grad()
    def _generate(self, z: torch.Tensor, counts: list[int]) -> torch.Tensor:
        """G(z) for (S, K*B, z_dim) noise, without autograd; run s on its first counts[s] * B rows only.

        A matrix product rounds a row otherwise in a matrix of another height,
        so each run's points are computed in the height they have alone.
        """
        rows = [n * self.cfg0.batch for n in counts]
        if not fastgrad.supported(self.G):
            return self.G(z, rows=rows)
        fw = self._buffers(("G", tuple(rows)), lambda: fastgrad.NetForward(self.G, z.shape[1], rows))
        return fw.run(z)

    def _feed(self, counts: list[int]):
        """Draw the batches of max(counts) critic steps; return ``grad(k, stats) -> (grad (S, P), stats)``."""
        B, K, S = self.cfg0.batch, max(counts), self.S
        real, z, eps = self._batches(counts)                                    # (S, K*B, dim) ...
        fake = self._generate(z, counts)                                        # (S, K*B, dim)
        if not self.fast_c:
            return self._autograd_feed(real, fake, eps)
        pen = self.obj.penalty is not None
        work = self._buffers(("C", K), lambda: fastgrad.CriticWork(self.C, self.obj, B, K, pen))
        d = real.shape[-1]
        work.real.copy_(real.view(S, K, B, d))
        work.fake.copy_(fake.view(S, K, B, d))
        if pen:                                                                 # x^ = x~ + eps (x - x~)
            step = torch.sub(real, fake).mul_(eps)
            torch.add(fake.view(S, K, B, d), step.view(S, K, B, d), out=work.hat)
        return lambda k, stats: work.grads(k, self.lam_b, stats)

    def _autograd_feed(self, real, fake, eps):
        B = self.cfg0.batch

        def grad(k: int, stats: bool):
            sl = slice(k * B, (k + 1) * B)
            r, f = real[:, sl], fake[:, sl]                                     # (S, B, dim)
            xhat = None if eps is None else f + eps[:, sl] * (r - f)
            g, loss, w_est, pen = autograd_critic_grads(self.C, self.obj, r, f, xhat, self.lam)
            return g, torch.stack([loss, w_est, pen], 1)
        return grad

    def critic_phase(self, counts: list[int]) -> None:
        """Up to max(counts) critic updates; run s makes counts[s] of them (none without a critic)."""
        if self.obj.critic_free:
            return
        K, low = max(counts), min(counts)
        grad_of = self._feed(counts)
        counts_t = torch.tensor(counts, device=self.dev).view(self.S, 1) if low < K else None
        ends = {n - 1 for n in counts}                                          # some run's last step
        for k in range(K):
            mask = None if low > k else (counts_t > k).float()                 # (S, 1); None: all step
            want = k in ends                                                    # each run keeps its last step's stats
            u = list(self.C.u) if mask is not None else None                   # spectral norm's vectors
            grad, stats = grad_of(k, want)
            for new, old in zip(self.C.u, u or []):                             # a run sitting out keeps its own
                new.copy_(torch.where(mask > 0, new, old))
            update(self.C.flat, grad, self.c_opt, self.h_c, mask)
            if self.obj.clip:
                self._clip(mask)
            if want:
                self.last = stats if mask is None else torch.where(mask > 0, stats, self.last)
        self.critic_counts = [a + n for a, n in zip(self.critic_counts, counts)]

    @torch.no_grad()
    def _clip(self, mask: torch.Tensor | None) -> None:
        """w <- clip(w, -c, c) for every critic parameter (biases too, as the seed notebook does)."""
        flat = self.C.flat
        if self.S == 1 and mask is None:
            c = self.runs[0].config.clip
            flat.clamp_(-c, c)
        elif mask is None:
            torch.clamp(flat, -self.clip, self.clip, out=flat)
        else:
            flat.copy_(torch.where(mask > 0, torch.clamp(flat, -self.clip, self.clip), flat))

    # -- generator -------------------------------------------------------------------------
    def gen_phase(self) -> None:
        """One generator update for every run."""
        B, zd = self.cfg0.batch, self.cfg0.z_dim
        if self.obj.critic_free:                                                # exact minibatch W1 (`ot_step`)
            grad, gl = ot_step.gen_grads(self.G, self.runs, B)
            update(self.G.flat, grad, self.g_opt, self.h_g)
            self.rows.append((self.last, gl))
            self.average()
            return
        zs = [torch.randn(B, zd, generator=r.gen, device=self.dev) for r in self.runs]
        if self.fast_g:
            work = self._buffers(("gen",), lambda: fastgrad.GenWork(self.G, self.C, self.obj, B))
            for row, z in zip(work.z_rows, zs):
                row.copy_(z)
            grad, gl = work.grads()
        else:
            out = self.C(self.G(torch.stack(zs))).squeeze(-1)                   # (S, B)
            gl = rowwise(self.obj.gen_loss, out)                                # (S,)
            grad = self.G.flat_grad(torch.autograd.grad(gl.sum(), self.G.params))
            gl = gl.detach()
        update(self.G.flat, grad, self.g_opt, self.h_g)
        self.rows.append((self.last, gl))                                       # stacked in close()
        self.average()

    @torch.no_grad()
    def average(self) -> None:
        """Each run with ``ema`` = d > 0: g_ema <- g_ema + (1 - d_t) (g - g_ema) after its generator step,
        d_t = min(d, (1 + t) / (10 + t)) at its t-th averaged step (TensorFlow's ExponentialMovingAverage
        warm-up: at first the average follows the generator instead of remembering its initialisation).
        Row by row, on each run's own tensor, so that a run's average does not depend on its stack-mates."""
        for i, r in enumerate(self.runs):
            d = r.config.ema
            if d <= 0:
                r.ema_steps = 0
                continue
            g = self.G.flat[i:i + 1]
            if r.ema_steps == 0:
                r.g_ema.copy_(g)
            else:
                r.g_ema.lerp_(g, 1.0 - min(d, (1.0 + r.ema_steps) / (10.0 + r.ema_steps)))
            r.ema_steps += 1

    # -- write back ------------------------------------------------------------------------
    def close(self, gen_step_done: bool = True) -> None:
        """Write the stack back into its runs; restore and flag any run that diverged."""
        rows = np.zeros((0, self.S, 4))
        if self.rows:
            rows = torch.cat([torch.stack([a for a, _ in self.rows]), torch.stack([g for _, g in self.rows])[..., None]],
                             2).cpu().numpy()                                   # (T, S, 4)
        ok = (torch.isfinite(self.G.flat).all(1) & torch.isfinite(self.C.flat).all(1)).cpu().numpy()
        if ok.any():                        # finite but huge weights can still send samples to infinity
            with torch.no_grad():
                out = self.G(torch.stack([r.z_eval[:16] for r in self.runs]))
            ok &= torch.isfinite(out).flatten(1).all(1).cpu().numpy()
        used = slice(3, 4) if self.obj.critic_free else slice(None)            # no critic: only the loss
        ok &= np.isfinite(rows[..., used]).all(axis=(0, 2)) if len(rows) else True
        for i, r in enumerate(self.runs):
            if not ok[i]:
                self._restore(i, r, rows[:, i, used])
                continue
            if self.S > 1:
                with torch.no_grad():
                    r.g_flat.copy_(self.G.flat[i:i + 1])
                    r.c_flat.copy_(self.C.flat[i:i + 1])
                    for st, big in ((r.g_opt, self.g_opt), (r.c_opt, self.c_opt)):
                        st.t.copy_(big.t[i:i + 1]), st.m.copy_(big.m[i:i + 1]), st.v.copy_(big.v[i:i + 1])
            for k in range(len(r.sn_u)):
                r.sn_u[k] = self.C.u[k][i:i + 1].clone() if self.S > 1 else self.C.u[k]
            T = len(rows)
            steps = np.arange(r.gen_steps + 1, r.gen_steps + T + 1, dtype=np.float64)[:, None]
            r.stats.extend(np.concatenate([steps, rows[:, i]], 1))               # rows (gen_step, *STATS)
            r.gen_steps += T
            r.critic_steps += self.critic_counts[i]

    def _restore(self, i: int, r, rows: np.ndarray) -> None:
        g, c = self.good[i]
        with torch.no_grad():
            r.g_flat.copy_(g)
            r.c_flat.copy_(c)
        r.ema_steps = 0                     # the average restarts from the restored generator
        for st in (r.g_opt, r.c_opt):       # moments may hold NaN too: start them afresh
            st.t.zero_(), st.m.zero_(), st.v.zero_()
        bad = int(np.argmax(~np.isfinite(rows).all(1))) if len(rows) else 0
        r.status = "diverged"
        r.message = (f"Training diverged near generator step {r.gen_steps + bad + 1}: a loss or weight "
                     f"became NaN or infinite. The last good state (step {r.gen_steps}) is kept. "
                     "Try a smaller learning rate, a smaller clip value or a larger lambda, then resume.")


def autograd_critic_grads(C: Net, obj, real: torch.Tensor, fake: torch.Tensor,
                          xhat: torch.Tensor | None, lam: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """`fastgrad.critic_grads` by autograd (double backward for the penalty): any activation, spectral norm."""
    B = real.shape[1]
    parts = [real, fake]
    if xhat is not None:
        xhat = xhat.detach().requires_grad_(True)
        parts.append(xhat)
    with torch.enable_grad():
        out = C(torch.cat(parts, 1), update_u=True).squeeze(-1)                # (S, R)
        f_r, f_f = out[:, :B], out[:, B:2 * B]
        loss = rowwise(obj.critic_loss, f_r, f_f)                              # (S,)
        pen = torch.zeros_like(loss)
        total = loss
        if xhat is not None:
            (gx,) = torch.autograd.grad(out[:, 2 * B:].sum(), xhat, create_graph=True)
            pen = obj.penalty((gx.pow(2).sum(-1) + 1e-12).sqrt()).mean(1)
            total = loss + lam * pen
        grads = torch.autograd.grad(total.sum(), C.params)
    return C.flat_grad(grads), loss.detach(), (f_r.mean(1) - f_f.mean(1)).detach(), pen.detach()
