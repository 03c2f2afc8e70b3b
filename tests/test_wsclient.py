"""Smoke test of benchmarks/wsclient.py against a real app server: one session presses Play and receives live-view
payloads whose frames decode and whose serials advance."""
import asyncio
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from appserver import app_server  # noqa: E402
from wsclient import StreamlitClient  # noqa: E402

PLAY, PAUSE = "Play", "Pause"


async def _session(url: str) -> StreamlitClient:
    c = StreamlitClient(url, "train_live", "preset=classroom-gp", address="10.9.0.1")
    try:
        await c.load_page()
        assert "_streamlit_xsrf" in c.cookies                     # what an upload needs
        await c.connect()
        assert await c.wait_for(lambda: PLAY in c.widgets, 120), "the Play button never arrived"
        assert "preset=classroom-gp" in c.query and c.page_hash and c.session_id
        t = time.monotonic()
        await c.click(PLAY)
        assert await c.wait_for(lambda: c.seen.get(PAUSE, 0) > t, 60), "Play was not answered"
        # fragment auto-reruns bring the payloads: without them the view would get no new frames
        assert await c.wait_for(lambda: c.stats.snapshots(t) >= 10 and len(c.stats.payloads) >= 3
                                and len(c.stats.fragment_runs) >= 3, 60), c.stats.payloads
        assert await c.wait_for(lambda: c.training_with.startswith("Training with lr "), 30), c.training_with
        t = time.monotonic()
        await c.click(PAUSE)
        assert await c.wait_for(lambda: c.seen.get(PLAY, 0) > t, 60), "Pause was not answered"
        return c
    finally:
        await c.close()


@pytest.mark.slow
def test_one_session_trains_and_receives_frames():
    with app_server() as (url, _):
        c = asyncio.run(_session(url))
    s = c.stats
    assert not s.bad_payloads and not s.exceptions and s.cache_misses == 0, (s.bad_payloads, s.exceptions)
    assert len(s.views()) == 1 and len(s.fragment_runs) >= 3 and s.full_runs
    runs = {r for _, _, r, *_ in s.frames}
    assert len(runs) == 1                                         # one run, its frames in order
    first = {}                                                    # each frame comes twice (a dropped payload
    for x in s.frames:                                            # loses none): the first time it arrived
        first.setdefault(x[3], x)
    serials = list(first)
    assert serials == sorted(serials) and len(serials) >= 10      # new frames arrive in order
    steps = [x[4] for x in first.values()]
    assert steps == sorted(steps) and steps[-1] > steps[0]         # the training advanced
    assert all(6000 < x[5] < 9000 for x in s.frames)              # ~7 KB a frame (wgan_core/engine/wire.py)
    assert s.without_real() == []                                 # the run's real points arrived
