"""Pearson, Spearman, Cramér's V and the correlation ratio, each on pairwise-complete rows.

Pearson for all numeric pairs comes from a handful of matrix products (sums over rows where both
columns have a value), so it costs a few BLAS calls instead of one pass per pair. Spearman needs
ranks among exactly those rows: pairs are grouped by the rows they are complete on, each column is
ranked once per group from one sort of it, and one matrix product gives every pair of the group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from sonda_analyzer.engine.floats import Floats, fnum
from sonda_analyzer.engine.ranks import RankBasis, Subset
from sonda_analyzer.engine.result import CorrelationRatio, Correlations, Matrix
from sonda_analyzer.engine.work import ColumnWork

T = TypeVar("T")
R = TypeVar("R")


#: Elements per block of the row-wise sums. Small enough that a block's working arrays come from
#: the heap and are reused (see allocator.py): blocks of a megabyte or more are mapped afresh and
#: their pages faulted in again for every block, which cost more than the sums themselves.
_BLOCK_ELEMENTS = 1 << 15


def _block_rows(k: int) -> int:
    return max(256, _BLOCK_ELEMENTS // max(1, k))


def pearson_matrix(columns: Sequence[Floats]) -> Floats:
    """Pairwise-complete Pearson correlations of ``columns`` (equally long; NaN = missing).

    Sums over the rows where both columns of a pair have a value, all pairs at once, a block of
    rows at a time (the columns are never joined into one matrix: a block is). Values are
    centred on their column's mean first, so the differences below do not cancel catastrophically
    (the sums take any centre: the mean need not be exact). Every sum is a matrix product: the
    block's centred values (0 where missing) with themselves, and with the presence of the
    columns that have gaps beside a column of ones (sums along a block's short rows took
    three times as long as the products).
    """
    k = len(columns)
    rows = len(columns[0]) if k else 0
    gapped = [j for j, c in enumerate(columns) if np.isnan(c).any()]
    with np.errstate(invalid="ignore"):
        mean = np.array(
            [c.mean(where=~np.isnan(c)) if j in gapped else c.mean() for j, c in enumerate(columns)]
        )
    # where each column's presence is found in ``present`` below: its own column, or the ones
    where = np.full(k, len(gapped))
    where[gapped] = np.arange(len(gapped))
    step = _block_rows(k)
    # a column's block is one row of these (contiguous, as each column is)
    buffer = np.empty((k, step))
    presence = np.ones((len(gapped) + 1, step))
    sxy = np.zeros((k, k))  # sums of x_i * x_j over the rows where both are present
    sx = np.zeros((k, len(gapped) + 1))  # sx[i, where[j]]: sum of x_i over rows where i and j are
    sxx = np.zeros((k, len(gapped) + 1))
    counts = np.zeros((len(gapped) + 1, len(gapped) + 1))
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        block, present = buffer[:, : stop - start], presence[:, : stop - start]
        for j, c in enumerate(columns):
            np.subtract(c[start:stop], mean[j], out=block[j])
        for a, j in enumerate(gapped):
            missing = np.isnan(block[j])
            np.logical_not(missing, out=present[a], casting="unsafe")
            np.copyto(block[j], 0.0, where=missing)
        sxy += block @ block.T
        sx += block @ present.T
        sxx += (block * block) @ present.T
        counts += present @ present.T
    n = counts[where][:, where]
    sx_ij = sx[:, where]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx_ij * sx_ij.T / n
        var_i = sxx[:, where] - sx_ij * sx_ij / n
        out: Floats = cov / np.sqrt(var_i * var_i.T)
    out[n < 2] = np.nan
    return out


def _map(pool: Executor | None, fn: Callable[[T], R], items: list[T]) -> list[R]:
    """Run ``fn`` over ``items`` on the pool (numpy releases the GIL while sorting)."""
    if pool is None or len(items) < 2:
        return [fn(item) for item in items]
    return list(pool.map(fn, items))


def spearman_matrix(
    columns: Sequence[Floats], pool: Executor | None = None, bases: list[RankBasis | None] | None = None
) -> Floats:
    """Pairwise-complete Spearman: Pearson of average ranks among the rows both columns share.

    Pairs are grouped by the rows they are complete on: all rows (two columns without gaps), the
    rows of the one column of the pair with gaps, or those both have. Within a group every column
    is ranked once, centred, into one row of a matrix whose product with itself holds every pair's
    sums; a group at a time, so at most one rank per column and row is held. ``bases``: columns
    already sorted (None where not).
    """
    k = len(columns)
    rows = len(columns[0]) if k else 0
    present = [~np.isnan(c) for c in columns]
    counts = [int(p.sum()) for p in present]
    given = bases or [None] * k

    def basis(j: int) -> RankBasis:
        return given[j] or RankBasis.of(columns[j], present[j])

    sorted_columns = _map(pool, basis, list(range(k)))
    groups: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for i in range(k):
        for j in range(i + 1, k):
            key = tuple(c for c in (i, j) if counts[c] < rows)
            groups.setdefault(key, []).append((i, j))
    out = np.full((k, k), np.nan)
    # One buffer serves every group (a group's ranks are a corner of it): a matrix per group was
    # mapped and faulted in afresh each time. Doubled centred ranks are integers: int32 holds
    # them in half the memory of floats, and the sums below are taken in float64 a block of
    # rows at a time (a block that stays on the heap), as exact as before.
    widest = max((len({c for pair in pairs for c in pair}) for pairs in groups.values()), default=0)
    buffer = np.empty((widest, rows), dtype=np.int32 if rows < 2**30 else np.int64)
    for key, pairs in groups.items():
        keep = None
        if key:
            mask = present[key[0]] if len(key) == 1 else present[key[0]] & present[key[1]]
            keep = Subset(mask)
        n = rows if keep is None else keep.size
        if n < 2:
            continue
        cols = sorted({c for pair in pairs for c in pair})
        ranked = buffer[: len(cols)]  # every row: those outside the group's hold 0

        def rank(a: int, keep: Subset | None = keep, ranked: Floats = ranked, cols: list[int] = cols) -> None:
            sorted_columns[cols[a]].doubled_ranks(keep, ranked[a])

        _map(pool, rank, list(range(len(cols))))
        sums = np.zeros((len(cols), len(cols)))
        step = _block_rows(len(cols))
        for start in range(0, rows, step):
            block = ranked[:, start : start + step].astype(np.float64)
            sums += block @ block.T
        at = {c: a for a, c in enumerate(cols)}
        with np.errstate(invalid="ignore", divide="ignore"):
            for i, j in pairs:
                a, b = at[i], at[j]
                out[i, j] = out[j, i] = sums[a, b] / np.sqrt(sums[a, a] * sums[b, b])
    for i in range(k):
        out[i, i] = 1.0 if counts[i] >= 2 else np.nan
    del buffer
    return out


def cramers_v(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> float | None:
    """Cramér's V (no bias correction) of two code arrays whose last code means missing."""
    step = 1 << 16  # rows per block: the block's products stay small (see ``_BLOCK_ELEMENTS``)
    table = np.zeros(ka * kb, dtype=np.int64)
    for start in range(0, len(a), step):
        pair = a[start : start + step].astype(np.intp) * kb + b[start : start + step]
        table += np.bincount(pair, minlength=ka * kb)
    # the last row and column count the rows where one of the two is missing: left out
    return cramers_v_table(table.reshape(ka, kb)[:-1, :-1])


