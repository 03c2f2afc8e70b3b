"""`CurveBuffer`: a run's curves in bounded memory (issue #14), its merge rule, and the run's use of it:
training, snapshots, checkpoints (old and oversized ones too)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.curve_buffer import CURVE_ROWS, CurveBuffer, weighted_merge
from wgan_core.engine.state_check import MAX_EVAL_ROWS, MAX_STATS_ROWS
from wgan_core.engine.trainer import Run
from wgan_core.engine.views import EVALS, MAX_CURVE_POINTS, STATS, curves

torch.set_num_threads(1)
SMALL = TrainConfig(data="8gaussians", width=16, batch=32)


def steps_rows(first: int, n: int, width: int = 3, seed: int = 0) -> np.ndarray:
    """Rows (step, values...) for steps first..first + n - 1."""
    vals = np.random.default_rng(seed).normal(size=(n, width - 1))
    return np.c_[np.arange(first, first + n, dtype=np.float64), vals]


def test_the_cap_is_far_below_what_a_checkpoint_may_hold():
    assert 4 * CURVE_ROWS <= MAX_EVAL_ROWS <= MAX_STATS_ROWS


def test_it_behaves_like_the_list_it_replaces_until_full():
    buf = CurveBuffer(3, cap=8)
    assert len(buf) == 0 and not buf and np.array(buf).shape == (0, 3)
    buf.append([1.0, 2.0, 3.0])
    buf.extend(steps_rows(2, 3))
    buf.extend([np.array([5.0, 0, 0])])                                 # an iterable of rows
    assert len(buf) == 5 and buf[-1].tolist() == [5.0, 0, 0] and buf[0].tolist() == [1.0, 2.0, 3.0]
    assert [row[0] for row in buf] == [1, 2, 3, 4, 5] and (buf.weights == 1).all()
    with pytest.raises(ValueError, match="3 values"):
        buf.append([1.0, 2.0])
    with pytest.raises(ValueError, match="even"):
        CurveBuffer(3, cap=7)


def test_merging_keeps_every_weighted_sum_and_the_newest_rows_fine():
    """Whatever the fills, sum(weight * row) over the kept rows equals the sum of every row appended (each
    column, the step column too), and the newest quarter of the cap is single rows, in order."""
    buf = CurveBuffer(3, cap=16)
    rows = steps_rows(1, 1000, seed=1)
    for chunk in np.array_split(rows, 37):                             # bursts of uneven size
        buf.extend(chunk)
        assert len(buf) <= 16
    np.testing.assert_allclose((buf.weights[:, None] * buf.rows).sum(0), rows.sum(0), rtol=1e-12)
    assert buf.appended == buf.weights.sum() == 1000
    assert (np.diff(buf.rows[:, 0]) > 0).all()                          # mean steps still increase
    np.testing.assert_array_equal(buf.rows[-4:], rows[-4:])             # the newest rows untouched
    assert buf.weights[0] > buf.weights[len(buf) // 2] >= 1             # resolution halves far back


def test_a_merged_row_is_the_mean_of_its_span_and_skips_nan():
    rows = np.array([[1.0, 2.0, np.nan], [2.0, 4.0, 5.0], [3.0, np.nan, np.nan], [4.0, 6.0, np.inf]])
    out, w = weighted_merge(rows, np.array([1.0, 3.0, 2.0, 2.0]), np.array([0, 2]))
    np.testing.assert_allclose(out[0], [(1 + 6) / 4, (2 + 12) / 4, 5.0])
    assert out[1, 0] == 3.5 and out[1, 1] == 6.0 and out[1, 2] == np.inf and w.tolist() == [4, 4]
    assert np.isnan(weighted_merge(rows[[0, 2]], np.ones(2), np.array([0]))[0][0, 2])   # both NaN: NaN


def test_a_million_rows_stay_bounded_and_curves_cost_stays_flat():
    r = Run(SMALL, device="cpu")
    width = 1 + len(STATS)
    small = Run(SMALL, device="cpu")
    small.stats.extend(steps_rows(1, 1000, width))
    small.gen_steps = 1000
    for k in range(0, 10**6, 50_000):                                   # 10^6 rows in bursts
        r.stats.extend(steps_rows(k + 1, 50_000, width, seed=k))
    for k in range(20_000):                                             # and many evaluations
        r.evals.append([k * 50.0] + [0.5] * len(EVALS))
    r.gen_steps = 10**6
    assert r.stats.appended == 10**6 and len(r.stats) <= CURVE_ROWS and len(r.evals) <= CURVE_ROWS
    assert r.stats.nbytes <= CURVE_ROWS * (width + 1) * 8 and r.evals.nbytes <= CURVE_ROWS * (len(EVALS) + 2) * 8
    assert r.stats[-1][0] == 10**6                                      # the newest step, unmerged

    def cost(run) -> float:
        best = float("inf")
        for _ in range(7):
            t0 = time.perf_counter()
            cv = curves(run)
            best = min(best, time.perf_counter() - t0)
        assert len(cv["gen_step"]) <= 2 * MAX_CURVE_POINTS
        return best

    c3, c6 = cost(small), cost(r)
    assert c6 < 5 * c3 + 2e-3, (c3, c6)                                 # a list of 10^6 rows: ~0.5 s
    sd = r.state_dict()
    assert sd["stats"].shape[0] <= CURVE_ROWS and sd["evals"].shape[0] <= CURVE_ROWS
    back = Run(SMALL, device="cpu")
    back.load_state_dict(sd)                                            # mean steps pass the validator
    np.testing.assert_array_equal(np.array(back.stats), np.array(r.stats))


def test_training_fills_the_buffer_one_row_per_step():
    r = Run(SMALL, device="cpu")
    r.step(7)
    assert isinstance(r.stats, CurveBuffer) and len(r.stats) == 7 and r.stats.appended == 7
    assert [row[0] for row in r.stats] == list(range(1, 8))
    r.snapshot(exact=True)
    assert isinstance(r.evals, CurveBuffer) and len(r.evals) == 1 and r.evals[-1][0] == 7


def test_a_checkpoint_at_the_validators_caps_loads_decimated():
    src = Run(SMALL, device="cpu")
    sd = src.state_dict()
    sd["gen_steps"] = sd["critic_steps"] = MAX_STATS_ROWS
    stats = steps_rows(1, MAX_STATS_ROWS, 1 + len(STATS))
    sd["stats"] = torch.tensor(stats)
    sd["evals"] = torch.tensor(np.c_[np.linspace(1, MAX_STATS_ROWS, MAX_EVAL_ROWS), np.ones((MAX_EVAL_ROWS, 4))])
    r = Run(SMALL, device="cpu")
    r.load_state_dict(sd)                                               # an older, 5-column evaluation table
    assert len(r.stats) <= CURVE_ROWS and r.stats.appended == MAX_STATS_ROWS
    assert len(r.evals) <= CURVE_ROWS and np.array(r.evals).shape[1] == 1 + len(EVALS)
    np.testing.assert_allclose((r.stats.weights[:, None] * r.stats.rows).sum(0), stats.sum(0), rtol=1e-9)
    cv = curves(r)
    assert cv["gen_step"].max() <= MAX_STATS_ROWS and np.isnan(cv["w_corrected"]).all()
