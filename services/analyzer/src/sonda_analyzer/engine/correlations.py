"""Pearson, Spearman, Cramér's V and the correlation ratio, each on pairwise-complete rows.

Pearson for all numeric pairs comes from a handful of matrix products (sums over rows where both
columns have a value), so it costs a few BLAS calls instead of one pass per pair. Spearman needs
ranks among exactly those rows: pairs of complete columns share one rank matrix, and only pairs
involving a column with gaps are re-ranked.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

import numpy as np

from sonda_analyzer.engine.floats import Floats, fnum
from sonda_analyzer.engine.result import CorrelationRatio, Correlations, Matrix
from sonda_analyzer.engine.work import ColumnWork

T = TypeVar("T")
R = TypeVar("R")


def average_ranks(x: Floats) -> Floats:
    """Ranks 1..n with ties given their average rank (scipy.stats.rankdata "average")."""
    return RankBasis.of(x, np.ones(len(x), dtype=bool)).ranks(None)


class RankBasis:
    """One column sorted once; average ranks over any subset of its rows then cost O(n).

    A pair of columns needs ranks among the rows both have values in. Instead of sorting again
    for every pair, the subset's ranks come from the full order: a cumulative count of kept rows
    gives each tie group its new first rank.
    """

    def __init__(
        self, order: np.ndarray, starts: np.ndarray | None, sizes: np.ndarray | None, rows: int
    ) -> None:
        self.order = order  # row indices of the present values, sorted by value
        self.starts = starts  # first sorted position of each group of equal values (None: no ties)
        self.sizes = sizes  # length of each group
        self.rows = rows

    @classmethod
    def of(cls, x: Floats, present: np.ndarray) -> RankBasis:
        rows = np.flatnonzero(present)
        values = x[rows]
        order = np.argsort(values, kind="quicksort")
        ordered = values[order]
        change = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        del ordered, values
        # Every numeric column of the table keeps one until the pairs are done: row indices as
        # int32 where they fit, and no groups at all for a column without ties (most measures).
        sorted_rows = rows[order].astype(np.int32 if len(x) < 2**31 else np.int64)
        if len(change) + 1 >= len(rows):
            return cls(sorted_rows, None, None, len(x))
        starts = np.concatenate(([0], change))
        sizes = np.diff(np.concatenate((starts, [len(rows)])))
        return cls(sorted_rows, starts, sizes, len(x))

    def ranks(self, keep_rows: np.ndarray | None) -> Floats:
        """Average ranks (1-based) among the rows where ``keep_rows`` is True (all when None),
        as a full-length array with NaN elsewhere."""
        out = np.full(self.rows, np.nan)
        if self.starts is None or self.sizes is None:  # no ties: a rank is a position
            if keep_rows is None:
                out[self.order] = np.arange(1, len(self.order) + 1, dtype=np.float64)
            else:
                kept = keep_rows[self.order]
                out[self.order[kept]] = np.cumsum(kept)[kept]
            return out
        if keep_rows is None:
            avg = self.starts + (self.sizes + 1) / 2.0
            out[self.order] = np.repeat(avg, self.sizes)
            return out
        kept = keep_rows[self.order]
        cumulative = np.cumsum(kept)
        ends = self.starts + self.sizes - 1
        before = np.where(self.starts > 0, cumulative[self.starts - 1], 0)
        in_group = cumulative[ends] - before
        avg = before + (in_group + 1) / 2.0
        ranked = np.repeat(avg, self.sizes)
        out[self.order[kept]] = ranked[kept]
        return out


#: Rows per block of the Pearson sums: a few MB of working arrays whatever the row count.
_BLOCK_ROWS = 1 << 16


def pearson_matrix(x: Floats) -> Floats:
    """Pairwise-complete Pearson correlations of the columns of ``x`` (NaN = missing).

    Sums over the rows where both columns of a pair have a value, all pairs at once, a block of
    rows at a time (a whole-table pass would hold several copies of ``x`` at once). Values are
    centred on their column's mean first, so the differences below do not cancel catastrophically.
    """
    rows, k = x.shape
    total = np.zeros(k)
    count = np.zeros(k)
    for start in range(0, rows, _BLOCK_ROWS):
        block = x[start : start + _BLOCK_ROWS]
        present = ~np.isnan(block)
        total += np.where(present, block, 0.0).sum(axis=0)
        count += present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    n = np.zeros((k, k))
    sx = np.zeros((k, k))  # sx[i, j] = sum of x_i over rows where i and j are present
    sxy = np.zeros((k, k))
    sxx = np.zeros((k, k))
    for start in range(0, rows, _BLOCK_ROWS):
        block = x[start : start + _BLOCK_ROWS]
        present = ~np.isnan(block)
        m = present.astype(np.float64)
        centered = np.where(present, block - mean, 0.0)
        n += m.T @ m
        sx += centered.T @ m
        sxy += centered.T @ centered
        sxx += (centered * centered).T @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        out: Floats = cov / np.sqrt(var_i * var_i.T)
    out[n < 2] = np.nan
    return out


def _map(pool: Executor | None, fn: Callable[[T], R], items: list[T]) -> list[R]:
    """Run ``fn`` over ``items`` on the pool (numpy releases the GIL while sorting)."""
    if pool is None or len(items) < 2:
        return [fn(item) for item in items]
    return list(pool.map(fn, items))


def _pair_r(a: Floats, b: Floats) -> float:
    if len(a) < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def spearman_matrix(x: Floats, pool: Executor | None = None) -> Floats:
    """Pairwise-complete Spearman: Pearson of average ranks among the rows both columns share."""
    present = ~np.isnan(x)
    k = x.shape[1]
    counts = present.sum(axis=0)
    bases = _map(pool, lambda j: RankBasis.of(x[:, j], present[:, j]), list(range(k)))
    complete = counts == len(x)
    out = np.full((k, k), np.nan)
    own = np.empty(x.shape)  # each column ranked among its own values (NaN where missing)
    for j, basis in enumerate(bases):
        own[:, j] = basis.ranks(None)
    full = np.flatnonzero(complete)
    if len(full):
        # Pairs of complete columns: Pearson of their own ranks (the other pairs are set below).
        out[np.ix_(full, full)] = pearson_matrix(own)[np.ix_(full, full)]

    def ranks_within(c: int, both: np.ndarray, n_both: int) -> Floats:
        # a column that loses no row to the pair keeps its own ranks
        ranked: Floats = own[both, c] if n_both == counts[c] else bases[c].ranks(both)[both]
        return ranked

    def pair(ij: tuple[int, int]) -> float:
        i, j = ij
        both = present[:, i] & present[:, j]
        n_both = int(both.sum())
        return _pair_r(ranks_within(i, both, n_both), ranks_within(j, both, n_both))

    pairs = [(i, j) for i in range(k) for j in range(i + 1, k) if not (complete[i] and complete[j])]
    for (i, j), rho in zip(pairs, _map(pool, pair, pairs), strict=True):
        out[i, j] = out[j, i] = rho
    for i in range(k):
        out[i, i] = 1.0 if counts[i] >= 2 else np.nan
    return out


def cramers_v(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> float | None:
    """Cramér's V (no bias correction) of two code arrays whose last code means missing."""
    keep = (a < ka - 1) & (b < kb - 1)
    table = np.bincount(a[keep] * kb + b[keep], minlength=ka * kb).reshape(ka, kb)
    return cramers_v_table(table)


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


