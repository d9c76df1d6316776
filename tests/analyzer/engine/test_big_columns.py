"""Text columns of 16 MB or more are profiled by whichever thread is free for one (the big-column
thread, then the pool once its correlations are done): every figure is still pandas', and an abort
stops the threads after the columns under way instead of running through the rest."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sonda_analyzer.engine import ProgressUpdate, profile_file

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
