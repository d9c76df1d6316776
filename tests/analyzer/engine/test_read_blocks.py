"""Reading block by block: a column whose later values do not fit the type its first block
suggested is read over every block, as pandas reads it; nothing is lost or altered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import profile_file

from tests.analyzer.engine.conftest import column

#: Rows enough for several read blocks (each a few megabytes) before the change.
ROWS = 400_000


def _write(path: Path, late: list[str], first: str) -> Path:
    rng = np.random.default_rng(5)
    ints = rng.integers(0, 1_000_000, ROWS)
    with path.open("w") as f:
        f.write("id,late,filler\n")
        for i in range(ROWS):
            f.write(f"{i},{first.format(v=ints[i])},{'x' * 8}\n")
        for j, value in enumerate(late):
            f.write(f"{ROWS + j},{value},{'y' * 8}\n")
    return path


@pytest.mark.parametrize(
    ("first", "late", "kind"),
    [
        ("{v}", ["A1", "B2"], "text"),  # integers, then codes with letters
        ("{v}", ["1.5", "2.25"], "float"),  # integers, then decimals
        ("", ["7", "8", "9"], "int"),  # empty for the first blocks, then numbers
    ],
    ids=["int-then-text", "int-then-float", "empty-then-int"],
)
def test_a_column_that_changes_type_after_the_first_blocks_is_read_whole(
    tmp_path: Path, first: str, late: list[str], kind: str
) -> None:
    path = _write(tmp_path / "late.csv", late, first)
    expected = pd.read_csv(path, low_memory=False)["late"]
    result = profile_file(path)
    assert result.dataset.rows == len(expected)
    col = column(result, "late")
    assert col.count == int(expected.notna().sum())
    assert col.missing == int(expected.isna().sum())
    assert col.distinct == int(expected.nunique())
    if kind == "text":
        assert col.type != "numeric"
    else:
        numbers = pd.to_numeric(expected)
        assert col.type == "numeric"
        assert col.stats is not None
        assert col.stats.max == pytest.approx(float(numbers.max()))
        assert col.stats.sum == pytest.approx(float(numbers.sum()))
    assert column(result, "id").distinct == len(expected)
