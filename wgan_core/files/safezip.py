"""Reading untrusted files with bounded memory: zip archives, JSON and .npy arrays.

Pure functions (no streamlit, no torch). Every rejection is a `FileRefused`
(a ValueError) whose message is one plain sentence for the student.

Zip archives. Nothing a zip says about its own sizes is trusted: the central
directory's entry count, the declared sizes of each member and its compressed
size may all lie. `read_zip`

- bounds the central directory before `zipfile` parses it: zipfile makes one
  object per central-directory record, and every record starts with the
  signature ``PK\\x01\\x02``, so counting that signature in the bytes bounds
  the parse (`MAX_SIGNATURES`);
- accepts only stored or deflated members (bzip2 and lzma decompressors can
  allocate large dictionaries), unencrypted, each name once;
- reads each member in chunks of `CHUNK` bytes (zipfile then decompresses at
  most that much per call), counting what actually comes out, and stops as
  soon as the member passes its own size limit, the archive's total limit, or
  ``max_ratio`` times its compressed size plus `RATIO_SLACK` (a zip bomb
  stops after a few MB, whatever it claims).

`canonical_zip` writes members back as a fresh stored archive, so a reader with
its own zip parser (torch.load) sees exactly the bytes that were checked.

JSON (`read_json`): a length cap, and the nesting depth counted on the text
before `json.loads` sees it. NPY (`read_npy`): the header (version, dtype,
shape, Fortran order) is read with numpy's header reader and checked against a
row cap before any array is allocated; the data must be exactly as long as the
header says.
"""
from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np

CHUNK = 64 * 1024
RATIO_SLACK = 1 << 20            # bytes any member may produce beyond max_ratio x its compressed size
MAX_SIGNATURES = 4096            # central-directory signatures tolerated in the bytes (real files: < 30)
_CD_SIG = b"PK\x01\x02"


class FileRefused(ValueError):
    """A file refused before or while reading it; the message is one sentence for the student."""


class NotAZip(FileRefused):
    """The bytes are not a zip archive at all (or its directory is unreadable)."""


def read_zip(data: bytes, limits: dict[str, int] | None = None, *, member_limit: int = 0, total_limit: int,
             max_members: int, max_ratio: float, what: str = "This file") -> dict[str, bytes]:
    """The members of the zip ``data`` named in ``limits`` (each up to its limit), or all of them.

    With ``limits`` None every member is read, each up to ``member_limit``;
    otherwise only the named members present are read (the others are never
    decompressed). FileRefused when the archive or a member breaks a limit.
    """
    out: dict[str, bytes] = {}
    for info, member in _members(data, limits, member_limit, total_limit, max_members, max_ratio, what,
                                 keep=True):
        out[info.filename] = member
    return out


def scan_zip(data: bytes, *, member_limit: int, total_limit: int, max_members: int, max_ratio: float,
             what: str = "This file") -> int:
    """Read every member of ``data`` under the limits of `read_zip`, keeping nothing; the unpacked total."""
    return sum(n for _, n in _members(data, None, member_limit, total_limit, max_members, max_ratio, what,
                                      keep=False))


def _members(data, limits, member_limit, total_limit, max_members, max_ratio, what, keep):
    if data.count(_CD_SIG) > MAX_SIGNATURES:
        raise FileRefused(f"{what} is damaged: it has far more parts than any file this app writes.")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, IndexError,
            struct.error) as err:
        raise NotAZip(f"{what} is damaged or is not a file this app writes.") from err
    names = [i.filename for i in infos]
    if len(infos) > max_members or len(set(names)) != len(names):
        raise FileRefused(f"{what} is damaged: it has parts no file of this app has.")
    total = 0
    for info in infos:
        limit = member_limit if limits is None else limits.get(info.filename)
        if limit is None:
            continue
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(f"{what} is packed in a way this app does not write (encrypted or compressed "
                              "with another method).")
        if info.file_size > limit or total + info.file_size > total_limit:       # honest sizes: refuse early
            raise FileRefused(f"{what} is larger than any file this app writes.")
        budget = min(limit, total_limit - total, int(max_ratio * info.compress_size) + RATIO_SLACK)
        member = _read_member(z, info, budget, limit, what, keep)
        total += member if isinstance(member, int) else len(member)
        yield info, member


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limit: int, what: str, keep: bool):
    """One member's bytes (its length when not ``keep``), read in chunks; never more than ``budget`` + CHUNK."""
    buf = io.BytesIO() if keep else None
    n = 0
    try:
        with z.open(info) as f:
            while chunk := f.read(CHUNK):
                n += len(chunk)
                if n > budget:
                    raise FileRefused(f"{what} is larger than any file this app writes: a part of it expands "
                                      f"to more than {min(limit, budget) / 2**20:.1f} MB (a zip bomb?).")
                if buf is not None:
                    buf.write(chunk)
    except FileRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError,
            struct.error) as err:
        raise FileRefused(f"{what} is damaged (a part of it could not be read).") from err
    return buf.getvalue() if buf is not None else n


def canonical_zip(members: dict[str, bytes]) -> bytes:
    """A fresh stored (uncompressed) zip of ``members``, in their order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


# --------------------------------------------------------------------------- JSON

def json_depth(text: str) -> int:
    """The deepest nesting of [ and { in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_json(raw: bytes, max_bytes: int, max_depth: int, what: str = "This file"):
    """Parsed JSON of at most ``max_bytes`` bytes and ``max_depth`` levels of nesting; FileRefused otherwise."""
    if len(raw) > max_bytes:
        raise FileRefused(f"{what} is damaged: it is far longer than any this app writes.")
    try:
        text = raw.decode("utf-8")
        if json_depth(text) > max_depth:
            raise FileRefused(f"{what} is damaged: it is nested far deeper than any this app writes.")
        return json.loads(text)
    except FileRefused:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError) as err:
        raise FileRefused(f"{what} is damaged: it could not be read.") from err


# --------------------------------------------------------------------------- NPY

def read_npy(raw: bytes, max_rows: int, cols: int, what: str = "This array") -> np.ndarray:
    """A (rows, cols) float64 array from .npy bytes, rows <= ``max_rows``; the header is checked first.

    Only plain real numbers (float or integer, at most 8 bytes each) in C order are accepted.
    """
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError("unknown npy version")
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError, MemoryError, RecursionError) as err:
        raise FileRefused(f"{what} is damaged: its header could not be read.") from err
    if (not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None
            or dtype.kind not in "fiu" or dtype.itemsize > 8 or fortran
            or len(shape) != 2 or shape[1] != cols):
        raise FileRefused(f"{what} is damaged: it is not a list of {cols}-number rows.")
    if not 0 <= shape[0] <= max_rows:
        raise FileRefused(f"{what} has more than {max_rows:,} rows, more than any this app writes.")
    body = raw[f.tell():]
    if len(body) != shape[0] * cols * dtype.itemsize:
        raise FileRefused(f"{what} is damaged: it is shorter or longer than its header says.")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(np.float64)
