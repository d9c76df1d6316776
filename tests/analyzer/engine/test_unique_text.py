"""Columns of unique strings (ids, UUIDs, e-mails) and columns with a single repeat: every figure is
pandas', and the top values of a column of ties are its first rows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats as sps
from sonda_analyzer.engine import profile_table
from sonda_analyzer.engine.rowhash import word_hashes
from sonda_analyzer.engine.strings import HASHED_BYTES, Encoded, encode, encode_by_dictionary, encode_by_hash

from tests.analyzer.engine.conftest import column

ROWS = 30_000


def _ids(rng: np.random.Generator, rows: int) -> list[str | None]:
    # distinct by construction, of varied lengths (some past the 64 bytes of the hash's table)
    values: list[str | None] = [
        f"{'k' * int(n)}-{i:x}-{rng.integers(0, 2**40):x}" for i, n in enumerate(rng.integers(0, 90, rows))
    ]
    return values


def _chunked(values: list[str | None], pieces: int, type_: pa.DataType | None = None) -> pa.ChunkedArray:
    type_ = type_ or pa.string()
    bounds = np.linspace(0, len(values), pieces + 1).astype(int)
    return pa.chunked_array(
        [pa.array(values[a:b], type=type_) for a, b in itertools.pairwise(bounds)], type=type_
    )


def _check_against_pandas(values: list[str | None], arr: pa.ChunkedArray) -> None:
    series = pd.Series(values, dtype=object)
    present = series.dropna()
    result = profile_table(pa.table({"key": arr}))
    col = column(result, "key")
    assert col.count == len(present)
    assert col.missing == int(series.isna().sum())
    assert col.distinct == present.nunique()
    assert col.unique == (present.nunique() == len(present))
    counts = present.value_counts(sort=False)
    assert col.top_values is not None
    for v in col.top_values:
        assert counts[v.value] == v.count
    if col.unique:
        # ties keep the order of first appearance: the first rows' values
        assert [v.value for v in col.top_values] == present.iloc[: len(col.top_values)].tolist()
    text = col.text
    assert text is not None
    assert text.entropy == pytest.approx(sps.entropy(counts.to_numpy(), base=2))
    lengths = present.str.len()
    assert text.length_min == lengths.min()
    assert text.length_max == lengths.max()
    assert text.length_mean == pytest.approx(lengths.mean())
    assert result.dataset.duplicate_rows == int(series.duplicated().sum())


@pytest.mark.parametrize(("pieces", "type_"), [(1, pa.string()), (37, pa.string()), (5, pa.large_string())])
def test_unique_column_figures_match_pandas(pieces: int, type_: pa.DataType) -> None:
    values = _ids(np.random.default_rng(pieces), ROWS)
    arr = _chunked(values, pieces, type_)
    _check_against_pandas(values, arr)


def test_unique_column_with_gaps_keeps_rows_in_place() -> None:
    rng = np.random.default_rng(5)
    values = _ids(rng, ROWS)
    for at in rng.choice(ROWS, 4_000, replace=False):
        values[at] = None
    arr = _chunked(values, 23)
    _check_against_pandas(values, arr)
    encoded = encode(arr)
    # each row's code points at its own value; missing rows take the code after the last value
    decoded = pa.concat_arrays([encoded.values, pa.nulls(1, pa.string())]).take(pa.array(encoded.codes))
    assert decoded.to_pylist() == values
    assert encoded.missing == sum(v is None for v in values)


@pytest.mark.parametrize("where", ["first chunk", "middle", "last row"])
def test_one_repeat_anywhere_is_counted(where: str) -> None:
    values = _ids(np.random.default_rng(9), ROWS)
    source, target = {"first chunk": (3, 10), "middle": (10, ROWS // 2), "last row": (ROWS // 3, ROWS - 1)}[
        where
    ]
    values[target] = values[source]
    arr = _chunked(values, 41)
    _check_against_pandas(values, arr)
    encoded = encode(arr)
    assert len(encoded.values) == ROWS - 1
    assert int(encoded.counts.max()) == 2
    assert encoded.codes[source] == encoded.codes[target]


def test_empty_string_and_missing_are_different_values() -> None:
    values = _ids(np.random.default_rng(3), ROWS)
    values[7] = ""
    values[8] = None
    values[9] = None
    _check_against_pandas(values, _chunked(values, 13))


def _same_encoding(got: Encoded | None, want: Encoded) -> None:
    assert got is not None
    assert got.values.equals(want.values)
    np.testing.assert_array_equal(got.counts, want.counts)
    np.testing.assert_array_equal(got.codes, want.codes)
    assert got.missing == want.missing


@pytest.mark.parametrize(("pieces", "type_"), [(1, pa.string()), (29, pa.string()), (3, pa.large_string())])
@pytest.mark.parametrize("repeats", [0, 1, 300])
def test_hashed_encoding_is_arrows_dictionary(pieces: int, type_: pa.DataType, repeats: int) -> None:
    """Grouping by hashes gives Arrow's dictionary encoding exactly: the same values in the same
    order, counts and codes, with gaps and repeated values anywhere."""
    rng = np.random.default_rng(pieces * 10 + repeats)
    values = _ids(rng, ROWS)
    for source, target in rng.integers(0, ROWS, (repeats, 2)):
        values[target] = values[source]
    for at in rng.choice(ROWS, 500, replace=False):
        values[at] = None
    values[11] = ""
    arr = _chunked(values, pieces, type_)
    assert arr.nbytes >= HASHED_BYTES  # encode() itself takes this path for such a column
    _same_encoding(encode_by_hash(arr), encode_by_dictionary(arr))
    _same_encoding(encode(arr), encode_by_dictionary(arr))


def test_shared_hash_of_different_strings_is_left_to_arrow() -> None:
    """Two different strings with one hash (forced here by a hash that makes them collide) are
    never merged: the hashed encoding declines and Arrow's dictionary decides."""
    values = _ids(np.random.default_rng(4), ROWS)
    arr = _chunked(values, 3)

    def colliding(strings: pa.Array) -> np.ndarray:
        hashes = word_hashes(strings)
        hashes[ROWS - 5] = hashes[17]
        return hashes

    assert values[17] != values[ROWS - 5]
    assert encode_by_hash(arr, colliding) is None
    assert encode_by_hash(arr) is not None


