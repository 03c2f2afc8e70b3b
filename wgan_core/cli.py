"""Command line: train one run headless and print its metrics; list the presets.

    python -m wgan_core train --preset classroom-8g --seconds 60 --until-covered --json
    python -m wgan_core train --loss wgan-clip --data seed3 --steps 500 --clip 0.05 --seed 3
    python -m wgan_core train --data 25gaussians --seconds 30 --json
    python -m wgan_core presets

A preset gives the base config; without one, the tuned settings for the named
objective and data (`recipes.tuned_config`; ``--untuned``: `TrainConfig`'s
defaults). Explicit flags override it; the result is validated by `TrainConfig`. Training
runs in bursts (`Run.step(k)`) that double in length up to about ``BURST_S``
seconds; after each burst a cheap snapshot (no exact W1) records mode coverage,
so the time to coverage is known to within one burst, and about once per
``REPORT_S`` a full snapshot (with the exact W1) prints a progress line on stderr. The last line on stdout is
the summary: one JSON object with ``--json``, readable text otherwise.

Exit codes: 0 for a finished run, a diverged one included (its status says so:
a result, not an error); 2 for bad arguments, with one ``error: ...`` line on
stderr; 130 when interrupted (the summary is still printed).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any, NoReturn

from wgan_core import presets
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.recipes import tuned_config

BURST_S = 0.1          # target length of one training burst (coverage is checked after each)
REPORT_S = 1.0         # a progress line with the exact W1 about this often
HQ_TARGET = 0.5        # "most samples high quality": the hq share recorded as `hq_at`

NOT_BY_NAME = ("custom", "mnist")     # data that travels with a run (the user's points or pictures), not a name
_CHOICES = {name: [c for c in f.metadata["choices"] if c not in NOT_BY_NAME]
            for name, f in TrainConfig.fields().items() if "choices" in f.metadata}

# flag -> TrainConfig field, in the order they are applied (--lr first: --lr-c / --lr-g refine it)
FLAGS: list[tuple[str, str]] = [
    ("loss", "loss"), ("data", "data"), ("seed", "seed"), ("lr", "lr_c"), ("lr", "lr_g"),
    ("lr_c", "lr_c"), ("lr_g", "lr_g"), ("beta1", "beta1"), ("beta2", "beta2"), ("clip", "clip"),
    ("lam", "lam"), ("n_critic", "n_critic"), ("width", "width"), ("depth", "depth"),
    ("z_dim", "z_dim"), ("batch", "batch"), ("optimizer", "optimizer"), ("ema", "ema"),
]


TRAINABLE = [n for n, p in presets.PRESETS.items()                         # one run each, named data
             if p.page in ("train", "images") and p.config.data not in NOT_BY_NAME]


class UsageError(Exception):
    """Bad command-line input: reported as one ``error: ...`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (``error: ...``) and exit 2, like ours."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


# -- parsing ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m wgan_core", description="Earthmover's engine, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list the presets and what each one shows")
    t = sub.add_parser("train", help="train one run and print its metrics",
                       description="Train one run. A preset gives the base config; without one, the "
                                   "settings tuned for the objective and data named (default: wgan-gp on "
                                   "seed3). Explicit flags override it.",
                       epilog="The summary's distances: exact_w1, the exact W1 between 400 generated and 400 "
                              "real points (exact_w1_floor: where a perfect generator lands); "
                              "critic_w1_estimate, E f(real) - E f(fake); w_corrected, the c-transform bound: "
                              "from the critic's values on the same 400 + 400 points, a lower bound on "
                              "exact_w1 for any critic (no Lipschitz assumption); lipschitz_bound, the "
                              "product of the critic's spectral norms, and w_over_lipschitz = estimate / "
                              "lipschitz_bound, a looser lower bound.")
    base = t.add_mutually_exclusive_group()
    base.add_argument("--preset", choices=TRAINABLE, help="base configuration (a Train live or Images preset)")
    base.add_argument("--untuned", action="store_true",
                      help="start from TrainConfig's plain defaults instead of the tuned settings")
    budget = t.add_mutually_exclusive_group(required=True)
    budget.add_argument("--seconds", type=float, help="wall-clock budget for training")
    budget.add_argument("--steps", type=int, help="number of generator steps")
    t.add_argument("--until-covered", action="store_true",
                   help="stop as soon as every mode is covered (still bounded by --seconds / --steps)")
    t.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    t.add_argument("--device", choices=["cpu", "cuda"], help="default: CUDA when available, else the CPU")
    t.add_argument("--loss", choices=_CHOICES["loss"])
    t.add_argument("--data", choices=_CHOICES["data"])
    t.add_argument("--seed", type=int)
    t.add_argument("--lr", type=float, help="learning rate of both networks")
    t.add_argument("--lr-c", type=float, help="critic learning rate (overrides --lr)")
    t.add_argument("--lr-g", type=float, help="generator learning rate (overrides --lr)")
    t.add_argument("--beta1", type=float, help="Adam beta1")
    t.add_argument("--beta2", type=float, help="Adam beta2")
    t.add_argument("--clip", type=float, help="weight clipping bound (wgan-clip)")
    t.add_argument("--lambda", dest="lam", type=float, help="penalty weight (wgan-gp, wgan-lp)")
    t.add_argument("--n-critic", type=int, help="critic steps per generator step")
    t.add_argument("--width", type=int, help="hidden units per layer")
    t.add_argument("--depth", type=int, help="hidden layers")
    t.add_argument("--z-dim", type=int, help="noise dimension")
    t.add_argument("--batch", type=int, help="samples per batch")
    t.add_argument("--optimizer", choices=_CHOICES["optimizer"])
    t.add_argument("--ema", type=float,
                   help="decay of the generator's weight average that is measured (0: the generator itself)")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset's config (or the defaults) with every given flag applied; UsageError if invalid."""
    if args.preset:
        base = presets.get(args.preset).config
    elif args.untuned:
        base = TrainConfig()
    else:
        base = tuned_config(args.loss or TrainConfig.loss, args.data or TrainConfig.data)
    changes: dict[str, Any] = {}
    for dest, name in FLAGS:
        value = getattr(args, dest)
        if value is None:
            continue
        try:
            base.replace(**{name: value})                  # checked alone, so the message names its flag
        except ValueError as err:
            raise UsageError(f"--{dest.replace('_', '-').replace('lam', 'lambda')}: {err}") from None
        changes[name] = value
    try:
        return base.replace(**changes)
    except ValueError as err:
        raise UsageError(str(err)) from None


def check_budget(args: argparse.Namespace, config: TrainConfig) -> None:
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        raise UsageError(f"--seconds must be a positive number, got {args.seconds:g}")
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if args.until_covered:
        from wgan_core.engine.datasets import DATASETS
        if not DATASETS[config.data].has_modes:
            raise UsageError(f"--until-covered needs a data set with modes; {config.data!r} has none")


# -- training -----------------------------------------------------------------------------
def train(args: argparse.Namespace, config: TrainConfig) -> int:
    from wgan_core.engine.device import configure_threads
    configure_threads(1)
    import torch

    from wgan_core.engine.device import default_device
    from wgan_core.engine.trainer import Run

    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available on this machine")
    device = torch.device(args.device) if args.device else default_device()
    run = Run(config, device=device)
    deadline = args.seconds if args.seconds is not None else math.inf
    max_steps = args.steps if args.steps is not None else math.inf
    marks: dict[str, dict | None] = {"covered_at": None, "hq_at": None}
    t0, c0 = time.perf_counter(), time.process_time()
    next_report, burst, train_s, exit_code = REPORT_S, 1, 0.0, 0
    try:
        while True:
            k = int(min(burst, max_steps - run.gen_steps))
            tb = time.perf_counter()
            run.step(k)
            dt = time.perf_counter() - tb
            train_s += dt
            elapsed = time.perf_counter() - t0
            per_step = max(dt / k, 1e-6)
            left = (deadline - elapsed) / per_step if math.isfinite(deadline) else math.inf
            burst = max(1, int(min(2 * k, BURST_S / per_step, left)))    # doubling: fine checks early on
            if run.status != "ok":
                break
            report = elapsed >= next_report
            snap = _snapshot(run, exact=report) if (report or run.dataset.has_modes) else None
            if run.status != "ok":
                break
            if snap is not None:
                _mark(marks, snap["metrics"], run.gen_steps, elapsed, time.process_time() - c0)
            if report:
                print(_progress(snap, elapsed, run.critic_steps / max(train_s, 1e-9)), file=sys.stderr, flush=True)
                next_report = (elapsed // REPORT_S + 1) * REPORT_S
            if run.gen_steps >= max_steps or time.perf_counter() - t0 >= deadline:
                break
            if args.until_covered and marks["covered_at"] is not None:
                break
    except KeyboardInterrupt:
        exit_code = 130
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    final = _snapshot(run, exact=True) if run.status == "ok" else None
    if final is None:                    # diverged: the kept state is finite, but say so if it is not
        final = _snapshot(run, exact=True, mark=False) or _bare(run)
    if run.status != "ok":
        print(run.message, file=sys.stderr, flush=True)
    summary = _summary(final, args, marks, (seconds, cpu_seconds, train_s), str(device))
    print(json.dumps(summary) if args.json else _readable(summary), flush=True)
    return exit_code


def _snapshot(run, exact: bool, mark: bool = True) -> dict | None:
    """`Run.snapshot`, or None (and the run marked diverged) when its samples or gradients are not finite.

    The trainer flags NaN/inf in losses and weights; finite weights can still
    map to infinite samples or critic gradients, which the metrics refuse.
    """
    try:
        snap = run.snapshot(exact=exact)
    except (ValueError, RuntimeError, FloatingPointError) as err:
        if mark:
            run.status = "diverged"
            run.message = (f"Training diverged by generator step {run.gen_steps}: the samples or the critic's "
                           f"gradients are no longer finite ({err}). Try a smaller learning rate, a smaller "
                           "clip value or a larger lambda.")
        return None
    if run.status != "ok":               # the snapshot reports the run's own status and message
        snap.update(status=run.status, message=run.message)
    return snap


METRIC_KEYS = ("modes_covered", "modes_visited", "modes_total", "hq_fraction", "precision", "recall", "exact_w1",
               "exact_w1_n", "exact_w1_floor", "critic_w1_estimate", "lipschitz_bound", "w_corrected",
               "w_over_lipschitz", "largest_slope_seen", "w_batch_estimate")


def _bare(run) -> dict:
    """A summary's fields when no snapshot can be taken: no metrics."""
    keys = METRIC_KEYS
    return {"status": run.status, "message": run.message, "gen_steps": run.gen_steps,
            "critic_steps": run.critic_steps, "config": run.config.to_dict(), "metrics": dict.fromkeys(keys)}


def _mark(marks: dict, m: dict, gen_steps: int, elapsed: float, cpu: float) -> None:
    """Record the first time every mode is covered, and the first time then with hq share > HQ_TARGET."""
    if m["modes_total"] is None or m["modes_covered"] != m["modes_total"]:
        return
    at = {"gen_steps": gen_steps, "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3)}
    if marks["covered_at"] is None:
        marks["covered_at"] = at
    if marks["hq_at"] is None and m["hq_fraction"] > HQ_TARGET:
        marks["hq_at"] = at


def _progress(snap: dict, elapsed: float, critic_rate: float) -> str:
    m = snap["metrics"]
    modes = f"{m['modes_covered']}/{m['modes_total']} hq {m['hq_fraction']:.2f}" if m["modes_total"] else "-"
    return (f"[{elapsed:6.1f}s] gen {snap['gen_steps']:6d}  critic {snap['critic_steps']:7d} "
            f"({critic_rate:5.0f}/s)  W est {_num(m['critic_w1_estimate'])}  exact W1 {_num(m['exact_w1'])}  modes {modes}")


def _num(x: Any) -> str:
    return "   -   " if x is None or not math.isfinite(x) else f"{x:7.4f}"


def _clean(x: Any) -> Any:
    """JSON-safe: NaN and inf become null (inside lists too)."""
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _summary(snap: dict, args: argparse.Namespace, marks: dict, times: tuple[float, float, float],
             device: str) -> dict:
    """The JSON summary. The metrics are the final snapshot's (`wgan_core.engine.views`):
    ``exact_w1`` (``exact_w1_n`` = 400 generated vs 400 real points) with ``exact_w1_floor``, the [p5, p95]
    band of two real samples' exact W1 at that n (a perfect generator lands in it); ``critic_w1_estimate``,
    E f(real) - E f(fake) over the 2,500-point evaluation set; ``w_corrected``, the c-transform bound
    (`metrics.c_transform_bound`): the critic's values on the same 400 real and 400 generated points as
    ``exact_w1``, completed into a feasible optimal-transport dual pair, a guaranteed lower bound on that
    ``exact_w1`` for any critic (no Lipschitz assumption; null for a GAN); ``lipschitz_bound``, the
    product of the critic's spectral norms (>= its Lipschitz constant); ``w_over_lipschitz`` = estimate /
    lipschitz_bound, also a lower bound on W1 (of the 2,500-point samples) but a loose one; ``largest_slope_seen``
    (old name ``max_grad_norm``), a sampled slope, <= the Lipschitz constant; ``w_batch_estimate``, the
    last training batch's estimate. ``seconds``: wall clock of the whole loop (snapshots included);
    ``cpu_seconds``: this process's CPU time over it (about ``seconds`` on an idle machine, less when other
    processes took the cores); ``train_seconds``: wall clock inside `Run.step` (the steps/s use it)."""
    m = snap["metrics"]
    seconds, cpu_seconds, train_s = times
    return {
        "status": snap["status"], "message": snap["message"],
        **{k: _clean(m.get(k)) for k in METRIC_KEYS}, "max_grad_norm": _clean(m.get("largest_slope_seen")),
        "gen_steps": snap["gen_steps"], "critic_steps": snap["critic_steps"],
        "critic_steps_per_s": round(snap["critic_steps"] / max(train_s, 1e-9), 1),
        "gen_steps_per_s": round(snap["gen_steps"] / max(train_s, 1e-9), 1),
        "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "train_seconds": round(train_s, 3),
        "covered_at": marks["covered_at"], "hq_at": marks["hq_at"],
        "device": device, "preset": args.preset, "config": snap["config"],
    }


def _readable(s: dict) -> str:
    lines = [f"status       {s['status']}" + (f": {s['message']}" if s["message"] else ""),
             f"steps        {s['gen_steps']} generator, {s['critic_steps']} critic "
             f"({s['critic_steps_per_s']:.0f} critic steps/s) in {s['seconds']:.1f} s on {s['device']}"]
    if s["modes_total"]:
        lines.append(f"modes        {s['modes_covered']}/{s['modes_total']} covered ({s['modes_visited']} visited), "
                     f"{100 * s['hq_fraction']:.0f}% of samples high quality")
        for key, what in (("covered_at", "all modes covered"), ("hq_at", f"and hq > {HQ_TARGET:g}")):
            at = s[key]
            lines.append(f"{what:<19}  " + (f"at step {at['gen_steps']}, {at['seconds']:.1f} s" if at else "not reached"))
    if s["precision"] is not None:
        lines.append(f"quality      precision {s['precision']:.2f}, recall {s['recall']:.2f} (k-NN, k = 3)")
    floor = s["exact_w1_floor"]
    band = f"{floor[0]:.3f}-{floor[1]:.3f}" if floor and None not in floor else "unknown"
    lines.append(f"exact W1     {_num(s['exact_w1']).strip()}  ({s['exact_w1_n']} vs {s['exact_w1_n']} points; "
                 f"two real samples: {band})")
    lines.append(f"critic       estimate {_num(s['critic_w1_estimate']).strip()} on the evaluation set; "
                 f"c-transform bound {_num(s['w_corrected']).strip()} (<= exact W1, any critic); "
                 f"/ Lipschitz bound {_num(s['lipschitz_bound']).strip()} = {_num(s['w_over_lipschitz']).strip()}")
    cfg = s["config"]
    lines.append("config       " + " ".join(f"{k}={v}" for k, v in cfg.items()))
    return "\n".join(lines)


def list_presets() -> int:
    """Every preset of every page, grouped by the page it opens (train and images ones train here too)."""
    pages = {"train": "Train live", "compare": "Compare", "images": "Images", "lab": "Lipschitz lab"}
    for page, title in pages.items():
        print(f"{title} ({'python -m wgan_core train --preset NAME' if page in ('train', 'images') else 'in the app'}):")
        for p in presets.for_page(page).values():
            c = p.config
            what = (f"{', '.join(p.methods)} on {c.data}, {p.recipe} recipe" if page == "compare" else
                    f"{c.data}, {p.steps} steps, clip {c.clip:g}, lambda {c.lam:g}" if page == "lab" else
                    f"{c.loss}, {c.data}")
            print(f"  {p.name:<17} {p.label}  [{what}]")
            print(f"  {'':<17} {p.watch}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "presets":
            return list_presets()
        config = config_from_args(args)
        check_budget(args, config)
        return train(args, config)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
