"""Helpers of the hostile-file tests (issue #14): plain-sentence and memory checks, hand-made zips, run states."""
import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.trainer import Run
from wgan_core.files.checkpoint import CHECKPOINT_FORMAT

ROOT = Path(__file__).resolve().parent.parent
SMALL = TrainConfig(width=16, depth=1, batch=32, n_critic=2)
SN = SMALL.replace(loss="sngan")
INTERNALS = ("Traceback", "unpack", "Error", "tensor", "Tensor", "torch", "dtype", "shape", "None", "pickle",
             "<", "0x", "\n", "size mismatch", "KeyError", "index")
MB = 2**20


def plain(msg: str) -> str:
    """``msg`` is one plain sentence for a student (no Python or torch internals)."""
    assert 10 < len(msg) < 260, msg
    assert msg[0].isupper() and msg.endswith("."), msg
    assert not re.search(r"[.!?] +[A-Z]", msg[:-1]), f"more than one sentence: {msg}"
    for word in INTERNALS:
        assert word not in msg, (word, msg)
    return msg


def peak_bytes(fn) -> tuple[object, int]:
    """(fn()'s result or exception, peak bytes Python and numpy allocated while it ran)."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except ValueError as err:
            out = err
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(fn, expect: str, max_mb: float = 32) -> str:
    """fn() raises ValueError whose text contains ``expect``, peaking under ``max_mb`` MB."""
    out, peak = peak_bytes(fn)
    assert isinstance(out, ValueError), f"not refused: {type(out)}"
    assert expect in plain(str(out)), str(out)
    assert peak < max_mb * MB, f"peak {peak / MB:.0f} MB"
    return str(out)


# --------------------------------------------------------------------------- building files

def saved(sd: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def trained(cfg: TrainConfig = SMALL, steps: int = 3) -> Run:
    r = Run(cfg, device="cpu")
    r.step(steps)
    r.snapshot(exact=True)                                   # an evaluation row
    return r


def raw_zip(entries) -> bytes:
    """A zip written by hand from (name, payload, method, declared size, crc): sizes may lie."""
    out, central = io.BytesIO(), []
    for name, payload, method, size, crc in entries:
        off, n = out.tell(), name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(payload), size, len(n), 0)
                  + n + payload)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(payload), size,
                                   len(n), 0, 0, 0, 0, 0, off) + n)
    cd, start = b"".join(central), out.tell()
    out.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), start, 0))
    return out.getvalue()


def stored(name: str, data: bytes):
    return name, data, zipfile.ZIP_STORED, len(data), zlib.crc32(data)


def bomb(name: str, mb: int = 200, declared: int | None = None):
    """A deflated member expanding to ``mb`` MB of zeros, declaring ``declared`` bytes (default: the truth)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MB)
    payload = b"".join(c.compress(zeros) for _ in range(mb)) + c.flush()
    return name, payload, zipfile.ZIP_DEFLATED, mb * MB if declared is None else declared, 0


def outer(run_member, cfg: TrainConfig = SMALL, extra=()) -> bytes:
    return raw_zip([stored("format.txt", CHECKPOINT_FORMAT.encode()), stored("config.json", cfg.to_json().encode()),
                    run_member, *extra])


def nested_bomb(run_pt: bytes, **kw) -> bytes:
    """A real run.pt with its first tensor record replaced by a zip bomb."""
    z = zipfile.ZipFile(io.BytesIO(run_pt))
    return raw_zip([bomb(i.filename, **kw) if i.filename.endswith("/data/0") else stored(i.filename, z.read(i))
                    for i in z.infolist()])



# --------------------------------------------------------------------------- the run is left as it was

def state_of(r: Run) -> dict:
    return {"g_flat": r.g_flat.clone(), "c_flat": r.c_flat.clone(),
            "opt": [t.clone() for st in (r.g_opt, r.c_opt) for t in (st.t, st.m, st.v)],
            "sn_u": [u.clone() for u in r.sn_u], "rng": r.gen.get_state(), "steps": (r.gen_steps, r.critic_steps),
            "stats": np.array(r.stats), "evals": np.array(r.evals), "config": r.config,
            "status": (r.status, r.message)}


def assert_unchanged(r: Run, before: dict) -> None:
    after = state_of(r)
    for k, a in before.items():
        b = after[k]
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b), k
        elif isinstance(a, list):
            assert len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b)), k
        elif isinstance(a, np.ndarray):
            assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), k
        else:
            assert a == b, k
