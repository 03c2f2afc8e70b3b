"""Engine speed against the seed notebook's loop, and the classroom presets' time to coverage.

    python benchmarks/engine.py [--seconds S] [--rounds N] [--cap C]

1. Critic steps per second of `benchmarks.seed_loop` (the seed notebook's
   training loop) and of the engine (a `Run` with the seed's exact set-up:
   presets 'seed-wgan-gp' and 'seed-wgan-clip': batch 64, width 128, depth 2,
   ReLU generator, LeakyReLU critic, z_dim 2, n_critic 5, the notebook's
   optimizers), for WGAN-GP and WGAN-clip, one torch thread, measured
   interleaved (seed, engine, seed, engine, ...) so that load from other
   processes hits both alike; the ratio is the median of the rounds' ratios.
   On the CPU, steps/s are per second of this process's CPU time (with one
   thread, the wall-clock rate of an idle machine; robust when other processes
   share the cores), and the wall-clock ratio is shown beside; on CUDA (when
   there is one) wall-clock time.
2. Time to coverage of the presets 'classroom-gp' and 'classroom-8g': training
   seconds and generator steps until ``snapshot()['metrics']['modes_covered']``
   equals ``modes_total``, checked after every ~0.5 s of training (snapshot
   time not counted), capped at ``--cap`` seconds.

The last line is ``ratio engine/seed: X``, X the geometric mean of the two
methods' CPU ratios.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wgan_core.engine.device import configure_threads  # noqa: E402

configure_threads(1)

import torch  # noqa: E402

from benchmarks import seed_loop  # noqa: E402
from wgan_core import presets  # noqa: E402
from wgan_core.engine.trainer import Run  # noqa: E402

METHODS = ("wgan-gp", "wgan-clip")
BURST = 10            # generator steps per Run.step call, about the app's burst size


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _rates(steps: int, cpu0: float, wall0: float, device: str) -> tuple[float, float]:
    """(steps per CPU second, or per wall second on CUDA; steps per wall second)."""
    _sync(device)
    wall = time.perf_counter() - wall0
    cpu = wall if device.startswith("cuda") else time.process_time() - cpu0
    return steps / cpu, steps / wall


def seed_rate(method: str, seconds: float, device: str) -> tuple[float, float]:
    """The seed loop's critic steps per second, timed by the loop itself (its set-up not counted)."""
    out = seed_loop.run(method, seconds, device=device)
    cpu = out["seconds"] if device.startswith("cuda") else out["cpu_seconds"]
    return out["critic_steps"] / cpu, out["critic_steps"] / out["seconds"]


def engine_rate(run: Run, seconds: float, device: str) -> tuple[float, float]:
    """Critic steps per second of ``run`` trained in bursts for about ``seconds``."""
    _sync(device)
    steps, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        run.step(BURST)
        steps += BURST * run.config.n_critic
    return _rates(steps, cpu0, wall0, device)


def compare(method: str, device: str, seconds: float, rounds: int) -> tuple[float, float, float, float]:
    """Median seed and engine critic steps/s, the median of the rounds' ratios, and the same for wall time."""
    run = Run(presets.get("seed-" + method).config, device=device)
    run.step(BURST)                                                   # warm-up
    seed_loop.run(method, 0.2, device=device)
    seeds, engines, ratios, walls = [], [], [], []
    for _ in range(rounds):
        s, s_wall = seed_rate(method, seconds, device)
        e, e_wall = engine_rate(run, seconds, device)
        seeds.append(s), engines.append(e), ratios.append(e / s), walls.append(e_wall / s_wall)
    if run.status != "ok":
        raise RuntimeError(f"engine run {method} on {device}: {run.message}")
    return (statistics.median(seeds), statistics.median(engines), statistics.median(ratios),
            statistics.median(walls))


def time_to_coverage(name: str, device: str, cap: float, check_every: float = 0.5) -> tuple[float | None, int]:
    """Training seconds and generator steps until every mode is covered (None if not within ``cap``)."""
    run = Run(presets.get(name).config, device=device)
    trained, burst = 0.0, 5
    while trained < cap:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < check_every:
            run.step(burst)
        _sync(device)
        trained += time.perf_counter() - t0
        m = run.snapshot(exact=False)["metrics"]
        if run.status != "ok":
            return None, run.gen_steps
        if m["modes_covered"] == m["modes_total"]:
            return trained, run.gen_steps
    return None, run.gen_steps


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison (default 3)")
    ap.add_argument("--cap", type=float, default=120.0, help="time-to-coverage cap in seconds (default 120)")
    args = ap.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.rounds} interleaved rounds "
          f"of {args.seconds:g} s each; critic steps per CPU second (CUDA: per wall second)")
    print(f"{'method':<10} {'device':<6} {'seed steps/s':>13} {'engine steps/s':>15} {'ratio':>7} {'wall ratio':>11}")
    cpu_ratios = {}
    for device in devices:
        for method in METHODS:
            s, e, ratio, wall = compare(method, device, args.seconds, args.rounds)
            print(f"{method:<10} {device:<6} {s:>13.0f} {e:>15.0f} {ratio:>6.2f}x {wall:>10.2f}x", flush=True)
            if device == "cpu":
                cpu_ratios[method] = ratio
    if "cuda" in devices:
        print("note: the engine's step is not captured in a CUDA graph (not implemented; it could not be "
              "tested without a GPU).")
    print()
    print(f"{'preset':<14} {'device':<6} {'seconds to all modes':>21} {'generator steps':>16}")
    for name in ("classroom-gp", "classroom-8g"):
        for device in devices:
            secs, steps = time_to_coverage(name, device, args.cap)
            shown = f"{secs:.1f}" if secs is not None else f"> {args.cap:g} (not covered)"
            print(f"{name:<14} {device:<6} {shown:>21} {steps:>16}", flush=True)
    print()
    for method in METHODS:
        print(f"ratio engine/seed {method} (cpu): {cpu_ratios[method]:.2f}")
    geo = math.exp(sum(math.log(r) for r in cpu_ratios.values()) / len(cpu_ratios))
    print(f"ratio engine/seed: {geo:.2f}")


if __name__ == "__main__":
    main()
