"""Every format, and every container, gives the figures of the data it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import profile_file

from tests.analyzer.engine.conftest import SUFFIX, column, mixed_frame, write

FORMATS = ["csv", "tsv", "csv.gz", "zip", "json", "jsonl", "parquet", "xlsx"]


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return mixed_frame(rows=600, seed=11)


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_gives_the_same_figures(small: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    path = write(small, tmp_path / f"data{SUFFIX[fmt]}", fmt)
    result = profile_file(path)
    ds = result.dataset
    expected_format = {"csv.gz": "csv", "zip": "csv"}.get(fmt, fmt)
    assert ds.format == expected_format
    assert ds.compression == {"csv.gz": "gzip", "zip": "zip"}.get(fmt)
    assert ds.rows == len(small)
    assert ds.columns == small.shape[1]
    assert ds.missing_cells == int(small.isna().sum().sum())
    assert ds.duplicate_rows == int(small.duplicated().sum())
    if fmt == "tsv":
        assert ds.delimiter == "\t"
    if fmt == "xlsx":
        assert ds.sheet == "Sheet1"
    for name in ["age", "income", "score", "temp"]:
        x = small[name].dropna().to_numpy(dtype=float)
        col = column(result, name)
        assert col.type == "numeric", (fmt, name)
        assert col.count == len(x)
        assert col.stats.mean == pytest.approx(x.mean(), rel=1e-9)
        assert col.stats.std == pytest.approx(x.std(ddof=1), rel=1e-9)
        assert col.stats.median == pytest.approx(np.median(x))
    for name in ["city", "segment", "status"]:
        col = column(result, name)
        assert col.type == "categorical", (fmt, name)
        assert col.distinct == small[name].nunique()
        assert col.missing == int(small[name].isna().sum())
    active = column(result, "active")
    assert active.type == "boolean" and active.boolean.true == int(small["active"].sum())
    created = column(result, "created")
    assert created.type == "datetime", fmt
    assert pd.Timestamp(created.datetime.min) == small["created"].min()
    assert pd.Timestamp(created.datetime.max) == small["created"].max()
    assert column(result, "id").type == "identifier"


def test_excel_sheet_option(small: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        small.head(50).to_excel(writer, sheet_name="first", index=False)
        small[["score", "city"]].to_excel(writer, sheet_name="second", index=False)
    by_name = profile_file(path, {"sheet": "second"})
    assert by_name.dataset.sheet == "second"
    assert by_name.dataset.rows == len(small) and by_name.dataset.columns == 2
    by_index = profile_file(path, {"sheet": 1})
    assert by_index.dataset.sheet == "second"
    default = profile_file(path)
    assert default.dataset.sheet == "first" and default.dataset.rows == 50


def test_json_shapes(tmp_path: Path) -> None:
    (tmp_path / "wrapped.json").write_text('{"data": [{"a": 1, "b": "x"}, {"a": 2, "b": null}]}')
    (tmp_path / "rows.json").write_text('[["a", "b"], [1, "x"], [2, "y"], [3, "y"]]')
    (tmp_path / "nested.jsonl").write_text(
        '{"id": 1, "user": {"name": "ana", "age": 30}, "tags": ["a", "b"]}\n'
        '{"id": 2, "user": {"name": "bia", "age": 41}, "tags": []}\n'
    )
    wrapped = profile_file(tmp_path / "wrapped.json")
    assert wrapped.dataset.rows == 2 and column(wrapped, "b").missing == 1
    rows = profile_file(tmp_path / "rows.json")
    assert [c.name for c in rows.columns] == ["a", "b"] and rows.dataset.rows == 3
    nested = profile_file(tmp_path / "nested.jsonl")
    names = [c.name for c in nested.columns]
    assert "user.name" in names and "user.age" in names and "tags" in names
    assert column(nested, "user.age").stats.mean == pytest.approx(35.5)


def test_jsonl_with_changing_types_is_read_tolerantly(tmp_path: Path) -> None:
    lines = ['{"v": 1, "w": "a"}'] * 5 + ['{"v": "n/a", "w": "b"}'] + ['{"v": 2.5, "w": "c"}']
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = profile_file(path)
    assert result.dataset.rows == 7
    assert "mixed_types" in column(result, "v").semantic