def cramers_v_table(counts: np.ndarray) -> float | None:
    """Cramér's V of a contingency table (empty rows and columns are ignored)."""
    table = counts.astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    n = table.sum()
    if min(r, c) < 2 or n == 0:
        return None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return fnum(min(1.0, np.sqrt(chi2 / n / (min(r, c) - 1))))


def ratio_from_sums(sizes: np.ndarray, sums: np.ndarray, sq_total: float) -> float | None:
    """η from per-category counts and sums of values centred on their mean, and the total sum
    of squares of those centred values (the categories' own rows only)."""
    n = float(sizes.sum())
    if n < 2:
        return None
    s = float(sums.sum())
    total = sq_total - s * s / n
    if total <= 0:
        return None
    used = sizes > 0
    between = float((sums[used] ** 2 / sizes[used]).sum()) - s * s / n
    return fnum(min(1.0, np.sqrt(max(0.0, between) / total)))


#: Maps a function over items, in some thread or threads, the results in item order.
Spread = Callable[
    [Callable[[ColumnWork], list[CorrelationRatio]], list[ColumnWork]], list[list[CorrelationRatio]]
]


def _ratios(
    numeric: list[ColumnWork],
    categorical: list[ColumnWork],
    codes: list[tuple[np.ndarray, int]],
    spread: Spread,
) -> list[CorrelationRatio]:
    """All numeric x categorical ratios: per numeric column (the items ``spread`` maps),
    weighted ``bincount`` sums for every category column, a block of rows at a time."""
    step = _block_rows(1)
    cat_sizes = [np.bincount(c, minlength=k).astype(np.float64) for c, k in codes]
    # the categories with missing rows (their last code), whose rows' squares are left out
    gapped = [bool(sizes[-1]) for sizes in cat_sizes]

    def one_numeric(nw: ColumnWork) -> list[CorrelationRatio]:
        assert nw.values is not None
        x = nw.values
        present = ~np.isnan(x)
        count = int(np.count_nonzero(present))
        complete = count == len(x)
        # any centre serves (the sums below take it out again); the mean keeps them small
        mean = float(x.mean() if complete else x.mean(where=present)) if count else 0.0
        del present
        sums = [np.zeros(k) for _, k in codes]
        sizes = cat_sizes if complete else [np.zeros(k) for _, k in codes]
        sq_all = 0.0
        sq_missing = np.zeros(len(codes))  # squares of the rows whose category is missing
        for start in range(0, len(x), step):
            block = x[start : start + step]
            weight = None
            if complete:
                centred = block - mean
            else:
                present = ~np.isnan(block)
                centred = np.where(present, block - mean, 0.0)
                weight = present.astype(np.float64)
            squares = centred * centred
            sq_all += float(squares.sum())
            for j, (c, k) in enumerate(codes):
                part = c[start : start + step]
                sums[j] += np.bincount(part, weights=centred, minlength=k)
                if not complete:
                    sizes[j] += np.bincount(part, weights=weight, minlength=k)
                if gapped[j]:
                    sq_missing[j] += float(squares[part == k - 1].sum())
        return [
            CorrelationRatio(numeric=nw.profile.name, categorical=cw.profile.name,
                             value=ratio_from_sums(sizes[j][: k - 1], sums[j][: k - 1], sq_all - sq_missing[j]))
            for j, (cw, (_, k)) in enumerate(zip(categorical, codes, strict=True))
        ]  # fmt: skip

    return [r for rows in spread(one_numeric, numeric) for r in rows]


