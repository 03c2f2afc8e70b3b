"""A classroom on one small server: N students train on Train live at once.

Starts the app the way the README does (`streamlit run app.py`, via
benchmarks/appserver.py) and drives N concurrent sessions against the real
server with websocket clients (benchmarks/wsclient.py: the browser's protocol,
fragment auto-reruns, image downloads, in one asyncio loop so the clients stay
light; 30 Chromium tabs would eat the cores the server needs). Each student:

1. arrives (arrivals spread over --ramp s), loads /train_live?preset=classroom-gp (the
   HTML and the scripts it names), opens the websocket, presses "Play" and waits
   until the status line shows training steps;
2. trains for --seconds while the client counts distinct frames (inline pictures
   whose bytes changed, or new /media image URLs once downloaded) and reads the
   status line's "generator step **N**" (what the student sees);
3. once, at a random moment of that window, moves the "Generator learning rate"
   slider (a live control): answered when the URL shows the new value (the page
   writes it right after handing the config to the run) and that page run has
   finished (the browser's "running" state ends);
4. after the window presses "Pause" (the class pausing within --pause-spread s):
   answered when the "Play" button comes back.

Printed per N: generator steps/s per session (min, median: status-line steps
over the window), distinct frames/s per session (min, median), the slowest
control and pause answers, the server's memory (server + workers, RSS) when
idle, at its peak, and ~10 s after every client left, and the server's CPU use.
Each N runs on a fresh server by default (--same-server to reuse one). For
N = 30 it checks the targets: every session >= 5 generator steps/s and
>= 2 frames/s, every control answered within 2 s, memory under 4 GB.

Run: python benchmarks/classroom.py [--sessions 1 10 30] [--seconds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appserver import app_server, rss_tree_bytes  # noqa: E402
from wsclient import StreamlitClient  # noqa: E402

PAGE, QUERY = "train_live", "preset=classroom-gp"
PLAY, PAUSE, LR, URL_KEY = "Play", "Pause", "Generator learning rate", "lr_g"
LEGEND = """\
gen steps/s: generator steps per second each session's status line showed over the window.
frames/s: distinct pictures of the live view per session per second, as the browser shows them
(an inline picture when its message arrives, a /media URL once downloaded).
control: slowest answer to a live slider move (the page run with the new value done);
pause: slowest Pause -> "Play" back. Memory: server + workers RSS; idle = after one warm-up
visit, after = once every client left (waits up to 20 s; (!) = not back within 20% of idle).
CPU over the window: server = Streamlit process + training workers; others = the rest of the
machine (other users' jobs); main-process ms per fragment run = the Streamlit process's CPU
(one GIL) divided by all fragment runs it started: what one frame update costs the server."""
TARGET = {"steps": 5.0, "frames": 2.0, "control_s": 2.0, "memory_gb": 4.0}


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


def value_at(samples: list, t: float) -> int | None:
    """The status-line value the student saw at time t (the latest sample at or before t)."""
    v = None
    for ts, s in samples:
        if ts > t:
            break
        v = s
    return v


async def student(c: StreamlitClient, delay: float, timeout: float, assets: bool = True) -> str:
    """Arrive, load the page, press Play, wait until the run trains. '' on success, else why not."""
    await asyncio.sleep(delay)
    try:
        if assets:
            await asyncio.wait_for(c.load_page(), timeout)
        await c.connect()
    except Exception as e:                                   # report it; one student must not crash the class
        return f"connect failed: {e!r}"
    if not await c.wait_for(lambda: PLAY in c.widgets or PAUSE in c.widgets, timeout):
        return "no Play button"
    if PLAY in c.widgets and c.seen.get(PLAY, 0) >= c.seen.get(PAUSE, 0):
        t = time.monotonic()
        await c.click(PLAY)
        if not await c.wait_for(lambda: c.seen.get(PAUSE, 0) > t, timeout):
            return "Play not answered"
    if not await c.wait_for(lambda: any(s > 0 for _, s in c.stats.steps[-1:]), timeout):
        return "no training steps shown"
    return ""


async def live_control(c: StreamlitClient, at: float, timeout: float) -> float | None:
    """At time `at` move the generator-lr slider one notch; seconds until the URL shows the new value
    (the page writes it right after handing the config to the run) and that page run has finished."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    w = c.widgets.get(LR)
    now = parse_qs(c.query).get(URL_KEY, [None])[0]
    if c.ws is None or w is None or not w.options or now is None:
        return None
    idx = min(range(len(w.options)), key=lambda i: abs(float(w.options[i]) - float(now)))
    new = w.options[idx - 1 if idx > 0 else idx + 1]
    t = time.monotonic()
    await c.set_select_slider(LR, new)
    ok = await c.wait_for(lambda: c.stats.full_finished > c.stats.full_started > t
                          and float(parse_qs(c.query).get(URL_KEY, ["nan"])[0]) == float(new), timeout)
    return time.monotonic() - t if ok else float("inf")


async def pause(c: StreamlitClient, delay: float, timeout: float) -> float | None:
    """Press Pause after `delay` s; seconds until the Play button is back."""
    await asyncio.sleep(delay)
    if c.ws is None or PAUSE not in c.widgets:
        return None
    t = time.monotonic()
    await c.click(PAUSE)
    ok = await c.wait_for(lambda: c.seen.get(PLAY, 0) > t, timeout)
    return time.monotonic() - t if ok else float("inf")


async def sample_memory(pid: int, out: list, every: float = 1.0) -> None:
    while True:
        out.append(rss_tree_bytes(pid))
        await asyncio.sleep(every)


async def warm_up(url: str, timeout: float) -> None:
    """One visit that trains until the curves show, then leaves: the worker pool and the lazily imported
    chart libraries then exist, so 'idle' memory is the server's resting state with its workers."""
    c = StreamlitClient(url, PAGE, QUERY, fetch_media=False)
    try:
        await c.connect()
        if await c.wait_for(lambda: PLAY in c.widgets, timeout):
            await c.click(PLAY)
            await c.wait_for(lambda: c.stats.charts > 0, timeout)
            if PAUSE in c.widgets:
                await c.click(PAUSE)
                await asyncio.sleep(1)
    finally:
        await c.close()


async def classroom(url: str, pid: int, n: int, args) -> dict:
    rng = random.Random(n)
    load0 = os.getloadavg()
    fresh = rss_tree_bytes(pid)
    await warm_up(url, args.load_timeout)
    await asyncio.sleep(3)
    idle = rss_tree_bytes(pid)
    mem: list[int] = []
    sampler = asyncio.create_task(sample_memory(pid, mem))
    clients = [StreamlitClient(url, PAGE, QUERY, fetch_media=not args.no_fetch) for _ in range(n)]
    t_arrive = time.monotonic()
    why = await asyncio.gather(*(student(c, args.ramp * i / max(n - 1, 1), args.load_timeout, not args.no_assets)
                                 for i, c in enumerate(clients)))
    ready_s = time.monotonic() - t_arrive
    await asyncio.sleep(args.settle)

    t0, cpu0, cli0, busy0 = time.monotonic(), cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    controls = asyncio.gather(*(live_control(c, t0 + args.seconds * rng.uniform(0.2, 0.8), args.control_timeout)
                                for c in clients))
    await asyncio.sleep(args.seconds)
    t1, cpu1, cli1, busy1 = time.monotonic(), cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    mem_end = rss_tree_bytes(pid)
    control_each = await controls
    pause_each = await asyncio.gather(*(pause(c, rng.uniform(0, args.pause_spread), args.control_timeout)
                                        for c in clients))
    control_s = [x for x in control_each if x is not None]
    pauses = [x for x in pause_each if x is not None]
    sampler.cancel()
    peak = max(mem + [mem_end])

    window = t1 - t0
    steps, frames, runs, per = [], [], [], []
    for c, w, ctl, pau in zip(clients, why, control_each, pause_each):
        a, b = value_at(c.stats.steps, t0), value_at(c.stats.steps, t1)
        rate = (b - a) / window if a is not None and b is not None else 0.0
        shown = c.stats.images if args.no_fetch else c.stats.shown
        fps = sum(1 for t, _ in shown if t0 <= t < t1) / window
        steps.append(rate)
        frames.append(fps)
        runs.append(sum(1 for t in c.stats.fragment_runs if t0 <= t < t1) / window)
        per.append({"problem": w, "steps_per_s": round(rate, 2), "frames_per_s": round(fps, 2),
                    "control_s": ctl, "pause_s": pau, "status": c.status,
                    "new_images": sum(1 for t, _ in c.stats.images if t0 <= t < t1),
                    "images_loaded": sum(1 for t, _ in c.stats.shown if t0 <= t < t1),
                    "fetch_errors": c.stats.fetch_errors, "errors_shown": c.stats.exceptions[-3:],
                    "ref_hashes": c.stats.ref_hashes, "messages": c.stats.messages,
                    "fragment_runs_per_s": round(runs[-1], 2),
                    "full_runs": sum(1 for t in c.stats.full_runs if t0 <= t < t1),
                    **({"trace": [(round(t - t0, 3), e, d) for t, e, d in c.trace]}
                       if float("inf") in (ctl, pau) else {})})

    await asyncio.gather(*(c.close() for c in clients))
    t_close = time.monotonic()
    after = rss_tree_bytes(pid)
    while time.monotonic() - t_close < 20 and (time.monotonic() - t_close < 10 or after > 1.2 * idle):
        await asyncio.sleep(1)
        after = rss_tree_bytes(pid)
    return {
        "n": n, "loaded": sum(1 for w in why if not w), "ready_s": round(ready_s, 1),
        "page_load_max_s": round(max(c.stats.page_load_s for c in clients), 2),
        "window_s": round(window, 1),
        "steps_min": min(steps), "steps_median": statistics.median(steps),
        "frames_min": min(frames), "frames_median": statistics.median(frames),
        "control_max_s": max(control_s, default=float("nan")), "pause_max_s": max(pauses, default=float("nan")),
        "controls_answered": sum(1 for x in control_s if x != float("inf")) + sum(1 for x in pauses if x != float("inf")),
        "controls_sent": len(control_s) + len(pauses),
        "mem_fresh_mb": fresh / 2**20, "mem_idle_mb": idle / 2**20, "mem_peak_mb": peak / 2**20, "mem_after_mb": after / 2**20,
        "mem_after_s": round(time.monotonic() - t_close, 1), "mem_back": after <= 1.2 * idle,
        "server_cores": (cpu1[1] - cpu0[1]) / window, "main_cores": (cpu1[0] - cpu0[0]) / window,
        "client_cores": (cli1 - cli0) / window,
        "other_cores": max(0.0, (busy1 - busy0 - (cpu1[1] - cpu0[1]) - (cli1 - cli0)) / window),
        "fragment_runs_median": statistics.median(runs),
        "main_ms_per_run": 1000 * (cpu1[0] - cpu0[0]) / max(1, sum(runs) * window),
        "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()],
        "problems": sorted({w for w in why if w}), "sessions": per,
    }


def run_all(args) -> list[dict]:
    results = []
    env = dict(kv.split("=", 1) for kv in args.env)
    if args.same_server:
        with app_server(env) as (url, proc):
            for n in args.sessions:
                results.append(asyncio.run(classroom(url, proc.pid, n, args)))
                report_one(results[-1])
    else:
        for n in args.sessions:
            with app_server(env) as (url, proc):
                results.append(asyncio.run(classroom(url, proc.pid, n, args)))
                report_one(results[-1])
    return results


def report_one(r: dict) -> None:
    print(f"  N={r['n']}: {r['loaded']}/{r['n']} sessions training after {r['ready_s']} s "
          f"(slowest page load {r['page_load_max_s']} s); "
          f"load average {r['load_before']} -> {r['load_after']}"
          + (f"; problems: {r['problems']}" if r["problems"] else ""), flush=True)


def table(results: list[dict], cores: int) -> str:
    head = ("   N  train  gen steps/s  min   med   frames/s  min   med   control  pause   "
            "memory idle   peak  after   load avg")
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r['n']:>4}  {r['loaded']:>2}/{r['n']:<2} {r['steps_min']:>16.1f} {r['steps_median']:>5.1f}"
            f" {r['frames_min']:>14.2f} {r['frames_median']:>5.2f}   {r['control_max_s']:>6.2f}s {r['pause_max_s']:>5.2f}s"
            f"  {r['mem_idle_mb']:>8.0f}MB {r['mem_peak_mb']:>5.0f}MB {r['mem_after_mb']:>5.0f}MB"
            f"{'' if r['mem_back'] else '(!)':<3} {r['load_before'][0]:>5.2f}->{r['load_after'][0]:.2f}")
    head2 = (f"   N  CPU cores of {cores} used: server  (main process  workers)  others  this client"
             "   fragment runs/s/session   main-process ms per fragment run")
    rows += ["", head2, "-" * len(head2)]
    for r in results:
        rows.append(
            f"{r['n']:>4}  {r['server_cores']:>33.2f}  {r['main_cores']:>12.2f}  {r['server_cores'] - r['main_cores']:>7.2f}"
            f"  {r['other_cores']:>6.2f}  {r['client_cores']:>11.2f}   {r['fragment_runs_median']:>23.2f}"
            f"   {r['main_ms_per_run']:>32.1f}")
    return "\n".join(rows)


