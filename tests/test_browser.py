"""The real app in a real browser: Debian's Chromium driven by Playwright, the app started as the README does.

Screenshots go to tests/output/ (look at them).
"""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from appserver import CHROMIUM, app_server, press  # noqa: E402

from wgan_core.engine.config import LRS  # noqa: E402
from wgan_core.presets import PRESETS  # noqa: E402

OUT = ROOT / "tests" / "output"
PAGES = ["", "why_gans_fail", "wasserstein_1d", "train_live", "lipschitz_lab", "compare", "sensitivity", "images"]
VIEW = '.em-live-view'                            # the live view (ui/live_view): a canvas the browser draws

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def app():
    with app_server() as (url, _):
        yield url




def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
    return page


@pytest.mark.parametrize("name", PAGES)
def test_every_page_opens_without_an_exception(app, browser, name):
    page = open_page(browser, f"{app}/{name}")
    page.wait_for_selector("h1", timeout=90000)
    page.wait_for_timeout(3000)
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"page_{name or 'home'}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.content()
    page.close()


def pause_and_shoot(page, start: str, name: str) -> None:
    """Press Pause, wait for the ``start`` button to come back, take tests/output/{name}.png, check the page
    shows no exception, close it."""
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name=start).wait_for(timeout=20000)
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


PIXELS = """() => { const c = document.querySelector('.em-live-view canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 97) h = (h * 31 + d[i]) | 0; return h; }"""


