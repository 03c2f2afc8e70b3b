"""Compact binary snapshots for the browser's live view (pure numpy; no torch, no streamlit).

A *frame* is one snapshot of a run; a *payload* is what one fragment run sends to one
view: a JSON header, optionally the run's real points, and 0..k frames. The browser
(``ui/live_view/wire.js``) decodes the same layout with DataView and typed-array views.

Quantisation (step sizes are what the round trip guarantees, see ``point_step`` etc.)

``fake`` / ``manifold`` (points)
    uint16 over the *padded* extent: x in [xmin - w/2, xmax + w/2] (w = xmax - xmin, the
    same for y), code = round((x - lo) / (hi - lo) * 65534), values outside clamped.
    Code 65535 means "not finite" (NaN, +-inf) and decodes to NaN. Step (hi - lo) / 65534,
    i.e. 2 w / 65534: ~3e-5 of the plot width.
``grid`` (critic values)
    uint8 with per-frame ``lo``, ``hi`` (float32, the finite min and max):
    code = round((v - lo) / (hi - lo) * 254); 255 = not finite. Step (hi - lo) / 254.
``arrows`` (generator-gradient vectors)
    int16 with a per-frame ``scale`` (float32, max |finite component| / 32767):
    code = round(v / scale); -32768 = not finite. Step ``scale``.
``plan``
    uint16 indices into ``real`` (exact).

Frame layout, little-endian; every array starts at a multiple of 4 bytes from the frame
start and every frame starts at a multiple of 8 in a payload, so JS can take typed-array
views of an ArrayBuffer that holds the payload at offset 0 (copy it first: see ui/live_view)::

    off  type      field
    0    u8[4]     magic b"EMF1"
    4    u32       byte length of this frame (header + arrays, before the payload's padding)
    8    f64       t: training-process monotonic seconds when the snapshot was made
    16   f64[4]    extent xmin, xmax, ymin, ymax
    48   u32       serial (increasing within a run)
    52   u32       run id (a new run = a new id)
    56   u32       gen_steps
    60   u16       N: fake points
    62   u16       G: grid side (0 = no grid)
    64   u16       Na: arrows, at fake[:Na] (0 = none)
    66   u16       M: manifold side (0 = none)
    68   u16       P: plan length (0 = none)
    70   u8        status: 0 ok, 1 diverged
    71   u8        0 (reserved)
    72   f32       grid lo
    76   f32       grid hi
    80   f32       arrow scale
    84   u32       0 (reserved)
    88   u16[N,2]  fake, row-major (x, y), 4 N bytes
    ..   u8[G,G]   grid, row 0 at ymin, padded to 4
    ..   i16[Na,2] arrows, 4 Na bytes
    ..   u16[M,M,2] manifold, 4 M^2 bytes
    ..   u16[P]    plan, padded to 4

Default frame (N 1000, G 48, Na 150, no manifold, no plan): 88 + 4000 + 2304 + 600 =
6,992 bytes; with a 15 x 15 manifold 7,892; as the live view's (also a 400-point plan) 8,692.

A *pictures frame* is one snapshot of a run on pictures (the Images page: 64 generated
digits), drawn by the same view as a grid. Ink ``x`` in [0, 1] (0 paper; not finite =
paper) as bytes, ``round(255 * clip(x, 0, 1))``: the round trip is within 1/510. Layout:
magic b"EMD1" (u8[4]) | u32 length | f64 t | u32 serial | u32 run | u32 gen_steps |
u16 n | u16 side | u8 status | 7 reserved bytes | u8[n, side, side] ink, padded to 4
(header 40 bytes; 64 digits of 8 x 8: 4,136 bytes; of MNIST's 28 x 28: 50,216).

Payload layout::

    0    u8[4]     magic b"EMP1"
    4    u32       H: header JSON length in bytes (UTF-8)
    8    u32       k: number of frames
    12   u32       R: number of real points (0 = none sent)
    16   f64[4]    bounding box of the finite real points (zeros when R = 0)
    48   u8[H]     header JSON, padded to 8
    ..   u16[R,2]  real points over their bounding box (code 65534 = max, 65535 = not
                   finite), padded to 8
    ..   frames, each padded to 8 (a frame's length is at its offset 4)
"""
from __future__ import annotations

