r"""Training runs: `Run` holds one run's state; `Stack` trains S compatible runs at once.

One generator step is the WGAN algorithm (Arjovsky et al., Algorithm 1; the
seed notebook's loop), for every run s of the stack:

    for k in 1..n_critic[s]:
        x ~ P_r, z ~ p(z), x~ = G(z)                       # fresh batches each critic step
        critic step on L_C (+ lambda * penalty at interpolates); clip weights if WGAN-clip
    z ~ p(z);  generator step on L_G = -E f(G(z))          (GAN: its own L_G)

Runs share a stack when they share an architecture, objective, batch size,
optimizer and device (`stack_key`); each run keeps its own random generator,
so its numbers do not depend on which other runs it trained beside. Runs with
fewer critic steps than the stack's largest n_critic sit out the extra steps
(masked updates). Learning rates, betas, clip, lambda and n_critic are read
from each run's config at every step: a live change needs no reset.

A run whose losses or weights become NaN/inf is restored to its state before
the burst and marked ``status = "diverged"``; it trains no more until resumed.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import datasets, fastgrad, metrics, objectives
from .config import TrainConfig
from .datasets import Dataset
from .device import default_device
from .models import MLPSpec, Net
from .optim import Hyper, OptState, update

N_EVAL = 2500          # fixed evaluation batch (mode coverage uses 2,500 samples, DESIGN.md)
N_SHOW = 1000          # points drawn in the view
N_ARROWS = 150         # generator-gradient arrows
N_W1 = 400             # sub-sample for the exact W1 (optimal transport) curve
GRID = 48              # critic evaluation grid (GRID x GRID)
MANIFOLD = 15          # noise-space grid lines (MANIFOLD x MANIFOLD)
STATS = ("critic_loss", "w_estimate", "penalty", "gen_loss")
EVALS = ("exact_w1", "modes_covered", "hq_fraction", "w_corrected")
MAX_CURVE_POINTS = 400


def stack_key(run: Run) -> tuple:
    c = run.config
    return (str(run.device), c.loss, c.width, c.depth, c.act_g, c.act_c, c.z_dim, c.batch,
            c.optimizer, run.dataset.dim)


class Run:
    """One training run: config, data, both networks, optimizer states, curves, status."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None,
                 device: torch.device | str | None = None):
        self.config = config.validate()
        if dataset is None and config.data == "custom":
            raise ValueError("data='custom' needs the points: pass dataset=datasets.from_points(...)")
        self.dataset = dataset or datasets.get(config.data)
        self.device = torch.device(device) if device is not None else default_device()
        self.objective = objectives.get(config.loss)
        dim, c = self.dataset.dim, config
        self.g_spec = MLPSpec(c.z_dim, dim, c.width, c.depth, c.act_g)
        self.c_spec = MLPSpec(dim, 1, c.width, c.depth, c.act_c)
        self.gen = torch.Generator(self.device).manual_seed(c.seed)           # training randomness
        self.g_flat = self.g_spec.init(self.gen, self.device)                 # (1, P_G)
        self.c_flat = self.c_spec.init(self.gen, self.device)                 # (1, P_C)
        self.g_opt, self.c_opt = OptState.zeros(self.g_flat), OptState.zeros(self.c_flat)
        self.sn_u = Net(self.c_spec, self.c_flat, spectral=True).u if self.objective.spectral else []
        ev = torch.Generator(self.device).manual_seed(c.seed + 1_000_003)    # fixed evaluation data
        self.z_eval = torch.randn(N_EVAL, c.z_dim, generator=ev, device=self.device)
        self.real_eval = self.dataset.sample(N_EVAL, ev)
        self.eps_eval = torch.rand(N_EVAL, 1, generator=ev, device=self.device)
        self.gen_steps = 0
        self.critic_steps = 0
        self.stats: list[np.ndarray] = []                                     # rows (gen_step, *STATS)
        self.evals: list[np.ndarray] = []                                     # rows (gen_step, *EVALS)
        self.status, self.message = "ok", ""

    # -- live configuration -------------------------------------------------------------
    def apply(self, config: TrainConfig) -> bool:
        """Take a new config. Live fields change in place; returns False when a new run is needed."""
        if self.config.structural_diff(config.validate()):
            return False
        self.config = config
        return True

    def resume(self) -> None:
        self.status, self.message = "ok", ""

    # -- training -----------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """n generator steps (each after n_critic critic steps)."""
        train([self], n)

    def critic_only(self) -> None:
        """GAN Lab's 'discriminator only' step: one critic update, no generator update."""
        s = Stack([self])
        s.critic_phase([1])
        s.close(gen_step_done=False)

    def generator_only(self) -> None:
        s = Stack([self])
        s.gen_phase()
        s.close()

    # -- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Plain tensors and numbers only (loads with torch.load(weights_only=True))."""
        return {
            "format": "earthmover-run-1", "config": self.config.to_dict(),
            "g_flat": self.g_flat.cpu(), "c_flat": self.c_flat.cpu(),
            "g_opt": [t.cpu() for t in (self.g_opt.t, self.g_opt.m, self.g_opt.v)],
            "c_opt": [t.cpu() for t in (self.c_opt.t, self.c_opt.m, self.c_opt.v)],
            "sn_u": [u.cpu() for u in self.sn_u], "rng": self.gen.get_state(),
            "gen_steps": self.gen_steps, "critic_steps": self.critic_steps,
            "stats": torch.as_tensor(np.array(self.stats, dtype=np.float64).reshape(-1, 1 + len(STATS))),
            "evals": torch.as_tensor(np.array(self.evals, dtype=np.float64).reshape(-1, 1 + len(EVALS))),
        }

    def load_state_dict(self, sd: dict) -> None:
        """Restore a state saved by `state_dict` for the same architecture (ValueError otherwise)."""
        if sd.get("format") != "earthmover-run-1":
            raise ValueError("not an Earthmover checkpoint")
        other, _ = TrainConfig.from_dict(sd.get("config", {}))
        if other.structural_diff(self.config) and [k for k in other.structural_diff(self.config) if k != "seed"]:
            raise ValueError("checkpoint is for a different set-up: " + ", ".join(other.structural_diff(self.config)))
        shapes = {"g_flat": self.g_flat.shape, "c_flat": self.c_flat.shape}
        for k, shape in shapes.items():
            t = sd.get(k)
            if not isinstance(t, torch.Tensor) or t.shape != shape or not torch.isfinite(t).all():
                raise ValueError(f"checkpoint field {k} does not fit this network")
        with torch.no_grad():
            self.g_flat.copy_(sd["g_flat"])
            self.c_flat.copy_(sd["c_flat"])
            for st, key, flat in ((self.g_opt, "g_opt", self.g_flat), (self.c_opt, "c_opt", self.c_flat)):
                t, m, v = sd[key]
                if m.shape != flat.shape or v.shape != flat.shape or t.shape != (1, 1):
                    raise ValueError("checkpoint optimizer state does not fit this network")
                st.t.copy_(t), st.m.copy_(m), st.v.copy_(v)
            for u, saved in zip(self.sn_u, sd.get("sn_u", [])):
                u.copy_(saved)
        self.config = self.config.replace(**{k: getattr(other, k) for k in TrainConfig.live_fields()})
        self.gen.set_state(sd["rng"])
        self.gen_steps, self.critic_steps = int(sd["gen_steps"]), int(sd["critic_steps"])
        self.stats = list(sd["stats"].numpy())
        self.evals = list(sd["evals"].numpy())
        self.status, self.message = "ok", ""

    # -- views --------------------------------------------------------------------------
    def snapshot(self, exact: bool = True) -> dict:
        """Plain arrays for a view (see `snapshot_many`)."""
        return snapshot_many([self], exact=exact)[0]


