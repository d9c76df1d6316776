"""Text of few distinct values read as dictionaries: an exact CSV read keeps such a column as
Arrow's dictionary, the profile takes its indices as the codes, and every figure is the one the
same column gives as plain text."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sonda_analyzer.engine import profile_file, profile_table
from sonda_analyzer.engine.load import load_table
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.progress import ProgressReporter
from sonda_analyzer.engine.read_csv import (
    DICTIONARY_MAX_DISTINCT,
    CsvState,
    csv_dialect,
    read_csv_pieces,
    read_csv_table,
)
from sonda_analyzer.engine.result import ProfileResult
from sonda_analyzer.engine.source import detect_source
from sonda_analyzer.engine.strings import Encoded, encode, encode_by_dictionary, encode_dictionary

from tests.analyzer.engine.conftest import column


def _same_encoding(got: Encoded, want: Encoded) -> None:
    assert got.values.equals(want.values)
    np.testing.assert_array_equal(got.counts, want.counts)
    np.testing.assert_array_equal(got.codes, want.codes)
    assert got.missing == want.missing


def _plain(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    return arr.cast(arr.type.value_type)


def _as_read(values: list[str | None], chunks: int) -> pa.ChunkedArray:
    """``values`` in chunks, each with its own dictionary in the order its values appear (as the
    CSV reader makes them)."""
    bounds = np.linspace(0, len(values), chunks + 1).astype(int)
    return pa.chunked_array(
        [pa.array(values[a:b], pa.string()).dictionary_encode() for a, b in itertools.pairwise(bounds)]
    )


def _shuffled(values: list[str | None], chunks: int, seed: int) -> pa.ChunkedArray:
    """``values`` in chunks sharing one dictionary in no particular order, holding values no row
    uses and a null entry that some rows point at (as a Parquet file may hold them)."""
    rng = np.random.default_rng(seed)
    distinct = [*sorted({v for v in values if v is not None}), "never used", "nor this"]
    entries: list[str | None] = [*distinct, None]
    order = rng.permutation(len(entries))
    dictionary = pa.array([entries[i] for i in order], pa.string())
    at = {entries[i]: j for j, i in enumerate(order)}
    null_entry = at[None]
    indices = []
    for i, v in enumerate(values):
        if v is None:  # a null index, or (every third one) the dictionary's null entry
            indices.append(null_entry if i % 3 == 0 else None)
        else:
            indices.append(at[v])
    bounds = np.linspace(0, len(values), chunks + 1).astype(int)
    return pa.chunked_array(
        [
            pa.DictionaryArray.from_arrays(pa.array(indices[a:b], pa.int32()), dictionary)
            for a, b in itertools.pairwise(bounds)
        ]
    )


def _values(rows: int, seed: int) -> list[str | None]:
    rng = np.random.default_rng(seed)
    words = ["São Paulo", "Belém", "", "Rio", "ação", "x" * 40, "Maceió"]
    picked: list[str | None] = [words[i] for i in rng.integers(0, len(words), rows)]
    for i in rng.choice(rows, rows // 10, replace=False):
        picked[i] = None
    return picked


@pytest.mark.parametrize("chunks", [1, 7])
@pytest.mark.parametrize("layout", ["as-read", "shuffled"])
def test_a_dictionary_column_encodes_as_its_text_does(layout: str, chunks: int) -> None:
    """Same values in the same order (first appearance), counts and codes as Arrow's encoding
    of the plain text, whatever the dictionary's order, unused values or null entries."""
    values = _values(5_000, seed=chunks)
    arr = _as_read(values, chunks) if layout == "as-read" else _shuffled(values, chunks, seed=chunks)
    want = encode_by_dictionary(_plain(arr))
    _same_encoding(encode_dictionary(arr), want)
    _same_encoding(encode(arr), want)
    assert len(want.values) == len({v for v in values if v is not None})


