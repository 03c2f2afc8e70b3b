"""Hostile checkpoints (issue #14): every way a run's state dict can be wrong is refused with one plain
sentence, and the run it was meant for is left exactly as it was (every tensor, list and counter compared)."""
import copy

import numpy as np
import pytest
import torch
from hostile_util import SMALL, SN, assert_unchanged, refused, saved, state_of, trained

from wgan_core.engine.trainer import Run
from wgan_core.files import checkpoint
from wgan_core.files.checkpoint import load_run_state, pack_checkpoint, unpack_checkpoint


@pytest.fixture(scope="module")
def base() -> dict:
    """State dicts of trained runs, one per config, copied per test."""
    return {cfg: trained(cfg).state_dict() for cfg in (SMALL, SN)}


# --------------------------------------------------------------------------- every way a state dict can be wrong

def put(key, value):
    """Set sd[key] to value, or to value(sd[key]) when value is callable."""
    return lambda sd: sd.__setitem__(key, value(sd[key]) if callable(value) else value)


def opt(key, i, fn):
    def mutate(sd):
        sd[key] = list(sd[key])
        sd[key][i] = fn(sd[key][i])
    return mutate


def nan_at(t, value=float("nan")):
    t = t.clone()
    t.view(-1)[0] = value
    return t


def rows_set(col, value, row=0):
    def fn(t):
        t = t.clone()
        t[row, col] = value
        return t
    return fn


def drop(key):
    return lambda sd: sd.pop(key)


def _config(**changes):
    return put("config", lambda c: {**c, **changes})


def _steps_and_stats(n):
    def mutate(sd):
        sd["gen_steps"] = n + 1
        sd["stats"] = torch.zeros(n, sd["stats"].shape[1], dtype=torch.float64)
    return mutate


HUGE = 10**10
KEYS = ("config", "g_flat", "c_flat", "g_opt", "c_opt", "sn_u", "rng", "gen_steps", "critic_steps", "stats", "evals")
CASES = [
    *[(f"missing {k}", SMALL, drop(k), "missing") for k in KEYS],
    ("missing format", SMALL, drop("format"), "not an Earthmover checkpoint"),
    ("another format", SMALL, put("format", "earthmover-run-9"), "not an Earthmover checkpoint"),
    ("format not text", SMALL, put("format", torch.zeros(3)), "not an Earthmover checkpoint"),
    ("an extra part", SMALL, put("extra", 1), "parts this app does not write"),
    ("settings not a dict", SMALL, put("config", [1, 2]), "settings are incomplete"),
    ("settings without a field", SMALL, put("config", lambda c: {k: v for k, v in c.items() if k != "lr_c"}),
     "settings are incomplete"),
    ("a bad live setting", SMALL, _config(lr_c=1e9), "settings are not valid"),
    ("a setting as a bool", SMALL, _config(n_critic=True), "settings are not valid"),
    ("a setting too big for a float", SMALL, _config(width=10**400), "settings are not valid"),
    ("another architecture", SMALL, _config(width=32), "different set-up: width"),
    ("weights as a list", SMALL, put("g_flat", lambda t: t.tolist()), "not in the form"),
    ("weights one too long", SMALL, put("g_flat", lambda t: torch.cat([t, t[:, :1]], 1)), "wrong size"),
    ("weights transposed", SMALL, put("c_flat", lambda t: t.T.contiguous()), "wrong size"),
    ("weights in float64", SMALL, put("g_flat", lambda t: t.double()), "kind of number"),
    ("weights with NaN", SMALL, put("g_flat", nan_at), "finite"),
    ("weights with inf", SMALL, put("c_flat", lambda t: nan_at(t, float("inf"))), "finite"),
    ("sparse weights", SMALL, put("g_flat", lambda t: t.to_sparse()), "not in the form"),
    ("weights of 10^10 numbers (stride 0)", SMALL, put("g_flat", torch.zeros(1).expand(1, HUGE)), "wrong size"),
    ("optimizer not a list", SMALL, put("g_opt", "adam"), "not in the form"),
    ("optimizer pair", SMALL, put("g_opt", lambda o: o[:2]), "not in the form"),
    ("optimizer step of wrong size", SMALL, opt("g_opt", 0, lambda t: t.view(-1)), "wrong size"),
    ("optimizer step negative", SMALL, opt("c_opt", 0, lambda t: t - 1000), "out of range"),
    ("optimizer step a fraction", SMALL, opt("c_opt", 0, lambda t: t + 0.5), "out of range"),
    ("optimizer step infinite", SMALL, opt("g_opt", 0, lambda t: t + float("inf")), "finite"),
    ("moments of wrong size", SMALL, opt("g_opt", 1, lambda t: t[:, :-1]), "wrong size"),
    ("moments in float16", SMALL, opt("c_opt", 1, lambda t: t.half()), "kind of number"),
    ("moments with NaN", SMALL, opt("g_opt", 1, nan_at), "finite"),
    ("second moments negative", SMALL, opt("c_opt", 2, lambda t: t - 1), "out of range"),
    ("second moments infinite", SMALL, opt("c_opt", 2, lambda t: nan_at(t, float("inf"))), "finite"),
    ("spectral vectors for a net without", SMALL, put("sn_u", [torch.ones(1, 16)]), "as many as"),
    ("a spectral vector missing", SN, put("sn_u", lambda u: u[:-1]), "as many as"),
    ("spectral vectors not a list", SN, put("sn_u", lambda u: u[0]), "not in the form"),
    ("a spectral vector of wrong size", SN, put("sn_u", lambda u: [u[0][:, :-1], *u[1:]]), "wrong size"),
    ("a spectral vector not of length 1", SN, put("sn_u", lambda u: [u[0] * 2, *u[1:]]), "unit vectors"),
    ("a spectral vector with NaN", SN, put("sn_u", lambda u: [nan_at(u[0]), *u[1:]]), "finite"),
    ("random state cut short", SMALL, put("rng", lambda s: s[:100]), "does not fit this machine"),
    ("random state as int64", SMALL, put("rng", lambda s: s.long()), "not in the form"),
    ("random state in 2-D", SMALL, put("rng", lambda s: s.view(2, -1)), "not in the form"),
    ("random state of random bytes", SMALL, put("rng", lambda s: torch.randint(0, 256, s.shape, dtype=torch.uint8,
                                                                           generator=torch.Generator().manual_seed(1))),
     "random-number state is not valid"),
    ("negative generator steps", SMALL, put("gen_steps", -1), "out of range"),
    ("huge generator steps", SMALL, put("gen_steps", 10**30), "out of range"),
    ("generator steps a fraction", SMALL, put("gen_steps", 1.5), "whole number"),
    ("generator steps a bool", SMALL, put("gen_steps", True), "whole number"),
    ("generator steps as text", SMALL, put("gen_steps", "3"), "whole number"),
    ("generator steps as a tensor", SMALL, put("gen_steps", torch.tensor(3)), "whole number"),
    ("negative critic steps", SMALL, put("critic_steps", -5), "out of range"),
    ("curves with 3 columns (probe)", SMALL, put("stats", lambda t: t[:, :3].contiguous()), "not in the form"),
    ("evaluations with 3 columns (probe)", SMALL, put("evals", lambda t: t[:, :3].contiguous()), "not in the form"),
    ("curves in 1-D", SMALL, put("stats", lambda t: t.reshape(-1)), "not in the form"),
    ("curves in float32", SMALL, put("stats", lambda t: t.float()), "kind of number"),
    ("curves with NaN", SMALL, put("stats", rows_set(2, float("nan"))), "finite"),
    ("curve step infinite", SMALL, put("stats", rows_set(0, float("inf"))), "step number"),
    ("curve step negative", SMALL, put("stats", rows_set(0, -1.0)), "step number"),
    ("curve step past the run", SMALL, put("stats", rows_set(0, 1e6)), "step number"),
    ("evaluation step NaN", SMALL, put("evals", rows_set(0, float("nan"))), "step number"),
    ("more curve rows than steps", SMALL, put("gen_steps", 1), "longer than its step count"),
    ("10^9 curve rows (stride 0)", SMALL, put("stats", torch.zeros(1, 5, dtype=torch.float64).expand(10**9, 5)),
     "longer than this app loads"),
    ("10^9 evaluation rows (stride 0)", SMALL,
     put("evals", lambda t: torch.zeros(1, t.shape[1], dtype=torch.float64).expand(10**9, t.shape[1])),
     "longer than this app loads"),
    ("one curve row too many", SMALL, _steps_and_stats(checkpoint.MAX_STATS_ROWS + 1), "longer than this app loads"),
]


