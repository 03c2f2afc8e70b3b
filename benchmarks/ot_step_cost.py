"""Cost of the critic-free exact-OT generator step (objective "ot"), against the classroom WGAN-GP step.

    python benchmarks/ot_step_cost.py [--steps 200] [--batches 64 128 256] [--data 8gaussians]

For each batch size B: seconds per generator step of an "ot" run (the classroom network: width 64,
depth 2) and of the classroom WGAN-GP (same network and B, n_critic 2), one torch thread, CPU time of
this process (robust when other processes share the cores); the share of the OT step spent in the
exact assignment (`transport.assignment`, POT, timed inside the training steps); and, on B x B random
clouds, POT's solve beside scipy's ``linear_sum_assignment`` on the same cost matrices. Printed with
the ratio to the WGAN-GP step measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wgan_core.engine.device import configure_threads  # noqa: E402

configure_threads(1)

import numpy as np  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from wgan_core.engine import metrics, recipes, transport  # noqa: E402
from wgan_core.engine.config import TrainConfig  # noqa: E402
from wgan_core.engine.trainer import Run  # noqa: E402

SPENT = [0.0]                  # CPU seconds inside transport.assignment


def _timed(fn):
    def wrapper(*a, **kw):
        t = time.process_time()
        try:
            return fn(*a, **kw)
        finally:
            SPENT[0] += time.process_time() - t
    return wrapper


def per_step_s(cfg: TrainConfig, steps: int) -> tuple[float, float]:
    """CPU seconds per generator step (median over 3 blocks of ``steps`` steps, after a warm-up), and the
    share of all blocks' time spent in the exact assignment."""
    r = Run(cfg, device="cpu")
    r.step(5)
    out, total = [], 0.0
    SPENT[0] = 0.0
    for _ in range(3):
        t = time.process_time()
        r.step(steps)
        out.append((time.process_time() - t) / steps)
        total += time.process_time() - t
    return statistics.median(out), SPENT[0] / total


def solve_s(fn, B: int, reps: int) -> float:
    """CPU seconds of ``fn(x, y, cost)`` on B vs B random points (two shifted Gaussian clouds)."""
    rng = np.random.default_rng(B)
    pairs = [(rng.normal(size=(B, 2)), rng.normal(size=(B, 2)) + 1.0) for _ in range(reps)]
    t = time.process_time()
    for x, y in pairs:
        fn(x, y, metrics.euclidean_cost(x, y))
    return (time.process_time() - t) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--data", default="8gaussians")
    a = ap.parse_args()
    transport.assignment = _timed(transport.assignment)                # ot_step calls it through the module
    print(f"{'B':>5} {'OT s/step':>10} {'GP s/step':>10} {'OT/GP':>6} {'in assign':>9} {'POT s':>8} {'scipy s':>8}")
    for B in a.batches:
        ot_cfg = recipes.compare_config("ot", a.data, 0, "classroom").replace(batch=B)
        gp_cfg = recipes.compare_config("wgan-gp", a.data, 0, "classroom").replace(batch=B)
        (ot_s, share), (gp_s, _) = per_step_s(ot_cfg, a.steps), per_step_s(gp_cfg, a.steps)
        reps = max(5, 4000 // B)
        pot = solve_s(lambda x, y, c: transport.assignment(x, y), B, reps)
        lsa = solve_s(lambda x, y, c: linear_sum_assignment(c), B, reps)
        print(f"{B:>5} {ot_s:>10.5f} {gp_s:>10.5f} {ot_s / gp_s:>6.2f} {share:>9.0%} {pot:>8.5f} {lsa:>8.5f}")


if __name__ == "__main__":
    main()
