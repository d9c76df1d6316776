"""Validity and float values of chunked columns, read chunk by chunk, are those of the joined column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sonda_analyzer.engine.arrays import floats, valid_mask


def _chunked(kind: pa.DataType) -> pa.ChunkedArray:
    values = [None if i % 5 == 0 else i for i in range(40)]
    whole = pa.array(values, type=pa.int64()).cast(kind)
    return pa.chunked_array(
        [
            whole.slice(0, 3),  # starts with a gap
            pa.array([7, 8], type=pa.int64()).cast(kind),  # no gap at all
            whole.slice(13, 9),  # an offset that is not a multiple of 8
            pa.nulls(4, kind),  # gaps only
            pa.array([], type=kind),  # empty
            whole.slice(30, 10),
        ],
        type=kind,
    )


@pytest.mark.parametrize("kind", [pa.int64(), pa.float64(), pa.int32()])
def test_chunk_by_chunk_equals_the_joined_column(kind: pa.DataType) -> None:
    arr = _chunked(kind)
    joined = arr.combine_chunks()
    expected_valid = np.array([v is not None for v in joined.to_pylist()])
    got = valid_mask(arr)
    assert got is not None
    np.testing.assert_array_equal(got, expected_valid)
    expected = np.array([np.nan if v is None else float(v) for v in joined.to_pylist()])
    np.testing.assert_array_equal(floats(arr), expected)


def test_a_chunked_column_without_gaps_has_no_mask() -> None:
    arr = pa.chunked_array([pa.array([1.0, 2.0]), pa.array([3.0])])
    assert valid_mask(arr) is None
    np.testing.assert_array_equal(floats(arr), [1.0, 2.0, 3.0])


def test_text_validity_is_read_without_joining() -> None:
    arr = pa.chunked_array([pa.array(["a", None]), pa.array([None, "b", "c"]).slice(1)])
    got = valid_mask(arr)
    assert got is not None
    assert got.tolist() == [True, False, True, True]


def test_trim_whitespace_is_arrows_and_skips_the_copy_when_nothing_is_blank() -> None:
    """The trimmed values are always Arrow's; an array none of whose values starts or ends with a
    blank (nor with a character of several bytes, which may be one) comes back as it is."""
    import pyarrow.compute as pc
    from sonda_analyzer.engine.arrays import trim_whitespace

    rng = np.random.default_rng(5)
    pieces = ["a", "b", " ", "\t", "\n", "\x1c", "\u00a0", "\u3000", "é", "xyz", ""]
    for trial in range(300):
        values = [
            "".join(rng.choice(pieces, int(rng.integers(0, 6)))) for _ in range(int(rng.integers(1, 40)))
        ]
        arr = pa.array(["  pad", *values]).slice(1) if trial % 2 else pa.array(values)
        assert trim_whitespace(arr).to_pylist() == pc.utf8_trim_whitespace(arr).to_pylist()
    plain = pa.array(["abc", "d e", "", "x"])
    assert trim_whitespace(plain) is plain
    assert trim_whitespace(pa.array(["abc", "é"])).to_pylist() == ["abc", "é"]  # looked at by Arrow
