"""64-bit hashes of values and rows, for duplicate rows and distinct counts in streaming mode.

A value hashes the same in every chunk, so equal rows in different chunks give equal row hashes.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.arrays import string_offsets

U64 = np.uint64


def splitmix(h: np.ndarray) -> np.ndarray:
    """A strong 64-bit mix (SplitMix64's finaliser) so nearby inputs land far apart."""
    h = h ^ (h >> U64(30))
    h = h * U64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> U64(27))
    h = h * U64(0x94D049BB133111EB)
    out: np.ndarray = h ^ (h >> U64(31))
    return out


#: Seed of the string hashes: any fixed value (equal strings must hash alike within a profile).
_TEXT_SEED = 0x2545F4914F6CDD1D


def text_hashes(values: pa.Array) -> np.ndarray:
    """One uint64 per string of a string array, from its UTF-8 bytes (a missing slot hashes to
    some fixed value; callers replace it).

    polars hashes strings natively, 15-20 times faster than the numpy tabulation hashing this
    replaced (115,000 unique UUIDs: 1.1 ms against 23 ms), and a streaming pass hashes every
    chunk of every text column. Its hashes are stable within one polars version, and a profile
    compares hashes only among its own chunks. Imported here, so exact mode never loads it.
    """
    import polars as pl

    series = pl.Series(values=values) if len(values) else pl.Series(values=[], dtype=pl.String)
    out: np.ndarray = series.hash(seed=_TEXT_SEED).to_numpy().astype(U64, copy=True)
    return out


#: ``_BYTE_MASKS[r]`` keeps the first ``r`` bytes of a little-endian word.
_BYTE_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=U64)


