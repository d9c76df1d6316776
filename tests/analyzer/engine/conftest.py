"""Generated data with known properties, written in every format, for the engine tests.

The expected figures are always computed from the same DataFrame with numpy, pandas or scipy,
never typed in by hand.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sonda_analyzer.engine import ProfileResult, profile_file

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
]


def mixed_frame(rows: int = 4_000, seed: int = 3) -> pd.DataFrame:
    """Numbers with gaps, skew, zeros, negatives; categories; text; booleans; times."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows).astype("float64")
    age[rng.random(rows) < 0.1] = np.nan
    income = np.round(rng.lognormal(8, 1, rows), 2)
    income[rng.random(rows) < 0.05] = np.nan
    score = rng.normal(50, 10, rows)
    noisy = score * 0.8 + rng.normal(0, 3, rows)
    visits = rng.poisson(0.7, rows)
    temp = np.round(rng.normal(2, 8, rows), 1)
    city = rng.choice(
        ["Recife", "Belém", "São Paulo", "Curitiba", "Natal"], rows, p=[0.4, 0.3, 0.15, 0.1, 0.05]
    )
    segment = np.where(score > 55, "premium", np.where(score > 45, "standard", "basic"))
    status = rng.choice(np.array(["open", "closed", None], dtype=object), rows, p=[0.5, 0.3, 0.2])
    comment = [" ".join(rng.choice(WORDS, rng.integers(1, 8))) for _ in range(rows)]
    active = rng.random(rows) < 0.35
    start = np.datetime64("2023-01-01T00:00:00")
    created = start + rng.integers(0, 365 * 86400, rows).astype("timedelta64[s]")
    day = np.datetime64("2020-01-01") + (np.arange(rows) % 900).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "age": age,
            "income": income,
            "score": score,
            "noisy": noisy,
            "visits": visits,
            "temp": temp,
            "city": city,
            "segment": segment,
            "status": status,
            "comment": comment,
            "active": active,
            "created": created,
            "day": day,
        }
    )


def write(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write ``df`` in a format with independent writers (pandas, pyarrow, openpyxl)."""
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, index=False, sep="\t")
    elif fmt == "csv.gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)
    elif fmt == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.csv", df.to_csv(index=False))
    elif fmt == "json":
        df.to_json(path, orient="records", date_format="iso", date_unit="s")
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True, date_format="iso", date_unit="s")
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    elif fmt == "xlsx":
        df.to_excel(path, index=False, engine="openpyxl")
    else:
        raise ValueError(fmt)
    return path


SUFFIX = {"csv": ".csv", "tsv": ".tsv", "csv.gz": ".csv.gz", "zip": ".zip", "json": ".json",
          "jsonl": ".jsonl", "parquet": ".parquet", "xlsx": ".xlsx"}  # fmt: skip


@pytest.fixture(scope="session")
def mixed() -> pd.DataFrame:
    return mixed_frame()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-data")


@pytest.fixture(scope="session")
def mixed_csv(mixed: pd.DataFrame, data_dir: Path) -> Path:
    return write(mixed, data_dir / "mixed.csv", "csv")


@pytest.fixture(scope="session")
def mixed_result(mixed_csv: Path) -> ProfileResult:
    return profile_file(mixed_csv, {"streaming": False})


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return _write


def column(result: ProfileResult, name: str) -> Any:
    """The named column's profile (typed loosely: tests read optional blocks directly)."""
    found = [c for c in result.columns if c.name == name]
    assert found, f"no column {name!r} in {[c.name for c in result.columns]}"
    return found[0]
