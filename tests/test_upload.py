"""CSV validation of a student's own points (each kind of bad file with its message) and the link form."""
import numpy as np
import pytest

from wgan_core.files import upload
from wgan_core.files.upload import PointsError, decode_points, encode_points, link_ready, parse_points

RNG = np.random.default_rng(0)
GOOD = RNG.normal(size=(50, 2)).round(4)


def csv(rows, sep=",", header=None) -> bytes:
    lines = ([header] if header else []) + [sep.join(f"{v:g}" for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


BAD = [
    ("empty", b"", "The file is empty"),
    ("blank lines", b"\n \n\n", "The file is empty"),
    ("binary (PNG)", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary data"),
    ("not UTF-8 (Latin-1)", "x;y\n1;2\ncaf\xe9;3\n".encode("latin-1"), "not UTF-8 text"),
    ("too large", b"1.2345678,2.3456789\n" * 120_000, "the limit is 2 MB"),
    ("three columns", csv(np.c_[np.arange(20), GOOD[:20]]), "The file has 3 columns; it needs exactly 2"),
    ("one column", csv(GOOD[:20, :1]), "The file has 1 column; it needs exactly 2"),
    ("ragged row", csv(GOOD[:4]) + b"1,2,3\n" + csv(GOOD[4:20]),
     "Row 5 has 3 values"),
    ("text value", csv(GOOD[:12]) + b"1.5,abc\n", "Row 13 has a value that is not a number: 'abc'"),
    ("empty value", csv(GOOD[:12]) + b",2.5\n", "Row 13 has a value that is not a number: ''"),
    ("short row", csv(GOOD[:12], sep=";") + b"1.5\n", "Row 13 has 1 value;"),
    ("NaN", csv(GOOD[:12]) + b"nan,1\n", "Row 13 has a value that is not a finite number"),
    ("infinity", csv(GOOD[:12]) + b"1,-inf\n", "not a finite number"),
    ("too few rows", csv(GOOD[:9], header="x,y"), "has 9 points; at least 10"),
    ("too many rows", b"".join(b"%d,%d\n" % (i % 1000, i // 1000) for i in range(100_001)),
     "100,001 points; at most 100,000"),
    ("all points identical", csv(np.tile([[3.0, -1.0]], (40, 1))), "All 40 points are the same point"),
    ("header only", b"x,y\n", "header row but no data rows"),
    ("comments only", b"# my points\n# none yet\n", "no data rows"),
]


@pytest.mark.parametrize("name,data,message", BAD, ids=[b[0] for b in BAD])
def test_bad_files_get_their_message(name, data, message):
    with pytest.raises(PointsError) as err:
        parse_points(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


@pytest.mark.parametrize("data", [
    csv(GOOD),
    csv(GOOD, header="x,y"),
    csv(GOOD, sep=";", header="x;y"),
    csv(GOOD, sep="\t", header="x\ty"),
    csv(GOOD, sep="   "),
    b"\xef\xbb\xbf" + csv(GOOD, header="x,y"),                                   # a BOM (Excel)
    csv(GOOD).replace(b"\n", b"\r\n"),                                            # Windows line ends
    csv(GOOD).replace(b"\n", b",\n"),                                             # a trailing separator
    b"# drawn by hand\n" + csv(GOOD, header='"x","y"'),                           # a comment, quoted header
    ("x;y\n" + "\n".join(f"{a:g};{b:g}".replace(".", ",") for a, b in GOOD)).encode(),   # decimal commas
], ids=["plain", "header", "semicolon", "tab", "spaces", "bom", "crlf", "trailing", "comment", "decimal-comma"])
def test_good_files_give_the_points(data):
    assert np.array_equal(parse_points(data), GOOD)


def test_check_points_shape_and_bounds():
    with pytest.raises(PointsError, match="list of"):
        upload.check_points(np.zeros((20, 3)))
    assert upload.check_points(GOOD).dtype == np.float64


def test_standardize_gives_mean_zero_and_overall_std_one():
    z = upload.standardize(GOOD * 40 + [1000, -7])                  # an offset must not shrink the points
    assert np.allclose(z.mean(0), 0) and np.isclose(z.std(), 1)
    assert np.allclose(z, upload.standardize(GOOD))
    assert np.allclose(upload.standardize(z), z)                     # idempotent


def test_link_form_round_trips_exactly_and_is_compact():
    pts = link_ready(RNG.uniform(-4, 4, (300, 2)))
    s = encode_points(pts)
    assert np.array_equal(decode_points(s), pts)
    assert len(s) <= 2 + 300 * 4 * 4 // 3 + 3
    assert all(c.isalnum() or c in "._-" for c in s)                    # nothing to escape in a URL
    assert encode_points(np.zeros((301, 2))) is None                    # a file is too big for a link


def test_link_ready_is_idempotent():
    pts = link_ready(RNG.normal(size=(40, 2)))
    assert np.array_equal(link_ready(pts), pts)


@pytest.mark.parametrize("bad,message", [
    ("abc", "not in a form"),
    ("2.AAAA", "not in a form"),
    ("1.@@@@", "damaged"),
    ("1." + "A" * 2000, "damaged"),
    ("1.AAA", "cut short"),
    (encode_points(GOOD[:5]), "at least 10"),
    (encode_points(np.ones((12, 2))), "same point"),
])
def test_damaged_link_points_are_refused(bad, message):
    with pytest.raises(PointsError, match=message):
        decode_points(bad)
