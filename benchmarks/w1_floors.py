"""Measure the exact-W1 sampling floors shipped in `wgan_core/engine/metrics_floor.py` (`W1_FLOORS`).

    python benchmarks/w1_floors.py [--data seed3 8gaussians ...] [--n 400 1000 2000] [--reps-scale 1.0]

For every data set and n, `metrics_floor.w1_floor(data, n, reps, seed)` with
the reps of `FLOOR_REPS` (1,000 / 400 / 200 at n = 400 / 1,000 / 2,000) and
`FLOOR_SEED` (0): the mean, 5th and 95th percentiles of the exact W1 between
two independent n-point samples. One line per entry on stderr as it finishes
(with its seconds), then the table as Python on stdout, ready to paste over
`W1_FLOORS`. One core: about 25 minutes for the seven data sets (measured on a shared 2-core machine).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wgan_core.engine.device import configure_threads  # noqa: E402

configure_threads(1)

from wgan_core.engine.metrics_floor import FLOOR_REPS, FLOOR_SEED, w1_floor  # noqa: E402

DATA = ("seed3", "8gaussians", "25gaussians", "swissroll", "ring", "moons", "digits")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", default=list(DATA))
    p.add_argument("--n", type=int, nargs="+", default=list(FLOOR_REPS))
    p.add_argument("--reps-scale", type=float, default=1.0, help="fewer reps for a quick look (e.g. 0.1)")
    args = p.parse_args()
    table: dict[str, dict[int, tuple[float, float, float]]] = {}
    for name in args.data:
        for n in args.n:
            reps = max(2, round(FLOOR_REPS.get(n, 200) * args.reps_scale))
            t0 = time.perf_counter()
            table.setdefault(name, {})[n] = w1_floor(name, n, reps, FLOOR_SEED)
            mean, lo, hi = table[name][n]
            print(f"{name:<12} n={n:<5} reps={reps:<5} mean {mean:.4f}  p5 {lo:.4f}  p95 {hi:.4f}  "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    print("W1_FLOORS: dict[str, dict[int, tuple[float, float, float]]] = {")
    for name, row in table.items():
        cells = ", ".join(f"{n}: ({m:.4f}, {lo:.4f}, {hi:.4f})" for n, (m, lo, hi) in row.items())
        print(f"    {name!r}: {{{cells}}},")
    print("}")


if __name__ == "__main__":
    main()
