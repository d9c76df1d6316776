"""Validity and float values of chunked columns, read chunk by chunk, are those of the joined
column; rows taken and distinct values found without numpy's or Arrow's whole-array paths are
theirs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sonda_analyzer.engine.arrays import (
    distinct,
    distinct_ascending,
    floats,
    spread_rows,
    take_sorted,
    valid_mask,
)


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


@pytest.mark.parametrize("dtype", [np.int64, np.uint32, np.int32, "datetime64[s]"])
def test_distinct_values_are_numpys_unique(dtype: str) -> None:
    rng = np.random.default_rng(8)
    cases = [
        np.array([], dtype=np.int64),
        np.array([5]),
        np.array([3, 3, 3]),
        rng.integers(0, 50, 2_000),  # many repeats
        rng.integers(0, 1 << 30, 2_000),  # nearly all distinct
    ]
    for values in (c.astype(dtype) for c in cases):
        expected = np.unique(values)
        found = distinct(values)
        assert found.dtype == expected.dtype and found.tolist() == expected.tolist()
        ascending = np.sort(values)
        assert distinct_ascending(ascending).tolist() == expected.tolist()


@pytest.mark.parametrize(
    ("rows", "size"), [(0, 10), (1, 10), (7, 10), (10, 10), (11, 10), (1_000_003, 20_000)]
)
def test_spread_rows_are_evenly_spaced_distinct_positions(rows: int, size: int) -> None:
    spread = spread_rows(rows, size)
    expected = np.unique(np.linspace(0, max(rows - 1, 0), min(rows, size)).astype(np.int64))
    assert spread.tolist() == expected.tolist()
    if rows:
        assert spread[0] == 0 and spread[-1] == rows - 1


def test_rows_taken_chunk_by_chunk_are_the_joined_columns() -> None:
    arr = _chunked(pa.int64())
    joined = arr.combine_chunks()
    rng = np.random.default_rng(9)
    for rows in (
        np.arange(len(arr)),
        np.array([], dtype=np.int64),
        np.array([0, 0, 2, 3, 4, 13, len(arr) - 1, len(arr) - 1]),  # repeats, rows at chunk edges
        np.sort(rng.integers(0, len(arr), 25)),
    ):
        assert take_sorted(arr, rows).to_pylist() == joined.take(pa.array(rows, type=pa.int64())).to_pylist()


def test_character_lengths_are_arrows_utf8_lengths() -> None:
    """Lengths in characters: ASCII text from its offsets, any other text (an accent early, or
    only far into the bytes), a slice of an array, empty strings, nulls and large strings all
    as Arrow counts them."""
    from sonda_analyzer.engine.arrays import char_lengths

    rng = np.random.default_rng(3)
    ascii_words = ["", "a", "rua das flores", "x" * 70, "00000000-0000-0000-0000-000000000000"]
    plain = pa.array([ascii_words[i] for i in rng.integers(0, len(ascii_words), 40_000)])
    late = pa.concat_arrays([plain, pa.array(["coração", "ok"])])  # the only accent far in
    early = pa.array(["ação", *plain.to_pylist()[:500]])
    cases = [
        plain, late, early, plain.slice(1_234, 20_000), late.slice(39_999), pa.array(["", ""]),
        pa.array([], pa.string()), pa.array(["ab", None, "çc"]), pa.array(["日本", "abc"], pa.large_string()),
        pa.array(["é" * 3] * 10).slice(2),
    ]  # fmt: skip
    for values in cases:
        got = char_lengths(values)
        want = pc.utf8_length(values).to_numpy(zero_copy_only=False)
        if values.null_count:
            keep = values.is_valid().to_numpy(zero_copy_only=False)
            got, want = got[keep], want[keep]
        np.testing.assert_array_equal(got, want)
        assert got.dtype.kind == "i"
