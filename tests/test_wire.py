"""The live view's binary snapshots (wgan_core/engine/wire.py): round trip within the quantisation
step the format promises, non-finite values as flags, the size bound, and clear errors."""
import numpy as np
import pytest

from wgan_core.engine import wire

EXTENT = (-2.0, 2.0, -1.5, 2.5)


def snapshot(seed=0, n=1000, g=48, na=150, m=None, p=None):
    rng = np.random.default_rng(seed)
    f = dict(serial=7, run=3, t=12345.678901234, gen_steps=4321, status="ok", extent=EXTENT,
             fake=rng.normal(0, 1, (n, 2)), grid=rng.normal(0.3, 2, (g, g)), arrows=rng.normal(0, 0.05, (na, 2)))
    if m:
        f["manifold"] = rng.normal(0, 1, (m, m, 2))
    if p:
        f["plan"] = rng.integers(0, 1000, p)
    return f


def in_box(a, box):
    return np.clip(a, [box[0], box[2]], [box[1], box[3]])


def test_a_frame_round_trips_within_the_quantisation_step():
    f = snapshot(m=15, p=400)
    d = wire.decode_frame(wire.encode_frame(**f))
    for k in ("serial", "run", "t", "gen_steps", "status"):
        assert d[k] == f[k]
    assert d["extent"] == EXTENT
    box = wire.padded_box(EXTENT)
    assert box.tolist() == [-4.0, 4.0, -3.5, 4.5]
    step = wire.point_step(box)                                           # 8 / 65534 in x and y
    np.testing.assert_allclose(step, [8 / 65534, 8 / 65534])
    f32 = np.spacing(np.float32(8))                                       # decoded as float32
    for k in ("fake", "manifold"):                                        # outside the padded box: clamped
        assert np.all(np.abs(d[k] - in_box(f[k], box)) <= step / 2 + f32)
    g = f["grid"]
    assert d["grid_lo"] == pytest.approx(g.min(), rel=1e-6) and d["grid_hi"] == pytest.approx(g.max(), rel=1e-6)
    assert np.abs(d["grid"] - g).max() <= (g.max() - g.min()) / 254 / 2 * 1.0001
    scale = np.abs(f["arrows"]).max() / 32767
    assert d["arrow_scale"] == pytest.approx(scale, rel=1e-6)
    assert np.abs(d["arrows"] - f["arrows"]).max() <= scale / 2 * 1.0001
    assert d["plan"].tolist() == f["plan"].tolist()


def test_points_far_outside_are_clamped_to_the_padded_box_not_wrapped():
    f = snapshot()
    f["fake"][:3] = [[1e6, 0], [-1e6, 0], [0, 99]]
    d = wire.decode_frame(wire.encode_frame(**f))
    np.testing.assert_allclose(d["fake"][:3], [[4, 0], [-4, 0], [0, 4.5]], atol=1e-3)


def test_non_finite_values_survive_as_nan_and_do_not_spoil_the_rest():
    f = snapshot(m=15)
    f["fake"][5] = [np.nan, 1.0]
    f["fake"][6] = [np.inf, -np.inf]
    f["grid"][0, :4] = [np.nan, np.inf, -np.inf, np.nan]
    f["arrows"][2] = [np.nan, 0.01]
    f["manifold"][1, 1, 0] = np.nan
    d = wire.decode_frame(wire.encode_frame(**f))
    assert np.isnan(d["fake"][5, 0]) and d["fake"][5, 1] == pytest.approx(1.0, abs=1e-4)
    assert np.isnan(d["fake"][6]).all()
    assert np.isnan(d["grid"][0, :4]).all() and np.isfinite(d["grid"][1:]).all()
    ok = np.isfinite(f["grid"])
    assert d["grid_lo"] == pytest.approx(f["grid"][ok].min(), rel=1e-6)   # lo/hi from finite values only
    assert np.isnan(d["arrows"][2, 0]) and d["arrows"][2, 1] == pytest.approx(0.01, abs=1e-5)
    assert np.isnan(d["manifold"][1, 1, 0]) and not np.isnan(d["manifold"][1, 1, 1])
    assert np.isfinite(d["fake"][7:]).all()