def verdict(r: dict) -> list[str]:
    control = max(r["control_max_s"], r["pause_max_s"])
    checks = [
        (r["loaded"] == r["n"], f"every session loaded and trained ({r['loaded']}/{r['n']})"),
        (r["steps_min"] >= TARGET["steps"], f"slowest session {r['steps_min']:.1f} >= {TARGET['steps']:g} generator steps/s"),
        (r["frames_min"] >= TARGET["frames"], f"slowest session {r['frames_min']:.2f} >= {TARGET['frames']:g} frames/s"),
        (control <= TARGET["control_s"] and r["controls_answered"] == r["controls_sent"],
         f"slowest control {control:.2f} s <= {TARGET['control_s']:g} s ({r['controls_answered']}/{r['controls_sent']} answered)"),
        (r["mem_peak_mb"] < TARGET["memory_gb"] * 1024, f"peak memory {r['mem_peak_mb'] / 1024:.2f} GB < {TARGET['memory_gb']:g} GB"),
    ]
    return [f"  {'PASS' if ok else 'FAIL'}  {text}" for ok, text in checks]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30], help="class sizes to run, in order")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured training window per class size")
    ap.add_argument("--ramp", type=float, default=5.0, help="students arrive spread over this many seconds")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds between 'all training' and the window")
    ap.add_argument("--pause-spread", type=float, default=2.0, help="the Pause clicks spread over this many s")
    ap.add_argument("--load-timeout", type=float, default=120.0, help="seconds a student waits for the page")
    ap.add_argument("--control-timeout", type=float, default=30.0, help="give up on a control answer after this")
    ap.add_argument("--no-fetch", action="store_true", help="do not download the images (count URLs only)")
    ap.add_argument("--no-assets", action="store_true", help="students skip the page's HTML, scripts and styles")
    ap.add_argument("--same-server", action="store_true", help="one server for all class sizes, not a fresh one each")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment for the server, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false to try a config option")
    ap.add_argument("--json", type=Path, help="also write the full results (per session) here")
    args = ap.parse_args(argv)

    cores = os.cpu_count() or 1
    print(f"Classroom benchmark: Train live ({QUERY}), {cores} CPU cores, "
          f"{'one server for all N' if args.same_server else 'a fresh server for each N'}, "
          f"{args.seconds:g} s window, images {'not ' if args.no_fetch else ''}downloaded"
          f"{', server env ' + ' '.join(args.env) if args.env else ''}; "
          f"load average now {tuple(round(x, 2) for x in os.getloadavg())}", flush=True)
    results = run_all(args)
    print()
    print(table(results, cores))
    print(LEGEND)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    for r in results:
        if r["n"] == 30:
            print(f"\nTargets at N = 30 (load average {r['load_before'][0]:.2f} at the start):")
            lines = verdict(r)
            print("\n".join(lines))
            print("RESULT:", "PASS" if all(x.startswith("  PASS") for x in lines) else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
