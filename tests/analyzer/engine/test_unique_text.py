"""Columns of unique strings (ids, UUIDs, e-mails) and columns with a single repeat: every figure is
pandas', and the top values of a column of ties are its first rows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats as sps
from sonda_analyzer.engine import profile_table
from sonda_analyzer.engine.strings import encode

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
