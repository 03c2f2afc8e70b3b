"""Our objectives against the published 2D tables: modes covered and high-quality share, over seeds.

    python benchmarks/literature.py                                   # 10 seeds, 30 s, every objective
    python benchmarks/literature.py --seeds 3 --seconds 10 --objectives wgan-gp nsgan --data 8gaussians

Protocol. For every objective and data set (8gaussians: the ring; 25gaussians: the grid), the tuned
settings (`recipes.tuned_config`, what the command line and the app give a user who names only the
objective and the data) train for ``--seconds`` of one run's training on one core of this machine:

1. the rate: one run alone, one torch thread, generator steps per CPU-second (``time.process_time``,
   so other work on the machine slows the benchmark, not the figure), measured for each objective;
2. the seeds then train together in one `Stack` (a run's numbers are the same as alone, bit for bit:
   tests/test_engine.py) up to round(rate x T) generator steps, for every checkpoint T;
3. at each checkpoint every seed is measured as the app shows it (`Run.snapshot`: the generator's
   average when the settings keep one) on its 2,500 fixed evaluation samples, the published tables'
   count: a sample is high quality within 3 standard deviations of its nearest mode, and a mode is
   covered when at least 1 % of the samples are high-quality samples of that mode.

It prints, per objective and data set, mean +- standard error over the seeds of the modes covered and
the high-quality share at 10 s and at the end, and the seconds to the first checkpoint where every mode
was covered (mean +- SE over the seeds that got there, and how many did), beside the published rows
(PacGAN Table 1, VEEGAN Table 1, and WGAN-GP as reported in the GDPP paper; their budgets are not
seconds on 2 CPU cores, so compare outcomes, not times). The load average before and after is printed.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from wgan_core.engine.objectives import OBJECTIVES  # noqa: E402
from wgan_core.engine.recipes import tuned_config  # noqa: E402
from wgan_core.engine.trainer import Run, snapshot_many, train  # noqa: E402

DATA = {"8gaussians": "ring (8 modes)", "25gaussians": "grid (25 modes)"}
CHECKPOINTS = (1, 2, 3, 4, 5, 7.5, 10, 12.5, 15, 20, 25, 30, 45, 60)
# (model, source, ring modes, ring HQ %, grid modes, grid HQ %); None: not reported
PUBLISHED = [
    ("GAN", "PacGAN Table 1", 6.3, 98.2, 17.3, 94.8),
    ("PacGAN2", "PacGAN Table 1", 7.9, 95.6, None, None),
    ("PacGAN4", "PacGAN Table 1", None, None, 24.8, 93.6),
    ("VEEGAN", "VEEGAN Table 1", 8, 52.9, 24.6, 40.0),
    ("Unrolled GAN", "VEEGAN Table 1", 7.6, 35.6, 23.6, 16.0),
    ("WGAN-GP", "GDPP paper", 6.8, 59.6, 24.2, 28.7),
]


def rate(loss: str, data: str, seconds: float = 1.5) -> float:
    """Generator steps per CPU-second of one run alone (after a warm-up)."""
    run = Run(tuned_config(loss, data), device="cpu")
    train([run], 20)
    n, c0 = 0, time.process_time()
    while time.process_time() - c0 < seconds:
        train([run], 25)
        n += 25
    return n / (time.process_time() - c0)


def mean_se(x) -> str:
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return "-"
    se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else 0.0
    return f"{x.mean():.1f} ± {se:.1f}"


def pct_se(x) -> str:
    return mean_se(100 * np.asarray(x, dtype=float)) + " %"


def measure(loss: str, data: str, seeds: int, budget: float) -> dict:
    sps = rate(loss, data)
    marks = [(T, max(1, round(sps * T))) for T in CHECKPOINTS if T <= budget]
    runs = [Run(tuned_config(loss, data, seed=s), device="cpu") for s in range(seeds)]
    done, at, t0 = 0, {}, time.perf_counter()
    total = None
    for T, steps in marks:
        train(runs, steps - done)
        done = steps
        ms = [s["metrics"] for s in snapshot_many(runs, exact=False, modes_every_s=0.0)]
        total = ms[0]["modes_total"]
        at[T] = ([m["modes_covered"] if r.status == "ok" else 0 for m, r in zip(ms, runs)],
                 [m["hq_fraction"] if r.status == "ok" else 0.0 for m, r in zip(ms, runs)])
    first = []                                               # seconds to every mode, per seed that got there
    for i in range(seeds):
        hit = [T for T in at if at[T][0][i] == total]
        if hit:
            first.append(min(hit))
    end, ten = at[marks[-1][0]], at.get(10)
    return {"loss": loss, "data": data, "rate": sps, "steps": marks[-1][1], "total": total,
            "modes": end[0], "hq": end[1], "modes10": ten[0] if ten else None, "hq10": ten[1] if ten else None,
            "first": first, "seeds": seeds, "diverged": sum(r.status != "ok" for r in runs),
            "wall": time.perf_counter() - t0}


def row(r: dict, budget: float) -> str:
    ten = f"{mean_se(r['modes10']):>11} {pct_se(r['hq10']):>15}" if r["modes10"] is not None else f"{'-':>11} {'-':>15}"
    reach = f"{mean_se(r['first'])} s ({len(r['first'])}/{r['seeds']})" if r["first"] else f"never ({0}/{r['seeds']})"
    div = f"  {r['diverged']} diverged" if r["diverged"] else ""
    return (f"{OBJECTIVES[r['loss']].short:<20} {DATA[r['data']]:<16} {r['rate']:6.0f} {ten} "
            f"{mean_se(r['modes']):>11} {pct_se(r['hq']):>15}   {reach}{div}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30.0, help="budget per run, one core (<= 60)")
    ap.add_argument("--objectives", nargs="*", default=list(OBJECTIVES), choices=list(OBJECTIVES))
    ap.add_argument("--data", nargs="*", default=list(DATA), choices=list(DATA))
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(f"# {a.seeds} seeds, {a.seconds:g} s per run (steps = one run's quiet rate x seconds), tuned settings; "
          f"load {os.getloadavg()[0]:.2f}, torch {torch.__version__}, {os.cpu_count()} cores", flush=True)
    head = (f"{'objective':<20} {'data':<16} {'steps/s':>6} {'modes @10 s':>11} {'HQ @10 s':>15} "
            f"{'modes @' + format(a.seconds, 'g') + ' s':>11} {'HQ @' + format(a.seconds, 'g') + ' s':>15}   "
            "seconds to every mode")
    print(head, flush=True)
    out = []
    for data in a.data:
        for loss in a.objectives:
            r = measure(loss, data, a.seeds, a.seconds)
            out.append(r)
            print(row(r, a.seconds), flush=True)
    print("\nPublished (2,500 samples, 3 std; their own training budgets):")
    print(f"{'model':<14} {'source':<16} {'ring modes':>10} {'ring HQ':>8} {'grid modes':>10} {'grid HQ':>8}")
    f = lambda v, p="": "-" if v is None else f"{v:g}{p}"
    for m, src, rm, rh, gm, gh in PUBLISHED:
        print(f"{m:<14} {src:<16} {f(rm):>10} {f(rh, ' %'):>8} {f(gm):>10} {f(gh, ' %'):>8}")
    print(f"\nSeconds to every mode: the first checkpoint ({', '.join(f'{t:g}' for t in CHECKPOINTS)} s) at which "
          "a seed covered every mode (1.0: within the first second).")
    print(f"# load {os.getloadavg()[0]:.2f} after; {sum(r['wall'] for r in out):.0f} s of training")


if __name__ == "__main__":
    main()
