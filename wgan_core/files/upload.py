"""A student's own 2D point set: CSV validation, and a compact form that fits in a link.

Pure functions (no streamlit, no torch). Every rejection is a `PointsError`
(a ValueError) whose message says in one sentence what is wrong and what to do,
so the page can show it as it is.

A CSV file is accepted when it is UTF-8 text of at most `MAX_BYTES` bytes with
two numeric columns (x, y), separated by commas, semicolons, tabs or spaces,
with an optional header row and optional ``#`` comment lines; it must have
between `MIN_POINTS` and `MAX_POINTS` rows of finite numbers, not all equal.
With semicolons, a decimal comma (``1,5;2,25``) is read as a decimal point.

The link form (`encode_points` / `decode_points`) carries up to
`MAX_LINK_POINTS` points rounded to `LINK_STEP`: each coordinate becomes a
16-bit integer :math:`\\operatorname{round}(v / 0.01)`, and the bytes go into
the URL as base64url, 4 bytes (about 5.3 characters) per point. Points that are
already on that 0.01 grid round-trip exactly, so a drawn set (stored rounded)
trains identically from the link.
"""
from __future__ import annotations

import base64
import re

import numpy as np

MAX_BYTES = 2 * 1024 * 1024        # 2 MB (Streamlit's MB): the CSV uploader's max_upload_size
MIN_POINTS = 10
MAX_POINTS = 100_000
MAX_LINK_POINTS = 300
LINK_STEP = 0.01                   # coordinates in a link are multiples of this
LINK_PREFIX = "1."                 # format version of the link form
_LINK_LIMIT = 327.67               # int16 range times LINK_STEP
_SEPARATORS = (";", ",", "\t")


class PointsError(ValueError):
    """A point set that cannot be used; the message is for the student."""


def check_points(points, what: str = "The data") -> np.ndarray:
    """``points`` as a float64 (N, 2) array with MIN_POINTS <= N <= MAX_POINTS, finite, not all equal."""
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise PointsError(f"{what} must be a list of (x, y) points.")
    n = len(x)
    if n < MIN_POINTS:
        raise PointsError(f"{what} has {n} point{'s' * (n != 1)}; at least {MIN_POINTS} are needed to train on.")
    if n > MAX_POINTS:
        raise PointsError(f"{what} has {n:,} points; at most {MAX_POINTS:,} are allowed. Use a random subset.")
    if not np.isfinite(x).all():
        raise PointsError(f"{what} contains values that are not finite numbers (NaN or infinity).")
    if (x == x[0]).all():
        raise PointsError(f"All {n} points are the same point: a distribution needs some spread.")
    return x


def check_size(n_bytes: int) -> None:
    """PointsError when a file of ``n_bytes`` is over MAX_BYTES (checked before its bytes are read)."""
    if n_bytes > MAX_BYTES:
        raise PointsError(f"The file is {n_bytes / 2**20:.1f} MB and the limit is {MAX_BYTES // 2**20} MB: "
                          f"keep at most {MAX_POINTS:,} points.")


def _text(data: bytes) -> str:
    check_size(len(data))
    if not data.strip():
        raise PointsError("The file is empty.")
    if b"\x00" in data[:65536]:
        raise PointsError("This is not a CSV file: it contains binary data. Save the points as plain text "
                          "(CSV) with two columns, x and y.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PointsError("This is not a CSV file: it is not UTF-8 text (a spreadsheet file or an image?). "
                          "Export the points as CSV with two columns, x and y.") from err


def _separator(lines: list[str]) -> str | None:
    """The first of ; , tab found on the first rows; None means runs of whitespace."""
    head = "\n".join(lines[:20])
    return next((s for s in _SEPARATORS if s in head), None)


def _number(field: str, decimal_comma: bool) -> float:
    s = field.strip().strip('"').strip("'")
    if decimal_comma:
        s = s.replace(",", ".")
    return float(s)                                    # ValueError for text and empty fields