@pytest.mark.parametrize("name,cfg,mutate,expect", CASES, ids=[c[0] for c in CASES])
def test_a_wrong_state_dict_is_refused_and_the_run_is_unchanged(base, name, cfg, mutate, expect):
    sd = copy.deepcopy(base[cfg])
    mutate(sd)
    data = saved(sd)
    target = trained(cfg.replace(seed=1), steps=2)           # another state than the file's
    before = state_of(target)

    def load():
        target.load_state_dict(load_run_state(data, "cpu"))

    refused(load, expect)
    assert_unchanged(target, before)
    target.step(1)                                           # and it still trains
    assert target.gen_steps == 3


def test_a_good_state_loads_and_continues_identically(base):
    for cfg in (SMALL, SN):
        a = trained(cfg)
        data = unpack_checkpoint(pack_checkpoint(saved(a.state_dict()), cfg))[0]
        b = trained(cfg.replace(seed=1), steps=1)
        b.load_state_dict(load_run_state(data, "cpu"))
        a.step(2), b.step(2)
        assert torch.equal(a.g_flat, b.g_flat) and torch.equal(a.c_flat, b.c_flat)
        assert all(torch.equal(x, y) for x, y in zip(a.sn_u, b.sn_u)) and a.gen_steps == b.gen_steps
        assert np.array_equal(np.array(a.stats), np.array(b.stats))


def test_evaluations_may_be_unmeasured_or_infinite(base):
    sd = copy.deepcopy(base[SMALL])
    sd["evals"] = sd["evals"].clone()
    sd["evals"][:, 1:] = float("nan")
    sd["evals"][0, -1] = float("inf")                         # a bound can overflow
    r = Run(SMALL, device="cpu")
    r.load_state_dict(sd)
    assert len(r.evals) == len(sd["evals"])