def _ratios(
    numeric: list[ColumnWork],
    categorical: list[ColumnWork],
    codes: list[tuple[np.ndarray, int]],
    pool: Executor | None = None,
) -> list[CorrelationRatio]:
    """All numeric x categorical ratios with one weighted ``bincount`` per pair in most cases."""
    cat_sizes = [np.bincount(c, minlength=k).astype(np.float64) for c, k in codes]
    cat_missing = [np.flatnonzero(c == k - 1) for c, k in codes]

    def one_numeric(nw: ColumnWork) -> list[CorrelationRatio]:
        assert nw.values is not None
        x = nw.values
        present = ~np.isnan(x)
        all_present = bool(present.all())
        centred = np.where(present, x - (x[present].mean() if present.any() else 0.0), 0.0)
        squares = centred * centred
        sq_all = float(squares.sum())
        weight = None if all_present else present.astype(np.float64)
        out: list[CorrelationRatio] = []
        for cw, (c, k), sizes_all, missing in zip(categorical, codes, cat_sizes, cat_missing, strict=True):
            sums = np.bincount(c, weights=centred, minlength=k)[: k - 1]
            sizes = (sizes_all if weight is None else np.bincount(c, weights=weight, minlength=k))[: k - 1]
            # rows whose category is missing leave the total (their centred values are in ``x``)
            sq_total = sq_all - float(squares[missing].sum()) if len(missing) else sq_all
            out.append(CorrelationRatio(numeric=nw.profile.name, categorical=cw.profile.name,
                                        value=ratio_from_sums(sizes, sums, sq_total)))  # fmt: skip
        return out

    return [r for rows in _map(pool, one_numeric, numeric) for r in rows]


def _rows(matrix: Floats) -> list[list[float | None]]:
    return [[fnum(v) for v in row] for row in matrix]


def compute_correlations(
    works: list[ColumnWork], max_columns: int, pool: Executor | None = None
) -> Correlations:
    """All four measures over the most informative columns (at most ``max_columns`` of each kind)."""
    numeric = [
        w for w in works
        if w.values is not None and w.profile.type == "numeric" and w.profile.distinct > 1
    ]  # fmt: skip
    numeric.sort(key=lambda w: (-w.profile.count, -w.profile.distinct))
    categorical = [w for w in works if w.categorical]
    # Cramér's V is most telling for columns with few, balanced categories.
    categorical.sort(key=lambda w: (-w.profile.count, w.profile.distinct))
    cap_cat = max(2, max_columns // 2)
    omitted = [w.profile.name for w in numeric[max_columns:] + categorical[cap_cat:]]
    numeric, categorical = numeric[:max_columns], categorical[:cap_cat]
    num_names = [w.profile.name for w in numeric]
    cat_names = [w.profile.name for w in categorical]
    if len(numeric) >= 2:
        x = np.column_stack([w.values for w in numeric if w.values is not None])
        pearson, spearman = _rows(pearson_matrix(x)), _rows(spearman_matrix(x, pool))
    else:
        pearson = spearman = [[1.0]] if numeric else []
    codes = [w.codes() for w in categorical if w.codes is not None]
    cv: list[list[float | None]] = [[None] * len(codes) for _ in codes]
    for i, (a, ka) in enumerate(codes):
        cv[i][i] = 1.0
        for j in range(i + 1, len(codes)):
            b, kb = codes[j]
            cv[i][j] = cv[j][i] = cramers_v(a, ka, b, kb)
    ratios = _ratios(numeric, categorical, codes, pool)
    return Correlations(
        pearson=Matrix(columns=num_names, matrix=pearson),
        spearman=Matrix(columns=num_names, matrix=spearman),
        cramers_v=Matrix(columns=cat_names, matrix=cv),
        correlation_ratio=ratios,
        omitted_columns=omitted,
    )