class _Shared:
    """Items that every thread calling :meth:`drain` takes one at a time until none is left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: list[int] = []
        self._items: list[ColumnWork] = []
        self._fn: Callable[[ColumnWork], list[CorrelationRatio]] | None = None
        self.results: list[list[CorrelationRatio]] = []

    def start(self, fn: Callable[[ColumnWork], list[CorrelationRatio]], items: list[ColumnWork]) -> None:
        with self._lock:
            self._fn, self._items = fn, items
            self.results = [[] for _ in items]
            self._left = list(reversed(range(len(items))))

    def drain(self) -> None:
        while True:
            with self._lock:
                if not self._left or self._fn is None:
                    return
                i, fn = self._left.pop(), self._fn
            self.results[i] = fn(self._items[i])


def _rows(matrix: Floats) -> list[list[float | None]]:
    return [[fnum(v) for v in row] for row in matrix]


def correlates(work: ColumnWork) -> bool:
    """A numeric column that varies: the ones Pearson and Spearman take (at most so many)."""
    return work.values is not None and work.profile.type == "numeric" and work.profile.distinct > 1


def _chosen(
    works: list[ColumnWork], max_columns: int
) -> tuple[list[ColumnWork], list[ColumnWork], list[str]]:
    """The numeric and the categorical columns the measures take, and the names of those left out."""
    numeric = [w for w in works if correlates(w)]
    numeric.sort(key=lambda w: (-w.profile.count, -w.profile.distinct))
    categorical = [w for w in works if w.categorical]
    # Cramér's V is most telling for columns with few, balanced categories.
    categorical.sort(key=lambda w: (-w.profile.count, w.profile.distinct))
    cap_cat = max(2, max_columns // 2)
    omitted = [w.profile.name for w in numeric[max_columns:] + categorical[cap_cat:]]
    return numeric[:max_columns], categorical[:cap_cat], omitted


@dataclass(slots=True)
class Partial:
    """The measures but Spearman, and the numeric columns Spearman is still to rank."""

    numeric: list[ColumnWork]
    correlations: Correlations


def without_spearman(works: list[ColumnWork], max_columns: int, pool: Executor | None = None) -> Partial:
    """Picks the most informative columns (at most ``max_columns`` of each kind) and computes
    Pearson, Cramér's V and the correlation ratios: the measures summed a block of rows at a time,
    with no buffer the size of a column (they may run beside the big text columns; Spearman's
    ranks may not). The ratios of each numeric column on ``pool``, if any."""
    return _measures(works, max_columns, lambda fn, items: _map(pool, fn, items))


def _measures(works: list[ColumnWork], max_columns: int, spread: Spread) -> Partial:
    numeric, categorical, omitted = _chosen(works, max_columns)
    num_names = [w.profile.name for w in numeric]
    cat_names = [w.profile.name for w in categorical]
    if len(numeric) >= 2:
        pearson = _rows(pearson_matrix([w.values for w in numeric if w.values is not None]))
    else:
        pearson = [[1.0]] if numeric else []
    codes = [w.codes() for w in categorical if w.codes is not None]
    cv: list[list[float | None]] = [[None] * len(codes) for _ in codes]
    for i, (a, ka) in enumerate(codes):
        cv[i][i] = 1.0
        for j in range(i + 1, len(codes)):
            b, kb = codes[j]
            cv[i][j] = cv[j][i] = cramers_v(a, ka, b, kb)
    ratios = _ratios(numeric, categorical, codes, spread)
    return Partial(
        numeric=numeric,
        correlations=Correlations(
            pearson=Matrix(columns=num_names, matrix=pearson),
            spearman=Matrix(columns=num_names, matrix=[]),
            cramers_v=Matrix(columns=cat_names, matrix=cv),
            correlation_ratio=ratios,
            omitted_columns=omitted,
        ),
    )


def with_spearman(partial: Partial, pool: Executor | None = None) -> Correlations:
    """The measures of :func:`without_spearman` with Spearman added."""
    result = partial.correlations
    result.spearman = Matrix(columns=result.pearson.columns, matrix=_spearman_of(partial.numeric, pool))
    return result


def _spearman_of(numeric: list[ColumnWork], pool: Executor | None = None) -> list[list[float | None]]:
    if len(numeric) < 2:
        return [[1.0]] if numeric else []
    values = [w.values for w in numeric if w.values is not None]
    bases = [w.ranks() if w.ranks is not None else None for w in numeric]
    return _rows(spearman_matrix(values, pool, bases))


def side_by_side(works: list[ColumnWork], max_columns: int, pool: Executor) -> Correlations:
    """Every measure: Spearman on a thread of ``pool`` while the calling thread (not one of the
    pool's) takes Pearson and Cramér's V; then both take the correlation ratios, a numeric column
    at a time, until none is left. The calling thread's measures took longer than Spearman (on
    the 1M-row file 0.26 s against 0.20 s): the thread done first now helps the other."""
    numeric, _, _ = _chosen(works, max_columns)
    shared = _Shared()

    def spearman_then_ratios() -> list[list[float | None]]:
        matrix = _spearman_of(numeric)
        shared.drain()  # the ratios not yet taken, if the calling thread has started them
        return matrix

    spearman = pool.submit(spearman_then_ratios)

    def spread(
        fn: Callable[[ColumnWork], list[CorrelationRatio]], items: list[ColumnWork]
    ) -> list[list[CorrelationRatio]]:
        shared.start(fn, items)
        shared.drain()
        spearman.result()  # the pool's thread has ended its last ratio too
        return shared.results

    result = _measures(works, max_columns, spread).correlations
    result.spearman = Matrix(columns=result.pearson.columns, matrix=spearman.result())
    return result