def _hyper(runs: list[Run], name: str, device) -> torch.Tensor:
    return torch.tensor([[float(getattr(r.config, name))] for r in runs], device=device)   # (S, 1)


def _pad(x: torch.Tensor, pad: tuple[int, ...]) -> torch.Tensor:
    return x if pad[-1] == 0 else torch.nn.functional.pad(x, pad)


def _cat(xs: list[torch.Tensor]) -> torch.Tensor:
    return xs[0] if len(xs) == 1 else torch.cat(xs)


class Stack:
    """S runs with one `stack_key`, stacked for a burst of steps; `close()` writes back."""

    def __init__(self, runs: list[Run]):
        keys = {stack_key(r) for r in runs}
        if len(keys) != 1:
            raise ValueError("runs in a stack must share architecture, objective, batch, optimizer and device")
        self.runs, r0 = runs, runs[0]
        self.S, self.dev, self.obj, self.cfg0 = len(runs), r0.device, r0.objective, r0.config
        self.G = Net(r0.g_spec, _cat([r.g_flat for r in runs]))
        u = [_cat([r.sn_u[k] for r in runs]) for k in range(len(r0.sn_u))] if self.obj.spectral else None
        self.C = Net(r0.c_spec, _cat([r.c_flat for r in runs]), spectral=self.obj.spectral, u=u)
        self.g_opt = OptState(*(_cat([getattr(r.g_opt, a) for r in runs]) for a in "tmv"))
        self.c_opt = OptState(*(_cat([getattr(r.c_opt, a) for r in runs]) for a in "tmv"))
        self.good = [(r.g_flat.clone(), r.c_flat.clone()) for r in runs]       # last good state
        self.rows: list[torch.Tensor] = []                                      # (S, 4) per gen step
        self.last = torch.zeros(self.S, 3, device=self.dev)                     # critic loss, w, penalty
        self.critic_counts = [0] * self.S
        self.critic_grads = fastgrad.critic_grads if fastgrad.supported(self.C) else autograd_critic_grads
        self.refresh()

    def refresh(self) -> None:
        """Read live hyperparameters from the runs' configs (called every step by `train`)."""
        cf = [r.config for r in self.runs]
        kind = self.cfg0.optimizer
        self.h_c = Hyper(kind, [c.lr_c for c in cf], [c.beta1 for c in cf], [c.beta2 for c in cf])
        self.h_g = Hyper(kind, [c.lr_g for c in cf], [c.beta1 for c in cf], [c.beta2 for c in cf])
        self.clip = torch.tensor([c.clip for c in cf], device=self.dev).view(-1, 1)
        self.lam = torch.tensor([c.lam for c in cf], device=self.dev)

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
            return real[0][None], z[0][None], (eps[0][None] if eps else None)
        return torch.stack(real), torch.stack(z), (torch.stack(eps) if eps else None)

    def critic_phase(self, counts: list[int]) -> None:
        """Up to max(counts) critic updates; run s makes counts[s] of them."""
        B, K = self.cfg0.batch, max(counts)
        real_all, z_all, eps_all = self._batches(counts)                       # (S, K*B, dim) ...
        with torch.no_grad():
            fake_all = self.G(z_all)                                           # (S, K*B, dim)
        counts_t = torch.tensor(counts, device=self.dev).view(self.S, 1)
        for k in range(K):
            mask = None if min(counts) > k else (counts_t > k).float()        # (S, 1); None: all step
            sl = slice(k * B, (k + 1) * B)
            real, fake = real_all[:, sl], fake_all[:, sl]                      # (S, B, dim)
            xhat = None if eps_all is None else fake + eps_all[:, sl] * (real - fake)
            grad, loss, w_est, pen = self.critic_grads(self.C, self.obj, real, fake, xhat, self.lam)
            update(self.C.flat, grad, self.c_opt, self.h_c, mask)
            if self.obj.clip:
                self._clip(mask)
            if mask is None and k < K - 1:
                continue                                                       # stats of the last step only
            stats = torch.stack([loss, w_est, pen], 1)
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

    def gen_phase(self) -> None:
        """One generator update for every run."""
        B, zd = self.cfg0.batch, self.cfg0.z_dim
        z = torch.stack([torch.randn(B, zd, generator=r.gen, device=self.dev) for r in self.runs])
        out = self.C(self.G(z)).squeeze(-1)                                    # (S, B)
        gl = self.obj.gen_loss(out)                                            # (S,)
        grads = torch.autograd.grad(gl.sum(), self.G.params)
        update(self.G.flat, self.G.flat_grad(grads), self.g_opt, self.h_g)
        self.rows.append(torch.cat([self.last, gl.detach().unsqueeze(1)], 1))  # (S, 4)

    def close(self, gen_step_done: bool = True) -> None:
        """Write the stack back into its runs; restore and flag any run that diverged."""
        rows = torch.stack(self.rows).cpu().numpy() if self.rows else np.zeros((0, self.S, 4))  # (T, S, 4)
        ok = (torch.isfinite(self.G.flat).all(1) & torch.isfinite(self.C.flat).all(1)).cpu().numpy()
        ok &= np.isfinite(rows).all(axis=(0, 2)) if len(rows) else True
        for i, r in enumerate(self.runs):
            if not ok[i]:
                self._restore(i, r, rows[:, i])
                continue
            if self.S > 1:
                with torch.no_grad():
                    r.g_flat.copy_(self.G.flat[i:i + 1])
                    r.c_flat.copy_(self.C.flat[i:i + 1])
                    for st, big in ((r.g_opt, self.g_opt), (r.c_opt, self.c_opt)):
                        st.t.copy_(big.t[i:i + 1]), st.m.copy_(big.m[i:i + 1]), st.v.copy_(big.v[i:i + 1])
            for k in range(len(r.sn_u)):
                r.sn_u[k] = self.C.u[k][i:i + 1].clone() if self.S > 1 else self.C.u[k]
            for row in rows[:, i]:
                r.gen_steps += 1
                r.stats.append(np.concatenate([[r.gen_steps], row]))
            r.critic_steps += self.critic_counts[i]

    def _restore(self, i: int, r: Run, rows: np.ndarray) -> None:
        g, c = self.good[i]
        with torch.no_grad():
            r.g_flat.copy_(g)
            r.c_flat.copy_(c)
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
        loss = obj.critic_loss(f_r, f_f)                                       # (S,)
        pen = torch.zeros_like(loss)
        total = loss
        if xhat is not None:
            (gx,) = torch.autograd.grad(out[:, 2 * B:].sum(), xhat, create_graph=True)
            pen = obj.penalty((gx.pow(2).sum(-1) + 1e-12).sqrt()).mean(1)
            total = loss + lam * pen
        grads = torch.autograd.grad(total.sum(), C.params)
    return C.flat_grad(grads), loss.detach(), (f_r.mean(1) - f_f.mean(1)).detach(), pen.detach()


