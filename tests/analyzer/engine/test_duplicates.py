"""The most frequent duplicated rows, with their counts: checked against pandas on the same data, the
same in exact and streaming mode, and honest about what streaming mode could not keep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sonda_analyzer.engine import ProfileResult, profile_dataframe, profile_file
from sonda_analyzer.engine.duplicates import TOP_DUPLICATES, FrequentRows
from sonda_analyzer.engine.rowhash import DuplicateCounter, row_hashes, text_hashes


def expected_top(frame: pd.DataFrame, top: int = TOP_DUPLICATES) -> list[tuple[list[Any], int]]:
    """pandas' answer: the duplicated rows by count, ties: the row whose last copy comes first."""
    group = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
    sizes = np.bincount(group)
    last = pd.Series(np.arange(len(frame))).groupby(group).max()
    ranked = sorted(
        ((g, int(row)) for g, row in last.items() if sizes[g] >= 2), key=lambda gr: (-sizes[gr[0]], gr[1])
    )
    return [([_plain(v) for v in frame.iloc[row]], int(sizes[g])) for g, row in ranked[:top]]


def _plain(value: Any) -> Any:
    """A pandas cell as the result writes it: null for missing, ISO 8601 for times."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def listed(result: ProfileResult) -> list[tuple[list[Any], int]]:
    assert result.duplicates is not None
    return [(list(r.values), r.count) for r in result.duplicates.rows]


def duplicated_frame(n: int, seed: int) -> pd.DataFrame:
    """Few distinct values per column, so rows repeat a different number of times (ties too)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "n": rng.integers(0, 4, n),
        "x": rng.choice([0.5, 1.25, np.nan], n),
        "s": rng.choice(np.array(["a", "b", None], dtype=object), n),
        "ok": rng.random(n) < 0.5,
        "t": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D"),
    })  # fmt: skip
    return frame


def test_the_most_frequent_rows_match_pandas() -> None:
    frame = duplicated_frame(3_000, seed=1)
    result = profile_dataframe(frame)
    assert result.dataset.duplicate_rows == int(frame.duplicated().sum())
    assert listed(result) == expected_top(frame)
    assert result.duplicates is not None and result.duplicates.columns == list(frame.columns)
    # The counts are what value_counts says of the duplicated rows, the biggest first.
    counts = frame[frame.duplicated(keep=False)].value_counts(dropna=False).to_numpy()
    assert [c for _, c in listed(result)] == sorted(counts.tolist(), reverse=True)[:TOP_DUPLICATES]


def test_no_duplicate_no_list() -> None:
    frame = pd.DataFrame({"id": np.arange(500), "v": np.arange(500) % 7})
    result = profile_dataframe(frame)
    assert result.dataset.duplicate_rows == 0
    assert listed(result) == []


def test_fewer_duplicated_rows_than_places() -> None:
    frame = pd.DataFrame({"a": [1, 2, 1, 3, 2, 1, 4], "b": ["x", "y", "x", "z", "y", "x", "w"]})
    result = profile_dataframe(frame)
    assert listed(result) == expected_top(frame) == [([1, "x"], 3), ([2, "y"], 2)]


