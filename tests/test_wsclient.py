"""Smoke test of benchmarks/wsclient.py against a real app server: one session presses Play and sees frames."""
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
    c = StreamlitClient(url, "train_live", "preset=classroom-gp")
    try:
        await c.connect()
        assert await c.wait_for(lambda: PLAY in c.widgets, 120), "the Play button never arrived"
        assert "preset=classroom-gp" in c.query and c.page_hash
        t = time.monotonic()
        await c.click(PLAY)
        assert await c.wait_for(lambda: c.seen.get(PAUSE, 0) > t, 60), "Play was not answered"
        # fragment auto-reruns are what bring new frames: without them the picture would never change
        assert await c.wait_for(lambda: len({u for _, u in c.stats.shown}) >= 2, 30), c.stats
        assert await c.wait_for(lambda: c.stats.steps and c.stats.steps[-1][1] > 0, 30), c.status
        t = time.monotonic()
        await c.click(PAUSE)
        assert await c.wait_for(lambda: c.seen.get(PLAY, 0) > t, 60), "Pause was not answered"
        return c
    finally:
        await c.close()


@pytest.mark.slow
def test_one_session_trains_and_shows_frames():
    with app_server() as (url, _):
        c = asyncio.run(_session(url))
    assert len(c.stats.fragment_runs) >= 1 and c.stats.fetch_errors == 0 and c.stats.ref_hashes == 0
    assert not c.stats.exceptions, c.stats.exceptions
    assert all(u.startswith("inline:") for _, u in c.stats.shown)    # the live view is an inline picture
