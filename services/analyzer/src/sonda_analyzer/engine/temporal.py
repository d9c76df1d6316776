"""Datetime columns: range, inferred frequency and a histogram over time (ISO 8601 out)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import ints, single, valid_mask
from sonda_analyzer.engine.floats import histogram_counts, histogram_edges, pct
from sonda_analyzer.engine.result import ColumnProfile, DatetimeStats, TimeHistogram
from sonda_analyzer.engine.work import ColumnWork, dense_codes, masked

_SECONDS = {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
#: pandas.infer_freq looks at this many distinct instants (it is exact on regular series only).
_FREQ_SAMPLE = 2_000


def as_timestamps(arr: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, bool]:
    """A timestamp array (dates become midnight), and whether the column held dates only."""
    arr = single(arr)
    if pa.types.is_date(arr.type):
        return pc.cast(arr, pa.timestamp("s")), True
    return arr, False


def iso(value: int, unit: str, *, date_only: bool, tz: str | None) -> str:
    stamp = np.array([int(value)], dtype=f"datetime64[{unit}]")
    if date_only:
        return str(np.datetime_as_string(stamp, unit="D")[0])
    text = str(np.datetime_as_string(stamp)[0])
    return text + "+00:00" if tz else text


_NANOS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: Offset aliases as pandas writes them for a fixed step, largest unit first.
_ALIASES = (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
            ("ms", 10**6), ("us", 10**3), ("ns", 1))  # fmt: skip
_DAY = 86_400 * 10**9


def step_alias(step_nanos: int) -> str:
    """A fixed step as a pandas offset alias: "D", "h", "15min", "7D"."""
    for alias, size in _ALIASES:
        if step_nanos % size == 0:
            n = step_nanos // size
            return alias if n == 1 else f"{n}{alias}"
    return f"{step_nanos}ns"


def frequency(unique_sorted: np.ndarray, unit: str) -> str | None:
    """The series' frequency as a pandas offset alias ("D", "h", "MS"), or None when irregular."""
    if len(unique_sorted) < 3:
        return None
    steps, counts = np.unique(np.diff(unique_sorted), return_counts=True)
    best = int(np.argmax(counts))
    share = counts[best] / counts.sum()
    step = int(steps[best]) * _NANOS[unit]
    if share >= 0.9:
        return step_alias(step)
    if any(lo * _DAY <= step <= hi * _DAY for lo, hi in ((28, 31), (89, 92), (365, 366))):
        # Calendar steps (months, quarters, years) vary in length: pandas knows their names.
        import pandas as pd

        head = pd.DatetimeIndex(unique_sorted[:_FREQ_SAMPLE].astype(f"datetime64[{unit}]"))
        try:
            inferred = pd.infer_freq(head)
        except (TypeError, ValueError):
            inferred = None
        if inferred is not None:
            return str(inferred)
    return step_alias(step) if share >= 0.5 else None


def profile_datetime(name: str, arr: pa.ChunkedArray, rows: int, bins: int) -> ColumnWork:
    stamps, date_only = as_timestamps(arr)
    unit = stamps.type.unit
    tz = stamps.type.tz
    valid = valid_mask(stamps)
    values = ints(stamps)
    missing_mask = ~valid if valid is not None else np.zeros(len(values), dtype=bool)
    present = values[valid] if valid is not None else values
    count = len(present)
    hints = ["date"] if date_only else []
    stats: DatetimeStats | None = None
    distinct = 0
    if count:
        s = np.sort(present)
        change = s[1:] != s[:-1]
        distinct = int(np.count_nonzero(change)) + 1
        unique_sorted = s[np.concatenate(([True], change))]
        lo, hi = int(s[0]), int(s[-1])
        edges = histogram_edges(float(lo), float(hi), max(1, min(bins, distinct)))
        counts = histogram_counts(s.astype(np.float64), edges)
        stats = DatetimeStats(
            min=iso(lo, unit, date_only=date_only, tz=tz),
            max=iso(hi, unit, date_only=date_only, tz=tz),
            range_seconds=(hi - lo) * _SECONDS[unit],
            frequency=frequency(unique_sorted, unit),
            histogram=TimeHistogram(
                edges=[iso(round(e), unit, date_only=False, tz=tz) for e in edges], counts=counts
            ),
        )
    profile = ColumnProfile(
        name=name,
        type="datetime",
        dtype=str(arr.type),
        semantic=hints,
        count=count,
        missing=rows - count,
        missing_pct=pct(rows - count, rows),
        distinct=distinct,
        distinct_pct=pct(distinct, count),
        unique=count > 0 and distinct == count,
        memory_bytes=int(arr.nbytes),
        approximate=False,
        datetime=stats,
    )

    def take(rows: np.ndarray) -> pa.Array:
        instants = masked(values[rows], missing_mask[rows], stamps.type)
        return instants.cast(pa.date32()) if date_only else instants

    return ColumnWork(
        profile=profile,
        codes=lambda: dense_codes(values, missing_mask if valid is not None else None),
        take=take,
    )
