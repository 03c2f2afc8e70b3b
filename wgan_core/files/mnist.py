"""MNIST from the user's own files: Keras' ``mnist.npz`` or the four IDX files, validated with bounded memory.

Nothing is downloaded. The data come from a path on the server (`from_env`:
the environment variable ``EARTHMOVER_MNIST`` names an .npz file or a folder
with the IDX files) or from an upload (`from_files`: one .npz, or the four IDX
files). Every rejection is an `MnistError` (a ValueError) whose message is one
plain sentence for the student.

Formats
-------
Keras ``mnist.npz``
    a zip of four .npy arrays: ``x_train`` (N, 28, 28) uint8, ``y_train`` (N,),
    ``x_test`` (M, 28, 28) uint8, ``y_test`` (M,), labels integers 0..9. Read
    with `safezip.read_zip` (sizes bounded while decompressing) and each .npy
    header checked before its array is made; object arrays are refused, so
    nothing is ever unpickled (as ``np.load(allow_pickle=False)``).
IDX (LeCun's files)
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (a ``.`` for the
    ``-`` before ``idx`` is accepted too), each optionally gzipped (``.gz``; it is
    recognised by its first bytes). A file is two zero bytes, a type code
    (0x08: unsigned bytes), the number of dimensions (3 for images, 1 for
    labels), each dimension as a big-endian uint32, then the data. The header is
    read and checked first; a gzipped file is decompressed only up to the size
    its header allows, plus one byte to see whether more follows.

Checks: the file size (`MAX_FILE_BYTES`), the magic number and type code,
the dimensions (28 x 28 pictures, between `MIN_IMAGES` and `MAX_IMAGES` of
them), the dtype (uint8 pictures, integer labels 0..9), the length (neither
truncated nor longer than its header says), and as many labels as pictures.

What is kept (`MnistData`): a fixed random subset (seed `SUBSET_SEED`) of at
most `N_TRAIN` training and `N_TEST` test pictures, as uint8. `N_TRAIN` bounds
what each run sends to its worker process: 10,000 x 784 bytes = 7.8 MB
pickled, 31 MB as float32 in the worker (60,000 would be 47 MB and 188 MB).
"""
from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wgan_core.engine import datasets
from wgan_core.files import safezip

ENV = "EARTHMOVER_MNIST"
SIDE = 28
MIN_IMAGES = 100
MAX_IMAGES = 60_000
N_TRAIN = 10_000           # training pictures kept (and sent to the worker with each run)
N_TEST = 1_000             # test pictures kept (the quality score's held-out digits)
SUBSET_SEED = 0
MAX_FILE_BYTES = 46 * 2**20    # the app's upload limit (.streamlit/config.toml); MNIST's largest file is 44.9 MiB
IMAGES_LIMIT = 16 + MAX_IMAGES * SIDE * SIDE   # the largest image file or array we read (bytes)
ROLES = ("train-images", "train-labels", "t10k-images", "t10k-labels")
IDX_TYPE_UBYTE = 0x08


class MnistError(ValueError):
    """MNIST files that cannot be used; the message is one sentence for the student."""


@dataclass(frozen=True, eq=False)
class MnistData:
    """A validated MNIST subset: pictures (N, 28, 28) uint8 in 0..255 and labels (N,) uint8 in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str                  # where it came from, for the page ("your upload", a path)
    n_train_total: int           # training pictures in the files, before the subset

    def pixels(self) -> np.ndarray:
        """The training pictures as rows (N, 784) uint8: what a run trains on (`datasets.from_points`)."""
        return self.x_train.reshape(len(self.x_train), SIDE * SIDE)


# --------------------------------------------------------------------------- the run's data set

def dataset(data: MnistData) -> datasets.Dataset:
    """The data set a run on ``data`` trains on, as the worker builds it from the pixels it is sent
    (standardised: `wgan_core.lessons.images.Standardised` maps its vectors back to pixels)."""
    return datasets.from_points(data.pixels(), name="mnist", label="MNIST 28x28", pixels=True)


# --------------------------------------------------------------------------- entry points

def env_path(environ=os.environ) -> str:
    """Where ``EARTHMOVER_MNIST`` says the server's MNIST is ("" when unset)."""
    return environ.get(ENV, "").strip()


def from_env(environ=os.environ) -> MnistData | None:
    """The server's MNIST, named by ``EARTHMOVER_MNIST`` (an .npz file or a folder of IDX files); None if unset."""
    where = env_path(environ)
    if not where:
        return None
    path = Path(where)
    if path.is_dir():
        files = {}
        for p in sorted(path.iterdir()):
            if p.is_file() and _role(p.name) is not None:
                files[p.name] = _read_file(p)
        return from_files(files, source=str(path))
    if path.is_file():
        return from_files({path.name: _read_file(path)}, source=str(path))
    raise MnistError(f"{ENV} names {where[:80]!r}, which is neither an .npz file nor a folder.")