def test_an_all_nan_frame_encodes():
    n = np.full((10, 2), np.nan)
    d = wire.decode_frame(wire.encode_frame(serial=1, run=1, t=0.0, extent=EXTENT, fake=n, status="diverged",
                                            grid=np.full((4, 4), np.nan), arrows=n[:5]))
    assert d["status"] == "diverged"
    assert np.isnan(d["fake"]).all() and np.isnan(d["grid"]).all() and np.isnan(d["arrows"]).all()


def test_a_constant_grid_and_zero_arrows_decode_exactly():
    d = wire.decode_frame(wire.encode_frame(serial=1, run=1, t=0.0, extent=EXTENT, fake=np.zeros((3, 2)),
                                            grid=np.full((5, 5), 2.5), arrows=np.zeros((3, 2))))
    assert (d["grid"] == 2.5).all() and (d["arrows"] == 0).all()


def test_the_default_frame_is_under_8_kb_and_arrays_are_aligned():
    b = wire.encode_frame(**snapshot())
    assert len(b) == 88 + 1000 * 4 + 48 * 48 + 150 * 4 == 6992 <= 8192
    assert len(wire.encode_frame(**snapshot(m=15))) == 6992 + 15 * 15 * 4 <= 8192
    assert len(b) % 4 == 0 and len(wire.encode_frame(**snapshot(g=5, p=3))) % 4 == 0


def test_a_payload_round_trips_header_real_and_frames_with_8_byte_aligned_frames():
    rng = np.random.default_rng(1)
    real = rng.normal(0, 1, (1000, 2))
    real[3] = np.nan
    frames = [wire.encode_frame(**dict(snapshot(seed=i, g=5 + i), serial=i)) for i in range(3)]
    header = {"layers": ["critic", "real"], "interval": 0.3, "labels": {"fake": "G(z)"}}
    b = wire.encode_payload(header, frames, real=real)
    h = int.from_bytes(b[4:8], "little")
    assert b[48:48 + h] == b'{"layers":["critic","real"],"interval":0.3,"labels":{"fake":"G(z)"}}'
    pos = 48 + h + (-h % 8) + 4000                                       # header JSON padded to 8, real
    d = wire.decode_payload(b)
    assert d["header"] == header
    assert [f["serial"] for f in d["frames"]] == [0, 1, 2]
    assert [f["grid"].shape for f in d["frames"]] == [(5, 5), (6, 6), (7, 7)]
    lo, hi = np.nanmin(np.delete(real, 3, 0), 0), np.nanmax(np.delete(real, 3, 0), 0)
    assert np.isnan(d["real"][3]).all()
    err = np.abs(np.delete(d["real"] - real, 3, 0)).max(0)
    assert (err <= (hi - lo) / 65534 / 2 + np.spacing(np.float32(8))).all()
    for fr in frames:                                                     # each frame starts 8-aligned
        assert pos % 8 == 0 and b[pos:pos + len(fr)] == fr
        pos += len(fr) + (-len(fr) % 8)
    assert wire.decode_payload(wire.encode_payload({}, []))["frames"] == []


def test_merge_header_changes_only_the_header():
    frames = [wire.encode_frame(**snapshot())]
    b = wire.encode_payload({"layers": ["fake"]}, frames)
    d = wire.decode_payload(wire.merge_header(b, presenter=True, height=500))
    assert d["header"] == {"layers": ["fake"], "presenter": True, "height": 500}
    assert d["frames"][0]["serial"] == 7 and d["real"] is None


@pytest.mark.parametrize("change, match", [
    (dict(fake=np.zeros((10, 3))), "fake"),
    (dict(fake=np.zeros(10)), "fake"),
    (dict(grid=np.zeros((48, 47))), "grid"),
    (dict(arrows=np.zeros((1001, 2))), "arrows"),
    (dict(arrows=np.zeros((10, 3))), "arrows"),
    (dict(manifold=np.zeros((15, 15))), "manifold"),
    (dict(plan=np.zeros((10, 2), int)), "plan"),
    (dict(plan=np.array([-1, 2])), "plan"),
    (dict(plan=np.array([0.5])), "plan"),
    (dict(extent=(1, 0, 0, 1)), "extent"),
    (dict(extent=(0, 1, 0)), "extent"),
    (dict(extent=(0, np.nan, 0, 1)), "extent"),
    (dict(status="exploded"), "status"),
    (dict(t=np.nan), "t"),
    (dict(serial=-1), "serial"),
    (dict(run=2 ** 32), "run"),
])
def test_bad_fields_raise_value_error_naming_the_field(change, match):
    with pytest.raises(ValueError, match=match):
        wire.encode_frame(**{**snapshot(), **change})


