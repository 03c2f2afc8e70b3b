"""The classroom benchmark's other modes (run through benchmarks/classroom.py --mix / --abuse).

--mix (issue #14): 30 students over the live pages, arriving over --ramp s (default
15): 12 on Train live (classroom preset), 8 on Compare (gan, wgan-clip, wgan-gp),
5 on Images, 5 on Why GANs fail (its two runs). Each presses its page's Start /
Play; "loads and starts" is timed from its arrival to the first frame of training.
Over the window every live view counts its distinct frames per second (Images: its
view's frames are the 64 digits of each snapshot). Train live and Images students move a
live slider once (Train live: answered when the side panel shows the worker applied
it; Images: when the page run with the new URL value finished), and everyone pauses.

--abuse: an observer trains on Train live (its own address) while
(a) one address opens 200 Compare sessions and presses Start in each (the server's
    caps per address apply: wgan_core/serve/admission.py, ui/session.py);
(b) one runs the Lipschitz lab at its largest settings (steps 2000, a new seed);
(c) one picks the largest network on Train live (width 512, depth 6, batch 1024,
    n_critic 20, through the URL) and presses Play;
(d) one uploads hostile checkpoints through the Export popover's "Continue from a
    checkpoint" uploader (the browser's upload protocol: file_urls_request, an HTTP
    PUT with the XSRF cookie, the uploader's widget state): a zip bomb member, a
    zip bomb nested in run.pt, curves (stats) of the wrong shape, garbage bytes
    (builders from tests/hostile_util.py).
The observer's window starts once every attack is under way.
"""
from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from appserver import app_server, rss_tree_bytes
from classroom import INF, MAX_MEMORY_GB, memory_after, print_verdict, warm_up
from students import (
    COMPARE,
    IMAGES,
    PAUSE,
    TRAIN,
    WHY,
    Page,
    arrive,
    cpu_seconds,
    live_control,
    machine_busy_seconds,
    pause,
    sample_memory,
    server_log,
    session_figures,
    worker_pids,
)
from wsclient import StreamlitClient

MIX = ((TRAIN, 12), (COMPARE, 8), (IMAGES, 5), (WHY, 5))
MIX_TARGET = {"start_s": 5.0, "snapshots": 4.0, "steps": 10.0, "control_s": 1.0}
ABUSE_TARGET = {"snapshots": 5.0, "steps": 5.0, "control_s": 1.0}
FLOOD = 200
BIG = "width=512&depth=6&batch=1024&n_critic=20"
CRASH_RE = re.compile(r"(\w+) worker (\d+) exited with (\S+)")


def _fmt(x) -> str:
    return "  -  " if x is None else "never" if x == INF else f"{x:5.2f}"


