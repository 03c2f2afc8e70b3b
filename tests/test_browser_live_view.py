"""The browser-side live view (ui/live_view) in Debian's Chromium, on tests/apps/live_view_app.py.

Screenshots go to tests/output/live_view_*.png (look at them).
"""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from appserver import CHROMIUM, app_server  # noqa: E402

OUT = ROOT / "tests" / "output"
VIEW = ".em-live-view"
ALL = "critic,contours,manifold,transport,real,fake,arrows"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]

# Share of the canvas's pixels that are drawn and not (near) white; and, against the picture
# kept in window.__prev by the previous call, the share that changed.
PIXELS = """() => {
  const c = document.querySelector('.em-live-view canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const prev = window.__prev;
  let ink = 0, changed = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245)) ink++;
    if (prev && (d[i] !== prev[i] || d[i + 1] !== prev[i + 1] || d[i + 2] !== prev[i + 2])) changed++;
  }
  window.__prev = d;
  const n = d.length / 4;
  return {ink: ink / n, changed: prev ? changed / n : null};
}"""
# Every distinct data-serial the view shows during `ms`, in order of appearance.
SERIALS = """async (ms) => {
  const root = document.querySelector('.em-live-view'), seen = [];
  const note = () => { const s = root.dataset.serial; if (s && +s !== seen[seen.length - 1]) seen.push(+s); };
  const mo = new MutationObserver(note);
  mo.observe(root, {attributes: true, attributeFilter: ['data-serial']});
  note();
  await new Promise(r => setTimeout(r, ms));
  mo.disconnect();
  return seen;
}"""
VIEW_STATE = """() => { const r = document.querySelector('.em-live-view'), v = [...window.__earthmoverView.views][0];
  return {...r.dataset, mounts: window.__earthmoverView.mounts, raf: v.raf, marked: !!r.__marked}; }"""


@pytest.fixture(scope="module")
def app():
    with app_server(script="tests/apps/live_view_app.py") as (url, _):
        yield url




def open_view(browser, url, width=1400, height=900, dpr=1, sent=None):
    """A page on the test app, once the view shows a frame; ``sent`` collects the websocket frames
    the browser sends (every script or fragment run starts with one)."""
    page = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=dpr).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if sent is not None:
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(url)
    page.wait_for_selector(f"{VIEW}[data-serial]", timeout=60000)
    page.errors = errors
    return page


def counter(page, name: str) -> int:
    return int(re.search(rf"{name} runs: (\d+)", page.inner_text("body")).group(1))


