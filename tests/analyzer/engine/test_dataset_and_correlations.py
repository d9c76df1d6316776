"""Table-wide figures and the four correlation measures against pandas and scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from scipy.stats.contingency import association
from sonda_analyzer.engine import ProfileOptions, ProfileResult, profile_table


def test_dataset_figures(mixed: pd.DataFrame, mixed_csv: Path, mixed_result: ProfileResult) -> None:
    ds = mixed_result.dataset
    assert ds.rows == len(mixed)
    assert ds.columns == mixed.shape[1]
    assert ds.missing_cells == int(mixed.isna().sum().sum())
    assert ds.missing_cells_pct == pytest.approx(mixed.isna().sum().sum() / mixed.size)
    assert ds.duplicate_rows == int(mixed.duplicated().sum())
    assert ds.format == "csv" and ds.delimiter == "," and ds.encoding == "utf-8"
    assert ds.mode == "exact" and not ds.approximate and mixed_result.approximations == []
    assert ds.memory_bytes > 0 and ds.file_size > 0
    # the table's bytes are its columns' Arrow bytes, as pyarrow counts them reading the same file
    assert ds.memory_bytes == sum(c.memory_bytes for c in mixed_result.columns)
    read = pacsv.read_csv(mixed_csv)
    numbers = [c for c in mixed_result.columns if c.dtype in ("int64", "double")]
    assert numbers  # what Arrow's own reader makes of them too
    for c in numbers:
        assert c.memory_bytes == read.column(c.name).nbytes, c.name
    assert mixed_result.sample.columns == list(mixed.columns)
    assert len(mixed_result.sample.rows) == 10
    assert mixed_result.sample.rows[0][0] == int(mixed["id"].iloc[0])
    assert mixed_result.sample.rows[2][mixed.columns.get_loc("city")] == mixed["city"].iloc[2]


def test_duplicate_rows_match_pandas() -> None:
    rng = np.random.default_rng(4)
    n = 3_000
    df = pd.DataFrame({
        "a": rng.integers(0, 4, n),
        "b": rng.choice(np.array(["x", "y", None], dtype=object), n),
        "c": rng.integers(0, 3, n).astype(float),
        "d": rng.random(n) < 0.5,
    })  # fmt: skip
    df.loc[rng.random(n) < 0.2, "c"] = np.nan
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    assert result.dataset.duplicate_rows == int(df.duplicated().sum())
    assert any(a.type == "duplicates" for a in result.alerts)


def _matrix(result_matrix, names: list[str]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(result_matrix.matrix, index=result_matrix.columns, columns=result_matrix.columns)
    return frame.loc[names, names].astype(float)


def test_pearson_and_spearman_pairwise_complete(mixed: pd.DataFrame, mixed_result: ProfileResult) -> None:
    names = ["age", "income", "score", "noisy", "visits", "temp"]
    corr = mixed_result.correlations
    assert set(names) <= set(corr.pearson.columns)
    assert "id" not in corr.pearson.columns  # an identifier says nothing about the others
    expected_p = mixed[names].corr(method="pearson")
    expected_s = mixed[names].corr(method="spearman")
    np.testing.assert_allclose(_matrix(corr.pearson, names), expected_p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_matrix(corr.spearman, names), expected_s, rtol=1e-9, atol=1e-12)


def _corrcoef(frame: pd.DataFrame) -> np.ndarray:
    """Pearson by numpy, each pair on the rows both have (pandas' own ``corr`` is off by about
    1e-8 on a column far from 0, where numpy centres each pair on its own mean)."""
    columns = [frame[c].to_numpy(dtype=float) for c in frame.columns]
    out = np.eye(len(columns))
    for i, a in enumerate(columns):
        for j, b in enumerate(columns[:i]):
            both = ~np.isnan(a) & ~np.isnan(b)
            out[i, j] = out[j, i] = np.corrcoef(a[both], b[both])[0, 1]
    return out


def test_correlations_group_pairs_by_their_complete_rows() -> None:
    """Four columns with gaps (pairs complete on one column's rows, on two columns' rows, or on
    all rows), ties and none, gaps only in some blocks of rows, and values far from 0: every pair
    against pandas."""
    rng = np.random.default_rng(12)
    n = 30_000  # several blocks of the row-wise sums
    df = pd.DataFrame({
        "smooth": rng.normal(size=n),
        "few": rng.integers(0, 5, n).astype(float),
        "gappy": rng.normal(size=n),
        "gappy_ties": rng.integers(0, 40, n).astype(float),
        "late_gaps": np.round(rng.normal(size=n), 1),
        "skewed": rng.lognormal(size=n),
        # far from 0 next to its spread: sums of uncentred values would cancel
        "far": 1e9 + rng.normal(size=n),
    })  # fmt: skip
    df.loc[rng.random(n) < 0.02, "far"] = np.nan
    df.loc[rng.random(n) < 0.1, "gappy"] = np.nan
    df.loc[rng.random(n) < 0.4, "gappy_ties"] = np.nan
    df.loc[(np.arange(n) > 25_000) & (rng.random(n) < 0.5), "late_gaps"] = np.nan
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    corr = result.correlations
    names = list(df.columns)
    assert sorted(corr.pearson.columns) == sorted(names)
    np.testing.assert_allclose(_matrix(corr.pearson, names), _corrcoef(df), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        _matrix(corr.spearman, names), df.corr(method="spearman"), rtol=1e-9, atol=1e-12
    )


def test_cramers_v_matches_scipy(mixed: pd.DataFrame, mixed_result: ProfileResult) -> None:
    cv = mixed_result.correlations.cramers_v
    assert {"city", "segment", "status", "active"} <= set(cv.columns)
    for a, b in [("city", "segment"), ("segment", "status"), ("active", "city")]:
        both = mixed[[a, b]].dropna()
        table = pd.crosstab(both[a], both[b]).to_numpy()
        expected = association(table, method="cramer")
        got = _matrix(cv, [a, b]).iloc[0, 1]
        assert got == pytest.approx(expected, rel=1e-10)


def _eta(frame: pd.DataFrame, num: str, cat: str) -> float:
    """The correlation ratio of ``num`` given ``cat``, by pandas, on the rows that have both."""
    both = frame[[num, cat]].dropna()
    groups = both.groupby(cat)[num]
    mean = both[num].mean()
    between = (groups.count() * (groups.mean() - mean) ** 2).sum()
    total = ((both[num] - mean) ** 2).sum()
    return float(np.sqrt(between / total))


def test_correlation_ratio(mixed: pd.DataFrame, mixed_result: ProfileResult) -> None:
    ratios = {(r.numeric, r.categorical): r.value for r in mixed_result.correlations.correlation_ratio}
    for num, cat in [("score", "segment"), ("income", "city"), ("age", "status")]:
        assert ratios[(num, cat)] == pytest.approx(_eta(mixed, num, cat), rel=1e-9)
    # segment is cut from score: the ratio must see it
    assert (ratios[("score", "segment")] or 0.0) > 0.8


def test_big_text_columns_keep_their_associations() -> None:
    """Text columns of 16 MB or more are profiled one at a time in a thread of their own; one of
    them that is a category still takes part in Cramér's V and the correlation ratio."""
    rng = np.random.default_rng(21)
    n = 450_000
    kinds = np.array([f"{w} long enough category label number {i:02d}" for i, w in enumerate("abcdefgh")])
    kind = rng.integers(0, len(kinds), n)
    df = pd.DataFrame({
        "kind": kinds[kind],  # about 20 MB of text
        "notes": np.char.add("free text ", rng.integers(0, 10**9, n).astype(str)).astype(object),
        "level": kind + rng.normal(size=n),
        "flag": rng.random(n) < 0.3,
    })  # fmt: skip
    table = pa.Table.from_pandas(df, preserve_index=False)
    assert table.column("kind").nbytes >= 16 << 20
    result = profile_table(table)
    corr = result.correlations
    assert set(corr.cramers_v.columns) == {"kind", "flag"}
    expected_v = association(pd.crosstab(df["kind"], df["flag"]).to_numpy(), method="cramer")
    assert _matrix(corr.cramers_v, ["kind", "flag"]).iloc[0, 1] == pytest.approx(expected_v, rel=1e-10)
    ratios = {(r.numeric, r.categorical): r.value for r in corr.correlation_ratio}
    assert ratios[("level", "kind")] == pytest.approx(_eta(df, "level", "kind"), rel=1e-9)
    by_name = {c.name: c for c in result.columns}
    assert by_name["kind"].distinct == len(kinds) and by_name["notes"].distinct == df["notes"].nunique()


