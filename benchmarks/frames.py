"""Distinct frames per second of the Train live view in a real Chromium, with training running.

Starts the app as the README does, opens Train live (the fast classroom preset),
presses Play, then counts how often the view's image changes over a window of
several seconds (polled every 20 ms in the page). Also times how long a
control takes to reach the training (lr slider moved -> the status shows it).
Run: python benchmarks/frames.py [--seconds 10]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appserver import app_server, launch_chromium  # noqa: E402

COUNT_JS = """async (ms) => {
  const seen = new Set(); let changes = 0; let last = null;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const img = document.querySelector('img.em-view');
    const src = img ? img.getAttribute('src') : null;
    if (src && src !== last) { changes += 1; last = src; seen.add(src); }
    await new Promise(r => setTimeout(r, 20));
  }
  return {changes, distinct: seen.size};
}"""


def measure(url: str, seconds: float, shots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url + "/train_live?preset=classroom-gp")
        page.wait_for_selector('img.em-view', timeout=60000)
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(3000)                          # let it warm up
        counts = page.evaluate(COUNT_JS, int(seconds * 1000))
        t0 = time.monotonic()
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=10000)
        response = time.monotonic() - t0
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "train_live.png"), full_page=True)
        browser.close()
    return {"fps": counts["distinct"] / seconds, "changes": counts["changes"], "control_s": response}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--shots", type=Path, default=None)
    args = ap.parse_args()
    with app_server() as (url, _):
        r = measure(url, args.seconds, args.shots)
    print(f"distinct frames/s of the live view (Chromium, training running): {r['fps']:.1f}")
    print(f"control response (pause clicked -> button answers): {r['control_s']:.2f} s")


if __name__ == "__main__":
    main()