def shoot(page, name: str) -> None:
    """A screenshot of the viewport with the view's bottom edge in sight (Streamlit's main
    container scrolls, not the document, so a full-page shot would not show more)."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.locator(VIEW).evaluate("r => r.scrollIntoView({block: 'end'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"live_view_{name}.png"))


def test_the_canvas_draws_moves_and_plays_more_frames_than_the_fragment_runs(app, browser):
    page = open_view(browser, app)
    page.wait_for_timeout(1500)
    first = page.evaluate(PIXELS)
    assert first["ink"] > 0.4                                  # heatmap, points, axes: not a blank canvas
    page.wait_for_timeout(600)
    assert page.evaluate(PIXELS)["changed"] > 0.02             # the picture moves
    page.evaluate(f"() => document.querySelector('{VIEW}').__marked = true")
    runs0 = counter(page, "fragment")
    seen = page.evaluate(SERIALS, 5000)
    runs = counter(page, "fragment") - runs0
    assert runs >= 8                                            # ~0.3 s apart, slower on a busy machine
    assert seen == sorted(seen) and len(set(seen)) == len(seen)    # serials only go forward
    assert len(seen) > 2 * runs                                 # 3 frames per run, played at their own spacing
    state = page.evaluate(VIEW_STATE)
    assert state["mounts"] == 1 and state["marked"]             # one player across all those reruns
    assert int(state["paints"]) > len(seen)                     # tweened between frames
    shoot(page, "desktop")
    assert not page.errors
    page.context.close()


def test_a_full_rerun_keeps_the_player(app, browser):
    page = open_view(browser, app)
    page.evaluate(f"() => document.querySelector('{VIEW}').__marked = true")
    full = counter(page, "full")
    page.get_by_role("button", name="Full rerun").click()
    page.wait_for_function(f"() => /full runs: {full + 1}\\b/.test(document.body.innerText)", timeout=20000)
    serial = int(page.evaluate(VIEW_STATE)["serial"])
    page.wait_for_function(f"() => +document.querySelector('{VIEW}').dataset.serial > {serial + 3}", timeout=20000)
    state = page.evaluate(VIEW_STATE)
    assert state["mounts"] == 1 and state["marked"] and page.locator(VIEW).count() == 1
    page.context.close()


def test_a_layer_chip_repaints_locally_with_no_script_run_and_goes_into_the_url(app, browser):
    sent = []
    page = open_view(browser, f"{app}/?still=1", sent=sent)
    page.wait_for_timeout(1500)                                 # all three frames played: the loop stops
    before = page.evaluate(VIEW_STATE)
    page.wait_for_timeout(700)
    idle = page.evaluate(VIEW_STATE)
    assert idle["paints"] == before["paints"] and idle["raf"] == 0 and idle["serial"] == "3"
    page.evaluate(PIXELS)
    n_sent, full = len(sent), counter(page, "full")
    chip = page.locator(".em-chip[data-layer=critic]")
    assert chip.get_attribute("aria-pressed") == "true"
    chip.click()
    page.wait_for_function(f"() => +document.querySelector('{VIEW}').dataset.paints > {idle['paints']}")
    assert page.evaluate(PIXELS)["changed"] > 0.3               # the heatmap went away
    assert chip.get_attribute("aria-pressed") == "false"
    page.wait_for_timeout(1000)
    assert len(sent) == n_sent and counter(page, "full") == full   # nothing went to the server
    assert page.evaluate("() => location.search") == "?still=1&layers=contours,real,fake,arrows"
    page.locator(".em-chip[data-layer=critic]").click()
    page.wait_for_function("() => location.search.includes('layers=critic,contours,real,fake,arrows')")
    # a shared link keeps the layers
    page.goto(f"{app}/?still=1&layers=real,fake")
    page.wait_for_selector(f"{VIEW}[data-serial]", timeout=60000)
    pressed = page.eval_on_selector_all(".em-chip", "cs => cs.map(c => c.dataset.layer + '=' + c.getAttribute('aria-pressed'))")
    assert "real=true" in pressed and "fake=true" in pressed and "critic=false" in pressed and "arrows=false" in pressed
    assert not page.errors
    page.context.close()


def test_the_backing_store_follows_the_device_pixel_ratio(app, browser):
    page = open_view(browser, app, dpr=2)
    size = page.evaluate(f"() => {{ const c = document.querySelector('{VIEW} canvas'); return "
                         "[c.width, c.height, c.clientWidth, c.clientHeight, devicePixelRatio]; }")
    w, h, cw, ch, dpr = size
    assert dpr == 2 and cw > 300 and (w, h) == (2 * cw, 2 * ch)
    assert page.evaluate(PIXELS)["ink"] > 0.4
    page.context.close()


def test_a_phone_gets_the_whole_view_and_a_diverged_run_its_banner(app, browser):
    page = open_view(browser, f"{app}/?status=diverged", width=390, height=844)
    page.wait_for_timeout(1000)
    box = page.locator(f"{VIEW} canvas").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] > 300
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    banner = page.locator(".em-banner")
    assert banner.is_visible() and "Training diverged (NaN) — paused" in banner.inner_text()
    assert page.locator(VIEW).get_attribute("data-status") == "diverged"
    shoot(page, "phone")
    page.context.close()


def test_presenter_mode_fills_the_screen(app, browser):
    page = open_view(browser, f"{app}/?presenter=1&layers={ALL}", width=1920, height=1080)
    page.wait_for_timeout(1500)
    canvas = page.locator(f"{VIEW} canvas").bounding_box()
    # from where it starts on the page down to the window's bottom edge: the whole view is on screen, and big
    assert canvas["y"] + canvas["height"] <= 1080 and canvas["y"] + canvas["height"] >= 1080 - 40
    assert canvas["height"] > 0.6 * 1080
    font = page.eval_on_selector(f"{VIEW} .em-chip", "c => parseFloat(getComputedStyle(c).fontSize)")
    assert font >= 18                                           # larger type for a projector
    assert page.locator(".em-chip[data-layer=manifold]").get_attribute("aria-pressed") == "true"
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "live_view_presenter.png"))
    page.context.close()


# (times, playTime, cuts) -> (i, j, w)
CASES = [
    ([1, 2, 3, 4], 2, None, (1, 1, 0)),                          # exact hit
    ([1, 2, 3, 4], 2.25, None, (1, 2, 0.25)),                    # between
    ([1, 2, 3, 4], 0.5, None, (0, 0, 0)),                        # before the first: hold it
    ([1, 2, 3, 4], 1, None, (0, 0, 0)),
    ([1, 2, 3, 4], 9, None, (3, 3, 0)),                          # after the last: hold it, no extrapolation
    ([1, 2, 3, 4], 4, None, (3, 3, 0)),
    ([1, 2, 3, 4], 2.5, [False, False, True, False], (1, 1, 0)),   # a run cut before frame 2: no tween
    ([1, 2, 3, 4], 3.5, [False, False, True, False], (2, 3, 0.5)),
    ([1, 1, 2], 1, None, (1, 1, 0)),                              # equal times: the later frame
    ([5], 7, None, (0, 0, 0)),
]


def test_the_schedule_and_the_clock(app, browser):
    page = open_view(browser, f"{app}/?still=1")
    got = page.evaluate("cases => cases.map(([t, p, c]) => window.__earthmoverView.schedule(t, p, c))",
                        [[t, p, c] for t, p, c, _ in CASES])
    for (times, p, cuts, want), g in zip(CASES, got):
        assert (g["i"], g["j"]) == want[:2] and g["w"] == pytest.approx(want[2]), (times, p, cuts, g)
    assert page.evaluate("() => window.__earthmoverView.schedule([], 1)") is None
    clock = page.evaluate("""() => {
      const q = new window.__earthmoverView.EmQueue();
      const f = (serial, t, run = 1) => ({serial, t, run, status: 'ok', N: 1, extent: [0, 1, 0, 1]});
      q.push([f(1, 10.0), f(2, 10.1), f(3, 10.2)], 100.3, 0.45);   // latencies 90.3, 90.2, 90.1
      const out = {offset: q.offset, p0: q.playTime(100.3), a0: q.at(q.playTime(100.3)).i,
                   a1: q.at(q.playTime(100.65)), held: q.at(q.playTime(101.5))};
      q.push([f(4, 30.0)], 120.1, 0.45);                            // after a 20 s pause: a cut, no slow tween
      out.gap = q.at(q.playTime(120.4));
      const q2 = new window.__earthmoverView.EmQueue();
      q2.push([f(1, 10.0), f(2, 20.0)], 100.0, 0.45);
      q2.offset = 89;                                               // 9.45 s behind the newest: jump forward
      out.jump = q2.playTime(100.0);
      q.push([f(1, 3.0, 2)], 121, 0.45);                           // a new run on an older clock
      out.newRun = [q.frames.length, q.offset];
      return out;
    }""")
    assert clock["offset"] == pytest.approx(90.1) and clock["p0"] == pytest.approx(9.75) and clock["a0"] == 0
    assert (clock["a1"]["i"], clock["a1"]["a"]["serial"], clock["a1"]["done"]) == (1, 2, False)
    assert clock["held"]["a"]["serial"] == 3 and clock["held"]["done"]
    assert clock["gap"]["a"]["serial"] == 3 and clock["gap"]["w"] == 0        # 29.85: still frame 3, untweened
    assert clock["jump"] == pytest.approx(20.0 - 0.45)
    assert clock["newRun"] == [1, pytest.approx(118.0)]
    page.context.close()


def test_the_browser_decodes_what_python_encodes(app, browser):
    import numpy as np

    from wgan_core.engine import wire
    rng = np.random.default_rng(3)
    fake, grid = rng.normal(0, 1, (50, 2)), rng.normal(0, 1, (6, 6))
    fake[4], grid[1, 2] = np.nan, np.inf
    frames = [wire.encode_frame(serial=s, run=9, t=100.0 + s / 10, gen_steps=70000 + s, extent=(-2, 2, -1, 3),
                                status=("ok", "diverged")[s], fake=fake + s, grid=grid, arrows=rng.normal(0, 1, (7, 2)),
                                manifold=rng.normal(0, 1, (3, 3, 2)), plan=np.arange(5) * 2) for s in (0, 1)]
    payload = wire.encode_payload({"layers": ["fake"], "interval": 0.2}, frames, real=rng.normal(0, 1, (20, 2)))
    want = wire.decode_payload(payload)
    page = open_view(browser, f"{app}/?still=1")
    got = page.evaluate("""bytes => {
      const buf = new Uint8Array(bytes.length + 3); buf.set(bytes, 3);      // an odd byteOffset, as Streamlit's
      const p = window.__earthmoverView.decodePayload(buf.subarray(3));
      const arr = (a) => a ? Array.from(a, (v) => Number.isNaN(v) ? 'nan' : v) : null;
      return {header: p.header, real: arr(p.real), frames: p.frames.map((f) => ({serial: f.serial, run: f.run, t: f.t,
        gen: f.gen, status: f.status, extent: f.extent, fake: arr(f.fake), grid: arr(f.grid), arrows: arr(f.arrows),
        manifold: arr(f.manifold), plan: arr(f.plan)}))};
    }""", list(payload))
    page.context.close()
    js = lambda a: np.array([np.nan if v == "nan" else v for v in a], dtype=np.float64)
    assert got["header"] == want["header"]
    np.testing.assert_allclose(js(got["real"]), want["real"].ravel(), rtol=1e-6, atol=1e-6)
    for g, w in zip(got["frames"], want["frames"]):
        assert (g["serial"], g["run"], g["t"], g["gen"], g["status"]) == (w["serial"], w["run"], w["t"],
                                                                          w["gen_steps"], w["status"])
        assert tuple(g["extent"]) == w["extent"] and g["plan"] == w["plan"].tolist()
        for k in ("fake", "grid", "arrows", "manifold"):          # float32 in both; NaN where flagged
            np.testing.assert_allclose(js(g[k]), w[k].ravel(), rtol=1e-6, atol=1e-6)
