"""Named experiments the lessons run in a worker process: name -> "module:function".

A page asks for a job by name with keyword arguments of plain data; the worker
imports the function from this registry (nothing a user sends is executed or
unpickled) and returns its plain-data result. Jobs are short (seconds) and
their results are cached by the page, so thirty students asking for the same
figure cost one computation.
"""
from __future__ import annotations

import importlib
from typing import Any

JOBS: dict[str, str] = {
    "dual1d": "wgan_core.lessons.lessons1d:dual_trajectory",
    "lipschitz_experiment": "wgan_core.lessons.lab:lipschitz_experiment",
    "layer_gradients": "wgan_core.lessons.lab:layer_gradients",
}


def run(name: str, kwargs: dict[str, Any]) -> Any:
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}")
    module, func = JOBS[name].split(":")
    return getattr(importlib.import_module(module), func)(**kwargs)
