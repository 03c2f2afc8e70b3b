"""Validation of a run's saved state (`Run.state_dict`) before anything of the run changes.

`validate_state(state, run)` checks every field a checkpoint's ``run.pt`` carries
against the run it is to be loaded into (types, shapes, dtypes, finiteness,
ranges, row counts) and returns a cleaned copy that `Run.load_state_dict` then
applies with steps that cannot fail; anything wrong is a `CheckpointError` whose
message is one plain sentence for the student. Reading the file itself (bounded
decompression) is `wgan_core.files.checkpoint`'s job.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from wgan_core.engine import views
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.views import EVALS, STATS

RUN_FORMAT = "earthmover-run-1"
MAX_STATS_ROWS = 250_000          # generator steps of training curves (about an hour of a lone fast run)
MAX_EVAL_ROWS = 50_000            # evaluations (at most one a second while a run plays: 14 hours)
MAX_STEPS = 10**10                # generator / critic step counts and Adam's step


UNKNOWN_FORM = "This file is not an Earthmover checkpoint (its training state has an unknown form)."


class CheckpointError(ValueError):
    """A checkpoint refused; the message is one plain sentence for the student."""


# --------------------------------------------------------------------------- the state dict

_LEGACY_EVALS = getattr(views, "LEGACY_EVALS", len(EVALS))      # evaluation columns of older checkpoints
_KEYS = ("format", "config", "g_flat", "c_flat", "g_opt", "c_opt", "sn_u", "rng", "gen_steps", "critic_steps",
         "stats", "evals")
_NAMES = {"format": "format label", "config": "settings", "g_flat": "generator weights",
          "c_flat": "critic weights", "g_opt": "generator's optimizer state", "c_opt": "critic's optimizer state",
          "sn_u": "spectral-norm vectors", "rng": "random-number state", "gen_steps": "generator step count",
          "critic_steps": "critic step count", "stats": "training curves", "evals": "evaluation curves"}
_OPTIONAL = ("g_ema",)                          # written since the generator's average; older files lack it
_NAMES["g_ema"] = "averaged generator weights"
_PLURAL = {"config", "g_flat", "c_flat", "g_ema", "sn_u", "stats", "evals"}


def _bad(key: str, problem: str) -> CheckpointError:
    verb = "are" if key in _PLURAL else "is"
    return CheckpointError(f"This checkpoint is damaged: its {_NAMES[key]} {verb} {problem}.")


def _tensor(x, key: str, shape: tuple, dtype: torch.dtype, device) -> torch.Tensor:
    """A fresh contiguous copy of ``x`` on ``device`` after checking its type, layout, shape and dtype."""
    if (not isinstance(x, torch.Tensor) or x.layout != torch.strided or x.is_quantized or x.is_meta
            or x.is_nested):
        raise _bad(key, "not in the form this app writes")
    if tuple(x.shape) != tuple(shape):
        raise _bad(key, "the wrong size for this network")
    if x.dtype != dtype:
        raise _bad(key, "stored as a kind of number this app does not write")
    out = torch.empty(shape, dtype=dtype, device=device)
    try:
        with torch.no_grad():
            out.copy_(x)
    except RuntimeError as err:
        raise _bad(key, "not in the form this app writes") from err
    return out


def _finite(t: torch.Tensor, key: str) -> torch.Tensor:
    if not bool(torch.isfinite(t).all()):
        raise _bad(key, "not all finite numbers (some are NaN or infinity)")
    return t


def _count(x, key: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise _bad(key, "not a whole number")
    if not 0 <= x <= MAX_STEPS:
        raise _bad(key, "out of range")
    return int(x)


def _config(raw, run) -> TrainConfig:
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw) or not set(TrainConfig.fields()) <= set(raw):
        raise _bad("config", "incomplete")
    try:
        other, notes = TrainConfig.from_dict({k: raw[k] for k in TrainConfig.fields()})
    except (TypeError, ValueError, OverflowError) as err:
        raise _bad("config", "not valid") from err
    if notes:
        raise _bad("config", "not valid")
    diff = [k for k in other.structural_diff(run.config) if k != "seed"]
    if diff:
        raise CheckpointError(f"This checkpoint is for a different set-up: {', '.join(diff)} "
                              f"{'differs' if len(diff) == 1 else 'differ'} from this run.")
    return run.config.replace(**{k: getattr(other, k) for k in TrainConfig.live_fields()})


def _optimizer(x, key: str, flat: torch.Tensor, t_ref: torch.Tensor, device) -> list[torch.Tensor]:
    if not isinstance(x, (list, tuple)) or len(x) != 3:
        raise _bad(key, "not in the form this app writes")
    t = _finite(_tensor(x[0], key, tuple(t_ref.shape), t_ref.dtype, device), key)
    m = _finite(_tensor(x[1], key, tuple(flat.shape), flat.dtype, device), key)
    v = _finite(_tensor(x[2], key, tuple(flat.shape), flat.dtype, device), key)
    step = float(t.reshape(-1)[0])
    if not (0 <= step <= MAX_STEPS and step == math.floor(step)) or bool((v < 0).any()):
        raise _bad(key, "out of range")
    return [t, m, v]


def _spectral(x, run, device) -> list[torch.Tensor]:
    if not isinstance(x, (list, tuple)):
        raise _bad("sn_u", "not in the form this app writes")
    if len(x) != len(run.sn_u):
        raise _bad("sn_u", "not as many as this network has")
    out = []
    for saved, ref in zip(x, run.sn_u):
        u = _finite(_tensor(saved, "sn_u", tuple(ref.shape), ref.dtype, device), "sn_u")
        if not bool(((torch.linalg.vector_norm(u, dim=-1) - 1).abs() < 1e-3).all()):
            raise _bad("sn_u", "not unit vectors")
        out.append(u)
    return out


def _rng(x, run) -> torch.Tensor:
    n = run.gen.get_state().numel()
    if not isinstance(x, torch.Tensor) or x.layout != torch.strided or x.dtype != torch.uint8 or x.dim() != 1:
        raise _bad("rng", "not in the form this app writes")
    if x.numel() != n:
        raise CheckpointError("This checkpoint's random-number state does not fit this machine "
                              "(it was saved on a GPU and loaded on a CPU, or the other way, or it is damaged).")
    state = torch.empty(n, dtype=torch.uint8)
    state.copy_(x)
    try:
        torch.Generator(device=run.gen.device).set_state(state)          # a scratch generator: the run's is untouched
    except RuntimeError as err:
        raise _bad("rng", "not valid") from err
    return state


def _curve(x, key: str, widths: set[int], cap: int, gen_steps: int, per_step: bool,
           finite: slice = slice(None)) -> np.ndarray:
    """Rows (gen_step, values...): step column finite in [0, gen_steps]; a training curve's values finite
    (the engine keeps only finite steps; only the ``finite`` columns for a run without a critic, whose critic
    columns are NaN), an evaluation's may be NaN (not measured) or infinite (a bound)."""
    if (not isinstance(x, torch.Tensor) or x.layout != torch.strided or x.is_nested or x.dim() != 2
            or x.shape[1] not in widths):
        raise _bad(key, "not in the form this app writes")
    if x.shape[0] > cap:
        raise CheckpointError(f"This checkpoint's {_NAMES[key]} are longer than this app loads "
                              f"(more than {cap:,} rows).")
    if per_step and x.shape[0] > gen_steps:                            # one row per generator step
        raise _bad(key, "longer than its step count")
    rows = _tensor(x, key, tuple(x.shape), torch.float64, "cpu").numpy()
    steps, values = rows[:, 0], rows[:, 1:]
    if not np.isfinite(steps).all() or (steps < 0).any() or (steps > gen_steps).any():
        raise _bad(key, "not in step with the run (a step number is out of range)")
    if per_step and (not np.isfinite(values[:, finite]).all() or np.isinf(values).any()):
        raise _bad(key, "not all finite numbers (some are NaN or infinity)")
    return rows