def test_correlations_computed_beside_a_big_text_column() -> None:
    """Pearson, Cramér's V and the ratios of the other columns are computed while a big text
    column (neither a number nor a category) is still being profiled: every measure against
    pandas and scipy."""
    rng = np.random.default_rng(22)
    n = 400_000
    level = rng.normal(size=n)
    df = pd.DataFrame({
        "note": [f"free text note number {i:09d} with some words" for i in range(n)],  # ~19 MB
        "level": level,
        "noisy": level * 2 + rng.normal(size=n),
        "group": rng.choice(np.array(["a", "b", "c"]), n),
        "flag": rng.random(n) < 0.4,
    })  # fmt: skip
    df.loc[rng.random(n) < 0.1, "noisy"] = np.nan
    table = pa.Table.from_pandas(df, preserve_index=False)
    assert table.column("note").nbytes >= 16 << 20
    corr = profile_table(table).correlations
    names = ["level", "noisy"]
    np.testing.assert_allclose(_matrix(corr.pearson, names), df[names].corr(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        _matrix(corr.spearman, names), df[names].corr(method="spearman"), rtol=1e-9, atol=1e-12
    )
    expected_v = association(pd.crosstab(df["group"], df["flag"]).to_numpy(), method="cramer")
    assert _matrix(corr.cramers_v, ["group", "flag"]).iloc[0, 1] == pytest.approx(expected_v, rel=1e-10)
    ratios = {(r.numeric, r.categorical): r.value for r in corr.correlation_ratio}
    assert ratios[("noisy", "group")] == pytest.approx(_eta(df, "noisy", "group"), rel=1e-9)


def test_high_correlation_alert(mixed_result: ProfileResult) -> None:
    pairs = {tuple(a.columns) for a in mixed_result.alerts if a.type == "high_correlation"}
    assert ("score", "noisy") in pairs or ("noisy", "score") in pairs


def test_correlations_are_capped_on_wide_tables() -> None:
    rng = np.random.default_rng(9)
    df = pd.DataFrame({f"n{i}": rng.normal(size=200) for i in range(30)})
    df["n0"] = df["n0"].mask(rng.random(200) < 0.5)  # fewer values: the first to leave
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False),
                           ProfileOptions(max_correlation_columns=10))  # fmt: skip
    corr = result.correlations
    assert len(corr.pearson.columns) == 10
    assert "n0" in corr.omitted_columns
    assert len(corr.omitted_columns) == 20
    names = corr.pearson.columns
    np.testing.assert_allclose(_matrix(corr.pearson, names), df[names].corr(), rtol=1e-9, atol=1e-12)
    # more numeric columns than are ranked: the chosen ones are sorted for Spearman once chosen
    np.testing.assert_allclose(
        _matrix(corr.spearman, names), df[names].corr(method="spearman"), rtol=1e-9, atol=1e-12
    )


