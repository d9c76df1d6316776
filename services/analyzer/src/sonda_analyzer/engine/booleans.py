"""Boolean and all-missing columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_mask, index_array, single, valid_mask
from sonda_analyzer.engine.floats import pct
from sonda_analyzer.engine.result import BooleanStats, ColumnProfile, TopValue
from sonda_analyzer.engine.work import ColumnWork


def profile_boolean(name: str, arr: pa.ChunkedArray, rows: int) -> ColumnWork:
    trues = int(pc.sum(arr).as_py() or 0)
    count = len(arr) - arr.null_count
    falses = count - trues
    missing = rows - count
    distinct = int(trues > 0) + int(falses > 0)
    tops = sorted([(True, trues), (False, falses)], key=lambda kv: -kv[1])
    profile = ColumnProfile(
        name=name,
        type="boolean",
        dtype="bool",
        semantic=[],
        count=count,
        missing=missing,
        missing_pct=pct(missing, rows),
        distinct=distinct,
        distinct_pct=pct(distinct, count),
        unique=count > 0 and distinct == count,
        memory_bytes=int(arr.nbytes),
        approximate=False,
        top_values=[TopValue(value=v, count=c, pct=pct(c, count)) for v, c in tops if c] or None,
        boolean=BooleanStats(true=trues, false=falses, missing=missing),
    )

    def codes() -> tuple[np.ndarray, int]:
        # false 0, true 1, missing 2
        filled = bool_mask(arr).astype(np.int8)
        valid = valid_mask(arr)
        if valid is not None:
            filled[~valid] = 2
        return filled, 3

    return ColumnWork(
        profile=profile,
        codes=codes,
        categorical=distinct == 2,
        take=lambda rows: single(arr).take(index_array(rows)),
    )


def profile_empty(name: str, arr: pa.ChunkedArray, rows: int) -> ColumnWork:
    """A column without a single value: only its size is known."""
    profile = ColumnProfile(
        name=name,
        type="empty",
        dtype=str(arr.type),
        semantic=[],
        count=0,
        missing=rows,
        missing_pct=1.0 if rows else 0.0,
        distinct=0,
        distinct_pct=0.0,
        unique=False,
        memory_bytes=int(arr.nbytes),
        approximate=False,
    )
    return ColumnWork(
        profile=profile,
        codes=lambda: (np.zeros(rows, dtype=np.int64), 1),
        take=lambda at: pa.nulls(len(at), arr.type),
    )
