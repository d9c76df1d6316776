"""Categorical, text, boolean and datetime figures against pandas and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats as sps
from sonda_analyzer.engine import ProfileOptions, ProfileResult, profile_table
from sonda_analyzer.engine.strings import entropy_bits
from sonda_analyzer.engine.temporal import _first_distinct

from tests.analyzer.engine.conftest import column


@pytest.mark.parametrize("name", ["city", "segment", "status", "comment"])
def test_value_counts_entropy_and_lengths(
    mixed: pd.DataFrame, mixed_result: ProfileResult, name: str
) -> None:
    series = mixed[name]
    present = series.dropna()
    col = column(mixed_result, name)
    counts = present.value_counts()
    assert col.count == len(present)
    assert col.missing == int(series.isna().sum())
    assert col.distinct == series.nunique()
    assert col.top_values is not None
    top = {v.value: v.count for v in col.top_values}
    k = len(col.top_values)
    assert k == min(10, len(counts))
    # The top counts are the k largest counts; each value's count is pandas' count.
    assert sorted(top.values(), reverse=True) == counts.iloc[:k].tolist()
    for value, n in top.items():
        assert counts[value] == n
    for v in col.top_values:
        assert v.pct == pytest.approx(v.count / len(present))
    text = col.text
    assert text is not None
    assert text.entropy == pytest.approx(sps.entropy(counts.to_numpy(), base=2))
    expected_imbalance = 1 - sps.entropy(counts.to_numpy(), base=2) / np.log2(len(counts))
    assert text.imbalance == pytest.approx(expected_imbalance, abs=1e-12)
    lengths = present.str.len()
    assert text.length_min == lengths.min()
    assert text.length_max == lengths.max()
    assert text.length_mean == pytest.approx(lengths.mean())
    assert text.words_mean == pytest.approx(present.str.split().str.len().mean())


def test_inferred_types(mixed_result: ProfileResult) -> None:
    expected = {
        "id": "identifier", "age": "numeric", "income": "numeric", "city": "categorical",
        "segment": "categorical", "status": "categorical", "active": "boolean",
        "created": "datetime", "day": "datetime",
    }  # fmt: skip
    got = {c.name: c.type for c in mixed_result.columns if c.name in expected}
    assert got == expected


def test_text_and_identifier_columns() -> None:
    rng = np.random.default_rng(2)
    words = np.array(["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "again"])
    n = 400
    sentences = [" ".join(rng.choice(words, 6)) + f" {i}" for i in range(n)]
    codes = [f"AB-{i:06d}" for i in rng.permutation(n)]
    emails = [f"user{i}@example.org" for i in range(n)]
    urls = [f"https://example.org/item/{i}" for i in range(n)]
    uuids = [f"{rng.integers(0, 2**32):08x}-1234-4abc-8def-{rng.integers(0, 2**48):012x}" for _ in range(n)]
    df = pd.DataFrame({"note": sentences, "code": codes, "email": emails, "url": urls, "uuid": uuids})
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    assert column(result, "note").type == "text"
    assert column(result, "note").text.words_mean == pytest.approx(
        pd.Series(sentences).str.split().str.len().mean()
    )
    assert column(result, "code").type == "identifier"
    assert column(result, "code").unique
    assert "email" in column(result, "email").semantic
    assert "url" in column(result, "url").semantic
    assert "uuid" in column(result, "uuid").semantic
    assert column(result, "uuid").type == "identifier"
    assert any(a.type == "unique" and a.column == "code" for a in result.alerts)


def test_numbers_and_dates_stored_as_text() -> None:
    n = 300
    df = pd.DataFrame({
        "amount": [f"{v:.2f}" for v in np.linspace(1, 999, n)],
        "when": [f"{d % 28 + 1:02d}/{d % 12 + 1:02d}/2024" for d in range(n)],
        "code": [str(i) if i % 3 else f"X{i}" for i in range(n)],
    })  # fmt: skip
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    assert "numeric_as_text" in column(result, "amount").semantic
    assert "date_as_text" in column(result, "when").semantic
    assert "mixed_types" in column(result, "code").semantic
    kinds = {(a.type, a.column) for a in result.alerts}
    assert {("numbers_as_text", "amount"), ("dates_as_text", "when"), ("mixed_types", "code")} <= kinds


def test_boolean_counts(mixed: pd.DataFrame, mixed_result: ProfileResult) -> None:
    col = column(mixed_result, "active")
    assert col.boolean is not None
    assert col.boolean.true == int(mixed["active"].sum())
    assert col.boolean.false == int((~mixed["active"]).sum())
    assert col.boolean.missing == 0
    assert col.distinct == 2


def test_boolean_with_missing() -> None:
    values = [True, False, None, True, True, None]
    result = profile_table(pa.table({"b": pa.array(values, type=pa.bool_())}))
    col = column(result, "b")
    assert (col.boolean.true, col.boolean.false, col.boolean.missing) == (3, 1, 2)
    assert col.missing == 2 and col.count == 4


@pytest.mark.parametrize("name", ["created", "day"])
def test_datetime_figures(mixed: pd.DataFrame, mixed_result: ProfileResult, name: str) -> None:
    series = pd.to_datetime(mixed[name])
    col = column(mixed_result, name)
    dt = col.datetime
    assert dt is not None
    assert pd.Timestamp(dt.min) == series.min()
    assert pd.Timestamp(dt.max) == series.max()
    assert dt.range_seconds == pytest.approx((series.max() - series.min()).total_seconds())
    assert col.distinct == series.nunique()
    seconds = series.astype("datetime64[s]").astype("int64").to_numpy()
    counts, _ = np.histogram(seconds.astype(float), bins=min(20, len(np.unique(seconds))))
    assert dt.histogram is not None and dt.histogram.counts == counts.tolist()


def test_datetime_frequency_matches_pandas() -> None:
    for freq in ["D", "h", "15min", "MS", "W-SUN"]:
        index = pd.date_range("2024-01-01", periods=60, freq=freq)
        result = profile_table(pa.table({"t": pa.array(index.to_numpy())}))
        expected = pd.infer_freq(index)
        got = column(result, "t").datetime.frequency
        if freq == "W-SUN":
            assert got == "7D"  # a fixed step of a week; pandas names the anchor
        else:
            assert got == expected, freq


@pytest.mark.parametrize("freq", ["D", "MS"])
def test_frequency_of_a_series_with_repeated_instants(freq: str) -> None:
    """Instants repeated unevenly (the first ones most) and shuffled: the steps between distinct
    instants decide, and a calendar step is named from the first distinct ones, as pandas does."""
    rng = np.random.default_rng(7)
    index = pd.date_range("1990-01-01", periods=3_000, freq=freq)
    repeats = rng.integers(1, 5, len(index))
    repeats[:50] = 400  # the smallest instants far more often than the rest
    values = np.repeat(index.to_numpy(), repeats)
    rng.shuffle(values)
    result = profile_table(pa.table({"t": pa.array(values)}))
    assert column(result, "t").datetime.frequency == pd.infer_freq(index[:2_000])


def test_first_distinct_values_of_a_sorted_array() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 5, 2_000):
        values = np.sort(np.repeat(rng.integers(0, 5_000, 3_000), rng.integers(1, 60, 3_000)))
        assert np.array_equal(_first_distinct(values, n), np.unique(values)[:n])


def test_irregular_series_has_no_frequency() -> None:
    rng = np.random.default_rng(1)
    stamps = np.datetime64("2024-01-01") + np.sort(rng.integers(0, 10**7, 200)).astype("timedelta64[s]")
    result = profile_table(pa.table({"t": pa.array(stamps)}))
    assert column(result, "t").datetime.frequency is None


def test_top_values_option() -> None:
    df = pd.DataFrame({"c": [f"v{i % 30}" for i in range(300)]})
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False), ProfileOptions(top_values=3))
    assert len(column(result, "c").top_values) == 3


@pytest.mark.parametrize(
    "counts",
    [
        np.ones(100_000, dtype=np.int64),  # unique values
        np.random.default_rng(1).integers(1, 4, 50_000),  # mostly small counts, summed per count
        np.array([10**6, 1, 1, 2]),  # one value dominates: a term per value
        np.array([0, 5, 0, 7]),  # values no row has
        np.array([3.0, 1.0, 1.0]),  # counts as floats
    ],
    ids=["unique", "small-counts", "skewed", "zeros", "floats"],
)
def test_entropy_and_imbalance_against_scipy(counts: np.ndarray) -> None:
    entropy, imbalance = entropy_bits(counts)
    present = counts[counts > 0]
    assert entropy == pytest.approx(sps.entropy(present, base=2), rel=1e-9, abs=1e-12)
    want = 1 - sps.entropy(present, base=2) / np.log2(len(present)) if len(present) > 1 else 0.0
    assert imbalance == pytest.approx(max(0.0, want), rel=1e-9, abs=1e-12)
