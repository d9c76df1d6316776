"""Correlations in streaming mode.

Pearson, Cramér's V and the correlation ratio are sums over rows, so they merge exactly across
chunks: co-moment matrices (on values shifted by a first-chunk mean, against cancellation),
contingency tables, and per-category sums. Spearman needs ranks over all rows, so it is computed
on a uniform sample of rows (the rows with the smallest random keys, which merges too).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import filled_codes, floats, primitive, single, valid_mask
from sonda_analyzer.engine.correlations import _rows, cramers_v_table, spearman_matrix
from sonda_analyzer.engine.floats import fnum
from sonda_analyzer.engine.result import CorrelationRatio, Correlations, Matrix

#: Categories tracked per column (one more code stands for missing).
MAX_CODES = 100
SPEARMAN_SAMPLE = 100_000


class StreamAssociations:
    def __init__(self, numeric: list[str], categorical: list[str], seed: int = 20_240_601) -> None:
        self.numeric = numeric
        self.categorical = categorical
        k = len(numeric)
        self.shift: np.ndarray | None = None
        self.n = np.zeros((k, k))
        self.sx = np.zeros((k, k))
        self.sxx = np.zeros((k, k))
        self.sxy = np.zeros((k, k))
        self._rng = np.random.default_rng(seed)
        #: The sampled rows' keys and values, in pieces until trimmed, and the key to beat.
        self._keys: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._held = 0
        self._cutoff = math.inf
        self.codes: list[dict[Any, int] | None] = [{} for _ in categorical]
        c = len(categorical)
        width = MAX_CODES + 1
        self.tables = np.zeros((c, c, width, width), dtype=np.int64) if c > 1 else None
        self.g_n = np.zeros((k, c, width))
        self.g_s = np.zeros((k, c, width))
        #: Per numeric and categorical column: the sum of squares over the rows with a category
        #: (the ratio needs it only summed over the categories: one matrix product a chunk).
        self.g_ss = np.zeros((k, c))

    def _category_codes(self, j: int, arr: pa.Array, encoded: pa.DictionaryArray | None) -> np.ndarray | None:
        mapping = self.codes[j]
        if mapping is None:
            return None
        arr = single(arr)
        if pa.types.is_boolean(arr.type):
            codes = primitive(arr).astype(np.int64)
            mapping.update({False: 0, True: 1})
        else:
            encoded = pc.dictionary_encode(arr) if encoded is None else encoded
            local = []
            for value in encoded.dictionary.to_pylist():
                code = mapping.setdefault(value, len(mapping))
                local.append(code)
            if len(mapping) > MAX_CODES:
                self.codes[j] = None  # too many categories to say much: left out
                return None
            indices = encoded.indices
            codes = (
                np.asarray(local, dtype=np.int64)[filled_codes(indices, 0)]
                if local
                else np.zeros(len(arr), dtype=np.int64)
            )
        valid = valid_mask(arr)
        if valid is not None:
            codes = np.where(valid, codes, MAX_CODES)
        return codes

    def update(self, table: pa.Table, encoded: dict[str, pa.DictionaryArray] | None = None) -> None:
        """Take a chunk; ``encoded``: the dictionary encodings of its text category columns, when
        the caller has them."""
        k = len(self.numeric)
        rows = table.num_rows
        # Column-major matrices: each column's presence, shifted values (0 where missing) and
        # squares lie contiguous, as the per-category sums below take them.
        columns = [floats(table.column(name)) for name in self.numeric]
        present = [np.isfinite(values) for values in columns]
        if self.shift is None:
            self.shift = np.array(
                [v[f].mean() if f.any() else 0.0 for v, f in zip(columns, present, strict=True)]
            )
        m = np.empty((rows, k), order="F")
        xz = np.zeros((rows, k), order="F")
        for i, (values, finite) in enumerate(zip(columns, present, strict=True)):
            m[:, i] = finite
            np.subtract(values, self.shift[i], out=xz[:, i], where=finite)
        squares = xz * xz
        if k:
            self.n += m.T @ m
            self.sx += xz.T @ m
            self.sxy += xz.T @ xz
            self.sxx += squares.T @ m
            self._sample_rows(m, xz)
        given = encoded or {}
        codes = [
            self._category_codes(j, table.column(n), given.get(n)) for j, n in enumerate(self.categorical)
        ]
        width = MAX_CODES + 1
        if self.tables is not None:
            for a in range(len(codes)):
                for b in range(a + 1, len(codes)):
                    ca, cb = codes[a], codes[b]
                    if ca is None or cb is None:
                        continue
                    counts = np.bincount(ca * width + cb, minlength=width * width)
                    self.tables[a, b] += counts.reshape(width, width)
        if not k:
            return
        # Per numeric column, its values, squares and presence as weights (0 where missing): a
        # row without a category falls in the last slot, which the ratio leaves out, so no pair
        # needs a mask or a copy of its rows. A column without a gap in the chunk counts rows.
        complete = [bool(f.all()) for f in present]
        categorized = np.zeros((rows, len(codes)), order="F")
        for j, cj in enumerate(codes):
            if cj is None:
                continue
            categorized[:, j] = cj < MAX_CODES
            sizes = np.bincount(cj, minlength=width)
            for i in range(k):
                self.g_n[i, j] += sizes if complete[i] else np.bincount(cj, weights=m[:, i], minlength=width)
                self.g_s[i, j] += np.bincount(cj, weights=xz[:, i], minlength=width)
        self.g_ss += squares.T @ categorized

    def _sample_rows(self, m: np.ndarray, xz: np.ndarray) -> None:
        keys = self._rng.random(len(m))
        # Only rows whose key beats the largest key of the last trimmed sample can be among the
        # smallest keys; they are collected, and the sample is trimmed back to its size only
        # once it holds twice as many (copying and partitioning it every chunk cost 13 ms).
        chosen = np.flatnonzero(keys < self._cutoff)
        assert self.shift is not None
        self._keys.append(keys[chosen])
        self._rows.append(np.where(m[chosen] > 0, xz[chosen] + self.shift, np.nan))
        self._held += len(chosen)
        if self._held > 2 * SPEARMAN_SAMPLE:
            self._trim()

    def _trim(self) -> None:
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0)
        rows = np.concatenate(self._rows) if self._rows else np.zeros((0, len(self.numeric)))
        if len(keys) > SPEARMAN_SAMPLE:
            keep = np.argpartition(keys, SPEARMAN_SAMPLE)[:SPEARMAN_SAMPLE]
            keys, rows = keys[keep], rows[keep]
            self._cutoff = float(keys.max())
        self._keys, self._rows, self._held = [keys], [rows], len(keys)

    @property
    def sample(self) -> np.ndarray:
        """The rows with the smallest random keys: a uniform sample of at most SPEARMAN_SAMPLE."""
        self._trim()
        return self._rows[0]

    def result(self, numeric_ok: set[str], categorical_ok: set[str]) -> Correlations:
        num = [i for i, name in enumerate(self.numeric) if name in numeric_ok]
        cat = [j for j, name in enumerate(self.categorical)
               if name in categorical_ok and self.codes[j] is not None]  # fmt: skip
        with np.errstate(invalid="ignore", divide="ignore"):
            n = self.n
            cov = self.sxy - self.sx * self.sx.T / n
            var = self.sxx - self.sx * self.sx / n
            pearson = cov / np.sqrt(var * var.T)
            pearson[n < 2] = np.nan
        sub = np.ix_(num, num)
        sample = self.sample
        spearman = spearman_matrix([sample[:, j] for j in num]) if len(num) >= 2 else np.ones((len(num),) * 2)
        cv: list[list[float | None]] = [[None] * len(cat) for _ in cat]
        for a_pos, a in enumerate(cat):
            cv[a_pos][a_pos] = 1.0
            for b_pos in range(a_pos + 1, len(cat)):
                b = cat[b_pos]
                assert self.tables is not None
                table = self.tables[a, b][:MAX_CODES, :MAX_CODES]
                cv[a_pos][b_pos] = cv[b_pos][a_pos] = cramers_v_table(table)
        ratios = [
            CorrelationRatio(
                numeric=self.numeric[i], categorical=self.categorical[j], value=self._ratio(i, j)
            )
            for i in num
            for j in cat
        ]
        names = [self.numeric[i] for i in num]
        return Correlations(
            pearson=Matrix(columns=names, matrix=_rows(pearson[sub]) if num else []),
            spearman=Matrix(columns=names, matrix=_rows(spearman) if num else []),
            cramers_v=Matrix(columns=[self.categorical[j] for j in cat], matrix=cv),
            correlation_ratio=ratios,
        )

    def _ratio(self, i: int, j: int) -> float | None:
        # the last slot holds the rows without a category
        sizes, sums = (g[i, j][:MAX_CODES] for g in (self.g_n, self.g_s))
        total_n = sizes.sum()
        if total_n < 2:
            return None
        mean = sums.sum() / total_n
        total = self.g_ss[i, j] - total_n * mean * mean
        if total <= 0:
            return None
        used = sizes > 0
        between = float((sums[used] ** 2 / sizes[used]).sum() - total_n * mean * mean)
        return fnum(min(1.0, math.sqrt(max(0.0, between) / total)))
