"""Exports: compact frames keep the picture, the frame ring, GIFs, curves CSV, checkpoints (round trip)."""
import csv
import io
import json
import math
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from wgan_core.draw import render
from wgan_core.engine.config import TrainConfig
from wgan_core.engine.trainer import Run
from wgan_core.files import checkpoint, export


def fake_snap(step: int, seed: int = 0, offset: float = 1e3) -> dict:
    """A synthetic 2D snapshot whose fake points move with ``step``; critic values far from 0."""
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(1000, 2)).astype(np.float32)
    t = step / 10
    fake = (rng.normal(size=(1000, 2)) * 0.5 + [np.cos(t), np.sin(t)]).astype(np.float32)
    xs = np.linspace(-3, 3, 48)
    gx, gy = np.meshgrid(xs, xs)
    grid = (offset + 50 * np.sin(gx + t) * np.cos(gy)).astype(np.float32)            # f + c: same picture
    return {"extent": (-3.0, 3.0, -3.0, 3.0), "real": real, "fake": fake, "grid": grid,
            "arrows": (rng.normal(size=(150, 2)) * 0.1).astype(np.float32),
            "manifold": rng.normal(size=(15, 15, 2)).astype(np.float32), "gen_steps": step,
            "status": "ok", "message": "", "config": TrainConfig().to_dict()}


def test_compact_frames_draw_the_same_picture():
    snap = fake_snap(7)
    c = export.compact(snap)
    assert c["fake"].dtype == np.float16 and c["grid"].dtype == np.float16
    assert np.nanmax(np.abs(c["grid"].astype(np.float32))) <= 1.0                    # no float16 overflow
    a = np.asarray(render.render_frame(snap), dtype=np.int16)
    b = np.asarray(render.render_frame(c), dtype=np.int16)
    assert np.abs(a - b).mean() < 0.5                                                # float16 rounding only
    assert (np.abs(a - b) > 40).mean() < 0.002


def test_compact_keeps_not_finite_critic_cells():
    snap = fake_snap(1)
    snap["grid"][3, 4] = np.nan
    assert np.isnan(export.compact(snap)["grid"][3, 4])


def test_frame_ring_keeps_the_whole_run_in_bounded_memory():
    ring = export.FrameRing(capacity=10, interval=0.5)
    kept = [s for s in range(1, 200) if ring.add(fake_snap(s), now=s * 0.5, run_key=1)]
    assert len(ring) <= 10
    steps = [f["gen_steps"] for f in ring.frames]
    assert steps[0] == 1 and steps == sorted(steps)
    assert steps[-1] >= 150 and ring.interval > 0.5                          # spans the run; coarser in time
    gaps = np.diff(steps)
    assert gaps.max() <= 2 * gaps.min() + 1                                  # spread evenly
    assert len(kept) > 10
    assert all(f["real"] is ring.frames[0]["real"] for f in ring.frames)     # the fixed real sample once


def test_frame_ring_skips_repeats_and_starts_again_for_a_new_run():
    ring = export.FrameRing(capacity=10, interval=0.5)
    assert ring.add(fake_snap(1), now=0, run_key=1)
    assert not ring.add(fake_snap(1), now=5, run_key=1)                      # paused: same step
    assert not ring.add(fake_snap(2), now=0.1, run_key=1)                    # too soon
    assert ring.add(fake_snap(3), now=1, run_key=1)
    assert ring.add(fake_snap(50), now=2, run_key=2) and len(ring) == 1      # a new run
    assert ring.add(fake_snap(10), now=3, run_key=2) and len(ring) == 1      # fewer steps: a reset


def test_pick_spreads_frames_evenly():
    ring = export.FrameRing(capacity=100)
    for s in range(1, 31):
        ring.add(fake_snap(s), now=s, run_key=0)
    picked = [f["gen_steps"] for f in ring.pick(4)]
    assert picked == [1, 11, 20, 30]
    assert len(ring.pick(100)) == 30 and ring.pick(1)[0]["gen_steps"] == 30


def test_gif_export_is_a_valid_gif_with_the_right_frame_count():
    frames = [export.compact(fake_snap(s)) for s in range(0, 60, 5)]
    calls = []
    data = export.gif(frames, seconds=3, size=200, progress=lambda i, n: calls.append((i, n)))
    assert data[:6] == b"GIF89a"
    im = Image.open(io.BytesIO(data))
    assert im.n_frames == len(frames) == 12 and im.size == (200, 200)
    assert im.info["duration"] == 250 and im.info["loop"] == 0                # 12 frames in 3 s
    assert calls[-1] == (12, 12) and len(calls) == 12
    with pytest.raises(ValueError, match="no frames"):
        export.gif([], 3)