import json
import struct

import numpy as np

FRAME_MAGIC, PAYLOAD_MAGIC, PICTURES_MAGIC = b"EMF1", b"EMP1", b"EMD1"
FRAME_HEAD = struct.Struct("<4sId4dIIIHHHHHBBfffI")                       # 88 bytes, see module doc
PICTURES_HEAD = struct.Struct("<4sIdIIIHHB7x")                            # 40 bytes
MAX_PICTURES, MAX_SIDE = 256, 64
PAYLOAD_HEAD = struct.Struct("<4sIII4d")                                  # 48 bytes
STATUS = ("ok", "diverged")
PAD_FRAC = 0.5              # points are quantised over the extent widened by this much each side
U16_NAN, U16_MAX = 65535, 65534
U8_NAN, U8_MAX = 255, 254
I16_NAN, I16_MAX = -32768, 32767
MAX_POINTS = 65535          # N, Na and P are u16; plan indices too


def _pad(n: int, k: int) -> int:
    return -n % k


# --------------------------------------------------------------------------- quantisers

def padded_box(extent) -> np.ndarray:
    """(xlo, xhi, ylo, yhi): the extent widened by PAD_FRAC of its width (height) on each side."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    dx, dy = (x1 - x0) * PAD_FRAC, (y1 - y0) * PAD_FRAC
    return np.array([x0 - dx, x1 + dx, y0 - dy, y1 + dy])


def point_step(box) -> np.ndarray:
    """Quantisation step (x, y) of points over ``box`` (xlo, xhi, ylo, yhi)."""
    return np.array([box[1] - box[0], box[3] - box[2]]) / U16_MAX


def _q_points(a: np.ndarray, box) -> np.ndarray:
    lo, span = np.array([box[0], box[2]]), np.array([box[1] - box[0], box[3] - box[2]])
    ok = np.isfinite(a)
    code = np.clip(np.rint((np.where(ok, a, 0) - lo) / span * U16_MAX), 0, U16_MAX)
    return np.where(ok, code, U16_NAN).astype("<u2")


def _dq_points(code: np.ndarray, box) -> np.ndarray:
    lo, span = np.array([box[0], box[2]]), np.array([box[1] - box[0], box[3] - box[2]])
    out = lo + code.astype(np.float64) / U16_MAX * span
    return np.where(code == U16_NAN, np.nan, out).astype(np.float32)


def _q_grid(g: np.ndarray) -> tuple[np.ndarray, float, float]:
    ok = np.isfinite(g)
    lo, hi = (float(g[ok].min()), float(g[ok].max())) if ok.any() else (0.0, 0.0)
    lo, hi = float(np.float32(lo)), float(np.float32(hi))                   # what the header stores
    span = hi - lo if hi > lo else 1.0
    code = np.clip(np.rint((np.where(ok, g, lo) - lo) / span * U8_MAX), 0, U8_MAX)
    return np.where(ok, code, U8_NAN).astype(np.uint8), lo, hi


def _dq_grid(code: np.ndarray, lo: float, hi: float) -> np.ndarray:
    out = lo + code.astype(np.float64) / U8_MAX * (hi - lo)
    return np.where(code == U8_NAN, np.nan, out).astype(np.float32)


def _q_arrows(v: np.ndarray) -> tuple[np.ndarray, float]:
    ok = np.isfinite(v)
    big = float(np.abs(v[ok]).max()) if ok.any() else 0.0
    scale = float(np.float32(big / I16_MAX)) if big > 0 else 1.0
    code = np.clip(np.rint(np.where(ok, v, 0) / scale), -I16_MAX, I16_MAX)
    return np.where(ok, code, I16_NAN).astype("<i2"), scale


# --------------------------------------------------------------------------- validation

def _arr(name: str, a, ok, want: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not ok(a.shape):
        raise ValueError(f"frame {name!r} must have shape {want}, got {a.shape}")
    return a


def _extent(extent) -> np.ndarray:
    e = np.asarray(extent, dtype=np.float64)
    if e.shape != (4,) or not np.isfinite(e).all() or e[0] >= e[1] or e[2] >= e[3]:
        raise ValueError(f"extent must be finite (xmin, xmax, ymin, ymax) with min < max, got {extent!r}")
    return e


def _uint(name: str, v, bits: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) < 2 ** bits:
        raise ValueError(f"{name} must be an int in [0, 2**{bits}), got {v!r}")
    return int(v)


# --------------------------------------------------------------------------- frames

def encode_frame(*, serial: int, run: int, t: float, extent, fake, gen_steps: int = 0, status: str = "ok",
                 grid=None, arrows=None, manifold=None, plan=None) -> bytes:
    """One snapshot as bytes (layout in the module doc). Raises ValueError on malformed input.

    fake (N, 2); grid (G, G), row 0 at ymin; arrows (Na, 2) at fake[:Na]; manifold (M, M, 2);
    plan (P,) ints: fake[i] is transported to real[plan[i]], P <= N.
    """
    e = _extent(extent)
    if not isinstance(t, (int, float, np.floating, np.integer)) or not np.isfinite(t):
        raise ValueError(f"t must be a finite number of seconds, got {t!r}")
    if status not in STATUS:
        raise ValueError(f"status must be one of {STATUS}, got {status!r}")
    f = _arr("fake", fake, lambda s: len(s) == 2 and s[1] == 2 and 1 <= s[0] <= MAX_POINTS, "(N, 2), 1 <= N <= 65535")
    box = padded_box(e)
    parts, G, Na, M, P, lo, hi, scale = [_q_points(f, box).tobytes()], 0, 0, 0, 0, 0.0, 0.0, 0.0
    if grid is not None:
        g = _arr("grid", grid, lambda s: len(s) == 2 and s[0] == s[1] and 2 <= s[0] <= 1024, "(G, G), 2 <= G <= 1024")
        G = len(g)
        code, lo, hi = _q_grid(g)
        parts.append(code.tobytes() + bytes(_pad(G * G, 4)))
    if arrows is not None:
        a = _arr("arrows", arrows, lambda s: len(s) == 2 and s[1] == 2 and s[0] <= len(f), f"(Na, 2), Na <= N = {len(f)}")
        Na = len(a)
        code, scale = _q_arrows(a)
        parts.append(code.tobytes())
    if manifold is not None:
        m = _arr("manifold", manifold, lambda s: len(s) == 3 and s[0] == s[1] and s[2] == 2 and 2 <= s[0] <= 181,
                 "(M, M, 2), 2 <= M <= 181")
        M = len(m)
        parts.append(_q_points(m, box).tobytes())
    if plan is not None:
        p = np.asarray(plan)
        if p.ndim != 1 or len(p) > len(f) or (p.size and (p.dtype.kind not in "iu" or p.min() < 0 or p.max() > MAX_POINTS)):
            raise ValueError(f"plan must be (P,) ints in [0, 65535] with P <= N = {len(f)}, got {p.dtype} {p.shape}")
        P = len(p)
        parts.append(p.astype("<u2").tobytes() + bytes(_pad(2 * P, 4)))
    body = b"".join(parts)
    head = FRAME_HEAD.pack(FRAME_MAGIC, FRAME_HEAD.size + len(body), float(t), *e.tolist(),
                           _uint("serial", serial, 32), _uint("run", run, 32), _uint("gen_steps", gen_steps, 32),
                           len(f), G, Na, M, P, STATUS.index(status), 0, lo, hi, scale, 0)
    return head + body


def encode_pictures(*, serial: int, run: int, t: float, pictures, gen_steps: int = 0, status: str = "ok") -> bytes:
    """One snapshot of a run on pictures as bytes (the pictures frame of the module doc): ``pictures``
    (n, side, side), pixel values in [0, 1] (0 paper, 1 ink; clipped, not finite = paper). Raises ValueError
    on malformed input."""
    if not isinstance(t, (int, float, np.floating, np.integer)) or not np.isfinite(t):
        raise ValueError(f"t must be a finite number of seconds, got {t!r}")
    if status not in STATUS:
        raise ValueError(f"status must be one of {STATUS}, got {status!r}")
    p = _arr("pictures", pictures, lambda s: len(s) == 3 and 1 <= s[0] <= MAX_PICTURES and s[1] == s[2]
             and 2 <= s[1] <= MAX_SIDE, f"(n, side, side), 1 <= n <= {MAX_PICTURES}, 2 <= side <= {MAX_SIDE}")
    ink = np.rint(np.clip(np.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0), 0, 1) * 255).astype(np.uint8)
    body = ink.tobytes() + bytes(_pad(ink.size, 4))
    head = PICTURES_HEAD.pack(PICTURES_MAGIC, PICTURES_HEAD.size + ink.size, float(t), _uint("serial", serial, 32),
                              _uint("run", run, 32), _uint("gen_steps", gen_steps, 32), len(p), p.shape[1],
                              STATUS.index(status))
    return head + body


def frame_head(b, off: int = 0) -> tuple[int, int, int, int]:
    """(run, serial, gen_steps, byte length) of the frame (either kind) at ``off`` of ``b``, from its header."""
    magic = bytes(b[off:off + 4])
    if magic == FRAME_MAGIC:
        _, length, _, *_, serial, run, gen_steps = FRAME_HEAD.unpack_from(b, off)[:10]
        return run, serial, gen_steps, length
    if magic == PICTURES_MAGIC:
        _, length, _, serial, run, gen_steps, *_ = PICTURES_HEAD.unpack_from(b, off)
        return run, serial, gen_steps, length
    raise ValueError(f"not an Earthmover frame at offset {off} (magic {magic!r})")


def _decode_pictures(b: memoryview) -> dict:
    if len(b) < PICTURES_HEAD.size:
        raise ValueError("corrupt pictures frame: too short")
    _, length, t, serial, run, gen_steps, n, side, status = PICTURES_HEAD.unpack_from(b)
    if length > len(b) or length != PICTURES_HEAD.size + n * side * side or status >= len(STATUS):
        raise ValueError(f"corrupt pictures frame: length {length} of {len(b)} bytes, {n} x {side}^2, status {status}")
    ink = np.frombuffer(b, np.uint8, n * side * side, PICTURES_HEAD.size).reshape(n, side, side)
    return {"kind": "pictures", "serial": serial, "run": run, "t": t, "gen_steps": gen_steps,
            "status": STATUS[status], "pictures": ink.astype(np.float32) / 255}


def decode_frame(b: bytes) -> dict:
    """The fields of ``encode_frame`` back, arrays as float32 (NaN where not finite; plan as int); a pictures
    frame (``encode_pictures``) as {"kind": "pictures", ..., "pictures": (n, side, side) float32 in [0, 1]}."""
    b = memoryview(b)
    if bytes(b[:4]) == PICTURES_MAGIC:
        return _decode_pictures(b)
    if len(b) < FRAME_HEAD.size or bytes(b[:4]) != FRAME_MAGIC:
        raise ValueError("not an Earthmover frame (bad magic or too short)")
    (_, length, t, x0, x1, y0, y1, serial, run, gen_steps, N, G, Na, M, P, status, _, lo, hi, scale,
     _) = FRAME_HEAD.unpack_from(b)
    if length > len(b) or status >= len(STATUS):
        raise ValueError(f"corrupt frame: length {length} of {len(b)} bytes, status {status}")
    extent = (x0, x1, y0, y1)
    box, off = padded_box(extent), FRAME_HEAD.size

    def take(dtype: str, n: int, align: int = 4) -> np.ndarray:
        nonlocal off
        a = np.frombuffer(b, dtype=dtype, count=n, offset=off)
        off += a.nbytes + _pad(a.nbytes, align)
        return a

    out = {"kind": "points", "serial": serial, "run": run, "t": t, "gen_steps": gen_steps, "status": STATUS[status],
           "extent": extent, "fake": _dq_points(take("<u2", 2 * N).reshape(N, 2), box),
           "grid": None, "arrows": None, "manifold": None, "plan": None,
           "grid_lo": lo, "grid_hi": hi, "arrow_scale": scale}
    if G:
        out["grid"] = _dq_grid(take("u1", G * G).reshape(G, G), lo, hi)
    if Na:
        code = take("<i2", 2 * Na).reshape(Na, 2)
        out["arrows"] = np.where(code == I16_NAN, np.nan, code * np.float64(scale)).astype(np.float32)
    if M:
        out["manifold"] = _dq_points(take("<u2", 2 * M * M).reshape(M, M, 2), box)
    if P:
        out["plan"] = take("<u2", P).astype(np.int64)
    return out


# --------------------------------------------------------------------------- payloads

def encode_payload(header: dict, frames: list[bytes], real=None) -> bytes:
    """A header (JSON-serialisable dict), optionally the run's real points (R, 2), and encoded frames."""
    if not isinstance(header, dict):
        raise ValueError(f"header must be a dict, got {type(header).__name__}")
    js = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    bbox, rbytes, R = (0.0,) * 4, b"", 0
    if real is not None:
        r = _arr("real", real, lambda s: len(s) == 2 and s[1] == 2 and s[0] <= MAX_POINTS, "(R, 2), R <= 65535")
        R, ok = len(r), np.isfinite(r).all(1)
        bbox = (0.0, 1.0, 0.0, 1.0)
        if ok.any():
            lo, hi = r[ok].min(0), r[ok].max(0)
            hi = np.where(hi > lo, hi, lo + 1.0)
            bbox = (lo[0], hi[0], lo[1], hi[1])
        rbytes = _q_points(r, bbox).tobytes()
    parts = [PAYLOAD_HEAD.pack(PAYLOAD_MAGIC, len(js), len(frames), R, *map(float, bbox)),
             js, bytes(_pad(len(js), 8)), rbytes, bytes(_pad(len(rbytes), 8))]
    for i, fr in enumerate(frames):
        if not isinstance(fr, (bytes, bytearray)) or bytes(fr[:4]) not in (FRAME_MAGIC, PICTURES_MAGIC):
            raise ValueError(f"frames[{i}] is not an encoded frame (use encode_frame or encode_pictures)")
        parts += [bytes(fr), bytes(_pad(len(fr), 8))]
    return b"".join(parts)