def from_files(files: dict[str, bytes], source: str = "your upload") -> MnistData:
    """MNIST from files by name: one Keras .npz, or the four IDX files (each raw or gzipped)."""
    for name, raw in files.items():
        check_size(name, len(raw))
    if len(files) == 1 and _is_zip(next(iter(files.values()))):
        return _subset(*_read_npz(next(iter(files.values()))), source)
    found: dict[str, tuple[str, bytes]] = {}
    for name, raw in files.items():
        role = _role(name)
        if role is None and name.lower().endswith(".npz"):
            raise MnistError(f"The file {_short(name)} is not a valid .npz file (it is not a zip archive), or came with "
                             "other files: give the .npz alone.")
        if role is None:
            raise MnistError(f"The file {_short(name)} is neither an .npz file nor one of the four MNIST IDX files "
                             "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                             "t10k-labels-idx1-ubyte).")
        if role in found:
            raise MnistError(f"Two files are {role} ({_short(found[role][0])} and {_short(name)}); give one.")
        found[role] = (name, raw)
    missing = [r for r in ROLES if r not in found]
    if missing:
        raise MnistError(f"The IDX files are incomplete: {', '.join(missing)} is missing.")
    arrays = []
    for prefix in ("train", "t10k"):
        x = read_idx(found[f"{prefix}-images"][1], 3, "The file " + _short(found[f"{prefix}-images"][0]))
        y = read_idx(found[f"{prefix}-labels"][1], 1, "The file " + _short(found[f"{prefix}-labels"][0]))
        arrays += [x, y]
    return _subset(*arrays, source)


def from_uploads(files) -> MnistData:
    """MNIST from uploaded files (objects with ``name``, ``size`` and ``getvalue()``, as Streamlit's): every
    size is checked before any file is read."""
    for f in files:
        check_size(f.name, f.size)
    return from_files({f.name: f.getvalue() for f in files})


# --------------------------------------------------------------------------- IDX

def read_idx(raw: bytes, ndim: int, what: str = "This file") -> np.ndarray:
    """An IDX array of unsigned bytes with ``ndim`` dimensions (3: pictures 28 x 28, 1: labels), raw or gzipped."""
    f = gzip.GzipFile(fileobj=io.BytesIO(raw)) if raw[:2] == b"\x1f\x8b" else io.BytesIO(raw)
    try:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0":
            raise MnistError(f"{what} is not an IDX file: its magic number is wrong.")
        if head[2] != IDX_TYPE_UBYTE:
            raise MnistError(f"{what} does not hold unsigned bytes, as MNIST's IDX files do.")
        if head[3] != ndim:
            raise MnistError(f"{what} has {head[3]} dimensions where MNIST's {_kind(ndim)} file has {ndim}.")
        dims_raw = f.read(4 * ndim)
        if len(dims_raw) < 4 * ndim:
            raise MnistError(f"{what} is truncated: it ends inside its header.")
        dims = struct.unpack(f">{ndim}I", dims_raw)
        _check_count(dims[0], what)
        if ndim == 3 and dims[1:] != (SIDE, SIDE):
            raise MnistError(f"{what} holds {dims[1]} x {dims[2]} pictures, not MNIST's 28 x 28.")
        n = int(np.prod(dims, dtype=np.int64))
        body = f.read(n)                                         # at most IMAGES_LIMIT bytes (checked above)
        if len(body) < n:
            raise MnistError(f"{what} is truncated: its header promises {n:,} bytes of data, it has {len(body):,}.")
        if f.read(1):
            raise MnistError(f"{what} is longer than its header says: it is damaged or not MNIST.")
    except (OSError, EOFError, zlib.error) as err:             # gzip.BadGzipFile is an OSError
        raise MnistError(f"{what} could not be decompressed: it is damaged.") from err
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


# --------------------------------------------------------------------------- Keras .npz

def _read_npz(raw: bytes) -> tuple[np.ndarray, ...]:
    names = ("x_train", "y_train", "x_test", "y_test")
    limits = {f"{n}.npy": (IMAGES_LIMIT if n[0] == "x" else MAX_IMAGES * 8) + 1024 for n in names}
    try:
        parts = safezip.read_zip(raw, limits, total_limit=sum(limits.values()), max_members=16, max_ratio=1100,
                                 what="This .npz file")
    except safezip.NotAZip as err:
        raise MnistError("This .npz file is damaged: it is not a readable zip archive.") from err
    except safezip.FileRefused as err:
        raise MnistError("This .npz file is damaged or expands to more than MNIST's four arrays would "
                         "(about 55 MB).") from err
    missing = [n for n in names if f"{n}.npy" not in parts]
    if missing:
        raise MnistError(f"This .npz file lacks {', '.join(missing)}: Keras' mnist.npz has x_train, y_train, "
                         "x_test and y_test.")
    return tuple(_read_npy(parts[f"{n}.npy"], n) for n in names)


