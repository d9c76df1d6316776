"""Exact statistics of a numeric column (numpy on float64; one sort serves all order statistics)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sonda_analyzer.engine.arrays import floats, index_array, single
from sonda_analyzer.engine.extremes import extremes_of_sorted
from sonda_analyzer.engine.floats import (
    Floats,
    Sorted,
    fnum,
    histogram_counts,
    histogram_edges,
    kurtosis,
    lerp_quantiles,
    median_distance,
    pct,
    rank,
    skewness,
)
from sonda_analyzer.engine.ranks import RankBasis
from sonda_analyzer.engine.result import ColumnProfile, Histogram, NumericStats, Quantiles, TopValue
from sonda_analyzer.engine.semantics import SemanticScan, mark_semantics, present_numbers
from sonda_analyzer.engine.work import ColumnWork, dense_codes, masked

PROBS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
#: A numeric column with at most this many distinct values also lists them with their counts
#: (``top_values``): a rating or a 0/1 flag is read like a category, and its imbalance is known.
FEW_DISTINCT = 10
#: Values per block of the central moments (see :func:`numeric_stats`).
_MOMENTS_BLOCK = 1 << 16


def few_values(values: np.ndarray, counts: np.ndarray, *, integers: bool, total: int) -> list[TopValue]:
    """Every distinct value with its count, most frequent first (ties: the smaller value first)."""
    order = np.lexsort((values, -counts))
    return [
        TopValue(value=int(values[i]) if integers else fnum(float(values[i])), count=int(counts[i]),
                 pct=pct(int(counts[i]), total))
        for i in order
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderStats:
    """What a column's finite values give once sorted: exact mode's sorted array, or streaming
    mode's counts per value (:class:`SortedRuns`) while it counts every value."""

    quantiles: list[float]  # at PROBS; the median is the fourth
    iqr: float
    mad: float
    outliers: int  # beyond 1.5 IQR from the quartiles
    histogram: Histogram


def order_stats(s: Sorted, bins: int, distinct_finite: int) -> OrderStats:
    """The order statistics of ``s`` (sorted, finite, not empty)."""
    n = len(s)
    qs = lerp_quantiles(s, PROBS)
    q1, median, q3 = qs[2], qs[3], qs[4]
    iqr = q3 - q1
    outliers = int(rank(s, q1 - 1.5 * iqr, "left")) + n - int(rank(s, q3 + 1.5 * iqr, "right"))
    lo, hi = float(s[0]), float(s[n - 1])
    edges = histogram_edges(lo, hi, max(1, min(bins, distinct_finite)))
    histogram = Histogram(edges=[float(e) for e in edges], counts=histogram_counts(s, edges))
    return OrderStats(qs, iqr, median_distance(s, median), outliers, histogram)


def numeric_stats(
    x: Floats, bins: int, *, sorted_finite: Floats | None = None
) -> tuple[NumericStats | None, Histogram | None, int, int]:
    """Stats of values ``x`` (NaN = missing). Returns stats, histogram, count and distinct.

    ``sorted_finite``: the finite values of ``x`` already sorted (by :meth:`RankBasis.sorting`).
    """
    count = len(x) - int(np.count_nonzero(np.isnan(x)))
    if count == 0:
        return None, None, 0, 0
    if sorted_finite is None:
        s = x[np.isfinite(x)]  # a copy, sorted in place
        s.sort()
    else:
        s = sorted_finite
    n = len(s)
    infinite = count - n
    neg_inf = int(np.count_nonzero(x == -np.inf)) if infinite else 0
    distinct_finite = int(np.count_nonzero(s[1:] != s[:-1])) + 1 if n else 0
    distinct = distinct_finite + (neg_inf > 0) + (infinite - neg_inf > 0)
    # Zeros and negatives from the sorted values (-0.0 is a zero and not negative, as with ==/<).
    below, above = (int(np.searchsorted(s, 0.0, side=side)) for side in ("left", "right"))
    zeros = above - below
    negatives = below + neg_inf
    if n == 0:
        quantiles = Quantiles(p1=None, p5=None, p25=None, p50=None, p75=None, p95=None, p99=None)
        stats = NumericStats(
            min=None, max=None, range=None, mean=None, std=None, variance=None, sum=None,
            median=None, quantiles=quantiles, iqr=None, mad=None, cv=None, skewness=None,
            kurtosis=None, zeros=zeros, negatives=negatives, infinite=infinite, outliers_iqr=0,
        )  # fmt: skip
        return stats, None, count, distinct
    total = float(s.sum())
    mean = total / n
    # A block at a time, in place: a whole-column temporary is a fresh mapping whose pages fault
    # in again, and two of them (16 MB per 1M values) were held beside every numeric column.
    m2 = m3 = m4 = 0.0
    for start in range(0, n, _MOMENTS_BLOCK):
        dev = s[start : start + _MOMENTS_BLOCK] - mean
        dev2 = dev * dev
        m2 += float(dev2.sum())
        dev *= dev2  # the cubes
        m3 += float(dev.sum())
        dev2 *= dev2  # the fourth powers
        m4 += float(dev2.sum())
    variance = m2 / (n - 1) if n > 1 else float("nan")
    std = variance**0.5 if n > 1 else float("nan")
    order = order_stats(s, bins, distinct_finite)
    qs, median = order.quantiles, order.quantiles[3]
    vmin, vmax = float(s[0]), float(s[-1])
    stats = NumericStats(
        min=fnum(vmin),
        max=fnum(vmax),
        range=fnum(vmax - vmin),
        mean=fnum(mean),
        std=fnum(std),
        variance=fnum(variance),
        sum=fnum(total),
        median=fnum(median),
        quantiles=Quantiles(**{f"p{round(p * 100)}": fnum(q) for p, q in zip(PROBS, qs, strict=True)}),
        iqr=fnum(order.iqr),
        mad=fnum(order.mad),
        cv=fnum(std / mean) if mean != 0 and n > 1 else None,
        skewness=fnum(skewness(m2, m3, n)),
        kurtosis=fnum(kurtosis(m2, m4, n)),
        zeros=zeros,
        negatives=negatives,
        infinite=infinite,
        outliers_iqr=order.outliers,
        extremes=extremes_of_sorted(s),
    )
    return stats, order.histogram, count, distinct


def _runs(s: Floats) -> tuple[Floats, npt.NDArray[np.int64]]:
    """The distinct values of ``s`` (sorted, not empty) and how many times each comes."""
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    return s[starts], np.diff(np.append(starts, len(s)))


def profile_numeric(
    name: str, arr: pa.ChunkedArray, rows: int, bins: int, semantic: list[str], *, rank: bool = False
) -> ColumnWork:
    """``rank``: sort for Spearman too (the column's one sort then gives its ranks as well)."""
    x = floats(arr)
    basis, sorted_finite = RankBasis.sorting(x, np.isfinite(x)) if rank else (None, None)
    stats, histogram, count, distinct = numeric_stats(x, bins, sorted_finite=sorted_finite)
    missing = rows - count
    is_int = pa.types.is_integer(arr.type)
    hints = list(semantic)
    col_type = "numeric"
    # A complete, strictly increasing run of unique integers numbers the rows: an identifier.
    unique_complete = is_int and count > 1 and distinct == count and missing == 0
    if unique_complete and bool(np.all(np.diff(x) > 0)):
        col_type = "identifier"
        hints.append("sequential")
    if stats is not None and distinct == 2 and stats.min == 0 and stats.max == 1:
        hints.append("binary")
    profile = ColumnProfile(
        name=name,
        type=col_type,  # type: ignore[arg-type]
        dtype=str(arr.type),
        semantic=hints,
        count=count,
        missing=missing,
        missing_pct=pct(missing, rows),
        distinct=distinct,
        distinct_pct=pct(distinct, count),
        unique=count > 0 and distinct == count,
        memory_bytes=int(arr.nbytes),
        approximate=False,
        stats=stats,
        histogram=histogram,
    )
    if 0 < distinct <= FEW_DISTINCT:
        if sorted_finite is not None and stats is not None and not stats.infinite:
            values, counts = _runs(sorted_finite)  # the values already sorted: no second sort
        else:
            values, counts = np.unique(x[~np.isnan(x)], return_counts=True)
        profile.top_values = few_values(values, counts, integers=is_int, total=count)
    del sorted_finite
    scan = SemanticScan(name, numeric=True)
    if scan.may_hold_documents(None if stats is None else stats.max):
        scan.add_numbers(present_numbers(arr))
    mark_semantics(profile, scan.found())
    finite = np.where(np.isfinite(x), x, np.nan) if stats is not None and stats.infinite else x

    def codes() -> tuple[np.ndarray, int]:
        missing_mask = np.isnan(x)
        return dense_codes(x, missing_mask if missing_mask.any() else None)

    # Integers beyond 2**53 are not exact as floats: only then is the column itself kept to show them.
    big = is_int and stats is not None and max(abs(stats.min or 0.0), abs(stats.max or 0.0)) >= 2.0**53
    exact = arr if big else None
    # The type alone: a closure over the column held it (a copy of the values, for integers or
    # gaps) until the correlations were done, 23 MB at the peak of the 1M-row benchmark file.
    kind = arr.type

    def take(rows: np.ndarray) -> pa.Array:
        if exact is not None:
            return single(exact).take(index_array(rows))
        picked = x[rows]
        return masked(picked, np.isnan(picked), kind)

    return ColumnWork(
        profile=profile, values=finite, codes=codes, take=take,
        ranks=None if basis is None else lambda: basis,
    )  # fmt: skip