def test_bad_payloads_raise_value_error():
    with pytest.raises(ValueError, match="header"):
        wire.encode_payload([], [])
    with pytest.raises(ValueError, match="frames"):
        wire.encode_payload({}, [b"nope"])
    with pytest.raises(ValueError, match="real"):
        wire.encode_payload({}, [], real=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="payload"):
        wire.decode_payload(b"EMF1" + bytes(100))
    with pytest.raises(ValueError, match="frame"):
        wire.decode_frame(b"EMP1" + bytes(100))


def test_a_pictures_frame_round_trips_within_half_a_level():
    rng = np.random.default_rng(5)
    pics = rng.uniform(-0.3, 1.3, (64, 8, 8))                       # the generator is unbounded: clipped
    pics[0, 0, 0], pics[1, 2, 3], pics[2, 0, 1] = np.nan, np.inf, -np.inf
    b = wire.encode_pictures(serial=9, run=4, t=77.5, gen_steps=1234, status="diverged", pictures=pics)
    assert len(b) == wire.PICTURES_HEAD.size + 64 * 64 == 4136          # as the module doc says
    d = wire.decode_frame(b)
    assert (d["kind"], d["serial"], d["run"], d["t"], d["gen_steps"], d["status"]) == (
        "pictures", 9, 4, 77.5, 1234, "diverged")
    want = np.clip(np.nan_to_num(pics, nan=0.0, posinf=0.0, neginf=0.0), 0, 1)   # not finite: paper
    assert d["pictures"].shape == (64, 8, 8) and np.abs(d["pictures"] - want).max() <= 0.5 / 255 + 1e-7
    assert wire.frame_head(b) == (4, 9, 1234, 4136)
    mnist = wire.encode_pictures(serial=1, run=1, t=0.0, pictures=np.zeros((64, 28, 28)))
    assert len(mnist) == 50216


def test_payloads_carry_pictures_frames_and_heads_read_either_kind():
    pics = wire.encode_pictures(serial=2, run=7, t=1.0, gen_steps=5, pictures=np.full((3, 5, 5), 0.5))   # 75 B: padded
    points = wire.encode_frame(**snapshot(n=10, g=4, na=2))
    p = wire.encode_payload({"pictures": True}, [pics, points, pics])
    d = wire.decode_payload(p)
    assert [f["kind"] for f in d["frames"]] == ["pictures", "points", "pictures"]
    assert np.allclose(d["frames"][2]["pictures"], 128 / 255) and d["header"] == {"pictures": True}
    assert wire.frame_head(points) == (3, 7, 4321, len(points))


@pytest.mark.parametrize("bad", [np.zeros((0, 8, 8)), np.zeros((2, 8, 7)), np.zeros((257, 4, 4)),
                                 np.zeros((2, 65, 65)), np.zeros((2, 1, 1)), np.zeros((64, 64))])
def test_a_pictures_frame_refuses_bad_shapes(bad):
    with pytest.raises(ValueError, match="pictures"):
        wire.encode_pictures(serial=1, run=1, t=0.0, pictures=bad)


def test_a_corrupt_pictures_frame_is_refused():
    b = bytearray(wire.encode_pictures(serial=1, run=1, t=0.0, pictures=np.zeros((4, 4, 4))))
    with pytest.raises(ValueError, match="corrupt"):
        wire.decode_frame(bytes(b[:-10]))
    b[32] = 9                                                          # no such status
    with pytest.raises(ValueError, match="corrupt"):
        wire.decode_frame(bytes(b))
    with pytest.raises(ValueError, match="frame"):
        wire.frame_head(b"XXXX" + bytes(60))