def test_integers_beyond_float_precision_are_shown_whole() -> None:
    big = 2**62 + 1  # a float would print it as 4611686018427387904
    frame = pd.DataFrame({"id": np.array([big, big, 5], dtype=np.int64), "v": ["a", "a", "b"]})
    result = profile_dataframe(frame)
    assert listed(result) == expected_top(frame) == [([big, "a"], 2)]


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table whose copies lie far apart (a file appended to itself, in part), several chunks long."""
    rng = np.random.default_rng(8)
    n = 80_000
    base = pd.DataFrame({
        "id": np.arange(n),
        "valor": rng.normal(100, 20, n).round(2),
        "cidade": rng.choice(["Recife", "Natal", "Belém"], n),
        "nota": "x" * 30,
    })  # fmt: skip
    # Rows from all over the file again, some a third and a fourth time: the only repeats.
    again = base.sample(2_000, random_state=3)
    thrice = again.sample(40, random_state=4)
    frame = pd.concat([base, again, thrice, thrice.head(7)], ignore_index=True)
    path = tmp_path_factory.mktemp("dups") / "spread.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("options", "budget"), [({"streaming": False}, 1024), ({"streaming": True}, 64)])
def test_a_file_read_whole_or_in_chunks_lists_what_pandas_counts(
    spread: Path, options: dict[str, Any], budget: int
) -> None:
    result = profile_file(spread, options, budget_mb=budget)
    read = pd.read_csv(spread)
    assert result.dataset.duplicate_rows == int(read.duplicated().sum())
    assert listed(result) == expected_top(read)
    if result.dataset.mode == "streaming":
        bound = next(a for a in result.approximations if a.figure == "duplicates.rows")
        assert bound.error_bound < 1e-6  # nothing missed: only a hash collision could differ


def _table(values: list[int]) -> pa.Table:
    return pa.table({"v": pa.array(values, type=pa.int64())})


def _hashes(values: list[Any]) -> np.ndarray:
    # Distinct values, distinct hashes: the counter sees the values themselves.
    return np.array(values, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)


def _feed(chunks: list[list[int]], limit_bytes: int = 1 << 20) -> tuple[FrequentRows, DuplicateCounter]:
    """What streaming mode does with each chunk's row hashes."""
    frequent, counter, first = FrequentRows(), DuplicateCounter(limit_bytes), 0
    for chunk in chunks:
        hashes = _hashes(chunk)
        frequent.update(_table(chunk), hashes, counter, first)
        counter.update(hashes)
        frequent.retain(counter)
        first += len(chunk)
    return frequent, counter


def test_the_rows_that_end_on_top_are_kept_whenever_they_repeat() -> None:
    """Rows that lead early and fall behind, a row that overtakes them late, ties: the exact list."""
    rng = np.random.default_rng(2)
    early = [list(range(100)) * 3]  # 100 rows three times each: they lead after the first chunk
    late = [rng.permutation(np.repeat(np.arange(1_000, 1_030), 5)).tolist() for _ in range(3)]
    middle = [rng.integers(2_000, 2_400, 500).tolist() for _ in range(4)]
    chunks = early + middle + late
    frequent, _ = _feed(chunks)
    frame = pd.DataFrame({"v": [v for c in chunks for v in c]})
    assert [(r.values, r.count) for r in frequent.result(["v"]).rows] == expected_top(frame)


def test_random_chunks_give_the_exact_list() -> None:
    rng = np.random.default_rng(9)
    values = rng.zipf(1.6, 30_000) % 5_000
    chunks = [c.tolist() for c in np.array_split(values, 17)]
    frequent, counter = _feed(chunks)
    assert counter.level == 0
    expected = expected_top(pd.DataFrame({"v": values}))
    assert [(r.values, r.count) for r in frequent.result(["v"]).rows] == expected


def test_counts_stay_exact_when_the_counter_samples_its_hash_space() -> None:
    rng = np.random.default_rng(6)
    values = rng.integers(0, 40_000, 120_000).tolist()
    chunks = [values[i : i + 10_000] for i in range(0, len(values), 10_000)]
    frequent, counter = _feed(chunks, limit_bytes=8 * 30_000)
    assert counter.level > 0
    rows = frequent.result(["v"]).rows
    assert rows
    truth = pd.Series(values).value_counts()
    for row in rows:
        assert row.count == truth[row.values[0]]
    kept = counter.kept(_hashes([r.values[0] for r in rows]))
    assert kept.all()