# --------------------------------------------------------------------------- --mix
async def mix(url: str, pid: int, args) -> bool:
    rng = random.Random(14)
    pages = [p for p, k in MIX for _ in range(k)]
    rng.shuffle(pages)
    load0 = os.getloadavg()
    quiet = await warm_up(url, args.load_timeout, pid)
    print(f"The server was quiet (start-up jobs done) {quiet:.0f} s after the warm-up visit.", flush=True)
    idle, mem = rss_tree_bytes(pid), []
    sampler = asyncio.create_task(sample_memory(pid, mem))
    clients = [StreamlitClient(url, p.name, p.query, fetch_media=p is IMAGES, address=f"10.40.0.{i + 1}", light=args.light)
               for i, p in enumerate(pages)]
    came = await asyncio.gather(*(arrive(c, p, args.ramp * i / (len(pages) - 1), args.load_timeout, not args.no_assets)
                                  for i, (c, p) in enumerate(zip(clients, pages))))
    await asyncio.sleep(args.settle)
    t0, cpu0 = time.monotonic(), cpu_seconds(pid)
    controls = asyncio.gather(*(live_control(c, p, t0 + args.seconds * rng.uniform(0.2, 0.8), args.control_timeout)
                                if p.control else asyncio.sleep(0) for c, p in zip(clients, pages)))
    await asyncio.sleep(args.seconds)
    t1, cpu1 = time.monotonic(), cpu_seconds(pid)
    ctl = await controls
    paused = await asyncio.gather(*(pause(c, p, rng.uniform(0, args.pause_spread), args.control_timeout)
                                    for c, p in zip(clients, pages)))
    sampler.cancel()
    rows = []
    for c, p, came1, ct, pa in zip(clients, pages, came, ctl, paused):
        f = session_figures(c, p, t0, t1)
        rows.append({**f, **came1, "page": p.name, "control": ct, "pause_s": pa})
    runs = sum(r["fragment_runs"] for r in rows)
    await asyncio.gather(*(c.close() for c in clients))
    after, _ = await memory_after(pid, idle)
    peak = max(mem + [after])

    print(f"\nMixed class: {len(pages)} students over {args.ramp:g} s, window {t1 - t0:.1f} s; load average "
          f"{load0[0]:.2f} at the start, {os.getloadavg()[0]:.2f} now; server CPU {(cpu1[1] - cpu0[1]) / (t1 - t0):.2f} "
          f"cores (main process {(cpu1[0] - cpu0[0]) / (t1 - t0):.2f}, {1000 * (cpu1[0] - cpu0[0]) / max(1, runs):.1f} ms "
          f"per fragment run); memory idle {idle / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB, after {after / 2**20:.0f} MB")
    head = ("page            students  started  max s  snapshots/s min   med  gen steps/s min   med   control  pause"
            "   lost frames  B/snap")
    print(head + "\n" + "-" * len(head))
    checks = []
    for p, _ in MIX:
        rs = [r for r in rows if r["page"] == p.name]
        snaps, steps = [r["snapshots_per_s"] for r in rs], [r["steps_per_s"] for r in rs]
        ctl_s = [r["control"]["answer_s"] for r in rs if isinstance(r["control"], dict)]
        unanswered = sum(1 for r in rs if p.control and not isinstance(r["control"], dict)) + sum(
            1 for r in rs if r["pause_s"] is None)
        worst = max(ctl_s + [x for x in (r["pause_s"] for r in rs) if x is not None] or [INF])
        started = sum(1 for r in rs if not r["problem"])
        bps = [r["bytes_per_snapshot"] for r in rs if r["bytes_per_snapshot"] == r["bytes_per_snapshot"]]
        print(f"{p.name:<15} {len(rs):>8} {started:>8} {max(r['started_s'] for r in rs):>6.1f} {min(snaps):>15.1f}"
              f" {statistics.median(snaps):>5.1f} {min(steps) if p.views else 0:>15.1f} {statistics.median(steps) if p.views else 0:>5.1f}"
              f"   {_fmt(max(ctl_s) if ctl_s else None)} {_fmt(max((r['pause_s'] or INF) for r in rs))}"
              f" {sum(r['lost_frames'] for r in rs):>13} {statistics.median(bps) if bps else float('nan'):>7.0f}")
        what = "new digits pictures/s" if not p.views else "snapshots/s (slowest view)"
        checks += [
            (started == len(rs) and max(r["started_s"] for r in rs) <= MIX_TARGET["start_s"],
             f"{p.name}: every page loads and starts within {MIX_TARGET['start_s']:g} s "
             f"({started}/{len(rs)}, slowest {max(r['started_s'] for r in rs):.1f} s)"),
            (min(snaps) >= MIX_TARGET["snapshots"], f"{p.name}: slowest {min(snaps):.1f} >= {MIX_TARGET['snapshots']:g} {what}"),
            (worst <= MIX_TARGET["control_s"] and not unanswered,
             f"{p.name}: every control and Pause answered within {MIX_TARGET['control_s']:g} s "
             f"(slowest {worst:.2f} s, {unanswered} not sent or unanswered)"),
        ]
        if p is TRAIN:
            checks.append((min(steps) >= MIX_TARGET["steps"], f"{p.name}: slowest {min(steps):.1f} >= "
                                                              f"{MIX_TARGET['steps']:g} generator steps/s"))
    for p, _ in MIX:
        slow = max((r for r in rows if r["page"] == p.name and not r["problem"]), key=lambda r: r["started_s"],
                   default=None)
        if slow is not None:
            print(f"  {p.name}: slowest start {slow['started_s']:.1f} s = files fetched {slow['fetched_s']:.1f} s, "
                  f"page shown {slow['loaded_s'] - slow['fetched_s']:.1f} s later, "
                  f"Start answered {slow['answered_s'] - slow['loaded_s']:.1f} s later, first training frame "
                  f"{slow['started_s'] - slow['answered_s']:.1f} s after that")
    for r in rows:
        if r["problem"] or (isinstance(r["control"], dict) and r["control"]["answer_s"] == INF) or r["pause_s"] == INF:
            print(f"  {r['page']}: {r['problem'] or 'unanswered'}; control {r['control']}; pause {r['pause_s']}")
    checks.append((peak < MAX_MEMORY_GB * 2**30, f"peak memory {peak / 2**30:.2f} GB < {MAX_MEMORY_GB:g} GB"))
    return print_verdict(f"Targets (issue #14), load average {load0[0]:.2f} at the start:", checks)