def parse_points(data: bytes) -> np.ndarray:
    """The (N, 2) float64 points of an uploaded CSV file, or PointsError saying what is wrong."""
    text = _text(data)
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise PointsError("The file has no data rows (only empty or # comment lines).")
    if len(lines) > MAX_POINTS + 1:
        raise PointsError(f"The file has {len(lines):,} rows; at most {MAX_POINTS:,} points are allowed. "
                          "Use a random subset.")
    sep = _separator([ln for _, ln in lines])
    split = (lambda s: s.split(sep)) if sep else (lambda s: s.split())
    decimal_comma = sep == ";" and "." not in text and "," in text
    rows = [(i, split(ln)) for i, ln in lines]
    if sep is not None:                                # "1,2," -> a trailing empty field is no column
        rows = [(i, f[:-1] if len(f) > 1 and not f[-1].strip() else f) for i, f in rows]
    if not all(_is_number(f, decimal_comma) for f in rows[0][1]):
        rows = rows[1:]                                # a header row
    if not rows:
        raise PointsError("The file has a header row but no data rows.")
    counts = {len(f) for _, f in rows}
    if len(counts) == 1 and counts != {2}:
        k = counts.pop()
        raise PointsError(f"The file has {k} column{'s' * (k != 1)}; it needs exactly 2 (x and y)"
                          + (". Values are split at commas, semicolons, tabs or spaces." if k < 2
                             else ". Remove the other columns."))
    out = np.empty((len(rows), 2))
    for j, (line_no, fields) in enumerate(rows):
        if len(fields) != 2:
            raise PointsError(f"Row {line_no} has {len(fields)} value{'s' * (len(fields) != 1)}; "
                              "every row needs exactly 2 (x and y).")
        bad = next((f for f in fields if not _is_number(f, decimal_comma)), None)
        if bad is not None:
            raise PointsError(f"Row {line_no} has a value that is not a number: {_short(bad)!r}.")
        out[j] = [_number(f, decimal_comma) for f in fields]
        if not np.isfinite(out[j]).all():
            raise PointsError(f"Row {line_no} has a value that is not a finite number: "
                              f"{_short(', '.join(f.strip() for f in fields))!r}.")
    return check_points(out, "The file")


def _is_number(field: str, decimal_comma: bool) -> bool:
    try:
        _number(field, decimal_comma)
        return True
    except ValueError:
        return False


def _short(s: str, n: int = 30) -> str:
    s = s.strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def standardize(points) -> np.ndarray:
    """Centre, then divide by the standard deviation of all 2N centred coordinates:

    .. math:: z_i = (x_i - \\bar x) / s,\\quad
              s^2 = \\frac{1}{2N} \\sum_i \\lVert x_i - \\bar x \\rVert^2

    so the points have mean 0 and overall standard deviation 1 wherever they lay
    (an offset such as x ~ 1000 does not shrink them), with the shape kept (one
    scale for both axes). `datasets.from_points` then leaves them as they are.
    """
    x = np.asarray(points, dtype=np.float64)
    c = x - x.mean(0)
    return c / max(float(c.std()), 1e-12)


def link_ready(points) -> np.ndarray:
    """Points rounded to the link grid (LINK_STEP), so that the link form round-trips them exactly."""
    x = np.clip(np.asarray(points, dtype=np.float64), -_LINK_LIMIT, _LINK_LIMIT)
    return np.round(x / LINK_STEP) * LINK_STEP


def encode_points(points) -> str | None:
    """The link form of up to MAX_LINK_POINTS points, or None when there are more (a file)."""
    x = np.asarray(points, dtype=np.float64)
    if len(x) > MAX_LINK_POINTS:
        return None
    q = np.round(np.clip(x, -_LINK_LIMIT, _LINK_LIMIT) / LINK_STEP).astype("<i2")   # (N, 2)
    return LINK_PREFIX + base64.urlsafe_b64encode(q.tobytes()).decode("ascii").rstrip("=")


def decode_points(s: str) -> np.ndarray:
    """Points from their link form; PointsError when it is damaged or out of bounds."""
    if not isinstance(s, str) or not s.startswith(LINK_PREFIX):
        raise PointsError("The points in the link are not in a form this app writes.")
    body = s[len(LINK_PREFIX):]
    if len(body) > (MAX_LINK_POINTS * 4 * 4) // 3 + 4 or not re.fullmatch(r"[A-Za-z0-9_-]*", body):
        raise PointsError("The points in the link are damaged (too long or odd characters).")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError) as err:
        raise PointsError("The points in the link are damaged.") from err
    if len(raw) % 4:
        raise PointsError("The points in the link are damaged (cut short?).")
    q = np.frombuffer(raw, dtype="<i2").reshape(-1, 2)
    return check_points(q.astype(np.float64) * LINK_STEP, "The link's point set")
