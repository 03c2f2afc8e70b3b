"""Hostile uploads (issue #14): zip bombs, deep JSON, huge .npy headers, oversized CSV files, and hostile
loads through a real worker. Every file is built here, in the test; each is refused with one plain sentence,
in bounded memory, and nothing else changes."""
import io
import pickle
import struct
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_util import (
    MB,
    ROOT,
    SMALL,
    SN,
    assert_unchanged,
    bomb,
    nested_bomb,
    outer,
    plain,
    raw_zip,
    refused,
    saved,
    state_of,
    stored,
    trained,
)
from wait_util import wait_for as _wait_for

from wgan_core.engine.config import TrainConfig
from wgan_core.engine.datasets import from_points
from wgan_core.engine.trainer import CURVE_ROWS, Run
from wgan_core.files import checkpoint, safezip
from wgan_core.files.checkpoint import CHECKPOINT_FORMAT, load_run_state, pack_checkpoint, unpack_checkpoint


@pytest.fixture(scope="module")
def base() -> dict:
    """State dicts of trained runs, one per config, copied per test."""
    return {cfg: trained(cfg).state_dict() for cfg in (SMALL, SN)}


# --------------------------------------------------------------------------- zip bombs

@pytest.mark.parametrize("declared,expect", [
    (1000, "damaged"),                                        # sizes lie low: zipfile stops there, CRC fails
    (40 * MB, "expands to more than"),                        # within the limit: stopped by the ratio cap
    (200 * MB, "larger than any file"),                       # honest: refused before reading
], ids=["lying sizes", "lying ratio", "honest sizes"])
def test_a_zip_bomb_in_the_checkpoint_stops_early(base, declared, expect):
    data = outer(bomb("run.pt", declared=declared))
    assert len(data) < MB                                     # 200 MB of zeros packed in ~200 KB
    refused(lambda: unpack_checkpoint(data), expect)


@pytest.mark.parametrize("declared", [1000, 40 * MB, 200 * MB], ids=["lying sizes", "lying ratio", "honest sizes"])
def test_a_zip_bomb_nested_in_run_pt_stops_before_torch_sees_it(base, declared):
    run_pt = nested_bomb(saved(base[SMALL]), declared=declared)
    target = trained(SMALL, steps=1)
    before = state_of(target)
    refused(lambda: unpack_checkpoint(outer(stored("run.pt", run_pt))), "This checkpoint")      # the server
    refused(lambda: target.load_state_dict(load_run_state(run_pt, "cpu")), "This checkpoint")  # the worker
    assert_unchanged(target, before)


def test_a_zip_with_thousands_of_parts_is_refused_before_its_directory_is_parsed():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(safezip.MAX_SIGNATURES + 1):
            z.writestr(f"{i}", b"")
    refused(lambda: unpack_checkpoint(buf.getvalue()), "far more parts")


def test_a_file_over_the_upload_cap_is_refused_unread():
    data = bytes(checkpoint.MAX_UPLOAD_MB * MB + 1)
    refused(lambda: unpack_checkpoint(data), "larger than any checkpoint", max_mb=1)


def test_zip_methods_other_than_stored_and_deflated_are_refused(base):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_LZMA) as z:
        z.writestr("format.txt", CHECKPOINT_FORMAT)
    refused(lambda: unpack_checkpoint(buf.getvalue()), "packed in a way")


def test_weights_only_still_refuses_a_malicious_pickle(base, tmp_path):
    class Evil:
        def __reduce__(self):
            return Path.touch, (tmp_path / "pwned",)

    z = zipfile.ZipFile(io.BytesIO(saved(base[SMALL])))
    run_pt = raw_zip([stored(i.filename, pickle.dumps(Evil(), protocol=2) if i.filename.endswith("data.pkl")
                             else z.read(i)) for i in z.infolist()])
    refused(lambda: load_run_state(run_pt, "cpu"), "not an Earthmover checkpoint")
    assert not (tmp_path / "pwned").exists()


# --------------------------------------------------------------------------- config.json and points.npy

def with_parts(config_json: bytes, points_npy: bytes | None = None, cfg: TrainConfig = SMALL) -> bytes:
    run_pt = saved(trained(cfg, steps=1).state_dict())
    extra = [stored("points.npy", points_npy)] if points_npy is not None else []
    return raw_zip([stored("format.txt", CHECKPOINT_FORMAT.encode()), stored("config.json", config_json),
                    stored("run.pt", run_pt), *extra])