def test_many_repeats_are_left_to_arrow() -> None:
    values = [f"value-{i % 1_000}" for i in range(ROWS)]
    assert encode_by_hash(pa.array(values)) is None
    _same_encoding(encode(pa.chunked_array([pa.array(values)])), encode_by_dictionary(pa.array(values)))


def test_word_hashes_depend_on_the_bytes_only() -> None:
    """Equal strings hash alike wherever they sit (any slice, any chunk, the buffer's very end);
    strings differing in one byte, at a word's edge or past it, or only in length, do not."""
    base = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh" * 3, "ação", "x" * 70]
    variants = [*base, "abcdefgH", "abcdefghI", "\0", "a\0", "abcdefgh\0", "ação!", "x" * 69 + "y"]
    arr = pa.array(variants)
    hashes = word_hashes(arr)
    assert len(set(hashes.tolist())) == len(variants)
    shifted = pa.array(["padding", *variants[::-1]]).slice(1)  # other offsets, a sliced array
    np.testing.assert_array_equal(word_hashes(shifted), hashes[::-1])
    for i, text in enumerate(variants):  # alone: the value ends its data buffer
        assert word_hashes(pa.array([text]))[0] == hashes[i]


def _arrow_words(values: pa.Array) -> list[int]:
    trimmed = pc.utf8_trim_whitespace(values)
    words = pc.list_value_length(pc.utf8_split_whitespace(trimmed)).to_pylist()
    return [
        0 if size == 0 else w for w, size in zip(words, pc.binary_length(trimmed).to_pylist(), strict=True)
    ]


@pytest.mark.parametrize("seed", range(3))
def test_words_counted_from_bytes_are_arrows(seed: int) -> None:
    """Words counted from an ASCII array's bytes are the words Arrow's split finds, with every
    ASCII character (blanks of every kind, control characters), empty values anywhere and a
    sliced array; text that is not ASCII, or has gaps, is left to Arrow's split."""
    from sonda_analyzer.engine.strings import _ascii_words, words_per_value

    rng = np.random.default_rng(seed)
    alphabet = [chr(c) for c in range(128)] + ["a"] * 60 + [" "] * 20
    for trial in range(400):
        values = [
            "".join(rng.choice(alphabet, int(rng.integers(0, 14)))) for _ in range(int(rng.integers(1, 50)))
        ]
        arr = pa.array(["pad", *values]).slice(1) if trial % 2 else pa.array(values)
        assert _ascii_words(arr) is not None
        assert words_per_value(arr).tolist() == _arrow_words(arr)
    accented = pa.array(["ação rápida", "\u00a0x\u3000y ", "plain words here"])
    assert _ascii_words(accented) is None
    assert words_per_value(accented).tolist() == _arrow_words(accented) == [2, 2, 3]
    assert _ascii_words(pa.array(["a b", None])) is None


@pytest.mark.parametrize("width", [1, 7, 8, 13, 16, 36])
def test_strings_of_one_length_hash_as_among_others(width: int) -> None:
    """Strings all of one length are read at a fixed stride; they hash as they do beside a
    string of another length (read by index), sliced or not, the last ones at the buffer's end."""
    rng = np.random.default_rng(width)
    values = ["".join(rng.choice(list("0123456789abcdef-"), width)) for _ in range(200)]
    mixed = word_hashes(pa.array([*values, "z" * (width + 1)]))[:-1]
    np.testing.assert_array_equal(word_hashes(pa.array(values)), mixed)
    np.testing.assert_array_equal(word_hashes(pa.array(["pad", *values]).slice(1)), mixed)
    np.testing.assert_array_equal(word_hashes(pa.array(values[:3])), mixed[:3])
