"""MNIST loaders (issue #16): Keras .npz and IDX files written here, valid and broken in each way."""
from __future__ import annotations

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest
import torch
from hostile_util import MB, bomb, plain, raw_zip, refused, stored

from wgan_core.engine import datasets
from wgan_core.files import mnist
from wgan_core.files.mnist import MnistError
from wgan_core.lessons.images import Standardised

N_TRAIN, N_TEST = 150, 110


def pictures(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n small fake digits (N, 28, 28) uint8 whose first pixel is 20 x their label, and the labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = (rng.random((n, 28, 28)) < 0.2).astype(np.uint8) * 255
    x[:, 0, 0] = y * 20
    return x, y


def idx(a: np.ndarray, code: int = 0x08) -> bytes:
    return b"\0\0" + bytes([code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def keras(**change) -> dict:
    (xt, yt), (xs, ys) = pictures(N_TRAIN), pictures(N_TEST, 1)
    return {"x_train": xt, "y_train": yt, "x_test": xs, "y_test": ys, **change}


def idx_files(gz: bool = False, **change) -> dict[str, bytes]:
    a = keras()
    files = {"train-images-idx3-ubyte": idx(a["x_train"]), "train-labels-idx1-ubyte": idx(a["y_train"]),
             "t10k-images-idx3-ubyte": idx(a["x_test"]), "t10k-labels-idx1-ubyte": idx(a["y_test"]), **change}
    return {n + ".gz": gzip.compress(b) for n, b in files.items()} if gz else files


def gzipped(name: str, data: bytes) -> dict[str, bytes]:
    """The valid raw IDX files with ``name`` replaced by ``name.gz`` holding ``data``."""
    files = idx_files()
    del files[name]
    return {**files, name + ".gz": data}


def refused_with(files: dict, expect: str, max_mb: float = 32) -> str:
    return refused(lambda: mnist.from_files(files), expect, max_mb)


# --------------------------------------------------------------------------- valid files

def check(data: mnist.MnistData) -> None:
    assert data.x_train.shape == (N_TRAIN, 28, 28) and data.x_test.shape == (N_TEST, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    assert (data.x_train[:, 0, 0] == data.y_train * 20).all()          # each label stays with its picture
    assert (data.x_test[:, 0, 0] == data.y_test * 20).all()
    assert data.pixels().shape == (N_TRAIN, 784) and not data.pixels().flags.writeable


def test_keras_npz_loads():
    check(mnist.from_files({"mnist.npz": npz(**keras())}))


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_load_raw_and_gzipped(gz):
    check(mnist.from_files(idx_files(gz)))


def test_idx_names_with_a_dot_and_any_case():
    files = {n.replace("-idx", ".idx").upper(): b for n, b in idx_files().items()}
    check(mnist.from_files(files))


def test_a_fixed_subset_is_kept(monkeypatch):
    monkeypatch.setattr(mnist, "N_TRAIN", 100)
    data = mnist.from_files({"mnist.npz": npz(**keras())})
    again = mnist.from_files(idx_files())
    assert len(data.x_train) == 100 and data.n_train_total == N_TRAIN
    assert np.array_equal(data.x_train, again.x_train) and (data.x_train[:, 0, 0] == data.y_train * 20).all()


def test_uploads_are_size_checked_before_any_is_read(monkeypatch):
    class Upload:
        def __init__(self, name, data, size=None):
            self.name, self.data, self.size, self.read = name, data, len(data) if size is None else size, False

        def getvalue(self):
            self.read = True
            return self.data
    files = [Upload(n, b) for n, b in idx_files().items()]
    check(mnist.from_uploads(files))
    files = [Upload(n, b) for n, b in idx_files().items()] + [Upload("huge.npz", b"", size=mnist.MAX_FILE_BYTES + 1)]
    refused(lambda: mnist.from_uploads(files), "MB")
    assert not any(f.read for f in files)


def test_from_env_reads_a_file_or_a_folder(tmp_path):
    assert mnist.from_env({}) is None and mnist.from_env({mnist.ENV: " "}) is None
    (tmp_path / "mnist.npz").write_bytes(npz(**keras()))
    check(mnist.from_env({mnist.ENV: str(tmp_path / "mnist.npz")}))
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, b in idx_files(gz=True).items():
        (folder / name).write_bytes(b)
    (folder / "README").write_text("other files in the folder are ignored")
    check(mnist.from_env({mnist.ENV: str(folder)}))
    with pytest.raises(MnistError) as err:
        mnist.from_env({mnist.ENV: str(tmp_path / "nothing")})
    plain(str(err.value))


def test_the_run_sees_the_pixels_that_standardised_maps_back():
    data = mnist.from_files({"mnist.npz": npz(**keras())})
    ds, scale = mnist.dataset(data), Standardised.of(data.pixels())
    assert ds.dim == 784 and ds.name == "mnist"
    drawn = ds.sample(50, torch.Generator().manual_seed(0)).double().numpy()
    back = scale.to_vectors(drawn)                                       # [-1, 1] pixels
    rows = (back + 1) * 255 / 2
    assert np.abs(rows - np.rint(rows)).max() < 1e-3                     # exactly some of the pictures
    assert {r.tobytes() for r in np.rint(rows).astype(np.uint8)} <= {r.tobytes() for r in data.pixels()}
    a, b = drawn[0], drawn[1]                                            # distances scale by `factor`
    assert np.linalg.norm(back[0] - back[1]) == pytest.approx(scale.factor * np.linalg.norm(a - b), rel=1e-5)
    worker = datasets.from_points(data.pixels())                         # what the worker builds from the payload
    assert torch.equal(worker.sample(20, torch.Generator().manual_seed(3)), ds.sample(20, torch.Generator().manual_seed(3)))


def test_mnist_is_a_data_set_name_that_needs_its_pictures():
    assert "mnist" in datasets.names()
    with pytest.raises(ValueError) as err:
        datasets.get("mnist")
    plain(str(err.value))


# --------------------------------------------------------------------------- broken IDX files

def test_bad_magic_number():
    refused_with(idx_files(**{"train-images-idx3-ubyte": b"PK\x03\x04" + bytes(100)}), "magic number")


def test_not_unsigned_bytes():
    x = keras()["x_train"].astype(">f4")
    refused_with(idx_files(**{"train-images-idx3-ubyte": idx(x, code=0x0D)}), "unsigned bytes")


def test_wrong_number_of_dimensions():
    refused_with(idx_files(**{"train-labels-idx1-ubyte": idx(keras()["y_train"].reshape(-1, 1))}), "dimensions")


def test_pictures_that_are_not_28_by_28():
    refused_with(idx_files(**{"t10k-images-idx3-ubyte": idx(np.zeros((N_TEST, 27, 28), np.uint8))}), "27 x 28")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(gz):
    raw = idx(keras()["x_train"])[:-100]
    refused_with(idx_files(**{"train-images-idx3-ubyte": gzip.compress(raw) if gz else raw}), "truncated")


def test_truncated_header():
    refused_with(idx_files(**{"train-images-idx3-ubyte": idx(keras()["x_train"])[:9]}), "header")


def test_trailing_bytes():
    refused_with(idx_files(**{"train-labels-idx1-ubyte": idx(keras()["y_train"]) + b"\0"}), "longer than its header")


def test_damaged_gzip():
    good = gzip.compress(idx(keras()["x_train"]))
    refused_with(gzipped("train-images-idx3-ubyte", good[:40] + bytes(60) + good[100:]), "decompress")


def test_label_count_mismatch():
    refused_with(idx_files(**{"train-labels-idx1-ubyte": idx(keras()["y_train"][:-1])}), "labels")


def test_labels_outside_0_to_9():
    y = keras()["y_test"].copy()
    y[3] = 12
    refused_with(idx_files(**{"t10k-labels-idx1-ubyte": idx(y)}), "outside 0..9")


def test_a_header_promising_a_billion_pictures_is_refused_before_reading():
    huge = b"\0\0\x08\x03" + struct.pack(">3I", 10**9, 28, 28) + bytes(1000)
    refused_with(idx_files(**{"train-images-idx3-ubyte": huge}), "items", max_mb=1)


def test_too_few_pictures():
    refused_with(idx_files(**{"train-images-idx3-ubyte": idx(np.zeros((5, 28, 28), np.uint8))}), "items")


def test_a_gzip_bomb_stops_at_the_size_its_header_allows():
    n = 60_000
    head = b"\0\0\x08\x03" + struct.pack(">3I", n, 28, 28)
    c = zlib_stream(head, 16 + n * 784 + 100 * MB)                      # 100 MB more than the header says
    refused_with(gzipped("train-images-idx3-ubyte", c), "longer than its header", max_mb=120)


def zlib_stream(head: bytes, total: int) -> bytes:
    """A gzip file: ``head`` then zeros up to ``total`` bytes, compressed in pieces (no huge buffer)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as g:
        g.write(head)
        left = total - len(head)
        while left:
            g.write(bytes(min(left, MB)))
            left -= min(left, MB)
    return out.getvalue()


def test_missing_and_duplicate_and_unknown_files():
    files = idx_files()
    del files["t10k-labels-idx1-ubyte"]
    refused_with(files, "t10k-labels is missing")
    refused_with({**idx_files(), "train-images-idx3-ubyte.gz": gzip.compress(b"x")}, "Two files")
    refused_with({**idx_files(), "notes.txt": b"hello"}, "neither")


def test_an_oversized_file_is_refused_before_reading(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist, "MAX_FILE_BYTES", 1000)
    refused_with(idx_files(), "MB")
    (tmp_path / "mnist.npz").write_bytes(npz(**keras()))
    refused(lambda: mnist.from_env({mnist.ENV: str(tmp_path / "mnist.npz")}), "accepted")


# --------------------------------------------------------------------------- broken .npz files

def test_npz_missing_an_array():
    a = keras()
    del a["y_test"]
    refused_with({"mnist.npz": npz(**a)}, "lacks y_test")


def test_npz_pictures_of_the_wrong_dtype():
    refused_with({"mnist.npz": npz(**keras(x_train=keras()["x_train"].astype(np.float32)))}, "float32")


def test_npz_labels_that_are_not_whole_numbers():
    refused_with({"mnist.npz": npz(**keras(y_test=keras()["y_test"].astype(np.float64)))}, "whole numbers")


def test_npz_object_array_is_refused_without_unpickling():
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))
    buf = io.BytesIO()
    np.save(buf, np.array([Boom()] * 3, dtype=object), allow_pickle=True)
    a = keras()
    files = {f"{k}.npy": (buf.getvalue() if k == "y_train" else _npy(v)) for k, v in a.items()}
    refused_with({"mnist.npz": _zip(files)}, "not an array of numbers")


def test_npz_wrong_dimensions():
    refused_with({"mnist.npz": npz(**keras(x_test=np.zeros((N_TEST, 28, 27), np.uint8)))}, "28 x 27")
    refused_with({"mnist.npz": npz(**keras(x_test=np.zeros((N_TEST, 784), np.uint8)))}, "dimensions")


def test_npz_label_count_mismatch():
    refused_with({"mnist.npz": npz(**keras(y_train=keras()["y_train"][:-1]))}, "labels")


def test_npz_truncated_array():
    a = keras()
    files = {f"{k}.npy": _npy(v)[: -50 if k == "x_train" else None] for k, v in a.items()}
    refused_with({"mnist.npz": _zip(files)}, "truncated")


def test_npz_that_is_not_a_zip():
    refused_with({"mnist.npz": b"not a zip at all" * 10}, "not a valid .npz")
    refused_with({"mnist.npz": b"PK\x03\x04" + bytes(200)}, "zip archive")


def test_npz_zip_bomb_stops_early():
    a = keras()
    members = [stored(f"{k}.npy", _npy(v)) for k, v in a.items() if k != "x_train"]
    data = raw_zip([bomb("x_train.npy", mb=200, declared=1000), *members])
    refused_with({"mnist.npz": data}, "expands to more", max_mb=100)


def test_every_message_is_one_plain_sentence():
    a = keras()
    cases = [{"mnist.npz": npz(**{k: v for k, v in a.items() if k != "x_test"})},
             idx_files(**{"train-images-idx3-ubyte": b"\0\0\x08\x03"}),
             {"train-images-idx3-ubyte": idx(a["x_train"])}]
    for files in cases:
        with pytest.raises(MnistError) as err:
            mnist.from_files(files)
        plain(str(err.value))


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, b in members.items():
            z.writestr(name, b)
    return out.getvalue()
