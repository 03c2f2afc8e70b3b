"""The Compare lesson's readings of its runs: a summary row per method, and what the race showed."""
from __future__ import annotations

from wgan_core.engine.objectives import OBJECTIVES
from wgan_core.engine.views import last_measured

SUMMARY_NUMBERS = ("W1, 400 vs 400", "critic's estimate", "lower bound")


def summary_rows(snaps: dict[str, dict]) -> list[dict]:
    """One row per method from its newest snapshot: steps, the exact W1 beside the critic's estimate and the
    bound from the critic (Wasserstein objectives), modes covered / visited (or precision / recall), quality."""
    rows = []
    for m, s in snaps.items():
        mt, wass = s["metrics"], OBJECTIVES[m].wasserstein
        row = {"method": OBJECTIVES[m].label, "generator steps": s["gen_steps"],
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