def test_one_sort_gives_the_statistics_and_the_ranks() -> None:
    """Every numeric column is ranked as it is profiled: infinities and gaps are left out of the
    pairs, ties share their average rank, and the order statistics come from the same sort."""
    rng = np.random.default_rng(12)
    n = 5_000
    df = pd.DataFrame({
        "steps": rng.integers(0, 12, n).astype(float),  # many ties
        "load": rng.normal(size=n),
        "cost": rng.gamma(2.0, 3.0, n),
    })  # fmt: skip
    df.loc[rng.random(n) < 0.05, "load"] = np.nan
    df.loc[rng.choice(n, 7, replace=False), "cost"] = np.inf
    df.loc[rng.choice(n, 3, replace=False), "cost"] = -np.inf
    result = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    finite = df.replace([np.inf, -np.inf], np.nan)
    names = ["steps", "load", "cost"]
    corr = result.correlations
    np.testing.assert_allclose(
        _matrix(corr.spearman, names), finite[names].corr(method="spearman"), rtol=1e-9, atol=1e-12
    )
    for name in names:
        stats = next(c for c in result.columns if c.name == name).stats
        assert stats is not None
        values = finite[name].dropna()
        assert stats.median == pytest.approx(values.median())
        assert stats.quantiles.p25 == pytest.approx(values.quantile(0.25))
        assert stats.min == values.min() and stats.max == values.max()


def test_correlations_can_be_switched_off(mixed_csv) -> None:  # type: ignore[no-untyped-def]
    from sonda_analyzer.engine import profile_file

    result = profile_file(mixed_csv, {"correlations": False})
    assert result.correlations.pearson.columns == []
    assert result.correlations.correlation_ratio == []
