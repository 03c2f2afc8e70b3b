"""ui/vega.py: chart data handed to Streamlit as Arrow bytes must be the same table as the records."""
import pyarrow as pa
import pytest

from ui.vega import arrow_bytes, with_arrow_data
from wgan_core.draw import charts


def table(blob: bytes) -> list[dict]:
    return pa.ipc.open_stream(blob).read_all().to_pylist()


def test_records_round_trip_through_arrow():
    rows = [{"step": float(i), "series": "abc"[i % 3], "value": 0.5 * i} for i in range(50)]
    assert table(arrow_bytes(rows)) == rows


def test_curves_spec_keeps_its_encoding_and_moves_its_data():
    t = list(range(0, 100, 10))
    curves = {"gen_step": t, "critic_loss": [1.0 / (1 + x) for x in t], "gen_loss": [0.1 * x for x in t]}
    spec = charts.curves_spec(curves, ["critic_loss", "gen_loss"], "Losses")
    out = with_arrow_data(spec)
    assert out["data"] == {"name": "values"} and set(out["datasets"]) == {"values"}
    assert table(out["datasets"]["values"]) == spec["data"]["values"]
    assert {k: v for k, v in out.items() if k not in ("data", "datasets")} == \
        {k: v for k, v in spec.items() if k != "data"}
    assert "datasets" not in spec                                     # the input is not modified


@pytest.mark.parametrize("data", [None, {"url": "x.csv"}, {"values": []}, {"values": [1, 2]},
                                  {"values": [{"a": 1}, {"a": "text"}]}])
def test_specs_it_cannot_convert_pass_unchanged(data):
    spec = {"mark": "line"} if data is None else {"mark": "line", "data": data}
    assert with_arrow_data(spec) == spec
