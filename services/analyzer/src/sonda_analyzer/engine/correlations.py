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
    n = len(x)
    order = np.argsort(x, kind="quicksort")
    s = x[order]
    change = np.flatnonzero(s[1:] != s[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def pearson_matrix(x: Floats) -> Floats:
    """Pairwise-complete Pearson correlations of the columns of ``x`` (NaN = missing)."""
    present = ~np.isnan(x)
    if present.all():
        centered = x - x.mean(axis=0)
        cov = centered.T @ centered
        scale = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            out: Floats = cov / np.outer(scale, scale)
        return out
    # Sums over the rows where both columns of a pair have a value, all pairs at once. Centering
    # first keeps the sums small, so the differences below do not cancel catastrophically.
    m = present.astype(np.float64)
    centered = x - np.nanmean(x, axis=0)
    centered[~present] = 0.0
    n = m.T @ m
    sx = centered.T @ m  # sx[i, j] = sum of x_i over rows where i and j are present
    sxy = centered.T @ centered
    np.multiply(centered, centered, out=centered)
    sxx = centered.T @ m
    del m, centered
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        out = cov / np.sqrt(var_i * var_i.T)
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
    """Pairwise-complete Spearman: Pearson of average ranks among the rows both columns share.

    Each column is ranked once over its own values; a pair re-ranks a column only when the other
    column's gaps remove some of its rows.
    """
    present = ~np.isnan(x)
    k = x.shape[1]
    counts = present.sum(axis=0)
    ranks = np.full(x.shape, np.nan)
    columns = [x[present[:, j], j] for j in range(k)]
    for j, r in enumerate(_map(pool, average_ranks, columns)):
        ranks[present[:, j], j] = r
    complete = counts == len(x)
    out = np.full((k, k), np.nan)
    full = np.flatnonzero(complete)
    if len(full):
        out[np.ix_(full, full)] = pearson_matrix(ranks[:, full])

    def pair(ij: tuple[int, int]) -> float:
        i, j = ij
        both = present[:, i] & present[:, j]
        n_both = int(both.sum())
        ri = ranks[both, i] if n_both == counts[i] else average_ranks(x[both, i])
        rj = ranks[both, j] if n_both == counts[j] else average_ranks(x[both, j])
        return _pair_r(ri, rj)

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


def correlation_ratio(values: Floats, groups: np.ndarray, k: int) -> float | None:
    """η: how much of a numeric column's variance the categories explain (0–1).

    ``values`` and ``groups`` are the rows where both are present; ``groups`` are codes below k.
    """
    if len(values) < 2:
        return None
    sizes = np.bincount(groups, minlength=k)
    sums = np.bincount(groups, weights=values, minlength=k)
    mean = values.mean()
    dev = values - mean
    total = float(np.dot(dev, dev))
    if total <= 0:
        return None
    used = sizes > 0
    group_means = sums[used] / sizes[used]
    between = float((sizes[used] * (group_means - mean) ** 2).sum())
    return fnum(min(1.0, np.sqrt(between / total)))


def _ratios(
    numeric: list[ColumnWork],
    categorical: list[ColumnWork],
    codes: list[tuple[np.ndarray, int]],
    pool: Executor | None = None,
) -> list[CorrelationRatio]:
    complete_cat = [bool(c.max(initial=0) < k - 1) for c, k in codes]

    def one_numeric(nw: ColumnWork) -> list[CorrelationRatio]:
        assert nw.values is not None
        present = ~np.isnan(nw.values)
        all_present = bool(present.all())
        out: list[CorrelationRatio] = []
        for cw, (c, k), full in zip(categorical, codes, complete_cat, strict=True):
            if all_present and full:
                vals, groups = nw.values, c
            else:
                keep = present & (c < k - 1)
                vals, groups = nw.values[keep], c[keep]
            out.append(CorrelationRatio(numeric=nw.profile.name, categorical=cw.profile.name,
                                        value=correlation_ratio(vals, groups, k)))  # fmt: skip
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
