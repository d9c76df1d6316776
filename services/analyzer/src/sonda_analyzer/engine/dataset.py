"""Table-wide figures: the dataset section of a result, the first rows, and values as JSON scalars."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa

from sonda_analyzer.engine.floats import pct
from sonda_analyzer.engine.load import ReadInfo
from sonda_analyzer.engine.result import DatasetProfile, Sample, Scalar


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