@pytest.mark.parametrize("text,expect", [
    ("[" * 200_000 + "]" * 200_000, "larger than any"),                     # the probe: 200,000 deep
    ("[" * 5000 + "]" * 5000, "nested far deeper"),                         # deep, and short enough
    ('{"loss": "' + "[" * 5000 + '"}', "not valid here."),                  # brackets inside a string are text
    ("1" * 5000, "could not be read"),                                      # an int longer than Python parses
    ('{"width": ' + "9" * 400 + "}", "not valid"),
    ('{"lr_c": 1e999}', "not valid"),
    ('{"loss": {"a": [1, 2]}}', "not valid"),
    ('\xff\xfe{"x": 1}', "damaged"),
])
def test_hostile_settings_files_get_one_sentence(text, expect):
    data = with_parts(text.encode("utf-8", "surrogateescape") if not text.startswith("\xff")
                      else b"\xff\xfe{}")
    refused(lambda: unpack_checkpoint(data), expect)


def npy(shape, descr="<f8", fortran=False, body: bytes | None = None) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return f.getvalue() + (body if body is not None else b"")


CUSTOM = SMALL.replace(data="custom")
GOOD_POINTS = np.random.default_rng(0).normal(size=(50, 2))


@pytest.mark.parametrize("points,expect", [
    (npy((10**10, 2)), "more than 100,000 rows"),                          # the probe: no MemoryError
    (npy((100_001, 2), body=bytes(100_001 * 16)), "more than 100,000 rows"),
    (npy((50, 2), fortran=True, body=GOOD_POINTS.tobytes()), "not a list"),
    (npy((50, 3), body=bytes(50 * 24)), "not a list"),
    (npy((100,), body=bytes(800)), "not a list"),
    (npy((50, 2), descr="|O", body=bytes(800)), "not a list"),
    (npy((50, 2), descr="<c16", body=bytes(1600)), "not a list"),
    (npy((50, 2), body=GOOD_POINTS.tobytes()[:-8]), "shorter or longer"),
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 60000) + b"{" * 60000, "header could not be read"),
    (b"not an npy file", "header could not be read"),
    (npy((50, 2), body=np.full((50, 2), np.nan).tobytes()), "not finite"),
    (None, "points are missing"),
])
def test_hostile_point_sets_get_one_sentence(points, expect):
    data = with_parts(CUSTOM.to_json().encode(), points)
    refused(lambda: unpack_checkpoint(data), expect)


def test_good_points_come_back():
    _, cfg, pts = unpack_checkpoint(with_parts(CUSTOM.to_json().encode(), npy((50, 2), body=GOOD_POINTS.tobytes())))
    assert cfg == CUSTOM and np.array_equal(pts, GOOD_POINTS)


# --------------------------------------------------------------------------- the caps fit the largest real file

def test_the_largest_legitimate_checkpoint_fits_the_caps():
    """Width 512, depth 6, z_dim 16, curves at their caps, 100,000 points: packed, checked, loaded."""
    cfg = TrainConfig(width=512, depth=6, z_dim=16, data="custom", loss="sngan")
    pts = np.random.default_rng(1).normal(size=(100_000, 2))
    run = Run(cfg, dataset=from_points(pts), device="cpu")
    sd = run.state_dict()
    sd["gen_steps"] = sd["critic_steps"] = checkpoint.MAX_STATS_ROWS
    sd["stats"] = torch.ones(checkpoint.MAX_STATS_ROWS, sd["stats"].shape[1], dtype=torch.float64)
    sd["evals"] = torch.ones(checkpoint.MAX_EVAL_ROWS, sd["evals"].shape[1], dtype=torch.float64)
    data = pack_checkpoint(saved(sd), cfg, pts)
    assert len(data) <= checkpoint.MAX_UPLOAD_MB * MB
    del sd
    run_bytes, got, back = unpack_checkpoint(data)
    assert got == cfg and np.array_equal(back, pts)
    run.load_state_dict(load_run_state(run_bytes, "cpu"))
    assert run.gen_steps == run.stats.appended == checkpoint.MAX_STATS_ROWS   # every row read ...
    assert len(run.stats) <= CURVE_ROWS and len(run.evals) <= CURVE_ROWS     # ... and kept decimated


