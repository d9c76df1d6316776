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


def test_a_ten_megabyte_line_is_read_whole(tmp_path: Path) -> None:
    """One value longer than a read block: the block grows until the line fits."""
    path = tmp_path / "long.csv"
    rng = np.random.default_rng(9)
    long_value = "".join(rng.choice(list("abcdefgh "), 10_000_000))
    with path.open("w") as f:
        f.write("n,text\n")
        for i in range(1000):
            f.write(f"{i},short {i}\n")
        f.write(f"1000,{long_value}\n")
        for i in range(1001, 2000):
            f.write(f"{i},short {i}\n")
    expected = pd.read_csv(path)
    result = profile_file(path)
    assert result.dataset.rows == len(expected)
    text = column(result, "text")
    assert text.text.length_max == int(expected["text"].str.len().max())
    assert column(result, "n").stats.sum == pytest.approx(float(expected["n"].sum()))


def test_a_hundred_thousand_columns_fail_clearly(tmp_path: Path) -> None:
    from sonda_analyzer.engine.errors import TooManyColumnsError

    path = tmp_path / "wide.csv"
    width = 100_000
    path.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + ",".join(["1"] * width) + "\n")
    with pytest.raises(TooManyColumnsError) as info:
        profile_file(path)
    assert info.value.code == "too_many_columns"
    assert f"{width:,}" in str(info.value) or str(width) in str(info.value)