def validate_state(state, run) -> dict:
    """A cleaned copy of the state dict ``state`` for ``run`` (a `trainer.Run`), or CheckpointError.

    Pure: ``run`` is only read. Checks every field: the format label; the
    settings (every TrainConfig field valid, the same set-up except the seed; the
    live fields are taken); weights, Adam's (t, m, v) of both networks and the
    spectral-norm vectors (count, sizes, dtype, finite; t a whole number, v >= 0,
    each u of length 1); the RNG state (uint8 of this device's length, accepted
    by a scratch generator); the step counts (whole numbers in [0, MAX_STEPS]);
    the curves ((k, 1 + len(STATS)) and (k, 1 + len(EVALS)) float64 (or an older
    checkpoint's evaluation width), k capped and stats k <= gen_steps, step
    columns finite in [0, gen_steps], stats finite). The tensors returned are
    fresh copies on the run's device.
    """
    if not isinstance(state, dict):
        raise CheckpointError(UNKNOWN_FORM)
    if not isinstance(state.get("format"), str) or state["format"] != RUN_FORMAT:
        raise CheckpointError("This file is not an Earthmover checkpoint (its training state has an unknown format).")
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise _bad(missing[0], "missing")
    if len(state) != len(_KEYS) + sum(k in state for k in _OPTIONAL):
        raise CheckpointError("This checkpoint is damaged: its training state has parts this app does not write.")
    dev = run.device
    out = {"config": _config(state["config"], run)}
    for key in ("g_flat", "c_flat", *(k for k in _OPTIONAL if k in state)):
        ref = getattr(run, key)
        out[key] = _finite(_tensor(state[key], key, tuple(ref.shape), ref.dtype, dev), key)
    out["g_opt"] = _optimizer(state["g_opt"], "g_opt", run.g_flat, run.g_opt.t, dev)
    out["c_opt"] = _optimizer(state["c_opt"], "c_opt", run.c_flat, run.c_opt.t, dev)
    out["sn_u"] = _spectral(state["sn_u"], run, dev)
    out["rng"] = _rng(state["rng"], run)
    out["gen_steps"] = _count(state["gen_steps"], "gen_steps")
    out["critic_steps"] = _count(state["critic_steps"], "critic_steps")
    steps = out["gen_steps"]
    out["stats"] = _curve(state["stats"], "stats", {1 + len(STATS)}, MAX_STATS_ROWS, steps, per_step=True,
                          finite=slice(3, None) if run.objective.critic_free else slice(None))   # gen_loss only
    out["evals"] = _curve(state["evals"], "evals", {1 + len(EVALS), 1 + _LEGACY_EVALS}, MAX_EVAL_ROWS, steps,
                          per_step=False)
    return out