@pytest.mark.parametrize("distinct", [127, 128, 32_767, 32_768])
@pytest.mark.parametrize("layout", ["as-read", "shuffled"])
def test_codes_at_the_edges_of_their_integers(layout: str, distinct: int) -> None:
    """The codes are kept in the narrowest integers that hold them and the missing rows' code:
    dictionaries of about 127 and 32,767 values (with the shuffled layout's unused values and
    null entry, a few more) encode as their text does on either side of the edge."""
    rng = np.random.default_rng(distinct)
    words = [f"v{i:05d}" for i in range(distinct)]
    # as many rows drawn at random, a fifth of them missing, then every value once (so that the
    # dictionary holds them all), each part in a random order
    drawn: list[str | None] = [words[i] for i in rng.integers(0, distinct, distinct)]
    for i in rng.choice(distinct, distinct // 5, replace=False):
        drawn[i] = None
    picked = drawn + [words[i] for i in rng.permutation(distinct)]
    arr = _as_read(picked, 3) if layout == "as-read" else _shuffled(picked, 3, seed=distinct)
    want = encode_by_dictionary(_plain(arr))
    got = encode_dictionary(arr)
    _same_encoding(got, want)
    assert len(want.values) == distinct
    assert int(got.codes.max()) == distinct  # the missing rows' code fits too


@pytest.mark.parametrize(
    "values",
    [[None, None, None], [], ["only"], ["b", "a", "b", None]],
    ids=["all-null", "empty", "one", "short"],
)
def test_small_dictionary_columns(values: list[str | None]) -> None:
    for arr in (_as_read(values, 1), _shuffled(values, 1, seed=2)):
        _same_encoding(encode_dictionary(arr), encode_by_dictionary(_plain(arr)))


def _comparable(result: ProfileResult) -> list[dict[str, object]]:
    """Every column's figures but its bytes in memory, which the layout decides."""
    columns = msgspec.to_builtins(result.columns)
    for c in columns:
        c.pop("memory_bytes")
    return columns  # type: ignore[no-any-return]


def _brazilian(path: Path, rows: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "cidade": rng.choice(["São Paulo", "Belém", "Maceió", "Curitiba", "NA"], rows),
            "valor": rng.choice(["R$ 1.234,56", "R$ 99,90", "R$ 5,00"], rows),
            "preço": rng.choice(["1,5", "2,25", "10,0", ""], rows),
            "data": rng.choice(["01/02/2023", "15/03/2023", "31/12/2022"], rows),
            "resposta": rng.choice(["S", "N"], rows),
            "nota": rng.integers(0, 5, rows),
        }
    )
    frame.to_csv(path, index=False, sep=";")
    return frame


def test_a_csv_profile_with_text_dictionaries_is_the_plain_texts(tmp_path: Path) -> None:
    """The exact read keeps the text columns of few values as dictionaries; profiling them gives
    every figure that profiling the same columns as plain text gives (numbers and dates written as
    text, gaps, categories, correlations)."""
    path = tmp_path / "vendas.csv"
    frame = _brazilian(path, 20_000)
    source = detect_source(path, None)
    table, info = load_table(source, ProfileOptions(), 1 << 30, ProgressReporter(None))
    kept = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    assert kept == ["cidade", "valor", "data", "resposta"]  # the decimal commas are read as numbers
    plain = pa.table(
        {n: _plain(c) if n in kept else c for n, c in zip(table.column_names, table.columns, strict=True)}
    )
    as_text = profile_table(plain, ProfileOptions(), info=info)
    result = profile_file(path)
    assert _comparable(result) == _comparable(as_text)
    assert column(result, "cidade").missing == int((frame["cidade"] == "NA").sum())
    assert column(result, "preço").type == "numeric" and column(result, "data").type == "datetime"
    assert result.dataset.memory_bytes < as_text.dataset.memory_bytes  # what the dictionaries save
    assert result.dataset.memory_bytes == sum(c.memory_bytes for c in result.columns)


def test_pieces_read_text_dictionaries_as_one_stream_does(tmp_path: Path) -> None:
    path = tmp_path / "vendas.csv"
    _brazilian(path, 60_000, seed=9)
    source = detect_source(path, None)
    dialect = csv_dialect(source, ProfileOptions())
    pieces = read_csv_pieces(
        CsvState(dialect=dialect, text_dictionaries=True),
        source.path,
        source.file_size,
        lambda _: None,
        min_bytes=0,
        piece_bytes=source.file_size // 6 + 1,
    )
    whole = read_csv_table(CsvState(dialect=dialect, text_dictionaries=True), lambda: pa.OSFile(str(path)))
    assert pieces is not None and pieces.column("id").num_chunks >= 6
    assert pieces.schema.equals(whole.schema)
    assert pa.types.is_dictionary(pieces.schema.field("cidade").type)
    for name in pieces.column_names:
        assert pieces.column(name).to_pylist() == whole.column(name).to_pylist(), name


def test_a_column_with_more_values_later_is_read_as_text(write_text: Callable[..., Path]) -> None:
    """A column of a few values in the first block and more later than a dictionary takes: the
    streaming read meets the limit, and the whole-file read makes it plain text, every value kept."""
    first = [f"{i},cat{i % 5}" for i in range(200_000)]  # several blocks of five values
    later = [f"{i},v{i}" for i in range(200_000, 200_000 + 4 * DICTIONARY_MAX_DISTINCT)]
    path = write_text("grows.csv", "id,code\n" + "\n".join(first + later) + "\n")
    result = profile_file(path)
    assert result.dataset.rows == len(first) + len(later)
    assert column(result, "code").distinct == 5 + len(later)
    assert column(result, "code").count == len(first) + len(later)
