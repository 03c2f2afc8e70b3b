r"""`CurveBuffer`: a run's curve rows (gen_step, values...) in bounded memory, decimated as it fills.

A run appends one training row per generator step (`Run.stats`) and one
evaluation row per full snapshot (`Run.evals`), forever. Kept in full, an hour
at full speed makes every snapshot's curves and every checkpoint grow without
bound. A `CurveBuffer` holds at most ``cap`` rows: when it is full, the older
half is merged pairwise, so resolution halves far back and recent steps stay
fine-grained. After many fills the rows form levels: the newest rows are single
steps, older rows stand for 2, 4, 8, ... consecutive rows.

Each row carries a weight :math:`w` (how many appended rows it stands for).
Merging two adjacent rows :math:`a, b` gives, column by column (the step
column too),

.. math::
    \frac{w_a a + w_b b}{w_a + w_b} , \qquad w = w_a + w_b ,

the mean of every original row it covers: the step column is the mean step of
its span, each value the mean over that span. A NaN (an evaluation not
measured) is skipped: the other row's value is kept, both NaN stay NaN.
Infinite values propagate (an infinite bound stays infinite).

Weights live in memory only: a checkpoint saves the rows (the validator,
`state_check`, knows their width), and rows loaded back weigh 1 each; only
later merges that straddle two levels then weigh their two rows equally.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

CURVE_ROWS = 4096        # rows kept per curve (MAX_STATS_ROWS / MAX_EVAL_ROWS in `state_check` are far above)
_FIRST = 64              # rows allocated at first; doubled up to the cap as rows arrive


def weighted_merge(rows: np.ndarray, w: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means of consecutive row groups beginning at ``starts``: (G, width) rows, (G,) weights.

    NaN entries are skipped (their group column is NaN only when every entry is).
    """
    known = ~np.isnan(rows)
    ww = np.where(known, w[:, None], 0.0)                                    # (n, width)
    num = np.add.reduceat(np.where(known, rows, 0.0) * ww, starts, axis=0)
    den = np.add.reduceat(ww, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out, np.add.reduceat(w, starts)


class CurveBuffer:
    """At most ``cap`` rows of ``width`` float64 columns (the first: gen_step), with weights (module doc).

    List-like where the engine and tests use it: ``append``, ``extend``,
    ``len``, indexing (``buf[-1]``), iteration and ``np.array(buf)`` give the
    rows kept (oldest first).
    """

    def __init__(self, width: int, cap: int = CURVE_ROWS, rows=None):
        if cap < 4 or cap % 2:
            raise ValueError(f"cap must be an even number >= 4, got {cap}")
        self.width, self.cap = int(width), int(cap)
        self._rows = np.empty((min(_FIRST, cap), self.width))
        self._w = np.empty(len(self._rows))
        self.n = 0
        self.appended = 0                    # rows ever appended (the sum of the weights)
        if rows is not None:
            self.extend(rows)

    # -- reading ---------------------------------------------------------------------------
    @property
    def rows(self) -> np.ndarray:
        """(n, width) the rows kept, oldest first (a view: copy before keeping)."""
        return self._rows[:self.n]

    @property
    def weights(self) -> np.ndarray:
        """(n,) how many appended rows each kept row stands for."""
        return self._w[:self.n]

    @property
    def nbytes(self) -> int:
        return self._rows.nbytes + self._w.nbytes

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return self.rows[i]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.rows)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.rows.copy()
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"CurveBuffer({self.n} rows of {self.width}, {self.appended} appended, cap {self.cap})"

    # -- writing ---------------------------------------------------------------------------
    def append(self, row) -> None:
        self.extend(np.asarray(row, dtype=np.float64).reshape(1, -1))

    def extend(self, rows: Iterable | np.ndarray) -> None:
        """Append rows ((k, width) array, or any iterable of rows), merging as the buffer fills."""
        new = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.float64)
        if new.size == 0:
            return
        new = new.reshape(-1, self.width) if new.ndim != 2 else new
        if new.shape[1] != self.width:
            raise ValueError(f"rows must have {self.width} values, got {new.shape[1]}")
        done = 0
        while done < len(new):
            if self.n == self.cap:
                self._merge_older_half()
            self._grow(min(self.cap, self.n + len(new) - done))
            k = min(len(new) - done, len(self._rows) - self.n)
            self._rows[self.n:self.n + k] = new[done:done + k]
            self._w[self.n:self.n + k] = 1.0
            self.n += k
            done += k
        self.appended += len(new)

    def _grow(self, need: int) -> None:
        if need <= len(self._rows):
            return
        size = len(self._rows)
        while size < need:
            size = min(2 * size, self.cap)
        rows, w = np.empty((size, self.width)), np.empty(size)
        rows[:self.n], w[:self.n] = self.rows, self.weights
        self._rows, self._w = rows, w

    def _merge_older_half(self) -> None:
        """The oldest cap/2 rows become cap/4 (adjacent pairs merged); the newer half moves down after them."""
        half = self.cap // 2
        merged, mw = weighted_merge(self._rows[:half], self._w[:half], np.arange(0, half, 2))
        q = len(merged)
        self._rows[:q], self._w[:q] = merged, mw
        self._rows[q:q + self.n - half] = self._rows[half:self.n]
        self._w[q:q + self.n - half] = self._w[half:self.n]
        self.n = q + self.n - half
