"""Generated tables in every format the analyzer reads, with their statistics computed independently.

The expected figures come from pandas/numpy on the in-memory frame the file was written from, never
from reading the file back, so a reader bug cannot make its own expectation.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = ("preço", "quantidade", "taxa")
TEXT = ("categoria", "cidade")


@dataclass(frozen=True)
class Dataset:
    path: Path
    frame: pd.DataFrame
    options: dict[str, Any]


def make_frame(rows: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Mixed columns with known missing values; Latin-1-safe accents in names and values."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.normal(1500.0, 400.0, rows), 2)
    price[rng.random(rows) < 0.06] = np.nan
    quantity = rng.integers(0, 400, rows).astype(float)
    quantity[rng.random(rows) < 0.03] = np.nan
    rate = np.round(rng.uniform(-1.0, 1.0, rows), 4)
    category = rng.choice(np.array(["norte", "sul", "leste", "oeste"], dtype=object), rows)
    category[rng.random(rows) < 0.04] = None
    city = rng.choice(np.array(["São Paulo", "Belém", "Curitiba", "Goiânia", "Maceió"], dtype=object), rows)
    return pd.DataFrame(
        {"preço": price, "quantidade": quantity, "taxa": rate, "categoria": category, "cidade": city}
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    return out


def write(fmt: str, folder: Path, frame: pd.DataFrame) -> Dataset:
    """Write ``frame`` as ``fmt``; returns the file and the options a client would send."""
    folder.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    if fmt == "csv":
        path = folder / "vendas.csv"
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        path = folder / "vendas.tsv"
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "br_csv":
        # The Brazilian spreadsheet export: ';' separators, decimal commas, Latin-1 bytes.
        path = folder / "vendas_br.csv"
        frame.to_csv(path, index=False, sep=";", decimal=",", encoding="latin-1")
    elif fmt == "csv_gz":
        path = folder / "vendas.csv.gz"
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
    elif fmt == "json":
        path = folder / "vendas.json"
        path.write_text(json.dumps(_records(frame), ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        path = folder / "vendas.jsonl"
        lines = (json.dumps(r, ensure_ascii=False) for r in _records(frame))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "parquet":
        path = folder / "vendas.parquet"
        frame.to_parquet(path, index=False, engine="pyarrow")
    elif fmt == "xlsx":
        path = folder / "vendas.xlsx"
        frame.to_excel(path, index=False, engine="openpyxl")
    else:  # pragma: no cover - a typo in a test
        raise ValueError(fmt)
    return Dataset(path=path, frame=frame, options=options)


FORMATS = ("csv", "tsv", "br_csv", "csv_gz", "json", "jsonl", "parquet", "xlsx")


def check_result(result: dict[str, Any], frame: pd.DataFrame) -> None:
    """Assert the result's figures match pandas/numpy on ``frame``.

    Quantiles are compared exactly unless the result says they are approximate; then the reported
    median's rank must lie within the stated rank error of the middle.
    """
    bounds = {a["figure"]: a["error_bound"] for a in result["approximations"]}
    assert result["dataset"]["rows"] == len(frame)
    assert result["dataset"]["columns"] == frame.shape[1]
    assert result["dataset"]["missing_cells"] == int(frame.isna().sum().sum())
    by_name = {c["name"]: c for c in result["columns"]}
    assert set(by_name) == set(frame.columns)
    for name in frame.columns:
        column = by_name[name]
        assert column["missing"] == int(frame[name].isna().sum()), name
        assert column["distinct"] == int(frame[name].nunique(dropna=True)), name
    for name in NUMERIC:
        column, values = by_name[name], frame[name].dropna().to_numpy(dtype=float)
        assert column["type"] == "numeric", (name, column["type"])
        stats = column["stats"]
        assert math.isclose(stats["mean"], float(np.mean(values)), rel_tol=1e-9), name
        assert math.isclose(stats["std"], float(np.std(values, ddof=1)), rel_tol=1e-9), name
        assert stats["min"] == float(np.min(values)), name
        assert stats["max"] == float(np.max(values)), name
        if "columns[].stats.quantiles" in bounds:
            rank = float(np.mean(values <= stats["median"]))
            assert abs(rank - 0.5) <= bounds["columns[].stats.quantiles"] + 1 / len(values), name
        else:
            assert math.isclose(stats["median"], float(np.median(values)), rel_tol=1e-12), name


@dataclass(frozen=True)
class BigFile:
    """A CSV large enough that profiling it takes a noticeable while, with its columns in memory."""

    path: Path
    rows: int
    columns: dict[str, np.ndarray]


def check_big_result(result: dict[str, Any], big: BigFile) -> None:
    assert result["dataset"]["rows"] == big.rows
    by_name = {c["name"]: c for c in result["columns"]}
    for name, values in big.columns.items():
        stats = by_name[name]["stats"]
        assert by_name[name]["missing"] == 0
        assert math.isclose(stats["mean"], float(values.mean()), rel_tol=1e-9), name
        assert math.isclose(stats["std"], float(values.std(ddof=1)), rel_tol=1e-9), name
        assert (stats["min"], stats["max"]) == (float(values.min()), float(values.max())), name