def test_curves_csv_round_trips_and_leaves_unmeasured_cells_empty():
    curves = {"gen_step": np.array([0, 10, 20.0]), "critic_loss": np.array([1.5, -0.25, 0.125]),
              "exact_w1": np.array([2.0, math.nan, 1.0]), "modes_covered": np.array([0, 2, 3.0])}
    rows = list(csv.DictReader(io.StringIO(export.curves_csv(curves))))
    assert [r["gen_step"] for r in rows] == ["0", "10", "20"]
    assert [float(r["critic_loss"]) for r in rows] == [1.5, -0.25, 0.125]
    assert rows[1]["exact_w1"] == "" and float(rows[2]["exact_w1"]) == 1.0
    assert rows[2]["modes_covered"] == "3"


def test_file_stem_names_the_run():
    assert export.file_stem({"loss": "wgan-gp", "data": "seed3"}, 1200) == "earthmover_wgan-gp_seed3_step1200"


# --------------------------------------------------------------------------- checkpoints

SMALL = TrainConfig(width=16, depth=1, batch=32, n_critic=2)


def _weights(run: Run) -> list[torch.Tensor]:
    sd = run.state_dict()
    return [sd["g_flat"], sd["c_flat"], *sd["g_opt"], *sd["c_opt"]]


def test_checkpoint_round_trip_continues_identically_on_the_cpu():
    a = Run(SMALL, device="cpu")
    a.step(3)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    sd = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    b = Run(SMALL, device="cpu")
    b.load_state_dict(sd)
    assert b.gen_steps == 3 and b.critic_steps == a.critic_steps
    a.step(1)
    b.step(1)
    for x, y in zip(_weights(a), _weights(b)):
        assert torch.equal(x, y)


def test_checkpoint_file_round_trip_with_points_and_settings():
    a = Run(SMALL, device="cpu")
    a.step(2)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    pts = np.random.default_rng(1).normal(size=(40, 2))
    run_bytes, cfg, got = checkpoint.unpack_checkpoint(
        checkpoint.pack_checkpoint(buf.getvalue(), SMALL.replace(data="custom"), pts))
    assert run_bytes == buf.getvalue() and cfg == SMALL.replace(data="custom") and np.array_equal(got, pts)
    _, cfg, got = checkpoint.unpack_checkpoint(checkpoint.pack_checkpoint(buf.getvalue(), SMALL, None))
    assert cfg == SMALL and got is None


def test_checkpoint_of_another_architecture_is_refused_with_a_plain_message():
    a = Run(SMALL, device="cpu")
    b = Run(SMALL.replace(width=32), device="cpu")
    with pytest.raises(ValueError, match="different set-up: width"):
        b.load_state_dict(a.state_dict())


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


GOOD_CFG = TrainConfig().to_json()


@pytest.mark.parametrize("data,message", [
    (b"", "not an Earthmover checkpoint"),
    (b"\x89PNG\r\n" + bytes(100), "not an Earthmover checkpoint"),
    (b"PK\x03\x04" + bytes(60), "not an Earthmover checkpoint"),                               # a broken zip
    (_zip({"run.pt": b"x"}), "not an Earthmover checkpoint"),
    (_zip({"format.txt": "earthmover-checkpoint-9", "config.json": GOOD_CFG, "run.pt": b"x"}), "different version"),
    (_zip({"format.txt": checkpoint.CHECKPOINT_FORMAT, "config.json": GOOD_CFG}), "incomplete"),
    (_zip({"format.txt": checkpoint.CHECKPOINT_FORMAT, "config.json": "{not json", "run.pt": b"x"}), "damaged"),
    (_zip({"format.txt": checkpoint.CHECKPOINT_FORMAT, "config.json": "[1, 2]", "run.pt": b"x"}), "damaged"),
    (_zip({"format.txt": checkpoint.CHECKPOINT_FORMAT, "config.json": json.dumps({"width": 10**6}), "run.pt": b"x"}),
     "settings are not valid"),
    (_zip({"format.txt": checkpoint.CHECKPOINT_FORMAT, "config.json": json.dumps({"data": "custom"}), "run.pt": b"x"}),
     "points are missing"),
])
def test_bad_checkpoint_files_get_a_plain_message(data, message):
    with pytest.raises(ValueError, match=message) as err:
        checkpoint.unpack_checkpoint(data)
    assert "Traceback" not in str(err.value) and str(err.value)[0].isupper()