def test_text_hashes_follow_the_bytes_wherever_the_strings_lie() -> None:
    """Streaming mode counts distinct values and repeated rows by hash, chunk by chunk: a string
    hashes the same in any array, slice or offset width, empty and multi-block strings included,
    and different strings (one byte apart, or the same bytes at other places) do not collide."""
    rng = np.random.default_rng(3)
    long_a, long_b = "x" * 300_000, "x" * 299_999 + "y"  # longer than a hashing block
    words = ["", "a", "ab", "ba", "é", "ée", "x" * 70, "x" * 69 + "y", "y" + "x" * 69, long_a, long_b]
    words += [f"id-{i:07d}" for i in range(20_000)]
    order = rng.permutation(np.repeat(np.arange(len(words)), 2))
    values = [words[i] for i in order]
    whole = text_hashes(pa.array(values))
    by_text: dict[str, int] = {}
    for text, hashed in zip(values, whole.tolist(), strict=True):
        assert by_text.setdefault(text, hashed) == hashed
    assert len(set(by_text.values())) == len(words)
    assert np.array_equal(text_hashes(pa.array(values).slice(7)), whole[7:])
    assert np.array_equal(text_hashes(pa.array(values, pa.large_string())), whole)
    chunked = pa.chunked_array([pa.array(values[:1000]), pa.array(values[1000:])])
    assert np.array_equal(np.concatenate([text_hashes(c) for c in chunked.chunks]), whole)


def test_row_hashes_match_equal_rows_in_any_chunk() -> None:
    """Streaming mode counts repeated rows by row hash: rows equal as pandas compares them (missing
    equals missing, -0.0 equals 0.0) hash alike wherever they lie, and different rows do not
    collide, a swap of two values included."""
    rng = np.random.default_rng(8)
    n = 60_000
    frame = pd.DataFrame({
        "a": rng.integers(0, 40, n).astype(float),
        "b": rng.choice(np.array(["x", "y", "z", None], dtype=object), n),
        "c": rng.choice(np.array([0.0, -0.0, 1.5, np.nan]), n),
        "d": rng.integers(0, 30, n),
    })  # fmt: skip
    table = pa.Table.from_pandas(frame, preserve_index=False)
    whole = row_hashes(table)
    chunks = np.concatenate([row_hashes(table.slice(at, 7_001)) for at in range(0, n, 7_001)])
    assert np.array_equal(chunks, whole)
    repeats = n - len(np.unique(whole))
    assert repeats == int(frame.duplicated().sum())
    swapped = pa.table({"p": ["x", "y"], "q": ["y", "x"]})
    assert len(set(row_hashes(swapped).tolist())) == 2
    interval = pa.array([(1, 2, 3), None, (1, 2, 3)], pa.month_day_nano_interval())
    odd = row_hashes(pa.table({"i": interval, "k": [1, 2, 1]}))
    assert odd[0] == odd[2] != odd[1]


@pytest.mark.parametrize("limit_rows", [1_000_000, 30_000])
def test_counter_counts_each_hash_seen_so_far(limit_rows: int) -> None:
    """The counter's counts against numpy's, chunk after chunk: every hash of the history when it
    keeps them all, and every hash it keeps once it samples the hash space (a smaller limit)."""
    rng = np.random.default_rng(12)
    pool = rng.integers(0, 2**64, 60_000, dtype=np.uint64)
    counter = DuplicateCounter(limit_bytes=8 * limit_rows)
    history = np.empty(0, dtype=np.uint64)
    for _ in range(12):
        chunk = np.concatenate([rng.choice(pool, 6_000), rng.integers(0, 2**64, 6_000, dtype=np.uint64)])
        asked = np.concatenate([chunk[:3_000], pool[:2_000]])
        seen, times = np.unique(history, return_counts=True)
        at = np.searchsorted(seen, asked).clip(max=max(len(seen) - 1, 0))
        truth = np.where(seen[at] == asked, times[at], 0) if len(seen) else np.zeros(len(asked), np.int64)
        kept = counter.kept(asked)
        assert np.array_equal(counter.counts(asked)[kept], truth[kept])
        counter.update(chunk)
        history = np.concatenate([history, chunk])
    assert (counter.level > 0) == (limit_rows < len(history))
