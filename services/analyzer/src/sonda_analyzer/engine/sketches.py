"""Mergeable summaries for streaming mode: exact while small, sketches beyond.

Counts, sums, moments, minimum and maximum are exact in any mode. Distinct values are counted
exactly up to :data:`EXACT_DISTINCT` per column, then by HyperLogLog (ours, fed whole arrays);
value counts likewise, then by Apache DataSketches' frequent-items sketch. Numbers and instants are
counted per distinct value up to the same cap, which gives their quantiles exactly; past it they
come from DataSketches' KLL sketch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import datasketches as ds
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_array, filled_codes, index_array, number_array, primitive
from sonda_analyzer.engine.floats import SortedRuns
from sonda_analyzer.engine.hyperloglog import HyperLogLog
from sonda_analyzer.engine.rowhash import text_hashes

EXACT_DISTINCT = 65_536
KLL_K = 400
HLL_LG_K = 14
FREQ_LG_MAX = 14
#: Confidence of the HLL bound, in standard deviations (3 → about 99.7 %).
HLL_STDEVS = 3


def kll_rank_error() -> float:
    """Normalized rank error of a single quantile from the KLL sketch (99 % confidence)."""
    return float(ds.kll_doubles_sketch(KLL_K).normalized_rank_error(False))


def kll_pmf_error() -> float:
    """Normalized rank error of a PMF / histogram bin from the KLL sketch (99 % confidence)."""
    return float(ds.kll_doubles_sketch(KLL_K).normalized_rank_error(True))


def hll_relative_error() -> float:
    return HyperLogLog.relative_error(HLL_LG_K, HLL_STDEVS)


@dataclass(slots=True)
class Moments:
    """Count, mean and central moment sums M2..M4, merged with Pébay's formulas (exact)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    m3: float = 0.0
    m4: float = 0.0
    total: float = 0.0

    def update(self, x: np.ndarray) -> None:
        nb = len(x)
        if nb == 0:
            return
        mean_b = float(x.mean())
        dev = x - mean_b
        dev2 = dev * dev
        other = Moments(
            n=nb,
            mean=mean_b,
            m2=float(dev2.sum()),
            m3=float((dev2 * dev).sum()),
            m4=float((dev2 * dev2).sum()),
            total=float(x.sum()),
        )
        self.merge(other)

    def merge(self, b: Moments) -> None:
        if b.n == 0:
            return
        if self.n == 0:
            self.n, self.mean, self.m2, self.m3, self.m4, self.total = (
                b.n, b.mean, b.m2, b.m3, b.m4, b.total,
            )  # fmt: skip
            return
        na, nb = float(self.n), float(b.n)
        n = na + nb
        delta = b.mean - self.mean
        d_n = delta / n
        m2 = self.m2 + b.m2 + delta * d_n * na * nb
        m3 = (
            self.m3 + b.m3
            + d_n * d_n * delta * na * nb * (na - nb)
            + 3.0 * d_n * (na * b.m2 - nb * self.m2)
        )  # fmt: skip
        m4 = (
            self.m4 + b.m4
            + d_n**3 * delta * na * nb * (na * na - na * nb + nb * nb)
            + 6.0 * d_n * d_n * (na * na * b.m2 + nb * nb * self.m2)
            + 4.0 * d_n * (na * b.m3 - nb * self.m3)
        )  # fmt: skip
        self.mean += d_n * nb
        self.m2, self.m3, self.m4 = m2, m3, m4
        self.n += b.n
        self.total += b.total


@dataclass(slots=True)
class DistinctNumbers:
    """Distinct numbers with their counts: exact up to the cap, then HyperLogLog.

    While exact, the counts are the column itself, sorted (:class:`SortedRuns`): its quantiles,
    histogram and extremes come from them exactly, and no quantile sketch is needed yet.
    """

    values: np.ndarray | None = field(default_factory=lambda: np.zeros(0))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hll: HyperLogLog | None = None
    #: The values and counts given up by the update that passed the cap: the caller takes them
    #: to seed the sketches that take over from here.
    dropped: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, x: np.ndarray) -> None:
        if self.values is not None:
            # Arrow's hash table counts the chunk's values in one pass, so only its distinct
            # values are sorted into the set (2M ages: 118k values a chunk, about 100 distinct).
            found = pc.value_counts(number_array(x))
            fresh = primitive(found.field("values"))
            merged, counts = merge_counts(self.values, self.counts, fresh, primitive(found.field("counts")))
            if len(merged) <= EXACT_DISTINCT:
                self.values, self.counts = merged, counts
                return
            self.values, self.counts = None, np.zeros(0, dtype=np.int64)
            self.dropped = (merged, counts)
            x = merged
        if self.hll is None:
            self.hll = HyperLogLog(HLL_LG_K)
        self.hll.update(_number_bits(x))

    def runs(self) -> SortedRuns | None:
        """The finite values, sorted, while counted exactly."""
        if self.values is None:
            return None
        finite = np.isfinite(self.values)
        return SortedRuns(self.values[finite].astype(np.float64), self.counts[finite])

    @property
    def exact(self) -> bool:
        return self.values is not None

    def estimate(self) -> int:
        if self.values is not None:
            return len(self.values)
        assert self.hll is not None
        return round(self.hll.estimate())


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where ``a`` equals ``b`` as one value: -0.0 is 0.0, and a NaN is every NaN."""
    equal: np.ndarray = a == b
    if a.dtype.kind == "f":
        equal |= np.isnan(a) & np.isnan(b)
    return equal


def merge_counts(
    values: np.ndarray, counts: np.ndarray, fresh: np.ndarray, fresh_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``values`` with their ``counts``, and a chunk's distinct values (any order)
    with theirs: the sorted distinct values of both, each with its total count.

    The values counted so far are sorted already, so only the chunk's are sorted and then put in
    their places, rather than all of them sorted again for every chunk (``np.unique``): 60,000
    values and a chunk of 3,000 in 0.44 ms against 1.5 ms; a 1 GB file profiled in 1 MB
    chunks (a 512 MB budget's then) spent 3.9 s of CPU here against 5.2 s. Equal values
    are one value as for ``np.unique`` (-0.0 and 0.0, every NaN), the one met first kept.
    """
    if values.dtype != fresh.dtype:
        kind = fresh.dtype if not len(values) else np.result_type(values.dtype, fresh.dtype)
        values, fresh = values.astype(kind), fresh.astype(kind)
    order = np.argsort(fresh)
    fresh, fresh_counts = fresh[order], fresh_counts[order]
    if len(fresh) > 1:
        starts = np.flatnonzero(np.concatenate(([True], ~_same(fresh[1:], fresh[:-1]))))
        if len(starts) < len(fresh):  # 0.0 and -0.0, or NaNs of different payloads, in one chunk
            fresh, fresh_counts = fresh[starts], np.add.reduceat(fresh_counts, starts)
    at = np.searchsorted(values, fresh)  # NaN sorts last here as it does in a sort
    known = np.zeros(len(fresh), dtype=bool)
    inside = at < len(values)
    known[inside] = _same(values[at[inside]], fresh[inside])
    counts = counts.astype(np.int64, copy=True)
    counts[at[known]] += fresh_counts[known]  # distinct places: the chunk's values are distinct
    new = ~known
    if new.any():
        values = np.insert(values, at[new], fresh[new])
        counts = np.insert(counts, at[new], fresh_counts[new])
    return values, counts


def _number_bits(x: np.ndarray) -> np.ndarray:
    """Numbers as 64-bit patterns: integers as they are, floats with -0.0 made 0.0 (equal values,
    one pattern)."""
    if x.dtype.kind == "f":
        return (x.astype(np.float64) + 0.0).view(np.uint64)
    return x.astype(np.int64).view(np.uint64)


@dataclass(slots=True)
class ValueCounts:
    """Counts per value: exact up to the cap, then a frequent-items sketch plus HyperLogLog.

    After the switch each chunk feeds the sketch only the values it holds at least twice; a value
    seen once in a chunk is undercounted by at most one per chunk, which :meth:`max_error` adds
    to the sketch's own bound.
    """

    #: While exact: the values in the order first met, and their counts.
    keys: pa.Array | None = field(default_factory=lambda: pa.nulls(0, pa.string()))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    freq: ds.frequent_strings_sketch | None = None
    hll: HyperLogLog | None = None
    pruned_chunks: int = 0

    def add_exact(self, values: pa.Array, counts: np.ndarray) -> tuple[pa.Array, np.ndarray] | None:
        """Merge a chunk's distinct values and their counts while counting exactly (switches to
        sketches past the cap). Arrow looks the values up, so no Python string is made.

        Returns, when the chunk took the counts past the cap, every value counted so far (this
        chunk's included) with its count, as they were before the switch let them go.
        """
        assert self.keys is not None
        if values.type != self.keys.type:
            values = values.cast(self.keys.type)
        at = filled_codes(pc.index_in(values, value_set=self.keys), -1)
        known = at >= 0
        self.counts[at[known]] += counts[known]  # a chunk's values are distinct: no index repeats
        if not known.all():
            self.keys = pa.concat_arrays([self.keys, values.filter(bool_array(~known))])
            self.counts = np.concatenate([self.counts, counts[~known]])
        if len(self.keys) > EXACT_DISTINCT:
            counted = self.keys, self.counts
            self._switch()
            return counted
        return None

    def add_sketch(self, repeated: list[str], repeated_counts: list[int], hashes: np.ndarray) -> None:
        """A chunk after the switch: values it holds at least twice, and every value's hash."""
        assert self.freq is not None
        assert self.hll is not None
        self.hll.update(hashes)
        update_freq = self.freq.update
        for v, c in zip(repeated, repeated_counts, strict=True):
            update_freq(v, c)
        self.pruned_chunks += 1

    def _switch(self) -> None:
        assert self.keys is not None
        self.freq = ds.frequent_strings_sketch(FREQ_LG_MAX)
        self.hll = HyperLogLog(HLL_LG_K)
        self.hll.update(text_hashes(self.keys))
        # As with a chunk after the switch (add_sketch), the values counted once so far are left
        # out of the sketch: each is undercounted by one at most, which max_error adds.
        repeated = self.counts >= 2
        values = self.keys.filter(bool_array(repeated)).to_pylist()
        for v, c in zip(values, self.counts[repeated].tolist(), strict=True):
            self.freq.update(v, c)
        self.pruned_chunks += 1
        self.keys, self.counts = None, np.zeros(0, dtype=np.int64)

    @property
    def exact(self) -> bool:
        return self.keys is not None

    def distinct(self) -> int:
        if self.keys is not None:
            return len(self.keys)
        assert self.hll is not None
        return round(self.hll.estimate())

    def top(self, k: int) -> list[tuple[str, int]]:
        if self.keys is not None:
            # the highest counts; among equal counts the values met first, as a stable sort keeps them
            order = np.argsort(-self.counts, kind="stable")[:k]
            values = self.keys.take(index_array(order)).to_pylist()
            return list(zip(values, self.counts[order].tolist(), strict=True))
        assert self.freq is not None
        items = self.freq.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
        return [(item[0], int(item[1])) for item in items[:k]]

    def max_error(self) -> int:
        if self.freq is None:
            return 0
        return int(self.freq.get_apriori_error(FREQ_LG_MAX, self.freq.total_weight)) + (self.pruned_chunks)


#: Past the cap, the quantile sketch takes one value in ``THIN_STRIDE`` of each run of
#: ``THIN_RUN`` values sorted together (see :class:`ThinnedKll`).
THIN_RUN = EXACT_DISTINCT
THIN_STRIDE = 8


def thinning_error() -> float:
    """The most the thinning moves a normalized rank, a bin's share or the count, whatever the values.

    Of a run of sorted values, every ``THIN_STRIDE``-th is kept from a random start, and each kept
    one stands for ``THIN_STRIDE``: the kept values at or below any point (or in any interval)
    then stand for the true count give or take ``THIN_STRIDE - 1``, and so does their total. With
    ``R`` runs over ``n`` values a share is off by at most ``2R(S - 1) / (n - R(S - 1))``; the
    sketch takes values only past ``EXACT_DISTINCT`` (``n > THIN_RUN``), so ``R <= 2n / THIN_RUN``.
    """
    spread = 2 * (THIN_STRIDE - 1) / THIN_RUN
    return 2 * spread / (1 - spread)


class ThinnedKll:
    """DataSketches' KLL sketch, fed the values thinned eightfold in sorted runs.

    The sketch holds the GIL while it takes values (about 42 ns each): past the cap, every numeric
    and date column of a streamed file fed it every row, and the other threads waited (a quarter
    of a 1 GB pass's GIL time). A run is sorted by numpy, outside the GIL, and the sketch takes
    an eighth of it, every value of which stands for eight. That is what the sketch's own
    compactors do to the values it holds (sort, keep every other from a random start), done
    before it gets them; the error it adds is bounded whatever the values (:func:`thinning_error`)
    and stated beside the sketch's own. A run is made of whole ``THIN_RUN`` values across chunks,
    the last one at :meth:`finished`: a column holds at most a run waiting (512 KB), half of what
    its exact counts held before the cap. Not thread-safe: a column's updates run one at a time.
    """

    def __init__(self, seed: int = 0x51A7) -> None:
        self._sketch = ds.kll_doubles_sketch(KLL_K)
        self._rng = np.random.default_rng(seed)
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        #: Values given so far (the sketch's own count is about an eighth of it).
        self.n = 0

    def update(self, values: np.ndarray) -> None:
        """Take values (float64, NaN-free), in any order."""
        if not len(values):
            return
        self.n += len(values)
        self._pending.append(np.asarray(values, dtype=np.float64))
        self._pending_n += len(values)
        if self._pending_n < THIN_RUN:
            return
        joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        whole = len(joined) - len(joined) % THIN_RUN
        for start in range(0, whole, THIN_RUN):
            self._take(joined[start : start + THIN_RUN])
        rest = joined[whole:]
        self._pending = [rest.copy()] if len(rest) else []
        self._pending_n = len(rest)

    def _take(self, run: np.ndarray) -> None:
        ordered = np.sort(run)
        start = int(self._rng.integers(THIN_STRIDE))
        kept = np.ascontiguousarray(ordered[start::THIN_STRIDE])
        if len(kept):
            self._sketch.update(kept)

    def finished(self) -> ds.kll_doubles_sketch:
        """The sketch, with the last (short) run taken: to query once every value is in."""
        if self._pending:
            self._take(np.concatenate(self._pending))
            self._pending, self._pending_n = [], 0
        return self._sketch

    def is_estimation_mode(self) -> bool:
        """Whether its figures are estimates: once it has values, every one of them was thinned."""
        return self.n > 0


def mad_from_sketch(sketch: ds.kll_doubles_sketch, median: float, span: float) -> float:
    """Median absolute deviation from a quantile sketch: the t where F(m+t) - F(m-t) = 1/2."""
    lo, hi = 0.0, max(span, 0.0)
    if hi == 0.0:
        return 0.0
    for _ in range(60):
        t = (lo + hi) / 2
        # share of values within [median - t, median + t]
        inside = sketch.get_rank(median + t, True) - sketch.get_rank(median - t, False)
        if inside >= 0.5:
            hi = t
        else:
            lo = t
        if hi - lo <= 1e-12 * max(1.0, abs(median)):
            break
    return hi if math.isfinite(hi) else float("nan")


def repeated(values: np.ndarray, counts: np.ndarray, block: int = 1 << 16) -> Iterator[np.ndarray]:
    """``np.repeat(values, counts)`` a block of at most ``block`` values at a time: a quantile
    sketch takes no weights, and one value may stand for a hundred million rows."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    for lo in range(0, total, block):
        hi = min(lo + block, total)
        first = int(np.searchsorted(ends, lo, side="right"))
        last = int(np.searchsorted(ends, hi - 1, side="right"))
        piece = counts[first : last + 1].copy()
        piece[0] -= lo - (int(ends[first]) - int(counts[first]))  # rows of the first value before lo
        piece[-1] -= int(ends[last]) - hi  # rows of the last value from hi on
        yield np.repeat(values[first : last + 1], piece)
