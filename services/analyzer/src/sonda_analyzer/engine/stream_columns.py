"""Per-column accumulators of streaming mode, and their final figures.

Each accumulator takes one chunk at a time, returns the chunk's per-row value hashes (for the
duplicate-row count) and, at the end, builds the same :class:`ColumnProfile` as exact mode, with
``approximate`` set where a sketch stands in for an exact figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.arrays import (
    distinct,
    floats,
    ints,
    valid_mask,
)
from sonda_analyzer.engine.extremes import ExtremesAcc, extremes_of_runs
from sonda_analyzer.engine.floats import (
    fnum,
    histogram_counts,
    histogram_edges,
    kurtosis,
    pct,
    skewness,
)
from sonda_analyzer.engine.numeric import FEW_DISTINCT, PROBS, few_values, order_stats
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.result import (
    ColumnProfile,
    DatetimeStats,
    Extremes,
    Histogram,
    NumericStats,
    Quantiles,
    TimeHistogram,
)
from sonda_analyzer.engine.semantics import SemanticScan, mark_semantics, present_numbers
from sonda_analyzer.engine.sketches import (
    THIN_RUN,
    DistinctNumbers,
    Moments,
    ThinnedKll,
    mad_from_sketch,
    repeated,
)
from sonda_analyzer.engine.temporal import _SECONDS, as_timestamps, frequency, iso


@dataclass(slots=True)
class Settings:
    bins: int
    top_k: int
    thresholds: AlertThresholds


def _sketch_counts(sketch: ThinnedKll, edges: np.ndarray, n: int) -> list[int]:
    """Histogram counts from a quantile sketch's PMF, rounded so they add up to ``n``."""
    pmf = sketch.finished().get_pmf([float(e) for e in edges[1:-1]])
    raw = np.array(pmf) * n
    counts = np.floor(raw).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(raw - counts))[:short]] += 1
    return [int(c) for c in counts]


def _sketch_past_the_cap(
    distinct: DistinctNumbers, finite: np.ndarray, sketch: ThinnedKll, extremes: ExtremesAcc | None
) -> None:
    """Feeds a chunk's finite values to the quantile sketch (and the ends), once the column has
    more distinct values than are counted exactly. The chunk that passes the cap feeds them the
    counts given up, itself included; before it, the counts stand for the column exactly."""
    if distinct.dropped is not None:
        values, counts = distinct.dropped
        distinct.dropped = None
        keep = np.isfinite(values)
        values, counts = values[keep].astype(np.float64), counts[keep]
        for piece in repeated(values, counts, THIN_RUN):
            sketch.update(piece)
        if extremes is not None:
            extremes.add_counts(values, counts)
    elif not distinct.exact and len(finite):
        sketch.update(finite.astype(np.float64, copy=False))
        if extremes is not None:
            extremes.update(finite)


