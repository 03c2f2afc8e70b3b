"""Sensitivity under AppTest: the grid starts, its cells fill in and finish, the links carry the full config,
the grid cap answers with its sentence, bad links fall back."""
import json
import time
import urllib.parse

import pytest
from apptest_util import assert_bad_link_warns, open_page, page_path, url

from ui import grid_view, session
from wgan_core.engine.config import TrainConfig
from wgan_core.lessons import grid as G

PAGE = page_path("sensitivity")
STEPS = 20                                         # a tiny budget through the URL (?steps=20)


def grids(at) -> list[dict]:
    """The grid component's payloads on the page (decoded JSON)."""
    return [json.loads(el.proto.json) for el in at.get("bidi_component") if el.proto.component_name == grid_view.NAME]


def until(at, cond, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        d = grids(at)[0]
        if cond(d):
            return d
        time.sleep(0.5)
    raise AssertionError(f"the grid never got there: {[t['state'] for t in grids(at)[0]['tiles']]}")


def start(at) -> None:
    b = at.button(key="sens.play")
    assert b.label in ("Start", "Go on"), b.label
    b.click().run()


@pytest.fixture
def at():
    app = open_page(PAGE, {"steps": str(STEPS)})
    assert not app.exception
    yield app
    app.button(key="sens.clear").click().run()      # never leave a grid training (or its place held) behind
    assert "sens.gid" not in app.session_state or not session.pool().admission.grid_open(app.session_state["sens.gid"])


def test_the_page_shows_36_waiting_tiles_and_their_links_carry_the_full_config(at):
    assert at.title[0].value == "Sensitivity"
    d = grids(at)[0]
    assert len(d["tiles"]) == 36 and [p["method"] for p in d["panels"]] == list(G.METHODS)
    assert d["cols"] == ["0.0002", "0.0005", "0.001", "0.002"] and d["rows"] == ["1", "2", "5"]
    assert all(t["state"] == "waiting" and t["v"] is None for t in d["tiles"])
    for t in d["tiles"]:
        page, query = t["href"].split("?")
        assert page == "train_live"
        cfg, notes = TrainConfig.from_query(urllib.parse.parse_qs(query))
        cell = next(c for c in G.cells() if c.key == t["key"])
        assert not notes and cfg == G.cell_config(cell, "8gaussians", 0)        # every field, the seed too
        assert set(urllib.parse.parse_qs(query)) == set(TrainConfig.fields())
    assert "press **Start**" in at.markdown[-1].value or any("press" in m.value for m in at.markdown)


def test_start_fills_the_cells_in_and_the_sentence_counts_them(at):
    start(at)
    assert not at.exception
    d = until(at, lambda d: all(t["v"] is not None for t in d["tiles"]))     # every cell has a value
    assert all(t["pts"] for t in d["tiles"]) and d["real"]
    d = until(at, lambda d: all(t["state"] == "done" for t in d["tiles"]))
    assert not at.exception
    assert all(t["progress"] == 1.0 for t in d["tiles"])
    text = " ".join(m.value for m in at.markdown)
    assert f"Here, after {STEPS} generator steps on 8 Gaussians on a ring," in text
    rids = at.session_state["sens.rids"]
    outs = {c: G.outcome(session.pool().snaps[rids[c.key]]) for c in G.cells()}
    assert G.sentence(outs, STEPS, "8gaussians", True) in text
    assert all(o.steps == STEPS for o in outs.values())
    assert any("Finished" in p.proto.text for p in at.get("progress"))
    assert not session.pool().admission.grid_open(at.session_state["sens.gid"])    # finished: its place is free


def test_the_colour_selector_changes_the_tiles_values(at):
    at.segmented_control(key="sens.colour").set_value("hq").run()
    assert not at.exception and url(at, "colour") == "hq"
    assert grids(at)[0]["legend"]["title"] == "high-quality share"


def test_a_full_server_answers_with_a_sentence(at):
    adm = session.pool().admission
    others = {f"other{i}": f"someone-{i}" for i in range(adm.caps.grids)}
    adm.grids.update(others)
    try:
        start(at)
        assert not at.exception
        assert at.warning and "The server is already training" in at.warning[0].value
        assert all(t["state"] == "waiting" for t in grids(at)[0]["tiles"])   # no grid was made
    finally:
        for gid in others:
            adm.close_grid(gid)


@pytest.mark.parametrize("bad", [{"data": "swissroll"}, {"seed": "-3"}, {"colour": "red"}, {"steps": "9"}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    assert_bad_link_warns(PAGE, bad)
