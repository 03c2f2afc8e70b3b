"""Where training runs: CUDA when available (override with EARTHMOVER_DEVICE), else the CPU.

On the CPU one torch thread per run is faster than two on a 2-core machine
(436 vs 280 critic steps/s, DESIGN.md) and far faster when other processes are
busy, so every training process calls `configure_threads()` first.
"""
from __future__ import annotations

import os

import torch


def default_device() -> torch.device:
    name = os.environ.get("EARTHMOVER_DEVICE", "").strip().lower()
    if name:
        if name.startswith("cuda") and not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads(n: int = 1) -> None:
    """One intra-op and one inter-op thread (inter-op can only be set once per process)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass
