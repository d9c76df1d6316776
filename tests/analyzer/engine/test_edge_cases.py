"""Small and strange tables: each still gives a valid result with the right figures."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import encode_result, profile_file

from tests.analyzer.engine.conftest import column


def test_header_only(write_text: Callable[..., Path]) -> None:
    result = profile_file(write_text("h.csv", "a,b,c\n"))
    assert result.dataset.rows == 0 and result.dataset.columns == 3
    assert [c.type for c in result.columns] == ["empty"] * 3
    assert any(a.type == "empty_dataset" for a in result.alerts)
    msgspec.json.decode(encode_result(result))


def test_one_row(write_text: Callable[..., Path]) -> None:
    result = profile_file(write_text("one.csv", "name,value,when\nana,3.5,2024-01-02\n"))
    value = column(result, "value")
    assert result.dataset.rows == 1 and value.count == 1
    assert value.stats.mean == 3.5 and value.stats.std is None and value.stats.skewness is None
    assert column(result, "when").datetime.min == "2024-01-02"
    assert result.correlations.pearson.matrix == []


def test_one_column(write_text: Callable[..., Path]) -> None:
    values = np.arange(100) ** 2
    result = profile_file(write_text("c.csv", "sq\n" + "\n".join(map(str, values)) + "\n"))
    assert result.dataset.columns == 1
    assert column(result, "sq").stats.mean == pytest.approx(values.mean())


def test_all_missing_and_constant_columns(write_text: Callable[..., Path]) -> None:
    text = "a,b,c\n" + "".join(f"{i},,7\n" for i in range(20))
    result = profile_file(write_text("m.csv", text))
    b = column(result, "b")
    assert b.type == "empty" and b.missing == 20 and b.count == 0 and b.missing_pct == 1.0
    assert any(a.type == "empty_column" and a.column == "b" for a in result.alerts)
    c = column(result, "c")
    assert c.distinct == 1 and any(a.type == "constant" and a.column == "c" for a in result.alerts)


def test_mixed_types_in_a_column(write_text: Callable[..., Path]) -> None:
    values = [str(i) for i in range(90)] + ["n/d", "-", "abc"] * 3 + ["", ""]
    body = "".join(f"{v},{i}\n" for i, v in enumerate(values))
    result = profile_file(write_text("mx.csv", "v,k\n" + body))
    v = column(result, "v")
    assert "mixed_types" in v.semantic
    assert v.missing == 2  # empty fields are missing; the words stay values
    assert any(a.type == "mixed_types" for a in result.alerts)


def test_unicode_and_duplicate_headers(write_text: Callable[..., Path]) -> None:
    text = "名前,valor,valor,,Ação 🚀,valor\n太郎,1,2,3,ok,4\n花子,5,6,7,sim,8\n"
    result = profile_file(write_text("u.csv", text))
    names = [c.name for c in result.columns]
    assert names == ["名前", "valor", "valor.1", "column_4", "Ação 🚀", "valor.2"]
    assert column(result, "valor.2").stats.sum == 12
    assert {v.value for v in column(result, "名前").top_values} == {"太郎", "花子"}
    assert msgspec.json.decode(encode_result(result))["columns"][0]["name"] == "名前"


def test_a_thousand_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.integers(0, 50, (60, 1000)), columns=[f"c{i}" for i in range(1000)])
    path = tmp_path / "wide.csv"
    df.to_csv(path, index=False)
    result = profile_file(path)
    assert result.dataset.columns == 1000
    assert all(c.type == "numeric" for c in result.columns)
    means = np.array([column(result, c.name).stats.mean for c in result.columns])
    np.testing.assert_allclose(means, df.mean().to_numpy())
    assert len(result.correlations.pearson.columns) == 40
    assert len(result.correlations.omitted_columns) == 960


def test_gzip_with_inner_name(tmp_path: Path) -> None:
    path = tmp_path / "export"
    with gzip.open(path, "wt") as fh:
        fh.write("x;y\n1,5;2\n2,5;3\n")
    result = profile_file(path)
    assert result.dataset.compression == "gzip" and result.dataset.delimiter == ";"
    assert column(result, "x").stats.sum == pytest.approx(4.0)


def test_max_rows_and_sample_rows(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    pd.DataFrame({"v": np.arange(1000)}).to_csv(path, index=False)
    result = profile_file(path, {"max_rows": 100, "sample_rows": 3})
    assert result.dataset.rows == 100 and result.dataset.truncated
    assert column(result, "v").stats.max == 99
    assert result.sample.rows == [[0], [1], [2]]
