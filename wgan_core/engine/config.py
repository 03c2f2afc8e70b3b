"""One validated training configuration, also the page's URL.

`TrainConfig` is the single source of truth for a run: the page builds it from
its widgets, the URL stores it (`to_query` / `from_query`), every snapshot and
checkpoint carries it (`to_dict` / `from_dict`). Each field declares its type,
its allowed range or choices and whether it may change while training runs
("live": learning rates, betas, clip value, lambda, n_critic, the generator's average) or needs a new run
("structural": data, architecture, objective, seed, batch, optimizer).

Choices come from the registries: ``loss`` from `objectives.OBJECTIVES`, ``data``
from `datasets.names()`, so an objective or data set is added in one place. Each
numeric field also carries ``options``, the values the app's controls offer (the
URL may hold any value in range), so a control's range is written once, here.

Parsing is lenient where input comes from people (a URL): a bad value falls back
to the default and yields a note to show; `validate()` is strict for code.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from wgan_core.engine import datasets
from wgan_core.engine.objectives import OBJECTIVES

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
LRS = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.5, 1.0)


def _f(default, lo, hi, live=False, log=False, help="", options=()):
    if any(not lo <= v <= hi for v in options):
        raise ValueError(f"options {options} outside [{lo}, {hi}]")
    return field(default=default, metadata={"range": (lo, hi), "live": live, "log": log, "help": help,
                                            "options": tuple(options)})


def _c(default, choices, live=False, help=""):
    return field(default=default, metadata={"choices": choices, "live": live, "help": help})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a 2D GAN training run (defaults: the fast classroom WGAN-GP)."""

    loss: str = _c("wgan-gp", tuple(OBJECTIVES),
                   help="objective: " + ", ".join(o.label for o in OBJECTIVES.values()))
    data: str = _c("seed3", datasets.names(), help="data set (the 2D sets, your own points, and the images "
                                                   "of the Images lesson)")
    seed: int = _f(0, 0, 2**31 - 1, help="random seed of initialisation, data and noise")
    width: int = _f(128, 4, 512, help="hidden units per layer (generator and critic)",
                    options=(8, 16, 32, 64, 128, 256, 512))
    depth: int = _f(2, 1, 6, help="hidden layers (generator and critic)", options=(1, 2, 3, 4, 5, 6))
    act_g: str = _c("relu", ACTIVATIONS, help="generator activation")
    act_c: str = _c("leaky_relu", ACTIVATIONS, help="critic activation (leaky_relu slope 0.2)")
    z_dim: int = _f(2, 1, 16, help="noise dimension", options=tuple(range(1, 17)))
    batch: int = _f(256, 8, 1024, help="samples per batch", options=(16, 32, 64, 128, 256, 512, 1024))
    optimizer: str = _c("adam", OPTIMIZERS, help="optimizer of both networks")
    lr_c: float = _f(1e-3, 1e-6, 1.0, live=True, log=True, help="critic learning rate", options=LRS)
    lr_g: float = _f(1e-3, 1e-6, 1.0, live=True, log=True, help="generator learning rate", options=LRS)
    beta1: float = _f(0.5, 0.0, 0.999, live=True, help="Adam beta1", options=(0.0, 0.5, 0.9))
    beta2: float = _f(0.9, 0.0, 0.9999, live=True, help="Adam beta2", options=(0.9, 0.99, 0.999))
    n_critic: int = _f(5, 1, 50, live=True, help="critic steps per generator step", options=tuple(range(1, 21)))
    clip: float = _f(0.01, 1e-4, 10.0, live=True, log=True, help="weight clipping bound c (WGAN-clip)",
                     options=(1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0))
    lam: float = _f(0.1, 0.0, 100.0, live=True, help="penalty weight lambda (WGAN-GP / LP)",
                    options=(0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0))
    ema: float = _f(0.0, 0.0, 0.9999, live=True, options=(0.0, 0.9, 0.99, 0.999),
                    help="decay d of the average of the generator's weights that is shown and measured "
                         "(0: the generator itself)")

    # -- introspection -----------------------------------------------------------------
    @classmethod
    def fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls)}

    @classmethod
    def options(cls, name: str) -> tuple:
        """The values the app's controls offer for field ``name`` (its choices, or its ``options``)."""
        md = cls.fields()[name].metadata
        return tuple(md.get("choices") or md["options"])

    @classmethod
    def live_fields(cls) -> frozenset[str]:
        return frozenset(n for n, f in cls.fields().items() if f.metadata.get("live"))

    def structural_diff(self, other: TrainConfig) -> list[str]:
        """Names of non-live fields that differ: any of them needs a fresh run."""
        return [n for n in self.fields() if n not in self.live_fields()
                and getattr(self, n) != getattr(other, n)]

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes).validate()

    # -- validation --------------------------------------------------------------------
    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field; return self when all are valid."""
        for name, f in self.fields().items():
            _check(name, f, getattr(self, name))
        return self

    # -- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: TrainConfig | None = None) -> tuple[TrainConfig, list[str]]:
        """Lenient parse: unknown keys and bad values are dropped with a note each."""
        base = base or cls()
        good: dict[str, Any] = {}
        notes: list[str] = []
        fields = cls.fields()
        for key, raw in d.items():
            if key not in fields:
                continue
            try:
                value = _coerce(fields[key], raw)
                _check(key, fields[key], value)
                good[key] = value
            except (ValueError, TypeError) as err:
                notes.append(f"'{key}': {err}; using {getattr(base, key)!r}.")
        return dataclasses.replace(base, **good), notes

    def to_query(self) -> dict[str, str]:
        """Every field as a short string, for st.query_params (a link reproduces the run)."""
        return {k: _fmt(v) for k, v in self.to_dict().items()}

    @classmethod
    def from_query(cls, params: dict[str, Any], base: TrainConfig | None = None) -> tuple[TrainConfig, list[str]]:
        """Parse query parameters (str or list of str; the last repeated value wins)."""
        flat = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in params.items()}
        return cls.from_dict(flat, base)


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _coerce(f: dataclasses.Field, raw: Any) -> Any:
    if isinstance(raw, str):
        raw = raw.strip()
        if len(raw) > 64:
            raise ValueError("value too long")
    if f.type in ("int", int):
        if isinstance(raw, bool):
            raise TypeError("expected a whole number")
        value = float(raw)
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{raw!r} is not a whole number")
        return int(value)
    if f.type in ("float", float):
        if isinstance(raw, bool):
            raise TypeError("expected a number")
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"{raw!r} is not a finite number")
        return value
    if not isinstance(raw, str):
        raise TypeError("expected text")
    return raw


def _check(name: str, f: dataclasses.Field, value: Any) -> None:
    choices = f.metadata.get("choices")
    if choices is not None:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return
    lo, hi = f.metadata["range"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{value!r} is outside [{lo:g}, {hi:g}]")
