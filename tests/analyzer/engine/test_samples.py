"""The last rows, a uniform random sample and scatter points: the same in exact and streaming mode,
and true to the file (checked against pandas and scipy)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from sonda_analyzer.engine import ProfileResult, profile_file
from sonda_analyzer.engine.samples import KEEP_ROWS, SCATTER_MIN_R, take_rows

ROWS = 60_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "x": rng.normal(0, 1, ROWS),
            "grupo": rng.choice(["a", "b", "c"], ROWS),
            "n": rng.integers(0, 1000, ROWS),
        }
    )
    df["y"] = (3 * df["x"] + rng.normal(0, 1, ROWS)).round(6)
    df["z"] = (-df["n"] * 0.5 + rng.normal(0, 120, ROWS)).round(3)
    df["noise"] = rng.normal(0, 1, ROWS)
    df.loc[rng.choice(ROWS, 500, replace=False), "y"] = np.nan
    return df


@pytest.fixture(scope="module")
def results(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProfileResult]:
    path = tmp_path_factory.mktemp("samples") / "rows.csv"
    frame.to_csv(path, index=False)
    exact = profile_file(path, {"streaming": False})
    streamed = profile_file(path, {"streaming": True}, budget_mb=64)
    assert (exact.dataset.mode, streamed.dataset.mode) == ("exact", "streaming")
    return {"exact": exact, "streaming": streamed}


def _same(found: list[object], expected: list[object]) -> bool:
    return all(
        (pd.isna(e) and f is None) or (f == pytest.approx(e) if isinstance(e, float) else f == e)
        for f, e in zip(found, expected, strict=True)
    )


@pytest.mark.parametrize("mode", ["exact", "streaming"])
def test_the_last_rows_are_the_files_last_rows(
    frame: pd.DataFrame, results: dict[str, ProfileResult], mode: str
) -> None:
    tail = results[mode].sample_tail
    assert tail is not None and tail.columns == list(frame.columns)
    shown = len(tail.rows)
    assert shown == len(results[mode].sample.rows)
    assert tail.row_numbers == list(range(ROWS - shown, ROWS))
    for row, expected in zip(tail.rows, frame.tail(shown).itertuples(index=False), strict=True):
        assert _same(list(row), list(expected))


@pytest.mark.parametrize("mode", ["exact", "streaming"])
def test_random_rows_are_rows_of_the_file_in_file_order(
    frame: pd.DataFrame, results: dict[str, ProfileResult], mode: str
) -> None:
    sample = results[mode].sample_random
    assert sample is not None and sample.row_numbers is not None
    numbers = sample.row_numbers
    assert numbers == sorted(set(numbers)) and len(numbers) == len(results[mode].sample.rows)
    for row, number in zip(sample.rows, numbers, strict=True):
        assert _same(list(row), list(frame.iloc[number]))


def test_both_modes_draw_the_same_rows(results: dict[str, ProfileResult]) -> None:
    exact, streamed = results["exact"], results["streaming"]
    assert exact.sample_random is not None and streamed.sample_random is not None
    assert exact.sample_random.row_numbers == streamed.sample_random.row_numbers
    assert [(p.x, p.y) for p in exact.scatter] == [(p.x, p.y) for p in streamed.scatter]
    assert [p.points for p in exact.scatter] == [p.points for p in streamed.scatter]


@pytest.mark.parametrize("mode", ["exact", "streaming"])
def test_scatter_pairs_are_the_strongest_and_their_points_real_and_uniform(
    frame: pd.DataFrame, results: dict[str, ProfileResult], mode: str
) -> None:
    corr = frame[["x", "n", "y", "z", "noise"]].corr()
    expected = sorted(
        (
            (abs(corr.loc[a, b]), frozenset((a, b)))
            for i, a in enumerate(corr.columns)
            for b in corr.columns[i + 1 :]
            if abs(corr.loc[a, b]) >= SCATTER_MIN_R
        ),
        key=lambda p: -p[0],
    )
    plots = results[mode].scatter
    assert [frozenset((p.x, p.y)) for p in plots] == [pair for _, pair in expected]
    for plot in plots:
        assert plot.pearson == pytest.approx(corr.loc[plot.x, plot.y], abs=1e-9)
        both = frame[[plot.x, plot.y]].dropna()
        real = set(zip(both[plot.x].round(9), both[plot.y].round(9), strict=True))
        assert all((round(a, 9), round(b, 9)) in real for a, b in plot.points)
        assert KEEP_ROWS * 0.9 <= plot.rows_sampled == len(plot.points) <= KEEP_ROWS
        # Drawn uniformly: the sampled x values follow the column's distribution.
        xs = [a for a, _ in plot.points]
        assert stats.ks_2samp(xs, both[plot.x]).pvalue > 0.001


def test_rows_taken_chunk_by_chunk_are_the_rows_arrow_takes() -> None:
    rng = np.random.default_rng(4)
    n = 5_000
    frame = pd.DataFrame({
        "n": rng.normal(size=n),
        "s": [None if i % 7 == 0 else f"value {i}" for i in range(n)],
        "i": rng.integers(0, 100, n),
    })  # fmt: skip
    whole = pa.Table.from_pandas(frame, preserve_index=False)
    bounds = [0, 1, 700, 701, 2_500, 4_999, n]  # chunks of one row, of many, and an empty one
    table = pa.concat_tables(
        [whole.slice(a, b - a) for a, b in itertools.pairwise(bounds)] + [whole.slice(0, 0)]
    )
    assert table.column("s").num_chunks >= 6
    for rows in (np.array([0]), np.array([n - 1]), np.sort(rng.choice(n, 400, replace=False)), np.arange(n)):
        taken = take_rows(table, rows)
        assert taken.equals(whole.take(pa.array(rows)))
        assert taken.schema == table.schema
