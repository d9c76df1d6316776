"""Missing-value patterns (rows with a gap, sets of columns missing together, nullity correlation)
checked against pandas on the same data, in exact and streaming mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import ProfileResult, profile_dataframe, profile_file
from sonda_analyzer.engine.samples import KEEP_ROWS

MODES: dict[str, tuple[dict[str, Any], int]] = {
    "exact": ({"streaming": False}, 1024),
    "streaming": ({"streaming": True}, 64),
}


def gappy_frame(n: int, seed: int) -> pd.DataFrame:
    """Columns that go missing together (a and b), apart (c, d), always (empty), never (id)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "a": rng.normal(size=n),
        "b": rng.choice(["x", "y", "z"], n).astype(object),
        "c": rng.integers(0, 9, n).astype("float64"),
        "d": pd.date_range("2020-01-01", periods=n, freq="h"),
        "empty": np.full(n, np.nan),
        "note": [f"item {i} " + "x" * 40 for i in range(n)],
    })  # fmt: skip
    together = rng.random(n) < 0.1
    frame.loc[together, "a"] = np.nan
    frame.loc[together & (rng.random(n) < 0.7), "b"] = None
    frame.loc[rng.random(n) < 0.05, "c"] = np.nan
    frame.loc[rng.random(n) < 0.02, "d"] = pd.NaT
    return frame


def assert_matches_pandas(result: ProfileResult, isna: pd.DataFrame) -> None:
    missing = result.missing
    assert missing is not None
    gapped = isna[isna.any(axis=1)]
    assert missing.rows_with_missing == len(gapped)
    assert missing.rows_with_missing_pct == pytest.approx(len(gapped) / len(isna), rel=1e-12)
    expected = {
        tuple(c for c, on in zip(isna.columns, key, strict=True) if on): int(count)
        for key, count in gapped.value_counts().items()
    }
    assert missing.patterns_distinct == len(expected) and missing.patterns_other_rows == 0
    listed = {tuple(p.columns): p.count for p in missing.patterns}
    assert listed == {k: expected[k] for k in listed}
    assert sorted(listed.values(), reverse=True) == sorted(expected.values(), reverse=True)[: len(listed)]
    assert [p.count for p in missing.patterns] == sorted(listed.values(), reverse=True)
    partial = isna.loc[:, isna.any() & ~isna.all()]
    corr = missing.nullity_correlation
    assert corr.columns == list(partial.columns)
    np.testing.assert_allclose(np.array(corr.matrix, dtype=float), partial.astype(float).corr(), rtol=1e-10)
    assert_matrix_matches(result, isna)


def assert_matrix_matches(result: ProfileResult, isna: pd.DataFrame) -> None:
    """The sampled rows' gaps are the file's, for rows of the random sample the page shows."""
    assert result.missing is not None
    matrix = result.missing.matrix
    assert matrix is not None
    assert matrix.columns == list(isna.columns) and matrix.rows_total == len(isna)
    assert len(matrix.row_numbers) == min(KEEP_ROWS, len(isna)) == len(matrix.missing)
    assert matrix.row_numbers == sorted(set(matrix.row_numbers))
    assert result.sample_random is not None and result.sample_random.row_numbers is not None
    assert set(result.sample_random.row_numbers) <= set(matrix.row_numbers)
    for row, gaps in zip(matrix.row_numbers, matrix.missing, strict=True):
        assert gaps == np.flatnonzero(isna.iloc[row].to_numpy()).tolist(), row


@pytest.mark.parametrize("mode", MODES)
def test_patterns_of_a_csv_match_pandas(tmp_path: Path, mode: str) -> None:
    frame = gappy_frame(60_000, seed=1).drop(columns="empty")  # else every row has a gap
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    options, budget = MODES[mode]
    result = profile_file(path, options, budget_mb=budget)
    assert result.dataset.mode == mode
    assert_matches_pandas(result, pd.read_csv(path).isna())


def test_nan_floats_and_none_strings_in_a_dataframe() -> None:
    frame = gappy_frame(5_000, seed=2)
    result = profile_dataframe(frame)
    assert_matches_pandas(result, frame.isna())
    # A column missing everywhere is in every pattern but not in the correlation.
    assert result.missing is not None and all("empty" in p.columns for p in result.missing.patterns)


@pytest.mark.parametrize("mode", MODES)
def test_values_a_forced_type_rejects_count_as_missing(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    codes = np.where(rng.random(n) < 0.03, "n/d", rng.integers(0, 100, n).astype(str))
    other = np.where(rng.random(n) < 0.1, "", "ok")
    path = tmp_path / "forced.csv"
    path.write_text(
        "code,other,pad\n" + "".join(f"{c},{o},{'p' * 50}\n" for c, o in zip(codes, other, strict=True))
    )
    options, budget = MODES[mode]
    result = profile_file(path, {**options, "column_types": {"code": "numeric"}}, budget_mb=budget)
    isna = pd.DataFrame({"code": codes == "n/d", "other": other == "", "pad": np.zeros(n, dtype=bool)})
    assert_matches_pandas(result, isna)


def test_the_matrix_is_the_same_read_whole_or_in_chunks(tmp_path: Path) -> None:
    frame = gappy_frame(60_000, seed=4)
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    exact, streamed = (profile_file(path, options, budget_mb=budget) for options, budget in MODES.values())
    assert streamed.dataset.mode == "streaming"
    assert exact.missing is not None and streamed.missing is not None
    assert exact.missing.matrix == streamed.missing.matrix


@pytest.mark.parametrize("gapped", [3, 12, 16, 20, 70])
def test_patterns_of_many_gapped_columns_match_pandas(gapped: int) -> None:
    """Patterns are counted as one number per row up to 16 gapped columns, as a 64-bit number up
    to 64 and as bytes beyond: the same patterns and counts as pandas either way."""
    rng = np.random.default_rng(gapped)
    n = 4_000
    frame = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(gapped)})
    for i in range(gapped):
        frame.loc[rng.random(n) < 0.02 + 0.3 * (i % 3 == 0), f"c{i}"] = np.nan
    frame["id"] = np.arange(n)
    result = profile_dataframe(frame)
    assert_matches_pandas(result, frame.isna())
