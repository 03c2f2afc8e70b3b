"""The Sensitivity page in a real browser: Debian's Chromium, the app started as the README does.

The grid fills in (every tile gets a value and finishes its budget), the tiles are links to Train live
in a new tab, and a screenshot goes to tests/output/sensitivity.png (look at it).
"""
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from appserver import CHROMIUM, app_server, launch_chromium  # noqa: E402

from wgan_core.engine.config import TrainConfig  # noqa: E402

OUT = ROOT / "tests" / "output"
STEPS = 300                                        # generator steps per tile: the grid finishes in about a minute
TILE = ".em-grid a.em-tile"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


def test_the_grid_fills_in_and_its_tiles_open_train_live(tmp_path):
    from playwright.sync_api import sync_playwright
    with app_server() as (url, _), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/sensitivity?steps={STEPS}")
        page.wait_for_selector(TILE, timeout=90000)
        assert page.locator(TILE).count() == 36
        page.get_by_role("button", name="Start").click()
        page.wait_for_function("() => Number(document.querySelector('.em-grid')?.dataset.filled) === 36",
                               timeout=120000)                           # every tile has a value
        page.wait_for_function(f"() => [...document.querySelectorAll('{TILE}')]"
                               ".every((a) => a.dataset.state === 'done')", timeout=400000)
        page.wait_for_function("() => /Here, after/.test(document.body.innerText)", timeout=30000)
        page.wait_for_timeout(1500)
        tile = page.locator(TILE).first
        assert tile.get_attribute("target") == "_blank"
        href = tile.get_attribute("href")
        cfg, notes = TrainConfig.from_query(urllib.parse.parse_qs(href.split("?", 1)[1]))
        assert href.startswith("train_live?") and not notes and cfg.loss == "nsgan"
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / "sensitivity.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
        with page.context.expect_page(timeout=60000) as opened:                # a click opens Train live
            tile.click()
        live = opened.value
        live.wait_for_selector("h1", timeout=90000)
        assert "/train_live" in live.url and f"lr_c={cfg.lr_c:g}" in live.url
        browser.close()
