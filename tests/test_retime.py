"""ui/retime.py against a real server: a fragment changes its own redraw interval with a message,
not a page run (the browser's protocol, spoken by benchmarks/wsclient.py)."""
import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from appserver import app_server  # noqa: E402
from wsclient import StreamlitClient  # noqa: E402

from ui import retime  # noqa: E402


def test_outside_a_fragment_it_says_no():
    assert retime.current_fragment() is None and retime.retime(0.5) is False


async def _watch(url: str) -> StreamlitClient:
    c = StreamlitClient(url, fetch_media=False)
    try:
        await c.connect()
        assert await c.wait_for(lambda: len(c.stats.auto_reruns) >= 2, 60), c.stats.auto_reruns
        n = len(c.stats.fragment_runs)
        assert await c.wait_for(lambda: len(c.stats.fragment_runs) >= n + 10, 60)
        return c
    finally:
        await c.close()


@pytest.mark.slow
def test_a_fragment_retimes_itself_without_a_page_run():
    with app_server(script="tests/apps/retime_app.py") as (url, _):
        c = asyncio.run(_watch(url))
    (_, declared, every), (_, retimed, every2) = c.stats.auto_reruns[:2]
    assert (every, every2) == (1.0, pytest.approx(0.2)) and retimed == declared
    assert len(c.stats.full_runs) == 1                         # only the first page load ran the page
    assert not c.stats.exceptions