def _read_npy(raw: bytes, name: str) -> np.ndarray:
    """One array of the .npz, its header checked before the array is made (never unpickled)."""
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, fortran, dtype = read(f)
    except (KeyError, ValueError, TypeError, SyntaxError, EOFError, OverflowError, MemoryError,
            RecursionError) as err:
        raise MnistError(f"The array {name} in this .npz file is damaged: its header could not be read.") from err
    images = name.startswith("x")
    if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise MnistError(f"The array {name} in this .npz file is not an array of numbers.")
    if images and dtype != np.uint8 or not images and (dtype.kind not in "iu" or dtype.itemsize > 8):
        raise MnistError(f"The array {name} in this .npz file holds {dtype.name} values, not MNIST's "
                         f"{'unsigned bytes (uint8)' if images else 'whole numbers'}.")
    want = 3 if images else 1
    if len(shape) != want or fortran:
        raise MnistError(f"The array {name} in this .npz file has {len(shape)} dimensions where MNIST's has {want}.")
    _check_count(shape[0], f"The array {name} in this .npz file")
    if images and tuple(shape[1:]) != (SIDE, SIDE):
        raise MnistError(f"The array {name} in this .npz file holds {shape[1]} x {shape[2]} pictures, not MNIST's 28 x 28.")
    body = raw[f.tell():]
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(body) != n:
        raise MnistError(f"The array {name} in this .npz file is {'truncated' if len(body) < n else 'longer than its header says'}.")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


# --------------------------------------------------------------------------- checks and the kept subset

def _subset(x_train, y_train, x_test, y_test, source: str) -> MnistData:
    """Labels checked (as many as pictures, 0..9), then the fixed random subset, copied and read-only."""
    for x, y, what in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise MnistError(f"The {what} set has {len(x):,} pictures but {len(y):,} labels.")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise MnistError(f"The {what} labels go outside 0..9 (from {int(y.min())} to {int(y.max())}).")
    rng = np.random.default_rng(SUBSET_SEED)
    tr = np.sort(rng.permutation(len(x_train))[:N_TRAIN])
    te = np.sort(rng.permutation(len(x_test))[:N_TEST])
    out = [np.ascontiguousarray(a[i]).astype(np.uint8) for a, i in
           ((x_train, tr), (y_train, tr), (x_test, te), (y_test, te))]
    for a in out:
        a.setflags(write=False)
    return MnistData(*out, source=source, n_train_total=len(x_train))


def _check_count(n: int, what: str) -> None:
    if not MIN_IMAGES <= n <= MAX_IMAGES:
        raise MnistError(f"{what} holds {n:,} items, and only {MIN_IMAGES:,} to {MAX_IMAGES:,} are accepted "
                         "(MNIST's largest file holds 60,000).")


def check_size(name: str, n_bytes: int) -> None:
    """MnistError when a file of ``n_bytes`` is over MAX_FILE_BYTES (call it before reading the file)."""
    if n_bytes > MAX_FILE_BYTES:
        raise MnistError(f"The file {_short(name)} is {n_bytes / 2**20:.0f} MB, and files of at most "
                         f"{MAX_FILE_BYTES // 2**20} MB are accepted (MNIST's largest is 45 MB).")


def _read_file(path: Path) -> bytes:
    check_size(path.name, path.stat().st_size)             # before reading it
    return path.read_bytes()


def _role(name: str) -> str | None:
    """Which of the four IDX files a name is (``train-images-idx3-ubyte[.gz]``, ``.idx3`` too), or None."""
    base = name.lower().removesuffix(".gz").replace(".idx", "-idx")
    for role, ndim in zip(ROLES, (3, 1, 3, 1)):
        if base == f"{role}-idx{ndim}-ubyte":
            return role
    return None


def _is_zip(raw: bytes) -> bool:
    return raw[:4] == b"PK\x03\x04"


def _kind(ndim: int) -> str:
    return "pictures" if ndim == 3 else "labels"


def _short(name: str, n: int = 40) -> str:
    name = "".join(c if c.isprintable() else "?" for c in str(name))
    return name if len(name) <= n else name[: n - 1] + "…"
