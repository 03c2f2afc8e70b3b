"""The sensitivity grid headless: what the full grid shows after its budget, and how long it takes.

    OMP_NUM_THREADS=1 python benchmarks/sensitivity.py                 # the engine in this process
    OMP_NUM_THREADS=1 python benchmarks/sensitivity.py --pool          # through the app's worker, as the page does
    python benchmarks/sensitivity.py --data 25gaussians --seed 1 --steps 1000

Trains the grid of pages/sensitivity.py (`wgan_core.lessons.grid`: learning rate x n_critic for the GAN,
WGAN-clip and WGAN-GP, 36 runs in 3 stacks), prints a table of every cell's outcome (modes covered,
high-quality share, exact W1 against its floor), the counts per objective, the page's sentence, the time
it took and the load average before and after (the machine's other work slows it). ``--pool`` trains
through a `Pool` with one training worker (one torch thread, niced, snapshots every 2 s per cell), as
the page does when the grid is alone on the server; the outcomes are the same either way (the engine is
deterministic per seed).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from wgan_core.engine.objectives import OBJECTIVES  # noqa: E402
from wgan_core.lessons import grid as G  # noqa: E402


def headless(cfgs: dict, steps: int) -> dict:
    every = max(1, steps // 10)

    def progress(done: int, seconds: float) -> None:
        if done % every == 0 or done == steps:
            print(f"  step {done:5d} of {steps}  {seconds:6.0f} s  load {os.getloadavg()[0]:.1f}", flush=True)

    return G.outcomes_of(G.train_grid(cfgs, steps, progress=progress))


def through_pool(cfgs: dict, steps: int) -> dict:
    from wgan_core.serve.grid import GridRuns
    from wgan_core.serve.pool import Pool
    pool = Pool(n_workers=1)
    try:
        g = GridRuns(pool, cfgs, steps, owner="benchmark")
        while any(s is None for s in g.snapshots().values()):
            time.sleep(0.2)
        t0, last = time.perf_counter(), -1.0
        g.play(True)
        while not g.finished():
            time.sleep(0.5)
            g.tend()
            done = g.steps_done() / len(cfgs)
            if done - last >= steps / 10:
                last = done
                print(f"  step {done:5.0f} of {steps}  {time.perf_counter() - t0:6.0f} s  "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
        return {c: G.outcome(s) for c, s in g.snapshots().items()}
    finally:
        pool.close()


def table(outs: dict, steps: int) -> None:
    lrs = sorted({c.lr for c in outs})
    print(f"\n{'objective':<20} {'n_critic':>8} | " + " | ".join(f"lr {lr:<20g}" for lr in lrs))
    for m in dict.fromkeys(c.method for c in outs):
        for n in sorted({c.n_critic for c in outs}):
            row = []
            for lr in lrs:
                o = outs[G.Cell(m, lr, n)]
                flag = "" if o.steps == steps and o.status == "ok" else f" [{o.status}, step {o.steps}]"
                row.append(f"{o.modes}/{o.modes_total} hq {o.hq:4.0%} W1 {o.w1:.2f}{flag}".ljust(23))
            print(f"{OBJECTIVES[m].short:<20} {n:>8} | " + " | ".join(row))
    floor = next(o.floor for o in outs.values() if o.floor)
    print(f"(W1 floor, two real samples of 400: {floor[0]:.2f}-{floor[1]:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="8gaussians", choices=G.DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=G.STEPS)
    ap.add_argument("--pool", action="store_true", help="train through the app's worker process")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfgs = G.configs(a.data, a.seed)
    load0 = os.getloadavg()
    print(f"{len(cfgs)} runs x {a.steps} generator steps on {a.data}, seed {a.seed}, "
          f"{'through one worker process' if a.pool else 'in this process'}; "
          f"{os.cpu_count()} cores, load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    t0 = time.perf_counter()
    outs = through_pool(cfgs, a.steps) if a.pool else headless(cfgs, a.steps)
    took = time.perf_counter() - t0
    load1 = os.getloadavg()
    table(outs, a.steps)
    k = next(o.modes_total for o in outs.values() if o.modes_total)
    for need, what in ((G.most_of(k), f"\ncovered at least {G.most_of(k)} of {k} modes:"), (k, "covered all modes:")):
        print(what, ", ".join(f"{OBJECTIVES[m].short} {a} of {n}" for m, (a, n) in G.counts(outs, need).items()))
    print(G.sentence(outs, a.steps, a.data, finished=True))
    print(f"\ntook {took:.0f} s ({took / 60:.1f} min); load average before {load0[0]:.2f} {load0[1]:.2f} "
          f"{load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
