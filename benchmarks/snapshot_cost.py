"""Cost of `snapshot_many` per run: full (exact W1, critic check, precision/recall) and light.

    python benchmarks/snapshot_cost.py [--reps R] [--runs 1 30] [--preset classroom-8g] [--data swissroll]

Times ``snapshot_many(runs, exact=True)`` and ``exact=False`` for 1 and for 30
stacked runs of a preset (CPU time of this process, one torch thread: robust
when other processes share the cores), and prints milliseconds per run
snapshot. Light snapshots are timed twice: measuring mode statistics every
time (``modes_every_s=0``, the default of `snapshot_many`), and as the live
view takes them (the scheduler's ``modes_every_s=MODES_EVERY_S``, one snapshot
every ``--frame-s`` seconds of a simulated clock: the mode statistics are then
measured on every k-th snapshot only, so the figure is the mean over whole
blocks of snapshots, not a median). Run it before and after a change of
`views.py` to see what the change costs.
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

from wgan_core import presets  # noqa: E402
from wgan_core.engine.trainer import MODES_EVERY_S, Run, snapshot_many, train  # noqa: E402


def per_run_ms(runs: list, exact: bool, reps: int, frame_s: float | None = None) -> float:
    """CPU ms per run snapshot: median over 3 blocks of ``reps`` snapshots (each block's mean)."""
    kw = {} if frame_s is None else {"modes_every_s": MODES_EVERY_S}
    clock = [0.0]

    def snap() -> None:
        clock[0] += frame_s or 0.0
        snapshot_many(runs, exact=exact, now=clock[0], **kw)

    snap()                                                            # warm-up (and the once-per-run work)
    blocks = []
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(reps):
            snap()
        blocks.append((time.process_time() - t0) / reps)
    return 1000 * statistics.median(blocks) / len(runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=14, help="snapshots per timed block (3 blocks)")
    p.add_argument("--runs", type=int, nargs="+", default=[1, 30])
    p.add_argument("--preset", default="classroom-8g")
    p.add_argument("--data", help="override the preset's data set (e.g. swissroll: no modes)")
    p.add_argument("--frame-s", type=float, default=0.04, help="seconds between two live snapshots of a run")
    args = p.parse_args()
    cfg = presets.get(args.preset).config
    if args.data:
        cfg = cfg.replace(data=args.data)
    for S in args.runs:
        runs = [Run(cfg.replace(seed=k), device="cpu") for k in range(S)]
        train(runs, 50)
        full = per_run_ms(runs, True, max(2, args.reps // 4))
        light = per_run_ms(runs, False, args.reps)
        live = per_run_ms(runs, False, args.reps, frame_s=args.frame_s)
        print(f"{args.preset} ({cfg.data}), {S:2d} run(s): full {full:6.1f} ms/run, light {light:5.2f} ms/run "
              f"(modes each time), {live:5.2f} ms/run (live view: modes every {MODES_EVERY_S:g} s, "
              f"a snapshot every {args.frame_s:g} s)", flush=True)


if __name__ == "__main__":
    main()