def word_hashes(values: pa.Array) -> np.ndarray:
    """One uint64 per string of a string array (int32 offsets), from its length and its bytes
    read eight at a time: numpy only, for exact mode, which would otherwise import polars for
    this alone (over half a second of CPU; these take 40-90 ms for 1M strings). Null slots hash
    as whatever bytes their offsets span; callers leave them out.
    """
    n = len(values)
    offsets_buffer, data = values.buffers()[1], values.buffers()[2]
    if n == 0 or offsets_buffer is None:
        return np.zeros(n, dtype=U64)
    offsets = string_offsets(values)
    starts = offsets[:-1].astype(np.int64)
    lengths = np.diff(offsets)
    h = lengths.astype(U64) * U64(0x9E3779B97F4A7C15)
    size = 0 if data is None else data.size
    if size < 8:  # too short for one word: pad a copy (a handful of bytes)
        data = pa.py_buffer(bytes(data or b"").ljust(8, b"\0"))
        size = 8
    # Every byte position read as the word that starts there (unaligned reads).
    words = np.ndarray(shape=(size - 7,), dtype=U64, buffer=data, strides=(1,))

    def mix(rows: np.ndarray | slice | None, word: np.ndarray) -> None:
        part = h if rows is None else h[rows]  # a slice of rows is a view: mixed in place
        part ^= word
        part *= U64(0xBF58476D1CE4E5B9)
        part ^= part >> U64(31)
        if isinstance(rows, np.ndarray):
            h[rows] = part

    # Strings all of one length (ids, codes, UUIDs) lie at a fixed stride: each of their words
    # is then a strided view of ``words``, where strings of several lengths gather theirs by
    # index (a column of 1M UUIDs hashed in 45 ms instead of 76 ms).
    width = int(lengths[0]) if int(lengths.min()) == int(lengths.max()) else 0
    first = int(starts[0])
    whole = lengths >> 3  # the whole words of each string
    rows: np.ndarray | None = None  # the strings with a whole word left, when not all of them
    for k in range(int(whole.max())):
        if rows is None and int(whole.min()) <= k:
            rows = np.flatnonzero(whole > k)
        elif rows is not None:
            rows = rows[whole[rows] > k]
        if width:
            mix(None, words[first + 8 * k :: width][:n])
        else:
            mix(rows, words[starts + 8 * k if rows is None else starts[rows] + 8 * k])
    # The last bytes of each string whose length is not a whole number of words: read as the word
    # that starts there, or at the data's last word when that would run past its end (shifted
    # into place), and cut to the string's bytes.
    if width & 7:
        # of one length, the strings whose last bytes start a word within the data: a view
        within = min(n, max(0, (size - 8 - first - (width & ~7)) // width + 1))
        mix(slice(0, within), words[first + (width & ~7) :: width][:within] & _BYTE_MASKS[width & 7])
        tail = np.arange(within, n)
    else:
        tail = np.flatnonzero(lengths & 7)  # none, for strings of one length in whole words
    if len(tail):
        at = starts[tail] + (lengths[tail] & ~7)
        read = np.minimum(at, size - 8)
        word = words[read] >> ((at - read) << 3).astype(U64)
        word &= _BYTE_MASKS[lengths[tail] & 7]
        mix(tail, word)
    return splitmix(h)


def row_hashes(table: pa.Table) -> np.ndarray:
    """One uint64 per row from all its values, in column order: equal rows hash alike in every
    chunk, missing equals missing, -0.0 equals 0.0 and every NaN equals every NaN.

    polars hashes a whole chunk's rows in one native call (about 9 ms for 115,000 rows of 20
    columns, conversion included), where hashing each column and folding them took a numpy pass
    per column and one per fold.
    """
    import polars as pl

    if table.num_columns == 0 or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=U64)
    frame = pl.from_arrow(_hashable(table), rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    out: np.ndarray = frame.hash_rows(seed=_TEXT_SEED).to_numpy().astype(U64, copy=True)
    return out


def _plain(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
        or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
        or pa.types.is_timestamp(t) or pa.types.is_date(t)
    )  # fmt: skip


def _hashable(table: pa.Table) -> pa.Table:
    """The table with each column of a type the profile does not normalise (an interval from a
    Parquet file, which polars cannot import) as the text of its values, and text as string
    views: polars takes those as they are, where it copied every string of the other layout
    into its own (a chunk of 118,000 rows of the benchmark file: 12 ms of CPU against 16 ms;
    the row-wide summaries of the 0.5 GB file 0.58 s against 0.63 s; the same hashes)."""
    columns = [
        _viewed(column) if _plain(column.type)
        else _viewed(pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string()))
        for column in table.columns
    ]  # fmt: skip
    return pa.Table.from_arrays(columns, names=table.column_names)


def _viewed(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text as Arrow string views (16 bytes per value pointing into the same data); the rest
    as it is."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.cast(pa.string_view())
    return column


class DuplicateCounter:
    """Counts rows whose hash was seen before, within a memory limit.

    Keeps every row hash while they fit in ``limit_bytes``; past that it keeps only hashes below
    a threshold (a fixed, random-like subset of rows, halved each time the limit is reached) and
    scales the duplicates found among them back up. Exact up to 64-bit collisions while
    ``level == 0``. A hash it keeps, it keeps with all its occurrences, so its count is exact.

    The hashes are kept as sorted runs that merge like a binary counter (about log2(chunks) runs,
    each hash merged about log2(chunks) times), so :meth:`counts` can be asked after every chunk.
    """

    def __init__(self, limit_bytes: int) -> None:
        self.limit = max(1, limit_bytes // 8)
        self.level = 0
        self.rows = 0
        self._parts: list[np.ndarray] = []
        self._kept = 0
        # One bit per slice of hash space, set for every hash taken: a hash whose bit is clear
        # was never seen, which spares most lookups a binary search in every part (a search of
        # a 19M-hash history took most of a 5 GB pass's duplicate-row time). About 8 bits per
        # hash the counter may keep, at most 16 MB; dropped hashes leave their bits set, which
        # only costs a search.
        bits = min(27, max(16, (8 * self.limit - 1).bit_length()))
        self._shift = U64(64 - bits)
        self._seen = np.zeros(1 << (bits - 3), dtype=np.uint8)

    def kept(self, hashes: np.ndarray) -> np.ndarray:
        """True for the hashes in the kept hash space (all of them at level 0)."""
        if self.level == 0:
            return np.ones(len(hashes), dtype=bool)
        out: np.ndarray = hashes >> U64(64 - self.level) == 0
        return out

    def sorted_kept(self, hashes: np.ndarray) -> np.ndarray:
        """The hashes the counter would keep of ``hashes``, sorted (see :meth:`update`)."""
        kept: np.ndarray = np.sort(hashes[self.kept(hashes)] if self.level else hashes)
        return kept

    def update(self, hashes: np.ndarray, sorted_kept: np.ndarray | None = None) -> None:
        """Take a chunk's row hashes; ``sorted_kept``: :meth:`sorted_kept` of them, when the
        caller already has it (one sort then serves the frequent rows and the counter)."""
        self.rows += len(hashes)
        hashes = self.sorted_kept(hashes) if sorted_kept is None else sorted_kept
        self._parts.append(hashes)
        self._kept += len(hashes)
        if len(hashes):
            # the hashes are sorted, so are their bytes of the bitmap: OR each run of equal ones
            slot = hashes >> self._shift
            byte = (slot >> U64(3)).astype(np.intp)
            bit = (np.uint8(1) << (slot & U64(7)).astype(np.uint8)).astype(np.uint8)
            runs = np.concatenate(([0], np.flatnonzero(byte[1:] != byte[:-1]) + 1))
            self._seen[byte[runs]] |= np.bitwise_or.reduceat(bit, runs)
        while self._kept > self.limit:
            # Halve the kept hash space part by part: no moment holds two copies of everything.
            self.level += 1
            for i, part in enumerate(self._parts):
                self._parts[i] = part[self.kept(part)]
            self._kept = sum(len(p) for p in self._parts)
        while len(self._parts) > 1 and len(self._parts[-2]) <= len(self._parts[-1]):
            last = self._parts.pop()
            # Two sorted runs: the stable sort (a merge sort) joins them in linear time.
            self._parts[-1] = np.sort(np.concatenate([self._parts[-1], last]), kind="stable")

    def counts(self, hashes: np.ndarray) -> np.ndarray:
        """How many rows so far had each of ``hashes`` (exact for a kept hash)."""
        found = np.zeros(len(hashes), dtype=np.int64)
        slot = hashes >> self._shift
        maybe = np.flatnonzero(
            (self._seen[(slot >> U64(3)).astype(np.intp)] >> (slot & U64(7)).astype(np.uint8)) & 1
        )
        if not len(maybe):
            return found
        wanted = hashes[maybe]
        for part in self._parts:
            # one search tells whether a hash is in the part, a second one counts the few that are
            left = np.searchsorted(part, wanted, "left")
            inside = np.flatnonzero(left < len(part))
            hit = inside[part[left[inside]] == wanted[inside]]
            if len(hit):
                found[maybe[hit]] += np.searchsorted(part, wanted[hit], "right") - left[hit]
        return found

    def result(self) -> tuple[int, float]:
        """Duplicates (scaled up when sampled) and the relative standard error of that figure."""
        if not self._parts:
            return 0, 0.0
        kept = np.sort(np.concatenate(self._parts))
        dups = int(np.count_nonzero(kept[1:] == kept[:-1])) if len(kept) else 0
        scale = 1 << self.level
        error = 0.0 if self.level == 0 else (1.0 / math.sqrt(dups) if dups else 1.0)
        return min(self.rows, dups * scale), error

    def collision_probability(self) -> float:
        """Chance that two different rows share a 64-bit hash (birthday bound)."""
        n = float(self.rows)
        return min(1.0, n * n / 2.0**65)
