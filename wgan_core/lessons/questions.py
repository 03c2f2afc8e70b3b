"""Predict, then run: a short question before each key demonstration, answered by the run itself.

A teacher asks the class before pressing Play: *what will happen?* Each `Question`
has a prompt, a few choices, what to run (a preset, or the page's own experiment),
how far to run it (``steps`` generator steps), and a ``judge``: a pure function of
the measured outcome (a snapshot's ``metrics`` and ``curves``, or a lesson job's
result) that returns the index of the choice the run bore out and one sentence
quoting the measured numbers. So the answer shown is what this run did, not a
canned one: a different seed that behaves differently gets a different answer.
Registered by id; `for_page` lists a page's questions (at least one per lesson
page); a link with ``?q=<id>`` opens that question.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Judge = Callable[[dict], tuple[int, str]]


@dataclass(frozen=True)
class Question:
    id: str
    page: str                       # "train", "why", "w1d", "lab", "compare", "images"
    prompt: str
    choices: tuple[str, ...]
    judge: Judge                    # outcome -> (index of the choice the run bore out, a measured sentence)
    preset: str = ""                # what runs (a preset of that page), if anything
    steps: int = 0                  # generator steps before the outcome is judged


def _curve(outcome: dict, name: str) -> np.ndarray:
    """A curve's finite values (a full snapshot's evaluations, in step order)."""
    v = np.asarray(outcome.get("curves", {}).get(name, []), dtype=np.float64)
    return v[np.isfinite(v)]


# --------------------------------------------------------------------------- judges
def _clip_small(o: dict) -> tuple[int, str]:
    m = o["metrics"]
    flat = m["largest_slope_seen"] < 1e-3 and max(_curve(o, "modes_covered"), default=0) == 0
    return (2 if flat else 1 if m["modes_covered"] < m["modes_total"] else 0,
            f"Measured: after {o['gen_steps']:,} steps, {int(max(_curve(o, 'modes_covered'), default=0))} of "
            f"{m['modes_total']} modes were ever covered and the critic's largest slope is "
            f"{m['largest_slope_seen']:.1e}: a critic this flat gives the generator almost no gradient.")


def _clip_large(o: dict) -> tuple[int, str]:
    m = o["metrics"]
    steep = m["largest_slope_seen"] > 10
    overshoot = m["critic_w1_estimate"] / max(m["exact_w1"] or np.nan, 1e-12)
    return (2 if steep else 0,
            f"Measured: the critic's largest slope is {m['largest_slope_seen']:,.0f} (1-Lipschitz means at most "
            f"1) and its estimate {m['critic_w1_estimate']:.3g} is {overshoot:,.0f} times the exact W1 "
            f"{m['exact_w1']:.3f}: with c = 1 the clipping barely binds.")


def _lambda_zero(o: dict) -> tuple[int, str]:
    est, w1 = _curve(o, "critic_w1_estimate"), _curve(o, "exact_w1")
    if not len(est):
        return 0, "Not measured yet."
    far = float(np.max(np.abs(est))) > 5 * float(np.median(w1)) if len(w1) else False
    return (2 if far else 0,
            f"Measured over {o['gen_steps']:,} steps: the critic's estimate ranged from {est.min():.3g} to "
            f"{est.max():.3g} while the exact W1 stayed between {w1.min():.2f} and {w1.max():.2f}; the largest "
            f"slope reached {o['metrics']['largest_slope_seen']:,.0f}. Without the penalty nothing holds the "
            "critic to slope 1, so its estimate measures nothing.")


def _gan_modes(o: dict) -> tuple[int, str]:
    covered, visited = _curve(o, "modes_covered"), _curve(o, "modes_visited")
    total = o["metrics"]["modes_total"]
    best = int(covered.max()) if len(covered) else 0
    return (0 if best == total else 1 if best >= total // 2 else 2,
            f"Measured over {o['gen_steps']:,} steps: at most {best} of {total} modes covered at once, and at "
            f"most {int(visited.max()) if len(visited) else 0} visited: the generator piles onto a few modes "
            "and hops between them." if best < total else
            f"Measured: all {total} modes were covered by step {o['gen_steps']:,} on this seed: collapse is a "
            "tendency, not a law; try another seed.")


FIRST_FULL_METHODS = ("gan", "wgan-clip", "wgan-gp", "wgan-lp", "sngan")     # the all-8g preset's, in choice order


def _first_full(o: dict) -> tuple[int, str]:
    """Compare: which objective covered all modes first (``o["runs"]``: method -> its snapshot, ``o["labels"]``:
    method -> short name)."""
    firsts = {}
    for method, out in o["runs"].items():
        steps, cov = (np.asarray(out["curves"].get(k, []), dtype=float) for k in ("gen_step", "modes_covered"))
        hit = np.isfinite(cov) & (cov >= out["metrics"]["modes_total"])
        firsts[method] = float(steps[hit][0]) if hit.any() else np.inf
    order = sorted(firsts, key=firsts.get)
    winner = order[0] if np.isfinite(firsts[order[0]]) else None
    idx = FIRST_FULL_METHODS.index(winner) if winner in FIRST_FULL_METHODS else len(FIRST_FULL_METHODS)
    said = "; ".join(f"{o['labels'][m]}: {'step ' + format(int(firsts[m]), ',') if np.isfinite(firsts[m]) else 'not yet'}"
                     for m in order)
    return idx, f"Measured, first step with every mode covered: {said}."


def _lab_closest(o: dict) -> tuple[int, str]:
    """Lipschitz lab: whose slopes at the interpolates sit closest to 1 (``o``: the experiment's result)."""
    gaps = {m: abs(r["summary"]["mean"] - 1.0) for m, r in o["methods"].items()}
    best = min(gaps, key=gaps.get)
    idx = list(o["methods"]).index(best)
    said = "; ".join(f"{r['short']} {r['summary']['mean']:.3g}" for r in o["methods"].values())
    return idx, f"Measured mean slopes at the 400 interpolates: {said}. Closest to 1: {o['methods'][best]['short']}."


def _dual_gap(o: dict) -> tuple[int, str]:
    """1D: the trained critic's raw gap against W1 (``o``: the dual-critic job's trajectory)."""
    gap, w1, lam = float(o["gap"][-1]), float(o["w1"]), float(o["lam"])
    idx = 2 if gap > 1.02 * w1 else 1 if gap >= 0.98 * w1 else 0
    return idx, (f"Measured: the critic's gap settled at {gap:.3f} against W1 = {w1:.3f} "
                 f"({gap / w1 - 1:+.0%}); the soft penalty's trade-off predicts W1 + W1²/(2λ) = "
                 f"{w1 + w1 * w1 / (2 * lam):.3f} with λ = {lam:g}.")


def _digits(o: dict) -> tuple[int, str]:
    share = float(o["quality"]["recognisable"])
    idx = 0 if share < 0.2 else 1 if share < 0.8 else 2
    return idx, (f"Measured at step {o['gen_steps']:,}: {share:.0%} of the 64 digits are recognisable (real "
                 "digits: about 90 %).")


QUESTIONS: dict[str, Question] = {q.id: q for q in [
    Question("clip-small", "train", "A WGAN clips its critic's weights to [−c, c]. What happens to the samples "
             "with a tiny c = 0.001?", ("They cover the modes faster than with c = 0.01",
                                        "About the same as with c = 0.01",
                                        "They barely learn: the critic is too flat to push them"),
             _clip_small, preset="clip-small", steps=1000),
    Question("clip-large", "train", "And with a large c = 1: what does the critic's slope do?",
             ("It stays at most 1", "It stays about 1", "It grows far past 1, so the estimate is no bound"),
             _clip_large, preset="clip-large", steps=1000),
    Question("lambda-zero", "train", "Remove the gradient penalty (λ = 0). What does the critic's estimate do?",
             ("It stays close to the exact W1", "It drops to zero",
              "It swings wildly, far from W1 (even below zero)"),
             _lambda_zero, preset="lambda-zero", steps=1500),
    Question("gan-modes", "why", "Will the vanilla GAN cover all 8 modes?",
             ("Yes, all 8", "About half of them", "No: it piles onto one or two at a time"),
             _gan_modes, preset="gan-collapse", steps=2000),
    Question("first-full", "compare", "Five objectives race on 8 Gaussians. Which one covers all 8 modes first?",
             ("GAN (minimax)", "WGAN-clip", "WGAN-GP", "WGAN-LP", "Spectral norm", "None of them, in this race"),
             _first_full, preset="all-8g", steps=3000),
    Question("closest-to-one", "lab", "Four critics enforce '1-Lipschitz' four ways. Whose slopes at the "
             "interpolates will sit closest to 1?", ("WGAN-clip", "WGAN-GP", "WGAN-LP", "Spectral norm"),
             _lab_closest),
    Question("penalty-gap", "w1d", "A critic trained with a gradient penalty (λ = 10): will its gap E f(p) − "
             "E f(q) land below, on, or above W1?", ("Below W1", "On W1 (within 2 %)", "Above W1"), _dual_gap),
    Question("digits-1000", "images", "After 1,000 generator steps of the fast preset, how many of the 64 "
             "digits will be recognisable?", ("Almost none (under 20 %)", "Some to most (20–80 %)",
                                              "Nearly all (over 80 %)"),
             _digits, preset="digits-fast", steps=1000),
]}


def for_page(page: str) -> dict[str, Question]:
    return {k: q for k, q in QUESTIONS.items() if q.page == page}