# --------------------------------------------------------------------------- --abuse
async def flood(url: str, n: int, out: dict, stop: asyncio.Event) -> None:
    """One address opens n Compare sessions (20 a second) and presses Start in each; they stay open until stop."""
    clients = [StreamlitClient(url, COMPARE.name, COMPARE.query, fetch_media=False, address="10.66.0.1", light=True)
               for _ in range(n)]

    async def one(i: int, c: StreamlitClient) -> str:
        await asyncio.sleep(i / 20)
        try:
            await c.connect()
        except Exception as e:                                       # noqa: BLE001
            return f"connect failed: {type(e).__name__}"
        if not await c.wait_for(lambda: COMPARE.start in c.widgets or c.stats.exceptions, 120):
            return "no page"
        if COMPARE.start not in c.widgets:
            return "refused: " + c.stats.exceptions[-1][:70]
        t = time.monotonic()
        await c.click(COMPARE.start)
        if not await c.wait_for(lambda: c.seen.get(PAUSE, 0) > t, 60):
            return "Start unanswered"
        ok = await c.wait_for(lambda: any(f[4] > 0 for f in c.stats.frames[-3:]), 20)
        return "training" if ok else "queued or not training"

    got = await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
    got = ["refused: too many sessions from this address" if "sessions open from your address" in g else g for g in got]
    out.update({k: got.count(k) for k in sorted(set(got))})
    await stop.wait()
    await asyncio.gather(*(c.close() for c in clients))


async def visit(url: str, page: Page, query: str, addr: str, out: dict, stop: asyncio.Event, play: bool) -> None:
    """One page, as a student: optionally press its start button; note what it shows."""
    c = StreamlitClient(url, page.name, query, fetch_media=False, address=addr, light=True)
    t = time.monotonic()
    try:
        await c.connect()
        ok = await c.wait_for(lambda: c.stats.full_finished > 0, 300)
        out["page_s"] = round(time.monotonic() - t, 1) if ok else INF
        if play and page.start in c.widgets:
            t1 = time.monotonic()
            await c.click(page.start)
            out["trains"] = await c.wait_for(lambda: any(f[0] > t1 and f[4] > 0 for f in c.stats.frames[-3:]), 60)
            await asyncio.sleep(10)
            out["steps_per_s"] = round(session_rate(c, t1), 2)
        out["says"] = [e[:150] for e in c.stats.alerts[-2:]]
        out["status"] = c.status[:120]
        await stop.wait()
    finally:
        await c.close()


