"""Table-wide figures: duplicate rows, the sample rows and the dataset section of a result."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.floats import pct
from sonda_analyzer.engine.load import ReadInfo
from sonda_analyzer.engine.result import DatasetProfile, Sample, Scalar
from sonda_analyzer.engine.work import ColumnWork

_KEY_LIMIT = 1 << 62


def dataset_profile(
    info: ReadInfo,
    *,
    rows: int,
    columns: int,
    missing_cells: int,
    duplicate_rows: int,
    memory_bytes: int,
    file_size: int,
    streaming: bool,
) -> DatasetProfile:
    """The dataset section, the same for exact and streaming profiles but for its counts."""
    return DatasetProfile(
        rows=rows,
        columns=columns,
        missing_cells=missing_cells,
        missing_cells_pct=pct(missing_cells, rows * columns),
        duplicate_rows=duplicate_rows,
        duplicate_rows_pct=pct(duplicate_rows, rows),
        memory_bytes=memory_bytes,
        file_size=file_size,
        format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
        decimal=info.decimal,
        sheet=info.sheet,
        approximate=streaming,
        compression=info.compression,
        quotechar=info.quotechar,
        header=info.header,
        mode="streaming" if streaming else "exact",
        truncated=info.truncated,
    )


def duplicate_rows(works: list[ColumnWork], rows: int) -> int:
    """Rows equal to an earlier row (missing equals missing), like ``DataFrame.duplicated().sum()``.

    Each column's dense codes are folded into one integer key per row; keys are re-numbered when
    they would overflow. Columns with the most distinct values go first, so a column that is
    unique proves "no duplicates" before any other column is touched.
    """
    if rows < 2 or not works:
        return 0
    ordered = sorted(works, key=lambda w: -w.profile.distinct)
    if ordered[0].profile.distinct == rows:
        return 0
    key: np.ndarray | None = None
    key_card = 1
    for work in ordered:
        assert work.codes is not None
        codes, card = work.codes()
        if key is None:
            key, key_card = codes.astype(np.int64, copy=False), card
            continue
        if key_card * card >= _KEY_LIMIT:
            key, key_card = _renumber(key)
            if key_card == rows:
                return 0
        key = key * card + codes
        key_card *= card
    assert key is not None
    _, unique = _renumber(key)
    return rows - unique


def _renumber(key: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.int64, copy=False).reshape(-1), len(uniques)


def json_scalar(value: Any) -> Scalar:
    """A Python value from Arrow as a JSON-safe scalar (ISO 8601 for times, None for NaN)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def sample_rows(table: pa.Table, n: int) -> Sample:
    head = table.slice(0, n)
    columns = head.column_names
    data = [head.column(i).to_pylist() for i in range(head.num_columns)]
    rows = [[json_scalar(col[r]) for col in data] for r in range(head.num_rows)]
    return Sample(columns=list(columns), rows=rows)
