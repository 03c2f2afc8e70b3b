"""ui/pace.py: the server's redraw budget follows the measured cost per run and the number of viewers."""
import pytest

from ui.pace import MIN_RUNS, RUNS_PER_TICK, VIEWER_S, WINDOW_S, Pace


class Clock:
    def __init__(self):
        self.t, self.cpu = 0.0, 0.0


def make(cost_per_run: float, share: float = 0.5):
    c = Clock()
    p = Pace(share=share, cost=0.001, clock=lambda: c.t, cpu=lambda: c.cpu)

    def run(viewer=None):
        c.t += 0.01
        c.cpu += cost_per_run
        p.ran(viewer)
    return p, c, run


def test_min_tick_is_viewers_times_runs_times_measured_cost_over_share():
    p, c, run = make(0.004)
    for i in range(int(WINDOW_S / 0.01) * 12):                    # several windows: the EMA settles
        run(f"v{i % 10}")
    assert p.cost == pytest.approx(0.004, rel=0.02)
    assert p.viewers() == 10
    assert p.min_tick() == pytest.approx(10 * RUNS_PER_TICK * 0.004 / 0.5, rel=0.02)


def test_viewers_that_stop_drawing_stop_counting():
    p, c, run = make(0.002)
    for i in range(30):
        run(f"v{i}")
    assert p.viewers() == 30
    c.t += VIEWER_S + 0.1
    run("v0")
    assert p.viewers() == 1


def test_a_window_with_few_runs_keeps_the_old_cost():
    p, c, run = make(0.002)
    for _ in range(MIN_RUNS - 2):
        run("v")
    c.cpu += 5.0                                                 # a heavy page load, not a redraw
    c.t += WINDOW_S
    run("v")
    assert p.cost == 0.001


def test_the_view_gets_a_payload_every_tick_not_faster_than_the_server_allows_and_stops_when_paused():
    """The browser plays every frame of a payload, so the view's fragment runs only every VIEW_TICK (or the
    server's floor, whichever is longer, rounded up to a tick); a paused view stops its timer unless a
    click just happened (so a step's result still shows)."""
    from ui.run_view import TICKS, VIEW_TICK, tick_for
    assert tick_for(True) == VIEW_TICK == TICKS[0]
    t = tick_for(True, floor=0.5)
    assert 0.5 <= t < 0.5 * 1.07 + 1e-9 and t in TICKS                   # rounded up to the next tick
    assert tick_for(True, floor=50.0) == TICKS[-1]
    assert tick_for(False) is None                                         # paused: no timer
    assert tick_for(False, woke=True) == VIEW_TICK                         # ... unless a click just happened


def test_the_real_points_go_out_twice_per_run_and_after_a_full_page_run(monkeypatch):
    """Like every frame, the run's real points travel in two payloads in a row (a payload Streamlit drops
    under load must not leave a view without them: the classroom benchmark found one at N = 60)."""
    from types import SimpleNamespace

    import numpy as np

    from ui import run_view
    from wgan_core.engine import wire
    state, got = {}, []
    monkeypatch.setattr(run_view, "st", SimpleNamespace(session_state=state))
    monkeypatch.setattr(run_view, "live_view", lambda payload, **_: got.append(wire.decode_payload(payload)))
    real = np.random.default_rng(0).normal(size=(50, 2))

    class Handle:
        serial, version = 1, 0

        def snapshot(self):
            return {"serial": self.serial, "real": real, "status": "ok", "version": self.version}

        def frames(self, after=0):
            return [(v, wire.encode_frame(serial=v, run=self.serial, t=float(v), extent=(-1, 1, -1, 1),
                                          fake=np.zeros((3, 2)))) for v in range(1, self.version + 1) if v > after]

    h = Handle()

    def payloads(n):
        for _ in range(n):
            h.version += 1
            run_view.show(h, "v", layers=("real",), interval=0.3)
        return [p["real"] is not None for p in got[-n:]]

    assert payloads(4) == [True, True, False, False]
    assert np.allclose(got[0]["real"], real, atol=1e-3)
    run_view.full_run("v")                                    # a full page run may have remounted the view
    assert payloads(3) == [True, True, False]
    h.serial, h.version = 2, 0                                # a new run
    assert payloads(3) == [True, True, False]
    # and every REAL_EVERY-th payload carries them again (both copies may have been dropped under load)
    sent = payloads(3 * run_view.REAL_EVERY)
    assert sum(sent) == 3 and all(sent[i] == ((len(got) - len(sent) + i + 1) % run_view.REAL_EVERY == 0)
                                  for i in range(len(sent)))
