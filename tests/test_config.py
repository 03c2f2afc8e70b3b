"""TrainConfig: validation, JSON and URL round trips, and lenient parsing of hostile input."""
import math

import pytest

from wgan_core.engine.config import TrainConfig
from wgan_core.presets import PRESETS

HOSTILE = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "1e999", "abc", "∞", "😀", "0x10", "1,5", "None",
           "<script>alert(1)</script>", "9" * 400, "true", "[1]", "{}", "1e-320"]


def test_defaults_validate_and_round_trip_json():
    cfg = TrainConfig()
    assert cfg.validate() is cfg
    again, notes = TrainConfig.from_dict(__import__("json").loads(cfg.to_json()))
    assert again == cfg and notes == []


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_through_the_url(name):
    cfg = PRESETS[name].config
    again, notes = TrainConfig.from_query(cfg.to_query())
    assert notes == []
    assert again == cfg


def test_live_and_structural_fields():
    live = TrainConfig.live_fields()
    assert {"lr_c", "lr_g", "clip", "lam", "n_critic"} <= live
    assert not ({"loss", "data", "width", "depth", "seed", "batch"} & live)
    a = TrainConfig()
    assert a.structural_diff(a.replace(lr_c=0.01, clip=0.5, lam=3.0, n_critic=2)) == []
    assert set(a.structural_diff(a.replace(width=64, seed=7))) == {"width", "seed"}


@pytest.mark.parametrize("field", list(TrainConfig.fields()))
@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_url_values_fall_back_with_a_note(field, raw):
    base = TrainConfig()
    cfg, notes = TrainConfig.from_query({field: raw})
    cfg.validate()                                  # whatever came in, the result is valid
    if getattr(cfg, field) != getattr(base, field):
        # only a value that really is valid may get through
        assert notes == []
    else:
        assert len(notes) <= 1


def test_out_of_range_and_wrong_type_are_noted():
    cfg, notes = TrainConfig.from_query({"lr_c": "5", "width": "100000", "n_critic": "2.5", "loss": "magic",
                                         "unknown": "1"})
    assert cfg == TrainConfig()
    assert len(notes) == 4
    assert all("using" in n for n in notes)


def test_repeated_keys_take_the_last_value():
    cfg, notes = TrainConfig.from_query({"n_critic": ["3", "7"], "lr_g": ["0.1", "nan"]})
    assert cfg.n_critic == 7 and notes and cfg.lr_g == TrainConfig().lr_g


def test_strict_validate_raises_with_the_field_name():
    with pytest.raises(ValueError, match="outside"):
        TrainConfig(lr_c=float("nan")).validate()
    with pytest.raises(ValueError, match="not one of"):
        TrainConfig(loss="magic").validate()
    assert math.isfinite(TrainConfig().replace(lam=0.0).lam)


def test_choices_come_from_the_registries():
    """An objective or data set added to its registry is a valid choice at once (and nothing else is)."""
    from wgan_core.engine import datasets
    from wgan_core.engine.objectives import OBJECTIVES
    assert TrainConfig.options("loss") == tuple(OBJECTIVES)
    assert TrainConfig.options("data") == datasets.names()
    assert set(datasets.DATASETS) | set(datasets.LOADED) | {"custom"} == set(datasets.names())
    for name in OBJECTIVES:
        assert TrainConfig.from_dict({"loss": name})[0].loss == name


def test_every_control_offers_values_inside_its_range():
    for name, f in TrainConfig.fields().items():
        if "range" in f.metadata:
            lo, hi = f.metadata["range"]
            assert (TrainConfig.options(name) or name == "seed") and all(lo <= v <= hi for v in TrainConfig.options(name)), name
            assert getattr(TrainConfig(), name) >= lo
