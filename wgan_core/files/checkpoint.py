"""Checkpoint files: packing, bounded unpacking, and complete validation of a run's saved state.

A checkpoint file (`pack_checkpoint`) is a zip archive: ``format.txt``,
``run.pt`` (the trainer's state as the worker saves it with torch.save:
weights, optimizer moments, spectral-norm vectors, RNG, counters, curves),
``config.json`` (the TrainConfig, read without torch) and, for a run on the
student's own data, ``points.npy``.

Uploaded files are hostile until proven otherwise. Every failure is a
ValueError whose message is one plain sentence for the student, and nothing
changes before everything has been checked:

- `unpack_checkpoint` (the server): the file's size; each member read with a
  size limit and a compression-ratio cap (`safezip`); config.json with a
  length and nesting cap; points.npy by its header first (dtype, shape, C
  order, at most MAX_POINTS rows); run.pt's own zip scanned under the same
  bounds.
- `load_run_state` (the worker): run.pt read again under the same bounds and
  written back as a fresh stored zip, so torch.load(weights_only=True) parses
  only bytes that were counted.
- `validate_state` (pure): every field of the state dict against the run it is
  for; `Run.load_state_dict` applies the cleaned state only after this passed.

Caps, computed from the config's ranges (`MAX_UPLOAD_MB` is also
``server.maxUploadSize``; a test keeps them equal): the largest legitimate file
is a width-512, depth-6, z_dim-16 run (weights, Adam's m and v in float32:
31.7 MB) with curves of at most MAX_STATS_ROWS generator steps (40 bytes a row:
10 MB) and MAX_EVAL_ROWS evaluations (80 bytes a row: 4 MB), and 100,000 points
(1.6 MB): 45.4 MiB, so 46 MB. Beyond that only damage or malice remains.
"""
from __future__ import annotations

import io
import logging
import math
import zipfile

import numpy as np
import torch

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.models import MLPSpec
from wgan_core.engine.state_check import (  # noqa: F401  (re-exported: the file's caps and its error)
    MAX_EVAL_ROWS,
    MAX_STATS_ROWS,
    MAX_STEPS,
    RUN_FORMAT,
    UNKNOWN_FORM,
    CheckpointError,
    validate_state,
)
from wgan_core.engine.views import EVALS, STATS
from wgan_core.files import safezip
from wgan_core.files.upload import MAX_POINTS, PointsError, check_points

CHECKPOINT_FORMAT = "earthmover-checkpoint-1"
MAX_CONFIG_BYTES = 16 * 1024
MAX_JSON_DEPTH = 4                # config.json is one flat object
MAX_PICKLE_BYTES = 1 << 20        # run.pt's data.pkl (real ones: ~1.5 KB)
MAX_RUN_MEMBERS = 64              # run.pt's parts (real ones: ~20)
MAX_RATIO = 50                    # unpacked / packed size of a part (real files are stored: 1)


def _largest_run_bytes() -> int:
    hi = {k: f.metadata["range"][1] for k, f in TrainConfig.fields().items() if "range" in f.metadata}
    g = MLPSpec(hi["z_dim"], 2, hi["width"], hi["depth"], "relu")
    c = MLPSpec(2, 1, hi["width"], hi["depth"], "relu")
    tensors = 3 * 4 * (g.size + c.size) + 4 * (hi["width"] * hi["depth"] + 1) + 5056 + 16
    curves = 8 * (1 + len(STATS)) * MAX_STATS_ROWS + 8 * (1 + len(EVALS)) * MAX_EVAL_ROWS
    return tensors + curves + (256 << 10)               # + data.pkl, zip headers, 64-byte alignment


MAX_RUN_BYTES = _largest_run_bytes()                                      # 45.9 MB (43.8 MiB)
MAX_NPY_BYTES = MAX_POINTS * 2 * 8 + 4096
MAX_FILE_BYTES = MAX_RUN_BYTES + MAX_NPY_BYTES + MAX_CONFIG_BYTES + (64 << 10)
MAX_UPLOAD_MB = math.ceil(MAX_FILE_BYTES / 2**20)                         # 46 (Streamlit's MB are MiB)

NOT_A_CHECKPOINT = ("This file is not an Earthmover checkpoint, or it is damaged "
                    "(download one with 'Checkpoint' first).")
_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the file

