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
