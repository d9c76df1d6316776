"""Streaming mode against exact mode on the same file: exact figures equal, sketched ones within
the error bounds the result states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import ProfileResult, profile_file
from sonda_analyzer.engine.planning import needs_streaming
from sonda_analyzer.engine.result import Approximation, Matrix
from sonda_analyzer.engine.rowhash import DuplicateCounter
from sonda_analyzer.engine.source import detect_source

from tests.analyzer.engine.conftest import column

pytestmark = pytest.mark.slow

ROWS = 90_000


def stream_frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = ROWS
    skewed = rng.lognormal(3, 1.2, n)
    skewed[rng.random(n) < 0.03] = np.nan
    df = pd.DataFrame({
        "skewed": skewed,
        "normal": rng.normal(0, 5, n),
        "ints": rng.integers(-20, 200, n),
        "zeros": np.where(rng.random(n) < 0.4, 0.0, rng.exponential(2, n)),
        "city": rng.choice(
            np.array(["a", "b", "c", "d", "e", None], dtype=object),
            n,
            p=[0.3, 0.25, 0.2, 0.15, 0.05, 0.05],
        ),
        "level": rng.choice(["low", "mid", "high"], n),
        "code": [f"K{v}" for v in rng.integers(0, 200_000, n)],  # beyond the exact cap
        "note": [" ".join(rng.choice(["ok", "late", "good", "bad"], rng.integers(1, 5))) for _ in range(n)],
        "flag": rng.random(n) < 0.2,
        "when": np.datetime64("2022-01-01") + rng.integers(0, 3 * 10**7, n).astype("timedelta64[s]"),
    })  # fmt: skip
    df["follows"] = df["normal"] * 2 + rng.normal(0, 1, n)
    dup_rows = df.sample(300, random_state=1)
    return pd.concat([df, dup_rows], ignore_index=True)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, ProfileResult, ProfileResult]:
    df = stream_frame()
    path = tmp_path_factory.mktemp("stream") / "big.csv"
    df.to_csv(path, index=False)
    exact = profile_file(path, {"streaming": False})
    streamed = profile_file(path, budget_mb=64)  # a small budget: several chunks
    return df, exact, streamed


def _bound(result: ProfileResult, figure: str) -> Approximation:
    return next(a for a in result.approximations if a.figure == figure)


def test_mode_and_exact_figures(pair: tuple[pd.DataFrame, ProfileResult, ProfileResult]) -> None:
    df, exact, streamed = pair
    assert streamed.dataset.mode == "streaming" and streamed.dataset.approximate
    assert exact.dataset.mode == "exact"
    for key in ("rows", "columns", "missing_cells", "duplicate_rows", "delimiter", "encoding"):
        assert getattr(streamed.dataset, key) == getattr(exact.dataset, key), key
    assert streamed.dataset.duplicate_rows == int(df.duplicated().sum())
    for e in exact.columns:
        s = column(streamed, e.name)
        assert (s.type, s.count, s.missing) == (e.type, e.count, e.missing), e.name
        if e.stats is not None:
            for key in ("min", "max", "mean", "sum", "std", "variance", "skewness", "kurtosis"):
                assert getattr(s.stats, key) == pytest.approx(getattr(e.stats, key), rel=1e-7), key
            for key in ("zeros", "negatives", "infinite"):
                assert getattr(s.stats, key) == getattr(e.stats, key)
        if e.boolean is not None:
            assert s.boolean == e.boolean
        if e.datetime is not None:
            assert (s.datetime.min, s.datetime.max) == (e.datetime.min, e.datetime.max)
        if e.text is not None:
            assert (s.text.length_min, s.text.length_max) == (e.text.length_min, e.text.length_max)
            assert s.text.length_mean == pytest.approx(e.text.length_mean)


def test_small_cardinalities_stay_exact(pair: tuple[pd.DataFrame, ProfileResult, ProfileResult]) -> None:
    _, exact, streamed = pair
    for name in ("ints", "city", "level", "note", "flag"):
        e, s = column(exact, name), column(streamed, name)
        assert s.distinct == e.distinct, name
        if e.top_values:
            assert {(v.value, v.count) for v in s.top_values} == {(v.value, v.count) for v in e.top_values}
        if e.text is not None and e.text.entropy is not None:
            assert s.text.entropy == pytest.approx(e.text.entropy)
            assert s.text.words_mean == pytest.approx(e.text.words_mean)


def test_quantiles_within_the_rank_error(pair: tuple[pd.DataFrame, ProfileResult, ProfileResult]) -> None:
    df, _, streamed = pair
    bound = _bound(streamed, "columns[].stats.quantiles")
    assert "skewed" in bound.columns and 0 < bound.error_bound < 0.02
    for name in ("skewed", "normal", "zeros", "follows"):
        x = np.sort(df[name].dropna().to_numpy(dtype=float))
        n = len(x)
        q = column(streamed, name).stats.quantiles
        for p, value in [(0.01, q.p1), (0.25, q.p25), (0.5, q.p50), (0.75, q.p75), (0.99, q.p99)]:
            lo = np.searchsorted(x, value, side="left") / n
            hi = np.searchsorted(x, value, side="right") / n
            # the value's rank interval must come within the stated error of p
            assert lo - bound.error_bound <= p <= hi + bound.error_bound, (name, p)


def test_histogram_and_outliers_within_bounds(
    pair: tuple[pd.DataFrame, ProfileResult, ProfileResult],
) -> None:
    df, _, streamed = pair
    pmf = _bound(streamed, "columns[].histogram").error_bound
    outlier_bound = _bound(streamed, "columns[].stats.outliers_iqr").error_bound
    for name in ("skewed", "normal"):
        x = df[name].dropna().to_numpy(dtype=float)
        col = column(streamed, name)
        counts, _ = np.histogram(x, bins=np.array(col.histogram.edges))
        assert sum(col.histogram.counts) == len(x)
        assert np.all(np.abs(np.array(col.histogram.counts) - counts) <= pmf * len(x) + 1)
        q1, q3 = col.stats.quantiles.p25, col.stats.quantiles.p75
        fences = (x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))
        assert abs(col.stats.outliers_iqr - fences.sum()) <= outlier_bound * len(x) + 1
        med = col.stats.median
        true_mad_at_median = np.median(np.abs(x - med))
        assert col.stats.mad == pytest.approx(true_mad_at_median, rel=0.05)


def test_distinct_and_top_values_within_bounds(
    pair: tuple[pd.DataFrame, ProfileResult, ProfileResult],
) -> None:
    df, exact, streamed = pair
    distinct = _bound(streamed, "columns[].distinct")
    assert "code" in distinct.columns and "normal" in distinct.columns
    for name in distinct.columns:
        truth = column(exact, name).distinct
        assert abs(column(streamed, name).distinct - truth) <= distinct.error_bound * truth, name
    tops = _bound(streamed, "columns[].top_values")
    assert "code" in tops.columns
    truth_counts = df["code"].value_counts()
    for v in column(streamed, "code").top_values:
        assert abs(v.count - truth_counts[v.value]) <= tops.error_bound
    assert column(streamed, "code").text.entropy is None  # not computable from the sketch


def test_correlations(pair: tuple[pd.DataFrame, ProfileResult, ProfileResult]) -> None:
    _, exact, streamed = pair

    def as_frame(m: Matrix) -> pd.DataFrame:
        return pd.DataFrame(m.matrix, index=m.columns, columns=m.columns, dtype=float)

    ep, sp = as_frame(exact.correlations.pearson), as_frame(streamed.correlations.pearson)
    assert set(sp.columns) == set(ep.columns)
    np.testing.assert_allclose(sp.loc[ep.index, ep.columns], ep, rtol=1e-7, atol=1e-9)
    bound = _bound(streamed, "correlations.spearman").error_bound
    es, ss = as_frame(exact.correlations.spearman), as_frame(streamed.correlations.spearman)
    assert np.nanmax(np.abs(ss.loc[es.index, es.columns].to_numpy() - es.to_numpy())) <= bound
    ec, sc = as_frame(exact.correlations.cramers_v), as_frame(streamed.correlations.cramers_v)
    np.testing.assert_allclose(sc.loc[ec.index, ec.columns], ec, rtol=1e-9)
    er = {(r.numeric, r.categorical): r.value for r in exact.correlations.correlation_ratio}
    sr = {(r.numeric, r.categorical): r.value for r in streamed.correlations.correlation_ratio}
    assert set(sr) == set(er)
    for key, value in er.items():
        assert sr[key] == pytest.approx(value, rel=1e-7, abs=1e-12)


def test_type_conflict_later_in_the_file_restarts_the_pass(tmp_path: Path) -> None:
    n = 200_000
    ints = [str(i) for i in range(n)]
    ints[-5] = "2.5"  # an integer column that turns out to hold a decimal
    words = ["7"] * n
    words[-3] = "seven"  # a number column that turns out to hold a word
    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + "".join(f"{x},{y}\n" for x, y in zip(ints, words, strict=True)))
    result = profile_file(path, budget_mb=64)
    assert result.dataset.mode == "streaming" and result.dataset.rows == n
    a = column(result, "a")
    assert a.dtype == "double" and a.stats.sum == pytest.approx(sum(float(v) for v in ints))
    b = column(result, "b")
    assert b.type == "categorical" and b.distinct == 2 and "numeric_as_text" in b.semantic


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_streamed_formats(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=30_000), "c": rng.choice(["p", "q"], 30_000)})
    path = tmp_path / f"d.{fmt}"
    if fmt == "jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path, row_group_size=5_000)
    result = profile_file(path, {"streaming": True}, budget_mb=64)
    assert result.dataset.mode == "streaming" and result.dataset.rows == len(df)
    assert column(result, "x").stats.mean == pytest.approx(df["x"].mean())
    assert column(result, "c").distinct == 2


def test_max_rows_in_streaming(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    pd.DataFrame({"v": np.arange(50_000)}).to_csv(path, index=False)
    result = profile_file(path, {"streaming": True, "max_rows": 1234}, budget_mb=64)
    assert result.dataset.rows == 1234 and result.dataset.truncated
    assert column(result, "v").stats.max == 1233


def test_duplicate_counter_samples_hash_space_within_its_error() -> None:
    rng = np.random.default_rng(0)
    unique = rng.integers(0, 2**64, 400_000, dtype=np.uint64)
    rows = np.concatenate([unique, unique[:40_000]])
    rng.shuffle(rows)
    counter = DuplicateCounter(limit_bytes=8 * 50_000)
    for chunk in np.array_split(rows, 9):
        counter.update(chunk)
    dups, rel = counter.result()
    assert counter.level > 0 and 0 < rel < 0.2
    assert abs(dups - 40_000) <= 3 * rel * 40_000


def test_gzip_that_hides_its_size_falls_back_to_streaming(tmp_path: Path) -> None:
    """A multi-member gzip reports only its last member's size: exact mode must not trust it."""
    import gzip

    rng = np.random.default_rng(5)
    first = pd.DataFrame({"v": rng.normal(size=600_000)}).to_csv(index=False).encode()
    last = b"0.5\n" * 2_000_000  # compresses to almost nothing; its size is all the trailer tells
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(first) + gzip.compress(last))
    source = detect_source(path)
    assert source.content_size == len(last) < len(first) + len(last)
    assert not needs_streaming(source, 150 << 20)  # the trailer alone would say "exact"
    result = profile_file(path, budget_mb=150)
    assert result.dataset.mode == "streaming"
    assert result.dataset.rows == 2_600_000