def train(runs: list[Run], gen_steps: int) -> None:
    """``gen_steps`` full iterations for runs sharing one `stack_key`, trained together."""
    live = [r for r in runs if r.status == "ok"]
    if not live or gen_steps <= 0:
        return
    s = Stack(live)
    for _ in range(gen_steps):
        s.refresh()
        s.critic_phase([r.config.n_critic for r in live])
        s.gen_phase()
    s.close()


# -- snapshots --------------------------------------------------------------------------
def _grid_points(extent, n: int, device) -> torch.Tensor:
    x0, x1, y0, y1 = extent
    ys, xs = torch.meshgrid(torch.linspace(y0, y1, n, device=device),
                            torch.linspace(x0, x1, n, device=device), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)                   # (n*n, 2), row-major from ymin


def _manifold_z(z_dim: int, n: int, device) -> torch.Tensor:
    t = torch.linspace(-2.5, 2.5, n, device=device)
    if z_dim == 1:
        return t.view(1, n, 1)
    a, b = torch.meshgrid(t, t, indexing="ij")
    z = torch.zeros(n, n, z_dim, device=device)
    z[..., 0], z[..., 1] = a, b
    return z                                                                   # (n, n, z_dim)


def _input_grad(C: Net, obj, x: torch.Tensor, gen_loss: bool) -> torch.Tensor:
    """d f / dx (or -d L_G / dx per point when gen_loss) at x (S, N, dim)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = C(x).squeeze(-1)                                                 # (S, N)
        y = -obj.gen_loss(out) * out.shape[1] if gen_loss else out.sum()
        (g,) = torch.autograd.grad(y.sum(), x)
    return g


def snapshot_many(runs: list[Run], exact: bool = True) -> list[dict]:
    """Views of runs sharing a stack key, computed together.

    Each snapshot holds: ``real`` and ``fake`` (generator on the fixed noise
    batch), and for 2D data ``grid`` (critic on a fixed GRID x GRID grid over the
    data's extent, row 0 at ymin), ``arrows`` (at fake[:N_ARROWS], the direction
    -dL_G/dx in which the generator step moves each point), ``manifold`` (the
    generator on a grid in noise space); critic gradient norms at interpolates
    (target 1 for a 1-Lipschitz critic); curves; metrics; status.
    With ``exact``, the exact W1 between N_W1 generated and real samples is
    measured and added to the curves.
    """
    s = Stack(runs)
    obj, dim = s.obj, runs[0].dataset.dim
    with torch.no_grad():
        fake = s.G(torch.stack([r.z_eval for r in runs]))                      # (S, N_EVAL, dim)
    real = torch.stack([r.real_eval for r in runs])
    eps = torch.stack([r.eps_eval[:N_W1] for r in runs])
    xhat = fake[:, :N_W1] + eps * (real[:, :N_W1] - fake[:, :N_W1])
    gnorm = _input_grad(s.C, obj, xhat, False).norm(dim=-1)                     # (S, N_W1)
    extra: dict[str, torch.Tensor] = {}
    if dim == 2:
        ext = runs[0].dataset.extent
        pts = _grid_points(ext, GRID, s.dev).expand(s.S, -1, -1)
        g_grid = _input_grad(s.C, obj, pts, False)
        with torch.no_grad():
            extra["grid"] = s.C(pts).view(s.S, GRID, GRID)
            mz = _manifold_z(runs[0].config.z_dim, MANIFOLD, s.dev)
            extra["manifold"] = s.G(mz.reshape(1, -1, mz.shape[-1]).expand(s.S, -1, -1)).view(
                s.S, *mz.shape[:2], 2)
        extra["arrows"] = _input_grad(s.C, obj, fake[:, :N_ARROWS], True)
        maxg = torch.maximum(gnorm.max(1).values, g_grid.norm(dim=-1).max(1).values)
    else:
        maxg = gnorm.max(1).values
    out = []
    for i, r in enumerate(runs):
        snap = _one(r, fake[i].cpu().numpy(), gnorm[i].cpu().numpy(), float(maxg[i]),
                    {k: v[i].detach().cpu().numpy() for k, v in extra.items()}, exact)
        out.append(snap)
    return out


def _one(r: Run, fake: np.ndarray, gnorm: np.ndarray, maxg: float, extra: dict, exact: bool) -> dict:
    real = r.real_eval.cpu().numpy()
    ds, last = r.dataset, (r.stats[-1] if r.stats else None)
    w_est = float(last[2]) if last is not None else float("nan")
    m: dict = {"modes_covered": None, "modes_total": None, "hq_fraction": None, "exact_w1": None,
               "w_estimate": w_est, "max_grad_norm": maxg,
               "w_corrected": metrics.lipschitz_corrected(w_est, maxg) if r.objective.wasserstein and last is not None
               else None}
    if ds.has_modes:
        ms = metrics.mode_stats(fake, ds.centers, ds.std)
        m.update(modes_covered=ms["modes_covered"], modes_total=ms["modes_total"], hq_fraction=ms["hq_fraction"])
    if exact and np.isfinite(fake).all():
        m["exact_w1"] = metrics.exact_w1(fake[:N_W1].astype(np.float64), real[:N_W1].astype(np.float64))
        nan = float("nan")
        r.evals.append(np.array([r.gen_steps, m["exact_w1"],
                                 nan if m["modes_covered"] is None else m["modes_covered"],
                                 nan if m["hq_fraction"] is None else m["hq_fraction"],
                                 nan if m["w_corrected"] is None else m["w_corrected"]]))
    snap = {
        "config": r.config.to_dict(), "status": r.status, "message": r.message,
        "gen_steps": r.gen_steps, "critic_steps": r.critic_steps, "extent": ds.extent,
        "real": real[:N_SHOW], "fake": fake[:N_SHOW] if ds.dim == 2 else fake[:64],
        "grad_norms": gnorm, "curves": curves(r), "metrics": m,
    }
    snap.update(extra)
    return snap


def _decimate(rows: np.ndarray, n: int) -> np.ndarray:
    """At most n rows: bin means of consecutive rows (the step column is averaged too)."""
    if len(rows) <= n:
        return rows
    edges = np.linspace(0, len(rows), n + 1).astype(int)
    sums = np.add.reduceat(rows, edges[:-1], axis=0)
    return sums / np.diff(edges)[:, None]


def curves(r: Run) -> dict[str, np.ndarray]:
    """Training curves over generator steps (decimated) merged with the evaluation points."""
    st = _decimate(np.array(r.stats).reshape(-1, 1 + len(STATS)), MAX_CURVE_POINTS)
    ev = np.array(r.evals).reshape(-1, 1 + len(EVALS))[-MAX_CURVE_POINTS:]
    n_st, n_ev = len(st), len(ev)
    table = np.full((n_st + n_ev, 1 + len(STATS) + len(EVALS)), np.nan)
    table[:n_st, :1 + len(STATS)] = st
    table[n_st:, 0] = ev[:, 0]
    table[n_st:, 1 + len(STATS):] = ev[:, 1:]
    table = table[np.argsort(table[:, 0], kind="stable")]
    names = ("gen_step",) + STATS + EVALS
    return {k: table[:, j].astype(np.float32) for j, k in enumerate(names)}


def is_finite_number(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