def decode_payload(b: bytes) -> dict:
    """{"header": dict, "real": (R, 2) float32 or None, "frames": [decode_frame dicts]}."""
    b = memoryview(b)
    if len(b) < PAYLOAD_HEAD.size or bytes(b[:4]) != PAYLOAD_MAGIC:
        raise ValueError("not an Earthmover payload (bad magic or too short)")
    _, H, k, R, *bbox = PAYLOAD_HEAD.unpack_from(b)
    off = PAYLOAD_HEAD.size
    header = json.loads(bytes(b[off:off + H]))
    off += H + _pad(H, 8)
    real = None
    if R:
        real = _dq_points(np.frombuffer(b, "<u2", 2 * R, off).reshape(R, 2), bbox)
        off += 4 * R + _pad(4 * R, 8)
    frames = []
    for _ in range(k):
        (length,) = struct.unpack_from("<I", b, off + 4)
        frames.append(decode_frame(b[off:off + length]))
        off += length + _pad(length, 8)
    return {"header": header, "real": real, "frames": frames}


def merge_header(payload: bytes, **extra) -> bytes:
    """The payload with ``extra`` keys set in its header (the rest is copied as is)."""
    b = memoryview(payload)
    if len(b) < PAYLOAD_HEAD.size or bytes(b[:4]) != PAYLOAD_MAGIC:
        raise ValueError("not an Earthmover payload (bad magic or too short)")
    _, H, k, R, *bbox = PAYLOAD_HEAD.unpack_from(b)
    start = PAYLOAD_HEAD.size
    header = {**json.loads(bytes(b[start:start + H])), **extra}
    js = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join([PAYLOAD_HEAD.pack(PAYLOAD_MAGIC, len(js), k, R, *bbox), js, bytes(_pad(len(js), 8)),
                     b[start + H + _pad(H, 8):]])