@pytest.mark.parametrize("name", ["skewed", "normal", "ints", "zeros"])
def test_extreme_values_are_exact_in_both_modes(
    pair: tuple[pd.DataFrame, ProfileResult, ProfileResult], name: str
) -> None:
    df, exact, streamed = pair
    counts = df[name].dropna().value_counts().sort_index()
    smallest = [(float(v), int(c)) for v, c in counts.head(5).items()]
    largest = [(float(v), int(c)) for v, c in counts.tail(5)[::-1].items()]
    for result in (exact, streamed):
        found = column(result, name).stats.extremes
        assert found is not None
        assert [(x.value, x.count) for x in found.smallest] == smallest
        assert [(x.value, x.count) for x in found.largest] == largest


def test_a_column_of_rising_values_has_every_value_distinct_exactly(tmp_path: Path) -> None:
    """Past the exact cap distinct values are estimated, but a numeric column whose every value
    is above the one before, none missing, has as many distinct values as values; and no estimate
    is above the number of values."""
    rows = 150_000
    rng = np.random.default_rng(31)
    path = tmp_path / "ids.csv"
    frame = pd.DataFrame({
        "row": np.arange(1, rows + 1) * 3,
        "unique": rng.permutation(rows) + 0.5,  # all distinct, in no order
        "almost": np.concatenate([np.arange(rows - 1), [5]]),  # one repeat, at the end
    })  # fmt: skip
    frame.to_csv(path, index=False)
    result = profile_file(path, budget_mb=64)
    assert result.dataset.mode == "streaming"
    row, unique, almost = (column(result, n) for n in ("row", "unique", "almost"))
    assert row.distinct == frame["row"].nunique() == rows
    assert row.unique
    distinct = _bound(result, "columns[].distinct")
    assert "row" not in distinct.columns
    assert {"unique", "almost"} <= set(distinct.columns)
    for c in (unique, almost):
        truth = frame[c.name].nunique()
        assert c.distinct <= c.count == rows
        assert abs(c.distinct - truth) <= distinct.error_bound * truth
