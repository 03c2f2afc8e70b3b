"""Tests for wgan_core.draw.charts: Vega-Lite specs are strict JSON without NaN, labels, bands."""
from __future__ import annotations

import json

import numpy as np
import pytest

from wgan_core.draw.charts import MEASURED, SCHEMA, SERIES, curves_spec


def make_curves(t: int = 50) -> dict:
    """Curves as the engine gives them: stats every step, evaluations every 10th step, NaN elsewhere."""
    step = np.arange(t, dtype=np.float32) * 10
    measured = np.where(np.arange(t) % 10 == 0, 1.0 / (1 + step / 100), np.nan).astype(np.float32)
    return {"gen_step": step, "critic_loss": -np.exp(-step / 200), "w_estimate": np.exp(-step / 200),
            "penalty": np.full(t, 0.05, np.float32), "gen_loss": np.linspace(1, 0, t, dtype=np.float32),
            "exact_w1": measured, "modes_covered": np.where(np.isnan(measured), np.nan, 8.0),
            "hq_fraction": np.full(t, np.nan, np.float32), "w_corrected": measured * 0.9}


def rows_of(spec: dict, label: str) -> list[dict]:
    return [r for r in spec["data"]["values"] if r["series"] == label]


def test_spec_is_strict_json_and_drops_nan():
    curves = make_curves()
    curves["w_estimate"][3] = np.inf
    spec = curves_spec(curves, ["w_estimate", "exact_w1", "hq_fraction"], "Distance")
    text = json.dumps(spec, allow_nan=False)                       # raises on NaN or inf
    assert json.loads(text)["$schema"] == SCHEMA
    assert len(rows_of(spec, SERIES["w_estimate"][0])) == 49      # one inf dropped
    assert len(rows_of(spec, SERIES["exact_w1"][0])) == 5          # measured every 10th step only
    assert rows_of(spec, SERIES["hq_fraction"][0]) == []           # never measured
    assert all(type(r["value"]) is float and type(r["step"]) is float for r in spec["data"]["values"])


def test_labels_colours_and_points_for_measured_curves():
    spec = curves_spec(make_curves(), ["critic_loss", "exact_w1"], "Losses", height=300, presenter=True)
    colour = spec["encoding"]["color"]["scale"]
    assert colour["domain"] == ["critic loss", "W1 of 400 vs 400 points (exact)"]
    assert len(colour["range"]) == 2 and spec["height"] == 300
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["line", "point"]
    assert spec["layer"][1]["transform"][0]["filter"]["oneOf"] == ["W1 of 400 vs 400 points (exact)"]
    assert spec["encoding"]["x"]["field"] == "step" and spec["title"]["text"] == "Losses"
    small = curves_spec(make_curves(), ["critic_loss", "exact_w1"], "Losses")
    assert spec["config"]["axis"]["labelFontSize"] > small["config"]["axis"]["labelFontSize"]


def test_required_labels():
    """Each figure is called what it is: the batch estimate says so, the exact W1 says its sample size."""
    assert SERIES["w_estimate"][0] == "critic's estimate, one training batch"
    assert SERIES["exact_w1"][0] == "W1 of 400 vs 400 points (exact)"
    assert SERIES["w_corrected"][0] == "lower bound from the critic"
    assert [SERIES[k][0] for k in ("critic_loss", "penalty", "gen_loss", "modes_covered", "hq_fraction")] == [
        "critic loss", "gradient penalty", "generator loss", "modes covered", "high-quality share"]
    assert "exact_w1" in MEASURED


def test_single_curve_has_axis_title_and_no_points():
    spec = curves_spec(make_curves(), ["penalty"], "Penalty")
    assert spec["encoding"]["y"]["title"] == "gradient penalty"
    assert spec["encoding"]["color"]["legend"] is None
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line"]


@pytest.mark.parametrize("which, change", [
    (["nonsense"], {}),
    (["exact_w1"], {"exact_w1": np.zeros(3)}),
    (["exact_w1"], {"gen_step": None}),
    ([], {}),
])
def test_bad_curves_raise(which, change):
    curves = make_curves()
    for k, v in change.items():
        if v is None:
            curves.pop(k)
        else:
            curves[k] = v
    with pytest.raises(ValueError):
        curves_spec(curves, which, "x")


def test_a_band_is_drawn_behind_the_lines_with_its_label():
    spec = curves_spec(make_curves(), ["exact_w1", "w_estimate"], "Distance",
                       band=(0.07, 0.19, "two real samples: 0.07–0.19"))
    band = spec["layer"][0]
    assert band["data"]["values"] == [{"lo": 0.07, "hi": 0.19, "t": "two real samples: 0.07–0.19"}]
    assert [m["mark"]["type"] for m in band["layer"]] == ["rect", "text"]
    json.dumps(spec, allow_nan=False)
    assert curves_spec(make_curves(), ["exact_w1"], "d", band=(float("nan"), 1.0, "x"))["layer"][0]["mark"]["type"] == "line"


def test_specs_validate_against_the_vega_lite_schema():
    jsonschema = pytest.importorskip("jsonschema")
    core = pytest.importorskip("altair.vegalite.v6.schema.core")      # the schema only; charts.py needs no altair
    validator = jsonschema.Draft7Validator(core.load_schema())
    for which in (["w_estimate", "exact_w1", "w_corrected"], ["critic_loss", "gen_loss", "penalty"], ["penalty"]):
        errors = list(validator.iter_errors(curves_spec(make_curves(), which, "t", presenter=True,
                                                        band=(0.1, 0.2, "floor"))))
        assert not errors, errors[0].message


def test_long_curve_names_stack_in_the_legend_short_ones_sit_side_by_side():
    """Side by side, "W1 of 400 vs 400 points (exact)" and its neighbours were cut at a projector's
    two-column width; short names keep two columns."""
    curves = make_curves()
    curves["critic_w1_estimate"] = curves["w_estimate"]
    long = curves_spec(curves, ["exact_w1", "critic_w1_estimate", "w_corrected"], "Distance")
    short = curves_spec(curves, ["critic_loss", "gen_loss"], "Losses")
    assert long["encoding"]["color"]["legend"]["columns"] == 1
    assert short["encoding"]["color"]["legend"]["columns"] == 2
