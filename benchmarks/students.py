"""What a benchmark student does on a page (websocket clients, benchmarks/wsclient.py), and how it is measured.

Pages and their buttons: Train live has Play / Pause and the live sliders; Compare,
Images and Why GANs fail have Start / Pause. A student arrives, presses its page's
start button, watches, moves a live slider once, and pauses; each step's answer is
timed from the client's clock (time.monotonic) on messages it received.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from appserver import rss_tree_bytes
from wsclient import StreamlitClient
from wsproto import training_lr

PLAY, START, PAUSE = "Play", "Start", "Pause"


@dataclass(frozen=True)
class Page:
    name: str           # the URL path
    query: str
    start: str          # its start button's label (Pause while it trains)
    views: int          # live views (0: a page whose pictures are counted instead: none now)
    control: str = ""   # a live slider: label
    url_key: str = ""   # ... and its URL parameter


TRAIN = Page("train_live", "preset=classroom-gp", PLAY, 1, "Critic learning rate", "lr_c")
COMPARE = Page("compare", "methods=gan,wgan-clip,wgan-gp", START, 3)
IMAGES = Page("images", "", START, 1, "Learning rate (critic and generator)", "lr")
WHY = Page("why_gans_fail", "", START, 2)


# --------------------------------------------------------------------------- machine figures
def cpu_seconds(pid: int) -> tuple[float, float]:
    """(this process, this process + its live descendants): user + system CPU seconds (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats, children = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError):
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                stats[int(d)] = (int(f[11]) + int(f[12])) / tick
                children.setdefault(int(f[1]), []).append(int(d))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0.0)
        todo += children.get(p, [])
    return stats.get(pid, 0.0), total


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy so far (from /proc/stat)."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")     # minus idle and iowait


def worker_pids(pid: int) -> dict[int, str]:
    """The server's worker processes (python -m wgan_core.serve.worker): pid -> its command line."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError):
                cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode()
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
                if ppid == pid and "wgan_core.serve.worker" in cmd:
                    out[int(d)] = cmd
    return out


def server_log(pid: int) -> str:
    """The server's log so far (its stdout is the temp file benchmarks/appserver.py made)."""
    with contextlib.suppress(OSError):
        return open(os.readlink(f"/proc/{pid}/fd/1"), errors="replace").read()
    return ""


async def sample_memory(pid: int, out: list, every: float = 1.0) -> None:
    while True:
        out.append(rss_tree_bytes(pid))
        await asyncio.sleep(every)


# --------------------------------------------------------------------------- what a student does
async def arrive(c: StreamlitClient, page: Page, delay: float, timeout: float, assets: bool = True) -> dict:
    """Arrive after ``delay`` s, load the page, press its start button, wait until a training snapshot is shown.
    -> {"problem": "" or why not, "started_s": arrival to the first snapshot of training, and its phases from
    arrival: "fetched_s" (the page's HTML and static files fetched), "loaded_s" (the start button shown),
    "answered_s" (Pause shown)}."""
    await asyncio.sleep(delay)
    t = time.monotonic()
    try:
        if assets:
            await asyncio.wait_for(c.load_page(), timeout)
        fetched = time.monotonic() - t
        await c.connect()
    except Exception as e:                                   # report it; one student must not crash the class
        return {"problem": f"connect failed: {e!r}", "started_s": float("inf")}
    if not await c.wait_for(lambda: page.start in c.widgets or PAUSE in c.widgets, timeout):
        return {"problem": f"no {page.start} button" + (f" ({c.stats.exceptions[-1][:90]})" if c.stats.exceptions else ""),
                "started_s": float("inf")}
    pressed = time.monotonic()
    phases = {"fetched_s": fetched, "loaded_s": pressed - t}
    if c.seen.get(page.start, 0) >= c.seen.get(PAUSE, 0):
        await c.click(page.start)
        if not await c.wait_for(lambda: c.seen.get(PAUSE, 0) > pressed, timeout):
            return {"problem": f"{page.start} not answered", "started_s": float("inf")}
    phases["answered_s"] = time.monotonic() - t
    if page.views:
        ok = await c.wait_for(lambda: any(f[0] > pressed and f[4] > 0 for f in c.stats.frames[-3:]), timeout)
    else:
        ok = await c.wait_for(lambda: any(t1 > pressed for t1, _ in c.stats.images[-1:]), timeout)
    if not ok:
        return {"problem": "no training snapshot shown", "started_s": float("inf")}
    return {"problem": "", "started_s": time.monotonic() - t, **phases}


def _neighbour(options: tuple, value: float) -> str | None:
    if not options:
        return None
    idx = min(range(len(options)), key=lambda i: abs(float(options[i]) - value))
    return options[idx - 1 if idx > 0 else idx + 1]