def test_train_live_plays_listens_to_the_lr_slider_and_pauses(app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    reruns = reruns_sent(page)
    page.goto(f"{app}/train_live?preset=classroom-gp")
    page.wait_for_selector(VIEW, timeout=60000)
    press(page, "Play", then="Pause")
    page.wait_for_function(f"() => Number(document.querySelector('{VIEW}').dataset.serial) > 3", timeout=30000)
    first = int(page.locator(VIEW).get_attribute("data-serial"))
    pixels = page.evaluate(PIXELS)
    page.wait_for_timeout(1500)
    assert int(page.locator(VIEW).get_attribute("data-serial")) > first + 5      # snapshots keep coming
    assert page.evaluate(PIXELS) != pixels                                         # and the canvas moves
    page.wait_for_function("() => /generator step \\*?\\*?[1-9]/.test(document.body.innerText)", timeout=30000)
    # move the critic learning-rate slider one notch with the keyboard: the URL and the training follow
    start = PRESETS["classroom-gp"].config.lr_c
    want = f"{max(x for x in LRS if x < start):g}"           # the next option down
    slider = page.get_by_role("slider", name="Critic learning rate")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(w) => location.search.includes('lr_c=' + w)", arg=want, timeout=20000)
    # the worker's word under the sliders: the training uses it, and only the sliders' fragment reran for it
    said = re.compile(rf"✓ Training with lr {re.escape(want)} /")
    page.locator("[data-testid=stSidebar]").get_by_text(said).wait_for(timeout=20000)
    mine = [r for r in reruns if any(w.id.endswith("-tl.lr_c") for w in r.widget_states.widgets)]
    assert mine and all(r.fragment_id for r in mine), "the slider asked for a full page run"
    # the Share link, made afresh when it opens, carries the new value
    page.get_by_role("button", name="Share", exact=True).click()
    page.locator('[data-testid="stCode"]', has_text="lr_c=").first.wait_for(timeout=20000)
    page.wait_for_function("(w) => [...document.querySelectorAll('[data-testid=stCode]')]"
                           ".some(e => e.innerText.includes('lr_c=' + w))", arg=want, timeout=20000)
    page.keyboard.press("Escape")
    pause_and_shoot(page, "Play", "train_live_trained")


def reruns_sent(page) -> list:
    """The rerun requests the page sends on its websockets opened from now on (Streamlit's BackMsg, decoded),
    in a list that fills."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    out: list = []

    def sent(data) -> None:
        if isinstance(data, (bytes, bytearray)):
            msg = BackMsg()
            msg.ParseFromString(bytes(data))
            if msg.WhichOneof("type") == "rerun_script":
                out.append(msg.rerun_script)
    page.on("websocket", lambda ws: ws.on("framesent", sent))
    return out


def test_a_layer_chip_redraws_at_once_and_the_link_keeps_it(app, browser):
    """Toggling a layer changes the picture in the browser (no script run: the page's run counter holds)
    and writes the URL; the next page run reads it back, so a shared link keeps the layers."""
    page = open_page(browser, f"{app}/train_live?preset=classroom-8g&layers=critic,real,fake")
    page.wait_for_function(f"() => Number(document.querySelector('{VIEW}')?.dataset.serial) >= 1", timeout=60000)
    page.wait_for_timeout(1000)
    before, feeds = page.evaluate(PIXELS), page.locator(VIEW).get_attribute("data-feeds")
    page.locator(".em-live-view button[data-layer=critic]").click()
    page.wait_for_timeout(100)
    assert page.evaluate(PIXELS) != before
    assert page.locator(VIEW).get_attribute("data-feeds") == feeds                   # no payload, no run
    assert "layers=real,fake" in page.evaluate("location.search")
    page.close()


@pytest.mark.parametrize("width,height,name", [(390, 844, "phone"), (1920, 1080, "presenter")])
def test_the_view_fits_a_phone_and_fills_a_projector(app, browser, width, height, name):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{app}/train_live?preset=classroom-8g" + ("&presenter=1" if name == "presenter" else ""))
    page.wait_for_function(f"() => Number(document.querySelector('{VIEW}')?.dataset.serial) >= 1", timeout=90000)
    page.wait_for_timeout(1500)
    box = page.evaluate(f"() => document.querySelector('{VIEW} canvas').getBoundingClientRect().toJSON()")
    if name == "phone":
        assert box["width"] <= width and page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
    else:
        assert box["height"] >= 900                                                # the view fills the projector
        # the speed slider's value sits above its track (the presenter's larger text had put it on the line)
        label, thumb = page.evaluate("""() => { const v = document.querySelector('.st-key-tl-speed '
          + '[data-testid=stSliderThumbValue]'); return [v.getBoundingClientRect().bottom,
          v.parentElement.getBoundingClientRect().toJSON()]; }""")
        assert label <= thumb["y"] + thumb["height"] / 2 - 1, (label, thumb)
        # Play trains at the link's speed ("max", the default), not the slider's first notch ("slow": 3 steps/s)
        press(page, "Play", then="Pause")
        page.wait_for_timeout(5000)
        steps = int(re.search(r"generator step ([\d,]+)", page.inner_text("body")).group(1).replace(",", ""))
        assert steps > 100 and "speed=max" in page.evaluate("location.search"), steps
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"train_live_{name}.png"), full_page=name == "phone")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


# The digits grid on the canvas: the share of dark (ink) and of mid-grey (gap) pixels, and a hash.
DIGITS = """() => { const v = document.querySelector('.em-live-view'), c = v.querySelector('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let dark = 0, gap = 0, h = 0;
  for (let i = 0; i < d.length; i += 4) { if (d[i + 3] && d[i] < 128) dark++; if (d[i + 3] && d[i] === 190) gap++;
    if (i % 388 === 0) h = (h * 31 + d[i]) | 0; }
  const chips = [...v.querySelectorAll('.em-chip')].filter((b) => !b.hidden).length;
  return {dark: dark / (d.length / 4), gap: gap / (d.length / 4), h, chips, serial: +v.dataset.serial}; }"""


def test_images_plays_every_snapshots_digits_in_the_browser(app, browser):
    """Images: the pictures are frames the canvas plays (no PNG per fragment run): new snapshots keep coming,
    the grid shows ink on white tiles between grey gaps, and Pause stops them."""
    page = open_page(browser, f"{app}/images")
    page.wait_for_selector(VIEW, timeout=60000)
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(f"() => Number(document.querySelector('{VIEW}').dataset.serial) > 3", timeout=60000)
    a = page.evaluate(DIGITS)
    page.wait_for_timeout(2000)
    b = page.evaluate(DIGITS)
    assert b["serial"] >= a["serial"] + 6, (a, b)                       # several snapshots a second
    assert b["h"] != a["h"] and b["chips"] == 0                         # the pictures change; no layer chips
    assert 0.01 < b["dark"] < 0.6 and 0.01 < b["gap"] < 0.3, b
    pause_and_shoot(page, "Start", "images_playing")


def test_a_bad_link_gets_a_note_not_a_traceback(app, browser):
    page = open_page(browser, f"{app}/train_live?lr_c=nan&width=-3&loss=%3Cscript%3E&preset=nope")
    page.wait_for_selector('[data-testid="stAlert"]', timeout=60000)
    assert "not valid" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_a_question_is_answered_by_its_run_and_revealed(app, browser):
    """Predict, then run: a teacher's link opens the question; the student picks, presses the button, and the
    answer quotes the measured numbers of the run that just ran (the Lipschitz lab's experiment, 100 steps)."""
    page = open_page(browser, f"{app}/lipschitz_lab?steps=100&q=closest-to-one")
    box = page.locator('[data-testid="stExpander"]', has_text="Whose slopes")
    box.get_by_text("WGAN-GP", exact=True).click()
    box.get_by_role("button", name="Show the answer").click(timeout=30000)       # waits until it is enabled
    box.get_by_text("Measured mean slopes at the 400 interpolates").wait_for(timeout=120000)
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "question_lab.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
