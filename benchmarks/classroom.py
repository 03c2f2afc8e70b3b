"""A classroom on one small server: N students train on Train live at once (and --mix, --abuse).

Starts the app the way the README does (`streamlit run app.py`, via
benchmarks/appserver.py) and drives concurrent sessions against the real server
with websocket clients (benchmarks/wsclient.py: the browser's protocol, fragment
auto-reruns, in one asyncio loop so the clients stay light; 30 Chromium tabs
would eat the cores the server needs). The live view is drawn in the browser:
each run of a page's view fragment sends every frame published since its last
run as one payload; the client decodes every payload (wgan_core.engine.wire) and
notes each frame's serial, and the browser plays every frame it receives, so
distinct serials per second are the snapshots a student sees.

--sessions N [N ...] (default 30): each student
1. arrives (spread over --ramp s; its own X-Forwarded-For address unless
   --one-address), loads /train_live?preset=classroom-gp (HTML, scripts, health
   check), opens the websocket, presses Play and waits for a training frame;
2. watches for --seconds (the window);
3. once, at a random moment of the window, moves "Critic learning rate" one notch:
   answered when "Training with lr ..." (under the sliders, or in the side panel)
   shows the new value (the worker's snapshot carries it: the training uses it); the run with the new URL
   value finishing is printed too ("page");
4. presses Pause (the class pausing within --pause-spread s): answered when "Play"
   comes back.

--mix and --abuse: see benchmarks/classroom_more.py. Each mode prints its table,
the targets and, as the last line, RESULT: PASS or RESULT: FAIL.

Run: python benchmarks/classroom.py [--sessions 1 10 30 60] [--seconds 20] | --mix | --abuse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import students as S  # noqa: E402
from appserver import app_server, rss_tree_bytes  # noqa: E402
from wsclient import StreamlitClient  # noqa: E402

INF = float("inf")
LEGEND = """\
gen steps/s: generator steps per second of each session's run, from the gen_steps of the frames it received.
snapshots/s: distinct frames (serials) each session received per second (the browser plays every one).
B/snap: median over payloads of payload bytes / frames in it (header and real points included); B/payload:
median payload; wire B/snap: every websocket byte the clients received / snapshots (side panel, curves too).
control: slowest live slider move until "Training with lr" shows it, under the sliders or in the side panel
(the worker's snapshot carries it: the training uses it);
page: until the run (page or fragment) with the new URL value finished. pause: slowest Pause -> "Play" back. unans.: controls
or pauses not answered within --control-timeout. Memory: server + workers RSS; idle = after one warm-up visit,
after = once every client left (waits up to 20 s; (!) = not back within 20% of idle). ms/run: the Streamlit
process's CPU over the window divided by every fragment run it served. lost: frames of a run never received
though a later one was (serials are consecutive)."""
TARGETS = {30: {"snapshots": 8.0, "steps": 10.0, "control_s": 1.0},
           60: {"snapshots": 3.0, "steps": 0.0, "control_s": 2.0}}
MAX_BYTES_PER_SNAPSHOT, MAX_MEMORY_GB = 8000, 4.0
QUIET_MAX_S, QUIET_CORES = 120.0, 0.1      # before the class comes: the server's start-up jobs are done


def address(i: int, one: bool) -> str:
    return "10.20.0.1" if one else f"10.20.{i // 200}.{i % 200 + 1}"


async def warm_up(url: str, timeout: float, pid: int | None = None) -> float:
    """One visit that trains until frames show, then leaves: the worker pool and the lazily imported
    chart libraries then exist, so 'idle' memory is the server's resting state with its workers. With the
    server's ``pid``: then wait (at most QUIET_MAX_S) until its processes are quiet, i.e. the lesson jobs it
    computes at start-up (ui/session.py: warm_jobs) are done, as on a server started before the class
    came. Returns the seconds waited for that."""
    c = StreamlitClient(url, S.TRAIN.name, S.TRAIN.query, fetch_media=False, address="10.19.0.1")
    try:
        if not (await S.arrive(c, S.TRAIN, 0.0, timeout, assets=False))["problem"]:
            await c.wait_for(lambda: c.stats.charts > 0, 10)
            await S.pause(c, S.TRAIN, 0.0, 10)
            await asyncio.sleep(1)
    finally:
        await c.close()
    t = time.monotonic()
    if pid is not None:
        last = S.cpu_seconds(pid)[1]
        while time.monotonic() - t < QUIET_MAX_S:
            await asyncio.sleep(1.0)
            now = S.cpu_seconds(pid)[1]
            if now - last < QUIET_CORES:
                break
            last = now
    return time.monotonic() - t


async def memory_after(pid: int, idle: int) -> tuple[int, float]:
    t = time.monotonic()
    after = rss_tree_bytes(pid)
    while time.monotonic() - t < 20 and (time.monotonic() - t < 10 or after > 1.2 * idle):
        await asyncio.sleep(1)
        after = rss_tree_bytes(pid)
    return after, time.monotonic() - t


async def classroom(url: str, pid: int, n: int, args) -> dict:
    rng = random.Random(n)
    load0 = os.getloadavg()
    quiet = await warm_up(url, args.load_timeout, pid)
    print(f"  N={n}: the server was quiet (start-up jobs done) {quiet:.0f} s after the warm-up visit", flush=True)
    await asyncio.sleep(2)
    idle = rss_tree_bytes(pid)
    mem: list[int] = []
    sampler = asyncio.create_task(S.sample_memory(pid, mem))
    clients = [StreamlitClient(url, S.TRAIN.name, S.TRAIN.query, fetch_media=False, address=address(i, args.one_address),
                               light=args.light) for i in range(n)]
    t_arrive = time.monotonic()
    came = await asyncio.gather(*(S.arrive(c, S.TRAIN, args.ramp * i / max(n - 1, 1), args.load_timeout, not args.no_assets)
                                  for i, c in enumerate(clients)))
    ready_s = time.monotonic() - t_arrive
    await asyncio.sleep(args.settle)

    t0, cpu0, cli0, busy0 = time.monotonic(), S.cpu_seconds(pid), time.process_time(), S.machine_busy_seconds()
    wire0 = sum(c.stats.bytes for c in clients)
    controls = asyncio.gather(*(S.live_control(c, S.TRAIN, t0 + args.seconds * rng.uniform(0.2, 0.8), args.control_timeout)
                                for c in clients))
    await asyncio.sleep(args.seconds)
    t1, cpu1, cli1, busy1 = time.monotonic(), S.cpu_seconds(pid), time.process_time(), S.machine_busy_seconds()
    wire1 = sum(c.stats.bytes for c in clients)
    control_each = await controls
    pause_each = await asyncio.gather(*(S.pause(c, S.TRAIN, rng.uniform(0, args.pause_spread), args.control_timeout)
                                        for c in clients))
    sampler.cancel()
    peak = max(mem + [rss_tree_bytes(pid)])
    slowest = max((x, i) for i, x in enumerate(pause_each) if x is not None) if any(
        x is not None for x in pause_each) else None
    if slowest and slowest[0] != INF:
        print(f"  N={n}: the slowest Pause ({slowest[0]:.2f} s), what its tab received after the click: "
              f"{getattr(clients[slowest[1]], 'pause_trace', [])[:12]}", flush=True)

    window = t1 - t0
    per = []
    for c, came1, ctl, pau in zip(clients, came, control_each, pause_each):
        f = S.session_figures(c, S.TRAIN, t0, t1)
        f.update(came1, control=ctl, pause_s=pau, status=c.status, training_with=c.training_with,
                 without_real=len(c.stats.without_real()))
        if pau == INF:
            f["pause_trace"] = [(round(t - t1, 3), e, d) for t, e, d in c.trace][-40:]
        per.append(f)
    pooled = [n_ / k for c in clients for t, _, n_, k in c.stats.payloads if t0 <= t < t1 and k]
    payloads = [x for c in clients for x in c.stats.payload_bytes(t0, t1)]
    snaps = sum(c.stats.snapshots(t0, t1) for c in clients)
    runs = sum(f["fragment_runs"] for f in per)
    ctl = [x for x in control_each if x is not None]
    await asyncio.gather(*(c.close() for c in clients))
    after, after_s = await memory_after(pid, idle)
    return {
        "n": n, "loaded": sum(1 for x in came if not x["problem"]), "ready_s": round(ready_s, 1),
        "started_max_s": max(x["started_s"] for x in came),
        "page_load_max_s": round(max(c.stats.page_load_s for c in clients), 2), "window_s": round(window, 1),
        "steps_min": min(f["steps_per_s"] for f in per), "steps_median": statistics.median(f["steps_per_s"] for f in per),
        "snaps_min": min(f["snapshots_per_s"] for f in per),
        "snaps_median": statistics.median(f["snapshots_per_s"] for f in per),
        "bytes_per_snapshot": statistics.median(pooled) if pooled else INF,
        "payload_bytes": statistics.median(payloads) if payloads else INF,
        "wire_bytes_per_snapshot": (wire1 - wire0) / max(1, snaps),
        "control_max_s": max((x["answer_s"] for x in ctl), default=INF),
        "control_page_max_s": max((x["page_s"] for x in ctl), default=INF),
        "pause_max_s": max((x for x in pause_each if x is not None), default=INF),
        "unanswered": sum(1 for x in control_each if x is None or x["answer_s"] == INF)
        + sum(1 for x in pause_each if x is None or x == INF),
        "lost_frames": sum(f["lost_frames"] for f in per), "sessions_losing": sum(1 for f in per if f["lost_frames"]),
        "without_real": sum(1 for f in per if f["without_real"]),
        "mem_idle_mb": idle / 2**20, "mem_peak_mb": peak / 2**20, "mem_after_mb": after / 2**20,
        "mem_after_s": round(after_s, 1), "mem_back": after <= 1.2 * idle,
        "server_cores": (cpu1[1] - cpu0[1]) / window, "main_cores": (cpu1[0] - cpu0[0]) / window,
        "client_cores": (cli1 - cli0) / window,
        "other_cores": max(0.0, (busy1 - busy0 - (cpu1[1] - cpu0[1]) - (cli1 - cli0)) / window),
        "fragment_runs_per_s": runs / window / max(1, n),
        "main_ms_per_run": 1000 * (cpu1[0] - cpu0[0]) / max(1, runs),
        "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()],
        "problems": sorted({x["problem"] for x in came if x["problem"]}), "sessions": per,
    }


def report_one(r: dict) -> None:
    print(f"  N={r['n']}: {r['loaded']}/{r['n']} sessions training after {r['ready_s']} s (slowest arrival to "
          f"first training frame {r['started_max_s']:.1f} s, slowest page load {r['page_load_max_s']} s); load average "
          f"{r['load_before']} -> {r['load_after']}" + (f"; problems: {r['problems']}" if r["problems"] else ""), flush=True)


def table(results: list[dict], cores: int) -> str:
    head = ("   N  train  gen steps/s min   med  snapshots/s min   med  B/snap B/payload wire B/snap  control"
            "   page  pause unans.  memory idle  peak  after   load avg")
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r['n']:>4}  {r['loaded']:>2}/{r['n']:<2} {r['steps_min']:>15.1f} {r['steps_median']:>5.1f}"
            f" {r['snaps_min']:>15.1f} {r['snaps_median']:>5.1f} {r['bytes_per_snapshot']:>7.0f} {r['payload_bytes']:>9.0f}"
            f" {r['wire_bytes_per_snapshot']:>11.0f} {r['control_max_s']:>7.2f}s {r['control_page_max_s']:>5.2f}s"
            f" {r['pause_max_s']:>5.2f}s {r['unanswered']:>6}  {r['mem_idle_mb']:>9.0f}MB {r['mem_peak_mb']:>4.0f}MB"
            f" {r['mem_after_mb']:>4.0f}MB{'' if r['mem_back'] else '(!)':<3} {r['load_before'][0]:>5.2f}->{r['load_after'][0]:.2f}")
    head2 = (f"   N  CPU cores of {cores}: server (main  workers)  others  this client   fragment runs/s/session"
             "   ms/run   lost frames (sessions)   views without real points")
    rows += ["", head2, "-" * len(head2)]
    for r in results:
        rows.append(
            f"{r['n']:>4}  {r['server_cores']:>20.2f} {r['main_cores']:>6.2f} {r['server_cores'] - r['main_cores']:>8.2f}"
            f" {r['other_cores']:>7.2f} {r['client_cores']:>12.2f} {r['fragment_runs_per_s']:>25.2f} {r['main_ms_per_run']:>8.1f}"
            f" {r['lost_frames']:>13} ({r['sessions_losing']:>2}) {r['without_real']:>27}")
    return "\n".join(rows)


def verdict(r: dict) -> list[tuple[bool, str]]:
    t = TARGETS.get(r["n"])
    checks = [
        (r["loaded"] == r["n"] and r["steps_min"] > 0, f"every session loaded and trains ({r['loaded']}/{r['n']}, "
                                                       f"slowest {r['steps_min']:.1f} generator steps/s)"),
        (r["bytes_per_snapshot"] <= MAX_BYTES_PER_SNAPSHOT,
         f"bytes per snapshot {r['bytes_per_snapshot']:.0f} <= {MAX_BYTES_PER_SNAPSHOT}"),
        (r["unanswered"] == 0, f"no control or Pause unanswered ({r['unanswered']})"),
        (r["mem_peak_mb"] < MAX_MEMORY_GB * 1024, f"peak memory {r['mem_peak_mb'] / 1024:.2f} GB < {MAX_MEMORY_GB:g} GB"),
    ]
    if t:
        control = max(r["control_max_s"], r["pause_max_s"])
        checks += [(r["snaps_min"] >= t["snapshots"], f"slowest session {r['snaps_min']:.1f} >= {t['snapshots']:g} snapshots/s")]
        if t["steps"]:
            checks += [(r["steps_min"] >= t["steps"], f"slowest session {r['steps_min']:.1f} >= {t['steps']:g} generator steps/s")]
        checks += [(control <= t["control_s"], f"slowest control / Pause {control:.2f} s <= {t['control_s']:g} s")]
    return checks


def print_verdict(title: str, checks: list[tuple[bool, str]]) -> bool:
    print(f"\n{title}")
    for ok, text in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for ok, _ in checks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[30], help="class sizes to run, in order")
    ap.add_argument("--mix", action="store_true", help="30 students over the live pages (issue #14)")
    ap.add_argument("--abuse", action="store_true", help="an observer trains while others abuse the server")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured window")
    ap.add_argument("--ramp", type=float, default=None, help="arrivals spread over this many s (default 5; --mix 15)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds between 'all training' and the window")
    ap.add_argument("--pause-spread", type=float, default=2.0, help="the Pause clicks spread over this many s")
    ap.add_argument("--load-timeout", type=float, default=120.0, help="seconds a student waits for the page")
    ap.add_argument("--control-timeout", type=float, default=30.0, help="give up on a control answer after this")
    ap.add_argument("--no-assets", action="store_true", help="students skip the page's HTML, scripts and styles")
    ap.add_argument("--one-address", action="store_true", help="every student from one address (a school router)")
    ap.add_argument("--light", action="store_true", help="read frame headers only (no dequantising)")
    ap.add_argument("--same-server", action="store_true", help="one server for all class sizes, not a fresh one each")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment for the server")
    ap.add_argument("--json", type=Path, help="also write the full results (per session) here")
    args = ap.parse_args(argv)
    env = dict(kv.split("=", 1) for kv in args.env)
    if args.mix or args.abuse:
        import classroom_more
        ok = classroom_more.main(args, env)
        print("RESULT:", "PASS" if ok else "FAIL")
        return 0
    args.ramp = 5.0 if args.ramp is None else args.ramp
    cores = os.cpu_count() or 1
    print(f"Classroom benchmark: Train live ({S.TRAIN.query}), {cores} CPU cores, "
          f"{'one server for all N' if args.same_server else 'a fresh server for each N'}, {args.seconds:g} s window, "
          f"{'one address' if args.one_address else 'an address per student'}"
          f"{', server env ' + ' '.join(args.env) if args.env else ''}; "
          f"load average now {tuple(round(x, 2) for x in os.getloadavg())}", flush=True)
    results = []
    with app_server(env) if args.same_server else contextlib.nullcontext() as shared:
        for n in args.sessions:
            with (contextlib.nullcontext(shared) if args.same_server else app_server(env)) as (url, proc):
                results.append(asyncio.run(classroom(url, proc.pid, n, args)))
            report_one(results[-1])
    print()
    print(table(results, cores))
    print(LEGEND)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    ok = True
    for r in results:
        t = " (targets of issue #13)" if r["n"] in TARGETS else ""
        ok &= print_verdict(f"N = {r['n']}{t}, load average {r['load_before'][0]:.2f} at the start:", verdict(r))
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
