"""Text columns of 16 MB or more are profiled by whichever thread is free for one (the big-column
thread, then the pool once its correlations are done, or the pool's threads once the correlations
are taken, when no big column can join them): every figure is still pandas', and an abort stops
the threads after the columns under way instead of running through the rest."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sonda_analyzer.engine import ProfileOptions, ProgressUpdate, profile_file
from sonda_analyzer.engine.columns import ColumnContext, may_correlate

from tests.analyzer.engine.test_missingness import assert_matches_pandas

ROWS = 420_000


class Stop(Exception):
    pass


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(31)
    ids = rng.permutation(ROWS)
    return pd.DataFrame({
        "level": rng.normal(size=ROWS),
        "code": rng.integers(0, 50, ROWS),
        # four text columns of 16 MB or more: unique, repeated, mostly unique, categorical
        "ref": [f"reference-number-{i:012d}-{i * 7919 % 1000003:07d}" for i in ids],
        "note": [f"note about customer group {i % 9000:05d} and more" for i in ids],
        "mail": [f"user{i // 2:09d}.someone.else@example.com.br" for i in ids],
        "kind": np.array([f"a rather long category label for the kind {k}" for k in "abcdef"])[ids % 6],
    })  # fmt: skip


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    frame = _frame()
    path = tmp_path_factory.mktemp("big") / "big.csv"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("ref", "note", "mail", "kind"):
        assert table.column(name).nbytes >= 16 << 20
    pacsv.write_csv(table, path)
    return path, frame


def test_every_big_column_matches_pandas(big_csv: tuple[Path, pd.DataFrame]) -> None:
    path, frame = big_csv
    result = profile_file(path)
    by_name = {c.name: c for c in result.columns}
    for name in ("ref", "note", "mail", "kind"):
        col = by_name[name]
        counts = frame[name].value_counts()
        assert col.distinct == frame[name].nunique()
        assert col.count == ROWS
        assert col.top_values is not None
        assert col.top_values[0].count == counts.iloc[0]
        assert col.text is not None
        assert col.text.length_mean == pytest.approx(frame[name].str.len().mean())
    assert by_name["kind"].type == "categorical"
    # the category among the big columns joins the associations of the others
    assert "kind" in result.correlations.cramers_v.columns
    assert result.dataset.duplicate_rows == int(frame.duplicated().sum())


def test_an_abort_stops_the_big_columns_not_yet_started(big_csv: tuple[Path, pd.DataFrame]) -> None:
    path, _ = big_csv
    started: list[str] = []

    def on_progress(update: ProgressUpdate) -> None:
        if update.stage == "profiling" and "column" in update.message:
            started.append(update.message)
            raise Stop

    with pytest.raises(Stop):
        profile_file(path, on_progress=on_progress)
    # nothing of the profile runs on once it has raised
    engine = ("sonda-profile", "sonda-csv")  # the engine's thread names
    assert not [t.name for t in threading.enumerate() if t.name.startswith(engine)]
    assert len(started) == 1


def _context(kinds: frozenset[str] = frozenset({"number", "datetime", "boolean"})) -> ColumnContext:
    return ColumnContext(rows=0, options=ProfileOptions(), decimal=",", text_kinds=kinds)


@pytest.mark.parametrize(
    ("values", "may"),
    [
        ([f"reference {i:09d}" for i in range(60_000)], False),  # unique text
        ([f"label {i % 100}" for i in range(60_000)], True),  # few enough categories
        ([f"label {i % 101}" for i in range(60_000)], False),  # one category too many
        ([f"{i * 37:,}".replace(",", ".") + ",50" for i in range(60_000)], True),  # numbers as text
        ([f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1990 + i % 30}" for i in range(60_000)], True),  # dates
        (["1,5", "not a number", *(f"{i},5" for i in range(59_998))], True),  # the sample misses it
        ([*(f"{i},5" for i in range(30_000)), *(f"word {i}" for i in range(30_000))], False),
    ],
)
def test_a_sample_tells_which_text_columns_may_correlate(values: list[str], may: bool) -> None:
    """A big text column is ruled out of the correlations (so they are taken before it is
    profiled) only when a sample of it proves it neither a category nor readable as numbers,
    dates or yes/no; anything else may join them."""
    arr = pa.chunked_array([pa.array(values[:25_000]), pa.array(values[25_000:])])
    assert may_correlate("text", arr, _context()) is may
    # a column whose type the options force, or that nothing would convert, as given
    forced = ColumnContext(rows=0, options=ProfileOptions(column_types={"text": "numeric"}), decimal=",",
                           text_kinds=frozenset())  # fmt: skip
    assert may_correlate("text", arr, forced) is True


def test_correlations_before_the_big_text_columns_match_pandas(tmp_path: Path) -> None:
    """A CSV whose big text columns cannot correlate: its measures are taken before they are
    encoded, and equal pandas' and scipy's; every big column's figures are pandas' too."""
    rng = np.random.default_rng(44)
    n = 350_000
    level = rng.normal(size=n)
    frame = pd.DataFrame({
        "ref": [f"customer-reference-number-{i:012d}-{i * 7919 % 1000003:07d}" for i in rng.permutation(n)],
        "level": level,
        "noisy": np.where(rng.random(n) < 0.1, np.nan, level * 3 + rng.normal(size=n)),
        "age": np.where(rng.random(n) < 0.05, np.nan, rng.integers(18, 90, n)),
        "group": rng.choice(np.array(["north", "south", "east"]), n),
        "note": [f"note {i % 50_000:06d} about the account of the customer" for i in range(n)],
    })  # fmt: skip
    path = tmp_path / "measured.csv"
    frame.to_csv(path, index=False)
    table = pacsv.read_csv(path)
    assert table.column("ref").nbytes >= 16 << 20 and table.column("note").nbytes >= 16 << 20
    result = profile_file(path)
    corr = result.correlations
    names = ["level", "noisy", "age"]
    got = pd.DataFrame(corr.pearson.matrix, index=corr.pearson.columns, columns=corr.pearson.columns)
    np.testing.assert_allclose(got.loc[names, names], frame[names].corr(), rtol=1e-9, atol=1e-12)
    got_s = pd.DataFrame(corr.spearman.matrix, index=corr.spearman.columns, columns=corr.spearman.columns)
    np.testing.assert_allclose(
        got_s.loc[names, names], frame[names].corr(method="spearman"), rtol=1e-9, atol=1e-12
    )
    ratios = {(r.numeric, r.categorical): r.value for r in corr.correlation_ratio}
    for num in names:
        present = frame[[num, "group"]].dropna()
        groups = present.groupby("group")[num]
        between = (groups.count() * (groups.mean() - present[num].mean()) ** 2).sum()
        total = ((present[num] - present[num].mean()) ** 2).sum()
        assert ratios[(num, "group")] == pytest.approx(np.sqrt(between / total), rel=1e-9)
    by_name = {c.name: c for c in result.columns}
    for name in ("ref", "note"):
        assert by_name[name].distinct == frame[name].nunique()
        text = by_name[name].text
        assert text is not None
        assert text.length_mean == pytest.approx(frame[name].str.len().mean())
    assert "ref" not in corr.pearson.columns and "note" not in corr.cramers_v.columns


def test_gap_free_float_columns_are_joined_into_one_piece_and_the_others_kept() -> None:
    """A float64 column of many parsed blocks and no gap is read in place once joined; columns
    with a gap or of another type stay as read (their values are copied anyway)."""
    from sonda_analyzer.engine.profile import _in_one_piece

    pieces = [np.arange(i * 10, i * 10 + 10, dtype=np.float64) for i in range(5)]
    joined = _in_one_piece(pa.chunked_array(pieces))
    assert joined.num_chunks == 1
    np.testing.assert_array_equal(joined.chunk(0).to_numpy(), np.concatenate(pieces))
    gappy = pa.chunked_array([pa.array([1.0, None]), pa.array([2.0])])
    whole_numbers = pa.chunked_array([pa.array([1, 2]), pa.array([3])])
    assert _in_one_piece(gappy) is gappy and _in_one_piece(whole_numbers) is whole_numbers


@pytest.mark.parametrize("big_gaps", [False, True])
def test_missing_patterns_beside_big_text_columns_match_pandas(tmp_path: Path, big_gaps: bool) -> None:
    """The patterns are taken while the big columns are profiled when none of them can have a
    gap (no nulls, no forced type), else after them: pandas' patterns either way."""
    rng = np.random.default_rng(5)
    frame = _frame()
    frame.loc[rng.random(ROWS) < 0.1, "level"] = np.nan
    frame.loc[rng.random(ROWS) < 0.05, "code"] = np.nan
    if big_gaps:
        frame.loc[rng.random(ROWS) < 0.03, "note"] = None
    path = tmp_path / "gaps.csv"
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    result = profile_file(path)
    assert_matches_pandas(result, frame.isna())


def test_numeric_columns_are_profiled_between_the_others() -> None:
    """Two numeric sorts at once made the profile's peak: the numbers are spread among the other
    columns, each group in the order given, none lost or repeated."""
    from sonda_analyzer.engine.profile import _Loaded, _numbers_apart

    n = 10
    table = pa.table({
        "t1": pa.array(["a"] * n), "x1": pa.array(np.arange(n)), "x2": pa.array(np.ones(n)),
        "x3": pa.array(np.arange(n, dtype=np.int32)), "d": pa.array(np.arange(n).astype("datetime64[s]")),
        "t2": pa.array(["b"] * n), "b": pa.array([True] * n),
    })  # fmt: skip
    loaded = _Loaded.take(table, 5)
    order = [6, 1, 2, 0, 3, 4, 5]
    apart = _numbers_apart(loaded, order)
    assert sorted(apart) == sorted(order)
    assert [i for i in apart if i in (1, 2, 3)] == [1, 2, 3]  # the numbers keep their order
    assert [i for i in apart if i not in (1, 2, 3)] == [6, 0, 4, 5]
    assert apart == [6, 1, 0, 2, 4, 3, 5]  # no two numbers side by side while others are left