def test_the_server_upload_cap_is_the_largest_checkpoint():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] == checkpoint.MAX_UPLOAD_MB


# --------------------------------------------------------------------------- through a real worker process

def wait_for(cond, timeout=60.0):
    return _wait_for(cond, timeout)


def test_a_hostile_load_leaves_the_worker_alive_and_other_runs_untouched(base):
    from wgan_core.serve.handle import RunHandle
    from wgan_core.serve.pool import Pool

    cfg = TrainConfig(batch=64, width=32)
    pool = Pool(n_workers=1)
    try:
        victim, other = RunHandle(pool, cfg), RunHandle(pool, cfg.replace(seed=5))
        for h in (victim, other):
            h.step("iteration")
            h.step("iteration")
            wait_for(lambda h=h: (s := h.snapshot()) and s["gen_steps"] == 2)
        good = victim.save()
        sd = torch.load(io.BytesIO(good), weights_only=True)
        hostile = {
            "curves of the wrong width": {**sd, "stats": sd["stats"][:, :3].contiguous()},
            "evaluations of the wrong width": {**sd, "evals": sd["evals"][:, :2].contiguous()},
            "optimizer state of two parts": {**sd, "g_opt": sd["g_opt"][:2]},
            "optimizer moments of wrong size": {**sd, "c_opt": [sd["c_opt"][0], sd["c_opt"][1][:, 1:], sd["c_opt"][2]]},
            "random state cut short": {**sd, "rng": sd["rng"][:7]},
        }
        pid, rss = pool.stats()["pids"], pool.worker_stats()[0]["rss"]
        files = [saved(s) for s in hostile.values()]
        files += [nested_bomb(good, declared=1000), nested_bomb(good, declared=40 * MB), b"garbage"]
        for data in files:
            with pytest.raises(ValueError) as err:
                victim.load(data)
            plain(str(err.value))
        assert pool.stats()["pids"] == pid and pool.stats()["alive"] == 1                      # never restarted
        assert pool.worker_stats()[0]["rss"] - rss < 100 * MB                                   # bombs stopped early
        for h in (victim, other):                                                               # both as they were
            assert h.snapshot()["gen_steps"] == 2
            h.step("iteration")
            wait_for(lambda h=h: (s := h.snapshot()) and s["gen_steps"] == 3)
        victim.load(good)                                                                       # a good file still loads
        victim.step("iteration")
        wait_for(lambda: (s := victim.snapshot()) and s["gen_steps"] == 3 and s["status"] == "ok")
    finally:
        pool.close()


# --------------------------------------------------------------------------- CSV: the size is checked first, the bytes let go

def test_a_30_mb_csv_is_refused_by_its_size_and_the_uploader_lets_it_go():
    from apptest_util import open_page, page_path

    at = open_page(page_path("train_live"), timeout=90, state={"tl.own_open": True})
    up = at.file_uploader(key="tl.csv_file")
    assert up.proto.max_upload_size_mb == upload_mb()                   # the browser refuses it first
    up.set_value(("big.csv", b"1.2345678,2.3456789\n" * (30 * MB // 20), "text/csv")).run()
    assert not at.exception
    msg = at.session_state["tl.own_msg"]
    assert msg[0] == "error" and "the limit is 2 MB" in plain(msg[1].split(": ", 1)[1])
    keys = {w.key for w in at.file_uploader}
    assert "tl.csv_file" not in keys and "tl.csv_file.1" in keys        # a new, empty uploader
    assert at.file_uploader(key="tl.csv_file.1").value is None
    assert "tl.csv_file" not in at.session_state
    good = b"x,y\n" + b"".join(f"{i % 7},{i % 5}\n".encode() for i in range(40))
    at.file_uploader(key="tl.csv_file.1").set_value(("ok.csv", good, "text/csv")).run()
    assert at.session_state["tl.own_msg"][0] == "success" and at.session_state["tl.points_src"] == "upload"
    assert "tl.csv_file.2" in {w.key for w in at.file_uploader}


def upload_mb() -> int:
    from wgan_core.files import upload
    return upload.MAX_BYTES // MB
