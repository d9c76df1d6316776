"""Every numeric figure against numpy, pandas and scipy on the same generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sonda_analyzer.engine import ProfileOptions, ProfileResult, profile_dataframe, profile_table

from tests.analyzer.engine.conftest import column

NUMERIC = ["age", "income", "score", "noisy", "visits", "temp"]


@pytest.mark.parametrize("name", NUMERIC)
def test_moments_and_order_statistics(mixed: pd.DataFrame, mixed_result: ProfileResult, name: str) -> None:
    series = mixed[name].astype("float64")
    x = series.dropna().to_numpy()
    col = column(mixed_result, name)
    s = col.stats
    assert col.type == "numeric"
    assert col.count == len(x)
    assert col.missing == int(series.isna().sum())
    assert col.missing_pct == pytest.approx(series.isna().mean())
    assert col.distinct == series.nunique()
    assert col.distinct_pct == pytest.approx(series.nunique() / len(x))
    assert col.unique == (series.nunique() == len(x))
    assert s is not None
    assert s.min == pytest.approx(x.min())
    assert s.max == pytest.approx(x.max())
    assert s.range == pytest.approx(x.max() - x.min())
    assert s.mean == pytest.approx(np.mean(x), rel=1e-12)
    assert s.sum == pytest.approx(np.sum(x), rel=1e-12)
    assert s.std == pytest.approx(series.std(), rel=1e-10)
    assert s.variance == pytest.approx(np.var(x, ddof=1), rel=1e-10)
    assert s.median == pytest.approx(np.median(x))
    expected_q = np.quantile(x, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    got_q = [s.quantiles.p1, s.quantiles.p5, s.quantiles.p25, s.quantiles.p50, s.quantiles.p75,
             s.quantiles.p95, s.quantiles.p99]  # fmt: skip
    np.testing.assert_allclose(got_q, expected_q, rtol=1e-12)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    assert s.iqr == pytest.approx(q3 - q1)
    assert s.mad == pytest.approx(np.median(np.abs(x - np.median(x))))
    assert s.cv == pytest.approx(np.std(x, ddof=1) / np.mean(x), rel=1e-10)
    assert s.skewness == pytest.approx(sps.skew(x, bias=False), rel=1e-8, abs=1e-12)
    assert s.kurtosis == pytest.approx(sps.kurtosis(x, bias=False), rel=1e-8, abs=1e-12)
    assert s.skewness == pytest.approx(series.skew(), rel=1e-8, abs=1e-12)
    assert s.kurtosis == pytest.approx(series.kurt(), rel=1e-8, abs=1e-12)
    assert s.zeros == int((x == 0).sum())
    assert s.negatives == int((x < 0).sum())
    assert s.infinite == 0
    outliers = ((x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))).sum()
    assert s.outliers_iqr == int(outliers)


@pytest.mark.parametrize("name", NUMERIC)
def test_histogram_matches_numpy(mixed: pd.DataFrame, mixed_result: ProfileResult, name: str) -> None:
    x = mixed[name].dropna().to_numpy(dtype="float64")
    col = column(mixed_result, name)
    assert col.histogram is not None
    bins = min(20, len(np.unique(x)))
    counts, edges = np.histogram(x, bins=bins)
    np.testing.assert_allclose(col.histogram.edges, edges)
    assert col.histogram.counts == counts.tolist()
    assert sum(col.histogram.counts) == col.count


@pytest.mark.parametrize("correlations", [True, False], ids=["sorted-for-ranks", "sorted-alone"])
def test_infinities_and_zeros_are_counted_apart(correlations: bool) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=500)
    x[:7] = np.inf
    x[7:10] = -np.inf
    x[10:25] = 0.0
    x[25:40] = -0.0  # a zero, not a negative
    x[40:45] = np.nan
    df = pd.DataFrame({"v": x})
    result = profile_table(pa_table(df), ProfileOptions(correlations=correlations))
    s = column(result, "v").stats
    finite = x[np.isfinite(x)]
    assert s is not None
    assert s.infinite == 10
    assert s.zeros == 30
    assert s.negatives == int((x[~np.isnan(x)] < 0).sum())
    assert s.mean == pytest.approx(finite.mean())
    assert s.max == pytest.approx(finite.max())
    assert column(result, "v").missing == 5
    assert column(result, "v").distinct == pd.Series(x).nunique()
    assert any(a.type == "infinite" and a.column == "v" for a in result.alerts)


def test_integer_identifier_and_binary_hints() -> None:
    df = pd.DataFrame({"row": np.arange(100, 400), "flag": np.arange(300) % 2, "n": np.arange(300) % 7})
    df.index = df.index * 3  # the index is not a column
    result = profile_dataframe(df)
    assert [c.name for c in result.columns] == ["row", "flag", "n"]
    assert column(result, "row").type == "identifier"
    assert "sequential" in column(result, "row").semantic
    assert column(result, "row").stats is not None  # still described as numbers
    assert "binary" in column(result, "flag").semantic
    assert column(result, "n").type == "numeric"


def test_constant_and_two_value_columns() -> None:
    df = pd.DataFrame({"c": [4.5] * 50, "d": [1.0, 2.0] * 25})
    result = profile_table(pa_table(df))
    c = column(result, "c")
    assert c.distinct == 1
    assert c.stats is not None and c.stats.std == 0.0 and c.stats.skewness == 0.0
    assert c.histogram is not None and c.histogram.counts == [50]
    assert any(a.type == "constant" and a.column == "c" for a in result.alerts)
    d = column(result, "d")
    assert d.histogram is not None and d.histogram.counts == [25, 25]


def pa_table(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


@pytest.mark.parametrize("seed", range(4))
def test_median_distance_is_numpys_mad(seed: int) -> None:
    """The O(log n) MAD of sorted values equals numpy's, bit for bit, with ties and odd and even
    counts, around the median and around any other value."""
    from sonda_analyzer.engine.floats import median_distance

    rng = np.random.default_rng(seed)
    for trial in range(3_000):
        n = int(rng.integers(1, 60))
        x = [rng.normal(size=n), rng.integers(-3, 4, size=n).astype(float),
             np.round(rng.exponential(size=n), 1), np.concatenate([np.zeros(n), rng.normal(size=n // 3)])][trial % 4]  # fmt: skip
        s = np.sort(x)
        center = float(np.median(s)) if trial % 3 else float(rng.choice(s))
        assert median_distance(s, center) == float(np.median(np.abs(s - center)))


@pytest.mark.parametrize(
    ("values", "radix"),
    [
        (np.random.default_rng(1).integers(18, 90, 50_000).astype(float), True),  # an age
        (np.random.default_rng(2).integers(-40_000, 20_000, 50_000).astype(float), True),
        (np.random.default_rng(3).integers(0, 1 << 17, 50_000).astype(float), False),  # too wide
        (np.round(np.random.default_rng(4).normal(size=50_000) * 20, 1), True),  # tenths
        (np.round(np.random.default_rng(5).uniform(0, 500, 50_000), 2), True),  # cents
        (np.round(np.random.default_rng(6).uniform(0, 50, 50_000), 3), False),  # thousandths
        (np.round(np.random.default_rng(7).uniform(0, 5_000, 50_000), 2), False),  # too many cents
        (np.random.default_rng(8).normal(size=50_000), False),
        (np.array([0.1, 0.2, 0.30000000000000004, 0.3]), False),  # 0.1 + 0.2 is no tenth
        (np.array([5.0, -0.0, 0.0, 5.0, 1.0]), True),
        (np.array([7.0]), False),
        # already in order (an id, a series' times), with ties and zeros of both signs among them
        (np.arange(-70_000, 130_000, dtype=float), False),
        (np.sort(np.round(np.random.default_rng(9).normal(size=150_000) * 1e4, 2)), False),
        (np.concatenate([np.full(3, -0.0), np.zeros(2), [-0.0], np.arange(1.0, 80_000.0)]), False),
        # in order but for its last value, or one early in a later block
        (np.append(np.arange(100_000, dtype=float), 5.5), False),
        (np.where(np.arange(90_000) == 66_600, -1.0, np.arange(90_000) * 1.5), False),
    ],
)
def test_one_sort_gives_the_sorted_values_and_every_rank(values: np.ndarray, radix: bool) -> None:
    """Whole numbers, tenths and hundredths in a narrow span are counted by step keys (no sort),
    the rest sorted; either way the sorted values are the column's own floats (a -0.0 stays one),
    and its doubled centred ranks over all rows and over a subset of them are scipy's average ranks, with
    gaps in the column or not."""
    from scipy.stats import rankdata
    from sonda_analyzer.engine import ranks

    steps = ranks.radix_steps(values)
    assert (steps is not None) == radix
    if steps is not None:
        assert steps.keys.dtype in (np.uint8, np.uint16)
        decoded = steps.values_of_keys(int(steps.keys.max()) + 1)[steps.keys]
        np.testing.assert_array_equal(decoded, values)  # the same floats (-0.0 aside)
    rng = np.random.default_rng(len(values))
    for gaps in (False, True):
        x = values.copy()
        if gaps and len(x) > 2:
            x[rng.choice(len(x), len(x) // 7 or 1, replace=False)] = np.nan
        present = ~np.isnan(x)
        basis, ordered = ranks.RankBasis.sorting(x, present)
        if not gaps:
            assert (basis.counted is not None) == radix
        # the very floats of the column, equal ones (0.0 and -0.0) in row order, as a stable sort
        # leaves them (numpy's own sort may turn a -0.0 into 0.0)
        kept = x[present]
        assert (
            ordered.view(np.int64).tolist() == kept[np.argsort(kept, kind="stable")].view(np.int64).tolist()
        )
        subsets: list[np.ndarray | None] = [rng.random(len(x)) < 0.8]
        if not gaps:
            subsets.append(None)
        for mask in subsets:
            keep = None if mask is None else ranks.Subset(mask & present)
            rows = present if keep is None else keep.mask
            out = np.full(len(x), 99, dtype=np.int32)
            basis.doubled_ranks(keep, out)
            n = int(rows.sum())
            expected = np.zeros(len(x))
            expected[rows] = 2 * rankdata(x[rows]) - (n + 1)
            np.testing.assert_array_equal(out, expected)


def test_a_column_in_order_is_told_wherever_it_first_falls() -> None:
    """The check that spares a column already in order its sort finds a value smaller than the
    one before it anywhere: in the first look, at the edges of the blocks after it, or last."""
    from sonda_analyzer.engine import ranks

    values = np.arange(200_000, dtype=float)
    assert ranks.ascending(values)
    assert ranks.ascending(np.repeat(values[:1000], 3))  # ties are in order
    assert ranks.ascending(values[:1]) and ranks.ascending(values[:0])
    for at in (1, 999, 1000, 1001, 1002, 66_535, 66_536, 66_537, 131_072, 199_999):
        broken = values.copy()
        broken[at] = broken[at - 1] - 0.5
        assert not ranks.ascending(broken), at


@pytest.mark.parametrize("correlations", [True, False], ids=["ranked", "not-ranked"])
def test_few_numbers_are_listed_as_pandas_counts_them(correlations: bool) -> None:
    """A numeric column of at most ten values lists them all with their counts, most frequent
    first (ties: the smaller first): counted by step keys, read off the sorted values, or counted
    anew when infinities are among them."""
    rng = np.random.default_rng(11)
    n = 30_000
    columns = {
        "visits": rng.integers(0, 9, n).astype(float),  # whole steps: counted by key
        "rate": rng.choice([0.001, 2.5e6, 3.14159], n),  # no steps: sorted
        "limit": rng.choice([1.0, 2.0, np.inf, -np.inf], n),  # infinities
        "other": rng.normal(size=n),  # a second numeric column, so that the others are ranked
    }
    frame = pd.DataFrame(columns)
    for name in ("visits", "rate", "limit"):
        frame.loc[rng.choice(n, n // 9, replace=False), name] = np.nan
    result = profile_dataframe(frame, ProfileOptions(correlations=correlations))
    for name in ("visits", "rate", "limit"):
        counts = frame[name].value_counts()
        want = sorted(((float(v), int(c)) for v, c in counts.items()), key=lambda vc: (-vc[1], vc[0]))
        top = column(result, name).top_values
        assert top is not None
        got = [(float(t.value) if t.value is not None else None, t.count) for t in top]
        assert got == [(v if np.isfinite(v) else None, c) for v, c in want]
        assert [t.pct for t in top] == pytest.approx([c / counts.sum() for _, c in want])