def session_rate(c: StreamlitClient, since: float) -> float:
    fr = [(t, s) for t, _, _, _, s, _ in c.stats.frames if t >= since]
    return (fr[-1][1] - fr[0][1]) / (fr[-1][0] - fr[0][0]) if len(fr) > 1 and fr[-1][0] > fr[0][0] else 0.0


def hostile_files() -> dict[str, bytes]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from hostile_util import MB, SMALL, bomb, nested_bomb, outer, saved, stored, trained

    from wgan_core.files.checkpoint import pack_checkpoint
    sd = trained(SMALL).state_dict()
    run_pt = saved(sd)
    return {
        "zip bomb member": outer(bomb("run.pt", declared=40 * MB)),
        "zip bomb in run.pt": outer(stored("run.pt", nested_bomb(run_pt, declared=1000))),
        "stats of the wrong shape": pack_checkpoint(saved({**sd, "stats": sd["stats"][:, :3].contiguous()}), SMALL),
        "garbage": os.urandom(4096),
    }


async def upload_hostile(url: str, files: dict, out: dict, stop: asyncio.Event) -> None:
    c = StreamlitClient(url, TRAIN.name, TRAIN.query, fetch_media=False, address="10.32.0.1", light=True)
    label = "Continue from a checkpoint"
    try:
        await c.load_page()
        await c.connect()
        await c.wait_for(lambda: label in c.widgets, 120)
        for name, data in files.items():
            n, t = len(c.stats.exceptions), time.monotonic()
            try:
                code = await c.upload(label, f"{name.replace(' ', '_')}.ckpt", data)
            except Exception as e:                                   # noqa: BLE001
                out[name] = f"upload failed: {e!r}"[:150]
                continue
            ok = await c.wait_for(lambda n=n: len(c.stats.exceptions) > n, 60)
            out[name] = (f"HTTP {code}; after {time.monotonic() - t:.1f} s the page says: "
                         + (c.stats.exceptions[-1][:110] if ok else "(no message within 60 s)"))
        await stop.wait()
    finally:
        await c.close()