@dataclass(slots=True)
class NumericAcc:
    name: str
    dtype: pa.DataType
    rows: int = 0
    missing: int = 0
    zeros: int = 0
    negatives: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    lo: float = math.inf
    hi: float = -math.inf
    sequential: bool = True
    last: float = -math.inf
    moments: Moments = field(default_factory=Moments)
    sketch: ThinnedKll = field(default_factory=ThinnedKll)
    distinct: DistinctNumbers = field(default_factory=DistinctNumbers)
    semantic: list[str] = field(default_factory=list)
    extremes: ExtremesAcc = field(default_factory=ExtremesAcc)
    scan: SemanticScan | None = None

    def update(self, arr: pa.Array) -> None:
        if self.scan is None:
            self.scan = SemanticScan(self.name, numeric=True)
        self.scan.add_numbers(present_numbers(arr))
        x = floats(arr)
        self.rows += len(x)
        present = x[~np.isnan(x)]
        self.missing += len(x) - len(present)
        if self.sequential:
            ok = len(present) == len(x) and (len(x) == 0 or present[0] > self.last)
            self.sequential = ok and bool(np.all(np.diff(present) > 0))
            if len(present):
                self.last = float(present[-1])
        finite = present[np.isfinite(present)]
        self.pos_inf += int(np.count_nonzero(present == np.inf))
        self.neg_inf += int(np.count_nonzero(present == -np.inf))
        self.zeros += int(np.count_nonzero(present == 0))
        self.negatives += int(np.count_nonzero(present < 0))
        if len(finite):
            self.lo = min(self.lo, float(finite.min()))
            self.hi = max(self.hi, float(finite.max()))
            self.moments.update(finite)
        if len(present):
            self.distinct.update(present)
        _sketch_past_the_cap(self.distinct, finite, self.sketch, self.extremes)

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]:
        m = self.moments
        n = m.n
        count = self.rows - self.missing
        approx: set[str] = set()
        if self.sequential and count and not self.distinct.exact:
            # every value above the one before, none missing: all distinct, however many (a
            # column of row numbers was estimated at 4,020,155 distinct values in 4,000,000)
            distinct = count
        else:
            distinct = self.distinct.estimate()
            if not self.distinct.exact:
                approx.add("distinct")
        stats = histogram = None
        if count:
            infinite = self.pos_inf + self.neg_inf
            estimating = self.sketch.is_estimation_mode() if n else False
            runs = self.distinct.runs()
            if n and runs is not None:  # every value counted: the figures are exact mode's
                order = order_stats(runs, s.bins, len(runs.values))
                qs, median, iqr, mad = order.quantiles, order.quantiles[3], order.iqr, order.mad
                outliers, histogram = order.outliers, order.histogram
                extremes: Extremes | None = extremes_of_runs(runs.values, runs.counts)
            elif n:
                sketch = self.sketch.finished()
                qs = [float(q) for q in sketch.get_quantiles(PROBS)]
                median = qs[3]
                iqr = qs[4] - qs[2]
                # Ranks one by one: with IQR 0 both fences are the same value.
                below = sketch.get_rank(qs[2] - 1.5 * iqr, False)
                upto = sketch.get_rank(qs[4] + 1.5 * iqr, True)
                outliers = round(n * (below + 1.0 - upto))
                mad = mad_from_sketch(sketch, median, self.hi - self.lo)
                bins = max(1, min(s.bins, distinct))
                edges = histogram_edges(self.lo, self.hi, bins)
                histogram = Histogram(
                    edges=[float(e) for e in edges], counts=_sketch_counts(self.sketch, edges, n)
                )
                if estimating:
                    approx.update({"quantiles", "histogram"})
                approx.add("outliers_iqr")  # fences from quantiles, counted from the sketch
                extremes = self.extremes.finish()
            else:
                qs, median, iqr, mad, outliers = [math.nan] * 7, math.nan, math.nan, math.nan, 0
                extremes = None
            variance = m.m2 / (n - 1) if n > 1 else math.nan
            std = math.sqrt(variance) if n > 1 else math.nan
            stats = NumericStats(
                min=fnum(self.lo) if n else None,
                max=fnum(self.hi) if n else None,
                range=fnum(self.hi - self.lo) if n else None,
                mean=fnum(m.mean) if n else None,
                std=fnum(std),
                variance=fnum(variance),
                sum=fnum(m.total) if n else None,
                median=fnum(median),
                quantiles=Quantiles(
                    **{f"p{round(p * 100)}": fnum(q) for p, q in zip(PROBS, qs, strict=True)}
                ),
                iqr=fnum(iqr),
                mad=fnum(mad),
                cv=fnum(std / m.mean) if n > 1 and m.mean != 0 else None,
                skewness=fnum(skewness(m.m2, m.m3, n)),
                kurtosis=fnum(kurtosis(m.m2, m.m4, n)),
                zeros=self.zeros,
                negatives=self.negatives,
                infinite=infinite,
                outliers_iqr=int(outliers),
                extremes=extremes,
            )
        is_int = pa.types.is_integer(self.dtype)
        ident = is_int and self.sequential and count > 1 and self.missing == 0
        hints = [*self.semantic, *(["sequential"] if ident else [])]
        if stats is not None and distinct == 2 and stats.min == 0 and stats.max == 1:
            hints.append("binary")
        profile = ColumnProfile(
            name=self.name,
            type="identifier" if ident else "numeric",
            dtype=str(self.dtype),
            semantic=hints,
            count=count,
            missing=self.missing,
            missing_pct=pct(self.missing, self.rows),
            distinct=distinct,
            distinct_pct=pct(distinct, count),
            unique=count > 0 and distinct >= count,
            memory_bytes=0,
            approximate=bool(approx),
            stats=stats,
            histogram=histogram,
        )
        if self.distinct.values is not None and 0 < len(self.distinct.values) <= FEW_DISTINCT:
            profile.top_values = few_values(
                self.distinct.values, self.distinct.counts, integers=is_int, total=count
            )
        mark_semantics(profile, self.scan.found() if self.scan is not None else {})
        return profile, approx


