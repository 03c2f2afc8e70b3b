"""The Compare lesson's readings of its runs: a summary row per method, its speed, and what the race showed."""
from __future__ import annotations

from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.views import last_measured

SUMMARY_NUMBERS = ("W1, 400 vs 400", "critic's estimate", "lower bound")
RATE_SPAN_S = 3.0       # generator steps/s over about this many seconds of training
# Why the critic-free baseline stays in 2D; the figures are measured (benchmarks/ot_step_cost.py, one thread,
# and the exact W1 between batches of the shipped 8x8 digits, `transport.assignment`).
OT_AT_SCALE = (
    "**Why not exact OT for images?** The exact assignment costs about B² to B³ per step (measured, one thread: "
    "1 ms at B = 64, 4 ms at 256, 100 ms at 1,024), and a batch's W1 is a noisy estimate, biased upwards, whose "
    "sampling floor shrinks only like B^(−1/d) in d (intrinsic) dimensions: on the 64-pixel 8×8 digits, two "
    "batches of 64 *real* pictures are already 3.6 apart while a generator that draws nothing but the average "
    "digit scores 4.3, so at affordable batch sizes the loss barely tells a good generator from a collapsed one; "
    "a critic instead learns one function from every batch it has seen.")


def step_rate(hist: list, t: float, steps: int, span: float = RATE_SPAN_S) -> float | None:
    """A run's generator steps per second over its last ``span`` seconds of training, from its snapshots'
    (t: the worker's clock, gen_steps). ``hist`` is the caller's list of them, updated here: a point joins when
    the run moved on; a reset (fewer steps), a new clock or a gap longer than ``span`` (a pause) starts it
    afresh. None until two points half a second apart."""
    if hist and (steps < hist[-1][1] or t < hist[-1][0] or t - hist[-1][0] > span):
        hist.clear()
    if not hist or steps > hist[-1][1]:
        hist.append((t, steps))
    while len(hist) > 2 and hist[-1][0] - hist[1][0] >= span:
        hist.pop(0)
    dt = hist[-1][0] - hist[0][0]
    return (hist[-1][1] - hist[0][1]) / dt if dt >= 0.5 else None


def summary_rows(snaps: dict[str, dict], rates: dict[str, float] | None = None) -> list[dict]:
    """One row per method from its newest snapshot: steps (and generator steps/s, where ``rates`` has them), the
    exact W1 beside the critic's estimate and the bound from the critic (Wasserstein objectives), modes covered /
    visited (or precision / recall), quality."""
    rows = []
    for m, s in snaps.items():
        mt, wass = s["metrics"], OBJECTIVES[m].wasserstein
        row = {"method": OBJECTIVES[m].label, "generator steps": s["gen_steps"],
               "generator steps/s": (rates or {}).get(m),
               SUMMARY_NUMBERS[0]: last_measured(s, "exact_w1"),
               SUMMARY_NUMBERS[1]: mt.get("critic_w1_estimate") if wass else None,
               SUMMARY_NUMBERS[2]: mt.get("w_corrected") if wass else None}
        if mt.get("modes_total"):
            row["modes covered / visited"] = f"{mt['modes_covered']} / {mt.get('modes_visited')} of {mt['modes_total']}"
            row["high-quality share"] = mt["hq_fraction"]
        else:
            row["precision / recall"] = (f"{mt['precision']:.0%} / {mt['recall']:.0%}"
                                         if mt.get("precision") is not None else "…")
        rows.append({**row, "status": s["status"]})
    return rows


def gan_beat_clipping(snaps: dict[str, dict]) -> str | None:
    """A sentence when a vanilla GAN covered at least as many modes as WGAN-clip in this very race (it
    happens with the classroom recipe: c = 0.01 leaves this small critic nearly flat), else None."""
    gans = [m for m in ("gan", "nsgan") if m in snaps]
    if "wgan-clip" not in snaps or not gans or not snaps["wgan-clip"]["metrics"].get("modes_total"):
        return None
    clip = snaps["wgan-clip"]["metrics"]["modes_covered"]
    best = max(gans, key=lambda m: snaps[m]["metrics"]["modes_covered"])
    mine = snaps[best]["metrics"]["modes_covered"]
    if mine < clip or snaps[best]["gen_steps"] < 500:
        return None
    total = snaps[best]["metrics"]["modes_total"]
    return (f"Here the {OBJECTIVES[best].short} covers {mine} of {total} modes and WGAN-clip {clip}: a GAN does "
            "not always collapse, and clipping at c = 0.01 leaves this small critic nearly flat, so its "
            "generator learns slowly. Collapse is a tendency of GANs, not a law (the *Vanilla GAN collapsing* "
            "preset on Train live shows it); WGAN-GP is the one that is reliable here.")