async def abuse(url: str, pid: int, args) -> bool:
    files = hostile_files()                           # built first: torch in this process would stall the clients
    load0 = os.getloadavg()
    quiet = await warm_up(url, args.load_timeout, pid)
    print(f"The server was quiet (start-up jobs done) {quiet:.0f} s after the warm-up visit.", flush=True)
    idle, mem, log0 = rss_tree_bytes(pid), [], len(server_log(pid))
    pids0 = worker_pids(pid)
    sampler = asyncio.create_task(sample_memory(pid, mem))
    obs = StreamlitClient(url, TRAIN.name, TRAIN.query, fetch_media=False, address="10.30.0.1", light=args.light)
    came = await arrive(obs, TRAIN, 0.0, args.load_timeout)
    stop, res = asyncio.Event(), {"flood": {}, "lab": {}, "big": {}, "hostile": {}}
    seed = random.Random().randrange(1000, 10000)
    attacks = [asyncio.create_task(x) for x in (
        flood(url, FLOOD, res["flood"], stop),
        visit(url, Page("lipschitz_lab", "", "", 0), f"steps=2000&seed={seed}", "10.31.0.1", res["lab"], stop, False),
        visit(url, TRAIN, BIG, "10.33.0.1", res["big"], stop, True),
        upload_hostile(url, files, res["hostile"], stop))]
    await asyncio.sleep(args.settle + FLOOD / 20)                   # every attack under way
    t0, cpu0, cli0, busy0 = time.monotonic(), cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    ctl = asyncio.create_task(live_control(obs, TRAIN, t0 + args.seconds * 0.5, args.control_timeout))
    await asyncio.sleep(args.seconds)
    t1, cpu1, cli1, busy1 = time.monotonic(), cpu_seconds(pid), time.process_time(), machine_busy_seconds()
    control = await ctl
    paused = await pause(obs, TRAIN, 0.0, args.control_timeout)
    f = session_figures(obs, TRAIN, t0, t1)
    await asyncio.sleep(max(0.0, 30 - (time.monotonic() - t0)))        # let the lab and uploads finish
    stop.set()
    await asyncio.gather(*attacks, return_exceptions=True)
    await obs.close()
    sampler.cancel()
    after, _ = await memory_after(pid, idle)
    peak = max(mem + [after])
    crashes = [m.groups() for m in CRASH_RE.finditer(server_log(pid)[log0:]) if m.group(1) != "jobs"]
    gone = [p for p in pids0 if p not in worker_pids(pid)]
    answered = control["answer_s"] if control else INF
    print(f"\nAbuse: observer on Train live (classroom preset), window {t1 - t0:.1f} s; load average {load0[0]:.2f} at "
          f"the start, {os.getloadavg()[0]:.2f} now; CPU cores used: server {(cpu1[1] - cpu0[1]) / (t1 - t0):.2f} (main "
          f"process {(cpu1[0] - cpu0[0]) / (t1 - t0):.2f}), these clients {(cli1 - cli0) / (t1 - t0):.2f}, other jobs "
          f"{max(0.0, busy1 - busy0 - (cpu1[1] - cpu0[1]) - (cli1 - cli0)) / (t1 - t0):.2f}")
    print(f"  observer: {came['problem'] or 'training'}, {f['snapshots_per_s']:.1f} snapshots/s, {f['steps_per_s']:.1f} "
          f"generator steps/s, control {_fmt(answered)} s (page run {_fmt(control and control['page_s'])} s), "
          f"Pause {_fmt(paused)} s, lost frames {f['lost_frames']}; its status line: {obs.status[:110]!r}")
    print(f"  (a) {FLOOD} Compare sessions from one address: {res['flood']}")
    print(f"  (b) Lipschitz lab, steps 2000, seed {seed}: {res['lab']}")
    print(f"  (c) Train live {BIG}: {res['big']}")
    print("  (d) hostile checkpoints through the Export popover's uploader:")
    for name, what in res["hostile"].items():
        print(f"      {name}: {what}")
    print(f"  workers: {len(pids0)} at the start, gone since: {gone or 'none'}; restarts in the log: {crashes or 'none'}; "
          f"memory idle {idle / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB, after {after / 2**20:.0f} MB")
    checks = [
        (not came["problem"] and f["snapshots_per_s"] >= ABUSE_TARGET["snapshots"],
         f"observer sees {f['snapshots_per_s']:.1f} >= {ABUSE_TARGET['snapshots']:g} snapshots/s"),
        (f["steps_per_s"] >= ABUSE_TARGET["steps"], f"observer trains {f['steps_per_s']:.1f} >= {ABUSE_TARGET['steps']:g} "
                                                    "generator steps/s"),
        (max(answered, paused if paused is not None else INF) <= ABUSE_TARGET["control_s"],
         f"observer's control {answered:.2f} s and Pause {paused if paused is not None else INF:.2f} s "
         f"<= {ABUSE_TARGET['control_s']:g} s"),
        (not crashes and not gone, "no training worker crashed (server log, worker pids)"),
        (peak < MAX_MEMORY_GB * 2**30, f"peak memory {peak / 2**30:.2f} GB < {MAX_MEMORY_GB:g} GB"),
    ]
    return print_verdict(f"Targets (abuse), load average {load0[0]:.2f} at the start:", checks)


def main(args, env: dict) -> bool:
    args.ramp = (15.0 if args.mix else 5.0) if args.ramp is None else args.ramp
    print(f"Classroom benchmark, {'--mix' if args.mix else '--abuse'}: {os.cpu_count()} CPU cores, {args.seconds:g} s "
          f"window; load average now {tuple(round(x, 2) for x in os.getloadavg())}", flush=True)
    with app_server(env) as (url, proc):
        return asyncio.run(mix(url, proc.pid, args) if args.mix else abuse(url, proc.pid, args))