async def live_control(c: StreamlitClient, page: Page, at: float, timeout: float) -> dict | None:
    """At time ``at`` move the page's live slider one notch. Two answers: ``page_s``, the run (of the page or of
    the slider's fragment) with the new URL value finished (the page handed it to the run); ``applied_s`` (Train
    live), "Training with lr ..." (under the sliders or in the side panel: the worker's snapshot) shows it: the
    training uses it. None: no control."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    w = c.widgets.get(page.control)
    now = parse_qs(c.query).get(page.url_key, [None])[0]
    if page.url_key == "lr_c" and training_lr(c.training_with):
        now = training_lr(c.training_with)[0]
    if c.ws is None or w is None or now is None:
        return None
    new = _neighbour(w.options, float(now))
    if new is None:
        return None
    t = time.monotonic()
    await c.set_select_slider(page.control, new)
    same = lambda v: v is not None and abs(float(v) - float(new)) <= 1e-9 + 1e-6 * abs(float(new))  # noqa: E731
    page_done = lambda: (c.stats.finished > t      # noqa: E731  (Train live's sliders rerun their fragment only)
                         and same(parse_qs(c.query).get(page.url_key, [None])[0]))
    applied = lambda: same((training_lr(c.training_with) or (None,))[0])  # noqa: E731
    applies = page.url_key == "lr_c"                  # Train live's side panel says what the training uses
    out = {"page_s": None, "applied_s": None}

    def done() -> bool:                              # called after every message: notes when each answer came
        if out["page_s"] is None and page_done():
            out["page_s"] = time.monotonic() - t
        if applies and out["applied_s"] is None and applied():
            out["applied_s"] = time.monotonic() - t
        return out["page_s"] is not None and (not applies or out["applied_s"] is not None)

    await c.wait_for(done, timeout)
    inf = float("inf")
    out = {"page_s": inf if out["page_s"] is None else out["page_s"],
           "applied_s": (inf if out["applied_s"] is None else out["applied_s"]) if applies else None,
           "value": new, "trace": None}
    out["answer_s"] = out["applied_s"] if applies else out["page_s"]
    if out["answer_s"] == inf:
        out["trace"] = [(round(t1 - t, 3), e, d) for t1, e, d in c.trace if t1 >= t - 1]
    return out


async def pause(c: StreamlitClient, page: Page, delay: float, timeout: float) -> float | None:
    """Press Pause after ``delay`` s; seconds until the start button is back."""
    await asyncio.sleep(delay)
    if c.ws is None or PAUSE not in c.widgets:
        return None
    t = time.monotonic()
    await c.click(PAUSE)
    ok = await c.wait_for(lambda: c.seen.get(page.start, 0) > t, timeout)
    c.pause_trace = [(round(t1 - t, 3), e, d) for t1, e, d in c.trace if t1 >= t]    # where its time went
    return time.monotonic() - t if ok else float("inf")


# --------------------------------------------------------------------------- per-session figures
def steps_rate(c: StreamlitClient, t0: float, t1: float) -> float:
    """Generator steps per second the student saw over [t0, t1): from the frames of its first live view
    (its own run), else from Train live's status line."""
    views = c.stats.views()
    samples = [(t, s) for t, v, _, _, s, _ in c.stats.frames if v == views[0]] if views else c.stats.steps
    a = [s for t, s in samples if t <= t0]
    b = [s for t, s in samples if t <= t1]
    if not a or not b:
        a = [s for t, s in samples if t0 <= t < t1][:1]
        return (b[-1] - a[0]) / (t1 - t0) if a and b else 0.0
    return max(0.0, (b[-1] - a[-1]) / (t1 - t0))


def session_figures(c: StreamlitClient, page: Page, t0: float, t1: float) -> dict:
    """Snapshots shown per second in the window: per live view (the slowest counts), or new pictures (Images)."""
    w = t1 - t0
    views = c.stats.views()
    per_view = [c.stats.snapshots(t0, t1, v) / w for v in views] if page.views else []
    pictures = sum(1 for t, _ in c.stats.images if t0 <= t < t1) / w
    return {
        "snapshots_per_s": min(per_view) if page.views and len(per_view) >= page.views else (
            0.0 if page.views else pictures),
        "views": len(views), "per_view": [round(x, 2) for x in per_view],
        "pictures_per_s": round(pictures, 2), "steps_per_s": round(steps_rate(c, t0, t1), 2),
        "lost_frames": c.stats.lost(),
        "bytes_per_snapshot": c.stats.bytes_per_snapshot(t0, t1),
        "payload_bytes": statistics.median(c.stats.payload_bytes(t0, t1) or [float("nan")]),
        "fragment_runs": sum(1 for t in c.stats.fragment_runs if t0 <= t < t1),
        "full_runs": sum(1 for t in c.stats.full_runs if t0 <= t < t1),
        "errors_shown": c.stats.exceptions[-3:], "bad_payloads": len(c.stats.bad_payloads),
        "cache_misses": c.stats.cache_misses, "fetch_errors": c.stats.fetch_errors,
    }