def pack_checkpoint(run_bytes: bytes, config: TrainConfig, points=None) -> bytes:
    """One downloadable file: the worker's ``run.pt``, the config as JSON and the custom points."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("format.txt", CHECKPOINT_FORMAT)
        z.writestr("config.json", config.to_json())
        z.writestr("run.pt", run_bytes)
        if points is not None:
            npy = io.BytesIO()
            np.save(npy, np.asarray(points, dtype=np.float64), allow_pickle=False)
            z.writestr("points.npy", npy.getvalue())
    return buf.getvalue()


def unpack_checkpoint(data: bytes) -> tuple[bytes, TrainConfig, np.ndarray | None]:
    """(run bytes, config, points or None) of a checkpoint file; ValueError with one plain sentence."""
    try:
        return _unpack(data)
    except safezip.NotAZip as err:
        raise CheckpointError(NOT_A_CHECKPOINT) from err
    except (CheckpointError, safezip.FileRefused, PointsError):
        raise
    except Exception as err:                       # anything else a crafted file provokes: one sentence
        _log.warning("checkpoint refused", exc_info=True)
        raise CheckpointError(NOT_A_CHECKPOINT) from err


_PARTS = {"format.txt": 256, "config.json": MAX_CONFIG_BYTES, "points.npy": MAX_NPY_BYTES, "run.pt": MAX_RUN_BYTES}
_RUN_BOUNDS = {"member_limit": MAX_RUN_BYTES, "total_limit": MAX_RUN_BYTES, "max_members": MAX_RUN_MEMBERS,
               "max_ratio": MAX_RATIO, "what": "This checkpoint's training state"}
_UNREADABLE = "This file is not an Earthmover checkpoint (it could not be read)."


def _unpack(data: bytes) -> tuple[bytes, TrainConfig, np.ndarray | None]:
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise CheckpointError(f"This file is {len(data) / 2**20:.1f} MB, larger than any checkpoint this app "
                              f"writes ({MAX_UPLOAD_MB} MB at most).")
    parts = safezip.read_zip(data, _PARTS, total_limit=MAX_FILE_BYTES, max_members=16, max_ratio=MAX_RATIO,
                             what="This checkpoint")
    if "format.txt" not in parts:
        raise CheckpointError("This file is not an Earthmover checkpoint (download one with 'Checkpoint' first).")
    if parts["format.txt"].decode("ascii", "replace").strip() != CHECKPOINT_FORMAT:
        raise CheckpointError("This checkpoint was written by a different version of Earthmover.")
    if not {"config.json", "run.pt"} <= set(parts):
        raise CheckpointError("This checkpoint is incomplete: a part of the file is missing.")
    raw = safezip.read_json(parts["config.json"], MAX_CONFIG_BYTES, MAX_JSON_DEPTH,
                            "This checkpoint's settings file")
    if not isinstance(raw, dict):
        raise CheckpointError("This checkpoint is damaged: its settings could not be read.")
    try:
        config = TrainConfig(**{k: v for k, v in raw.items() if k in TrainConfig.fields()}).validate()
    except (TypeError, ValueError, OverflowError) as err:
        why = str(err)
        short = len(why) < 80 and ". " not in why
        raise CheckpointError("This checkpoint's settings are not valid here" + (f": {why}." if short else ".")) \
            from err
    if config.data in ("digits", "mnist"):
        raise CheckpointError("This is a checkpoint of the Images lesson; load it there.")
    points = None
    if config.data == "custom":
        if "points.npy" not in parts:
            raise CheckpointError("This checkpoint is for a run on your own data, but the points are missing "
                                  "from it.")
        points = safezip.read_npy(parts["points.npy"], MAX_POINTS, 2, "This checkpoint's point set")
        points = check_points(points, "The checkpoint's point set")
    safezip.scan_zip(parts["run.pt"], **_RUN_BOUNDS)
    return parts["run.pt"], config, points


def load_run_state(data: bytes, device) -> dict:
    """The state dict in ``run.pt`` bytes, read under the bounds above (not yet validated: `validate_state`)."""
    try:
        members = safezip.read_zip(data, None, **_RUN_BOUNDS)
    except safezip.NotAZip as err:
        raise CheckpointError(_UNREADABLE) from err
    pickles = [n for n in members if n == "data.pkl" or n.endswith("/data.pkl")]
    if len(pickles) != 1 or len(members[pickles[0]]) > MAX_PICKLE_BYTES:
        raise CheckpointError(UNKNOWN_FORM)
    blob = safezip.canonical_zip(members)          # torch's zip reader sees only the bytes counted above
    del members
    try:
        state = torch.load(io.BytesIO(blob), map_location=device, weights_only=True)
    except Exception as err:                        # unpickling refused, a broken record, ...
        raise CheckpointError(_UNREADABLE) from err
    if not isinstance(state, dict):
        raise CheckpointError(UNKNOWN_FORM)
    return state
