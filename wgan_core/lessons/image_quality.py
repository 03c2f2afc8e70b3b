r"""How good are generated digits: nearest-neighbour figures, each read against what real digits score.

No classifier is trained. A `Reference` holds real training digits R with
their labels (the digits the generator learns from) and real held-out digits H
that it never sees, all as pixels in [0, 1]. For a picture x let
:math:`d(x) = \min_{r \in R} \lVert x - r \rVert_2` and :math:`\ell(x)` the
label of that nearest r; from H come two thresholds, :math:`q_{ok}` and
:math:`q_{close}`, the 90th and 5th percentiles of :math:`d(h)`. For n
generated pictures :math:`x_1..x_n` (`quality`):

``recognisable``
    the share with :math:`d(x_i) \le q_{ok}`: "as close to some real digit as
    90 % of real digits are"; real digits score 0.90. With its binomial
    standard error :math:`\sqrt{p(1-p)/n}` (about 0.04 at n = 64).
``classes``
    class balance: the effective number of classes :math:`\exp H(p)`, where p
    is the histogram of :math:`\ell(x_i)` over the 10 classes (10: balanced;
    1: every picture nearest to one class, mode collapse).
``variety``
    the mean distance from each :math:`x_i` to its nearest *other* generated
    picture, divided by the same mean for n real held-out digits: about 1 for
    real digits, 0 when pictures repeat.
``too_close``
    the share with :math:`d(x_i) < q_{close}`: closer to a training digit than
    95 % of real held-out digits are (copied, memorised); real digits: 0.05.

Reading them. `baseline` draws n held-out digits (without replacement)
`BASELINE_DRAWS` times and keeps each figure's mean and standard deviation
for real digits at that same n (the held-out digits' own distances and labels
are computed once; the deviation is divided by the finite-population factor
:math:`\sqrt{(|H| - n) / (|H| - 1)}`, as n fresh real digits would vary more
than n drawn from one finite set). A figure is *flagged* when it lies more than `FLAG_SD`
standard deviations on its bad side of real digits' mean: classes or variety
too low, too_close too high. Each flag catches a way to fool ``recognisable``
(tests/test_image_quality.py): 64 copies of one training digit (all three
flags), the ten class means, blurs (variety), 50/50 blends of a 3 and an 8
(classes and variety). At most len(H) / 2 pictures are scored, so that real
digits can be drawn at the same n.

Limits: Euclidean distance between pixels is a crude notion of likeness; read
the figures beside the pictures.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DIGITS_ASSET = Path(__file__).resolve().parents[2] / "assets" / "digits.npz"
DIGITS_HELD_OUT = 500
SPLIT_SEED = 0
OK_Q, CLOSE_Q = 90, 5                # percentiles of held-out distances: recognisable, too close
BASELINE_DRAWS = 300
FLAG_SD = 3.0
CHUNK = 2**22                        # distance-matrix entries computed at once (16 MB of float32)


@dataclass(frozen=True, eq=False)
class Reference:
    """Real digits to score against: training digits ``ref`` (M, D) with labels, held-out ``held`` (H, D)."""

    name: str
    side: int                        # pictures are side x side
    ref: np.ndarray
    ref_labels: np.ndarray
    held: np.ndarray
    held_labels: np.ndarray          # the held-out digits' own labels
    held_d: np.ndarray               # (H,) d(h)
    held_nearest: np.ndarray         # (H,) l(h), the label of h's nearest training digit
    held_pair: np.ndarray            # (H, H) distances between held-out digits (diagonal inf)
    q_ok: float
    q_close: float

    @classmethod
    def build(cls, name: str, ref, ref_labels, held, held_labels) -> Reference:
        """From pictures (N, side, side) or (N, side^2) in [0, 1] and integer labels 0..9."""
        ref, held = _flat(ref), _flat(held)
        side = math.isqrt(ref.shape[1])
        d, idx = nearest(held, ref)
        pair = np.sqrt(np.maximum(_sqdist(held, held), 0)).astype(np.float32)
        np.fill_diagonal(pair, np.inf)
        labels = np.asarray(ref_labels, dtype=np.int64)
        arrays = dict(ref=ref, ref_labels=labels, held=held, held_labels=np.asarray(held_labels, dtype=np.int64),
                      held_d=d, held_nearest=labels[idx], held_pair=pair)
        for a in arrays.values():
            a.setflags(write=False)
        q_ok, q_close = np.percentile(d, [OK_Q, CLOSE_Q])
        return cls(name, side, q_ok=float(q_ok), q_close=float(q_close), **arrays)


@functools.lru_cache(maxsize=1)
def digits_reference() -> Reference:
    """scikit-learn's 1,797 digits split once (seed 0): 1,297 training digits, 500 held out."""
    d = np.load(DIGITS_ASSET)
    x = d["images"].reshape(len(d["images"]), 64).astype(np.float32) / 16.0
    y = d["labels"].astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    ref, held = order[DIGITS_HELD_OUT:], order[:DIGITS_HELD_OUT]
    return Reference.build("digits", x[ref], y[ref], x[held], y[held])


# --------------------------------------------------------------------------- distances

def _flat(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)


def _sqdist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x * x).sum(1)[:, None] - 2 * x @ y.T + (y * y).sum(1)[None, :]          # (N, M)


