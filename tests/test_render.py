"""Tests for wgan_core.render: sizes, layers, colours where they belong, bad input, GIF and digit tiles."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from wgan_core.draw import annotate, render, style
from wgan_core.draw.raster import contour_segments
from wgan_core.draw.render import LAYERS, frame_png, render_frame
from wgan_core.files.export import gif_bytes
from wgan_core.lessons.images import digits_grid

EXTENT = (-2.0, 2.0, -2.0, 2.0)
CENTERS = 2.0 / 1.414 * np.array([[np.cos(a), np.sin(a)] for a in np.arange(8) * np.pi / 4])   # (8, 2)


def generator(z: np.ndarray) -> np.ndarray:
    """A toy generator: noise (..., 2) -> an arc that covers part of the ring."""
    theta, rad = 1.2 * z[..., 0] + 0.5, 1.0 + 0.15 * z[..., 1]
    return np.stack([rad * np.cos(theta), rad * np.sin(theta)], -1)


def critic(x: np.ndarray) -> np.ndarray:
    """A toy critic (..., 2) -> (...): high near the real modes, sloping up away from the fakes."""
    d = np.linalg.norm(x[..., None, :] - CENTERS, axis=-1).min(-1)
    return -d + 0.3 * np.linalg.norm(x - [0.3, 0.6], axis=-1)


def make_snapshot(n_real=1000, n_fake=1000, g=48, m=15, n_arrows=150, status="ok", seed=0) -> dict:
    """A snapshot like the engine's: 8 Gaussians on a ring, toy generator and critic, curves, metrics."""
    rng = np.random.default_rng(seed)
    real = CENTERS[rng.integers(0, 8, n_real)] + 0.02 / 1.414 * rng.standard_normal((n_real, 2))
    fake = generator(rng.standard_normal((n_fake, 2)))
    xs = np.linspace(EXTENT[0], EXTENT[1], g)
    ys = np.linspace(EXTENT[2], EXTENT[3], g)
    grid = critic(np.stack(np.meshgrid(xs, ys), -1))                       # grid[i, j] at (xs[j], ys[i])
    eps, p = 1e-4, fake[:n_arrows]
    arrows = np.stack([(critic(p + [eps, 0]) - critic(p - [eps, 0])) / (2 * eps),
                       (critic(p + [0, eps]) - critic(p - [0, eps])) / (2 * eps)], -1)
    zg = np.stack(np.meshgrid(np.linspace(-2, 2, m), np.linspace(-2, 2, m)), -1)
    t = np.arange(0, 2000, 10, dtype=np.float32)
    exact = np.where(t % 100 == 0, 1.0 / (1 + t / 500), np.nan)
    curves = {"gen_step": t, "critic_loss": -np.exp(-t / 800), "w_estimate": np.exp(-t / 800),
              "penalty": 0.1 * np.exp(-t / 300), "gen_loss": np.exp(-t / 800) - 0.5, "exact_w1": exact,
              "modes_covered": np.where(np.isnan(exact), np.nan, np.minimum(8, 1 + t // 250)),
              "hq_fraction": np.where(np.isnan(exact), np.nan, t / 2000)}
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    return {"run_id": "test", "version": 1, "config": {"loss": "wgan-gp", "data": "8gaussians"},
            "status": status, "message": "" if status == "ok" else "critic loss became NaN at step 1,234",
            "gen_steps": 1234, "critic_steps": 6170, "extent": EXTENT,
            "real": f32(real), "fake": f32(fake), "grid": f32(grid), "arrows": f32(arrows),
            "manifold": f32(generator(zg)), "curves": {k: f32(v) for k, v in curves.items()},
            "plan": rng.permutation(min(400, n_real, n_fake)),                  # fake[i] -> real[plan[i]]
            "metrics": {"modes_covered": 5, "modes_total": 8, "hq_fraction": 0.62, "exact_w1": 0.4321,
                        "w_estimate": 0.38, "w_corrected": 0.35, "max_grad_norm": 1.08}}


def to_pixel(img_size: int, snap: dict, xy, layers=LAYERS, presenter=False) -> tuple[int, int]:
    """Canvas pixel of a data point, via the renderer's own layout."""
    items = annotate.legend_items(layers, render._check(snap, layers))
    _, (x0, y0, w, h), _ = annotate.frame_template(img_size, presenter, tuple(snap["extent"]), items)
    xmin, xmax, ymin, ymax = snap["extent"]
    return (int(x0 + (xy[0] - xmin) / (xmax - xmin) * w), int(y0 + h - (xy[1] - ymin) / (ymax - ymin) * h))


def test_size_and_mode():
    for size, presenter in ((640, False), (480, True), (1024, True)):
        img = render_frame(make_snapshot(), size=size, presenter=presenter)
        assert img.size == (size, size) and img.mode == "RGB"


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_changes_the_picture(layer):
    snap = make_snapshot()
    full = np.asarray(render_frame(snap), dtype=np.int16)
    without = np.asarray(render_frame(snap, layers=[x for x in LAYERS if x != layer]), dtype=np.int16)
    assert np.abs(full - without).sum() > 1000


def test_heatmap_high_and_low_corners_differ():
    snap = make_snapshot()
    g = np.zeros((48, 48), np.float32)
    g[:24, :24] = 1.0                      # high critic at bottom-left (rows from ymin, columns from xmin)
    snap["grid"] = g
    img = np.asarray(render_frame(snap, layers=["critic"]), dtype=np.int16)
    hx, hy = to_pixel(640, snap, (-1.8, -1.8), ["critic"])
    lx, ly = to_pixel(640, snap, (1.8, 1.8), ["critic"])
    high, low = img[hy, hx], img[ly, lx]
    assert np.abs(high - low).sum() > 60
    assert high[2] > high[0] and low[0] > low[2]           # teal where the critic is high, orange where low


def test_fake_points_drawn_where_they_are():
    snap = make_snapshot()
    snap["fake"] = np.array([[0.5, -1.0], [-1.2, 1.5]], np.float32)
    snap["arrows"] = snap["arrows"][:2]
    img = np.asarray(render_frame(snap, layers=["fake"]))
    for p in snap["fake"]:
        x, y = to_pixel(640, snap, p, ["fake"])
        assert tuple(img[y, x]) == style.FAKE_RGB
    x, y = to_pixel(640, snap, (0.0, 0.0), ["fake"])
    assert tuple(img[y, x]) == (255, 255, 255)


def test_real_and_fake_colours_distinct():
    snap = make_snapshot()
    snap["real"], snap["fake"] = np.array([[1.0, 1.0]], np.float32), np.array([[-1.0, -1.0]], np.float32)
    snap["arrows"] = None
    img = np.asarray(render_frame(snap, layers=["real", "fake"]))
    assert tuple(img[to_pixel(640, snap, (1, 1), ["real", "fake"])[::-1]]) == style.REAL_RGB
    assert tuple(img[to_pixel(640, snap, (-1, -1), ["real", "fake"])[::-1]]) == style.FAKE_RGB


@pytest.mark.parametrize("key, value, match", [
    ("real", np.zeros((10, 3)), "real"),
    ("fake", np.zeros(10), "fake"),
    ("grid", np.zeros((48, 40)), "grid"),
    ("grid", np.zeros(48), "grid"),
    ("arrows", np.zeros((5, 3)), "arrows"),
    ("arrows", np.zeros((2000, 2)), "arrows"),
    ("manifold", np.zeros((15, 15)), "manifold"),
    ("plan", np.arange(400) + 1000, "plan"),
    ("plan", np.zeros(400, dtype=float), "plan"),
    ("extent", (1.0, -1.0, 0.0, 1.0), "extent"),
    ("extent", (0.0, 1.0), "extent"),
    ("status", "exploded", "status"),
])
def test_bad_input_raises(key, value, match):
    snap = make_snapshot()
    snap[key] = value
    with pytest.raises(ValueError, match=match):
        render_frame(snap)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="layers"):
        render_frame(make_snapshot(), layers=["critic", "heatmap"])
    with pytest.raises(ValueError, match="size"):
        render_frame(make_snapshot(), size=10)
    with pytest.raises(ValueError, match="real"):
        render_frame({k: v for k, v in make_snapshot().items() if k != "real"})


def test_optional_arrays_may_be_missing():
    snap = make_snapshot()
    for key in ("grid", "arrows", "manifold"):
        snap.pop(key)
    assert render_frame(snap).size == (640, 640)


def test_diverged_snapshot_renders_with_banner():
    snap = make_snapshot(status="diverged")
    snap["fake"][::3] = np.nan
    snap["grid"][:, :10] = np.inf
    snap["arrows"][:] = np.nan
    img = np.asarray(render_frame(snap, presenter=True))
    x, y = to_pixel(640, snap, (-1.9, 0.0), presenter=True)
    assert tuple(img[y, x]) == style.BANNER_RGB
    ok = np.asarray(render_frame(make_snapshot()))
    assert not (ok == style.BANNER_RGB).all(-1).any()


def test_frame_png_round_trips():
    data = frame_png(make_snapshot(), LAYERS, 480, False)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (480, 480)


def test_contour_segments_of_a_cone_lie_on_circles():
    g = 41
    yy, xx = np.mgrid[0:g, 0:g].astype(float)
    segs, level = contour_segments(np.hypot(xx - 20, yy - 20), [5.0, 10.0])
    assert len(segs) > 40 and set(level.tolist()) == {0, 1}
    radius = np.hypot(segs[..., 0] - 20, segs[..., 1] - 20)                # (S, 2)
    assert np.abs(radius - np.array([5.0, 10.0])[level][:, None]).max() < 0.25


def test_gif_has_every_frame():
    frames = [render_frame(make_snapshot(seed=s), size=200) for s in range(4)]
    img = Image.open(io.BytesIO(gif_bytes(frames, fps=5)))
    assert img.format == "GIF" and img.n_frames == 4 and img.size == (200, 200)
    assert img.info.get("loop") == 0 and img.info.get("duration") == 200
    with pytest.raises(ValueError):
        gif_bytes([], fps=5)
    with pytest.raises(ValueError, match="size"):
        gif_bytes(frames[:1] + [frames[1].resize((100, 100))], fps=5)


def test_digits_grid_size_and_ink():
    images = np.zeros((10, 8, 8), np.float32)
    images[:, 2:6, 3:5] = 1.0
    img = digits_grid(images, nrow=4, scale=3)
    assert img.mode == "RGB" and img.size == (4 * (8 * 3 + 1) + 1, 3 * (8 * 3 + 1) + 1)
    a = np.asarray(img)
    assert tuple(a[1 + 3 * 3, 1 + 4 * 3]) == (0, 0, 0)                     # ink is dark
    assert tuple(a[1, 1]) == (255, 255, 255)                                # background is white
    assert digits_grid(images.reshape(10, 64), nrow=5, scale=2).size == (5 * 17 + 1, 2 * 17 + 1)
    with pytest.raises(ValueError):
        digits_grid(np.zeros((10, 7)), nrow=4, scale=2)


def test_presenter_draws_bigger_markers():
    snap = make_snapshot()
    snap["fake"], snap["arrows"] = np.array([[0.0, 0.0]], np.float32), None
    count = [(np.asarray(render_frame(snap, layers=["fake"], presenter=p)) == style.FAKE_RGB).all(-1).sum()
             for p in (False, True)]
    assert count[1] > 2 * count[0] > 0


def test_frames_are_deterministic_and_independent():
    snap, other = make_snapshot(), make_snapshot(seed=3, status="diverged")
    first = np.asarray(render_frame(snap))
    render_frame(other, layers=["fake", "contours"], presenter=True)
    assert np.array_equal(first, np.asarray(render_frame(snap)))