@dataclass(slots=True)
class DatetimeAcc:
    name: str
    dtype: pa.DataType
    rows: int = 0
    missing: int = 0
    lo: int | None = None
    hi: int | None = None
    unit: str = "s"
    tz: str | None = None
    date_only: bool = False
    distinct: DistinctNumbers = field(default_factory=DistinctNumbers)
    sketch: ThinnedKll = field(default_factory=ThinnedKll)
    first_unique: np.ndarray | None = None

    def update(self, arr: pa.Array) -> None:
        stamps, self.date_only = as_timestamps(arr)
        self.unit, self.tz = stamps.type.unit, stamps.type.tz
        self.rows += len(stamps)
        valid = valid_mask(stamps)
        values = ints(stamps)
        present = values[valid] if valid is not None else values
        self.missing += len(values) - len(present)
        if len(present):
            lo, hi = int(present.min()), int(present.max())
            self.lo = lo if self.lo is None else min(self.lo, lo)
            self.hi = hi if self.hi is None else max(self.hi, hi)
            self.distinct.update(present)
            _sketch_past_the_cap(self.distinct, present, self.sketch, None)
            if self.first_unique is None:
                self.first_unique = distinct(present)

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]:
        count = self.rows - self.missing
        distinct = self.distinct.estimate()
        approx: set[str] = set()
        stats = None
        if count and self.lo is not None and self.hi is not None:
            if self.distinct.values is not None:
                freq = frequency(self.distinct.values.astype(np.int64), self.unit)
            else:
                approx.update({"distinct", "frequency"})
                assert self.first_unique is not None
                freq = frequency(self.first_unique, self.unit)
            edges = histogram_edges(float(self.lo), float(self.hi), max(1, min(s.bins, distinct)))
            runs = self.distinct.runs()
            if runs is not None:  # every instant counted: the histogram is exact
                counts = histogram_counts(runs, edges)
            else:
                counts = _sketch_counts(self.sketch, edges, count)
                if self.sketch.is_estimation_mode():
                    approx.add("histogram")
            stats = DatetimeStats(
                min=iso(self.lo, self.unit, date_only=self.date_only, tz=self.tz),
                max=iso(self.hi, self.unit, date_only=self.date_only, tz=self.tz),
                range_seconds=(self.hi - self.lo) * _SECONDS[self.unit],
                frequency=freq,
                histogram=TimeHistogram(
                    edges=[iso(round(e), self.unit, date_only=False, tz=self.tz) for e in edges],
                    counts=counts,
                ),
            )
        profile = ColumnProfile(
            name=self.name, type="datetime", dtype=str(self.dtype),
            semantic=["date"] if self.date_only else [], count=count, missing=self.missing,
            missing_pct=pct(self.missing, self.rows), distinct=distinct,
            distinct_pct=pct(distinct, count), unique=count > 0 and distinct >= count,
            memory_bytes=0, approximate=bool(approx), datetime=stats,
        )  # fmt: skip
        return profile, approx