def nearest(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance (N,) from each row of x to its nearest row of ref, and that row's index (chunked)."""
    x, ref = _flat(x), _flat(ref)
    rows = max(1, CHUNK // max(len(ref), 1))
    d, idx = np.empty(len(x), np.float64), np.empty(len(x), np.int64)
    for a in range(0, len(x), rows):
        d2 = _sqdist(x[a:a + rows], ref)
        i = d2.argmin(1)
        idx[a:a + rows], d[a:a + rows] = i, np.sqrt(np.maximum(d2[np.arange(len(i)), i], 0.0))
    return d, idx


def _within(pair: np.ndarray) -> float:
    """Mean distance from each picture to its nearest other one, given their distance matrix (diagonal inf)."""
    return float(pair.min(1).mean())


def effective_classes(labels) -> float:
    """exp(entropy) of the histogram of labels 0..9: 10 for a balanced sample, 1 for a single class."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


# --------------------------------------------------------------------------- real digits at n, and the score

def max_scored(ref: Reference) -> int:
    """How many pictures are scored at most: half the held-out digits, so that draws of real digits at the
    same n still vary (at n = len(held) every draw would be the whole held-out set)."""
    return len(ref.held) // 2


@functools.lru_cache(maxsize=16)
def baseline(ref: Reference, n: int) -> dict[str, tuple[float, float]]:
    """(mean, standard deviation) of each figure for n real held-out digits (BASELINE_DRAWS draws, seed 0);
    ``within`` is their mean nearest-other distance, the unit of ``variety``."""
    if not 2 <= n <= len(ref.held):
        raise ValueError(f"n must be between 2 and {len(ref.held)}, got {n}")
    rng = np.random.default_rng(SPLIT_SEED)
    rows = []
    for _ in range(BASELINE_DRAWS):
        i = rng.choice(len(ref.held), n, replace=False)
        d = ref.held_d[i]
        rows.append((np.mean(d <= ref.q_ok), effective_classes(ref.held_nearest[i]),
                     _within(ref.held_pair[np.ix_(i, i)]), np.mean(d < ref.q_close)))
    t = np.array(rows)
    t = np.column_stack([t, t[:, 2] / t[:, 2].mean()])
    fpc = math.sqrt((len(ref.held) - n) / (len(ref.held) - 1))       # draws from a finite set vary less
    names = ("recognisable", "classes", "within", "too_close", "variety")
    return {k: (float(t[:, j].mean()), float(t[:, j].std()) / fpc) for j, k in enumerate(names)}


def quality(pictures, ref: Reference | None = None) -> dict:
    """The figures of the module's docstring for pictures (N, side, side) or (N, side^2) in [0, 1].

    Returns ``n`` (pictures scored: the first `max_scored`), ``recognisable`` and ``recognisable_se``,
    ``classes``, ``class_counts`` (10,), ``top_share`` (the most common class's share), ``variety``,
    ``too_close``, ``nn_ratio`` (mean d over generated / over held-out), ``real`` (`baseline`: each
    figure's mean and standard deviation for real digits at this n) and ``flags`` (names of flagged figures).
    """
    ref = ref or digits_reference()
    x = np.asarray(pictures, dtype=np.float32)
    x = x.reshape(len(x), -1) if x.ndim >= 2 else x
    if x.ndim != 2 or x.shape[1] != ref.side ** 2 or len(x) < 2:
        raise ValueError(f"expected N >= 2 pictures of {ref.side ** 2} pixels, got shape {np.shape(pictures)}")
    x = np.clip(np.nan_to_num(x[: max_scored(ref)], nan=0.0), 0, 1)
    n = len(x)
    d, idx = nearest(x, ref.ref)
    counts = np.bincount(ref.ref_labels[idx], minlength=10)
    pair = np.sqrt(np.maximum(_sqdist(x, x), 0))
    np.fill_diagonal(pair, np.inf)
    real = baseline(ref, n)
    p = float(np.mean(d <= ref.q_ok))
    q = {"n": n, "recognisable": p, "recognisable_se": math.sqrt(p * (1 - p) / n),
         "classes": effective_classes(ref.ref_labels[idx]), "class_counts": counts,
         "top_share": float(counts.max() / n), "variety": _within(pair) / real["within"][0],
         "too_close": float(np.mean(d < ref.q_close)), "nn_ratio": float(d.mean() / ref.held_d.mean()),
         "real": real}
    q["flags"] = [k for k, sign in (("classes", -1), ("variety", -1), ("too_close", 1))
                  if sign * (q[k] - real[k][0]) > FLAG_SD * real[k][1]]
    return q


FLAG_TEXT = {      # true of any flagged value: each says only how the figure differs from real digits'
    "classes": "the classes are less balanced than in real digits",
    "variety": "the pictures are more alike than real digits are (repeats, or averages of several digits)",
    "too_close": "more pictures lie this close to a training digit than real digits do (copies)",
}


def flag_sentence(flags) -> str:
    """One sentence naming the flagged figures ("" when none is)."""
    if not flags:
        return ""
    return "Do not trust the recognisable share alone: " + "; ".join(FLAG_TEXT[f] for f in flags) + "."


def real_row(ref: Reference | None = None) -> np.ndarray:
    """One typical held-out real digit of each class 0..9, (10, side, side) in [0, 1], for comparison.

    Typical: of the held-out digits of class k whose nearest training digit is also a k, the nearest to it.
    """
    ref = ref or digits_reference()
    same = ref.held_nearest == ref.held_labels
    pick = [int(np.argmin(np.where((ref.held_labels == k) & same, ref.held_d, np.inf))) for k in range(10)]
    return ref.held[pick].reshape(10, ref.side, ref.side)
