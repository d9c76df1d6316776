"""64-bit hashes of values and rows, for duplicate rows and distinct counts in streaming mode.

A value hashes the same in every chunk (strings through their bytes, numbers through their bit
patterns), so equal rows in different chunks give equal row hashes.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_mask, primitive

U64 = np.uint64
_NULL = U64(0x9E3779B97F4A7C15)
_PRIME = U64(0x100000001B3)


def splitmix(h: np.ndarray) -> np.ndarray:
    """A strong 64-bit mix (SplitMix64's finaliser) so nearby inputs land far apart."""
    h = h ^ (h >> U64(30))
    h = h * U64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> U64(27))
    h = h * U64(0x94D049BB133111EB)
    out: np.ndarray = h ^ (h >> U64(31))
    return out


#: Bytes hashed at a time by :func:`text_hashes` (a longer string alone is taken in such blocks):
#: its per-byte working arrays stay a few megabytes whatever the strings.
_TEXT_BYTES = 1 << 16
_TEXT_SEED = U64(0x2545F4914F6CDD1D)


#: Pseudo-random words for the bytes at the first 64 positions of a string (128 kB: a table
#: lookup per byte instead of a full mix, the table staying in cache).
_TEXT_TABLE = splitmix(np.arange(64 * 256, dtype=U64) + _TEXT_SEED)


def _byte_words(data: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The pseudo-random word of each (position in its string, byte) pair."""
    words: np.ndarray = _TEXT_TABLE[((position & 63) << 8) | data]
    later = position >= 64  # beyond the table: its word mixed with which 64-byte stretch
    if later.any():
        words[later] = splitmix(words[later] ^ ((position[later] >> 6).astype(U64) * _PRIME))
    return words


def text_hashes(values: pa.Array) -> np.ndarray:
    """One uint64 per string of a string array without nulls, from its UTF-8 bytes.

    Simple tabulation hashing: each (position, byte) pair of a string draws a pseudo-random word
    (SplitMix64 of the pair), the words of a string are folded with XOR and mixed with its length.
    Vectorised over the array's data buffer: no Python string is made (turning a chunk of unique
    strings into Python objects to hash them took most of a streaming pass, under the GIL).
    """
    n = len(values)
    large = pa.types.is_large_string(values.type)
    buffers = values.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[values.offset : values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    folded = np.zeros(n, dtype=U64)
    first = 0
    while first < n:
        # as many strings as fit in the byte block, and at least one
        last = max(first + 1, int(np.searchsorted(offsets, offsets[first] + _TEXT_BYTES, "right")) - 1)
        last = min(last, n)
        base, end = int(offsets[first]), int(offsets[last])
        if last == first + 1 and end - base > _TEXT_BYTES:  # one long string, block by block
            word = U64(0)
            for at in range(base, end, _TEXT_BYTES):
                stop = min(end, at + _TEXT_BYTES)
                position = np.arange(at - base, stop - base, dtype=np.int64)
                word ^= np.bitwise_xor.reduce(_byte_words(data[at:stop], position))
            folded[first] = word
        elif end > base:
            starts = offsets[first:last] - base
            sizes = lengths[first:last]
            position = np.arange(end - base, dtype=np.int64) - np.repeat(starts, sizes)
            words = _byte_words(data[base:end], position)
            filled = sizes > 0  # an empty string folds nothing (and reduceat cannot say so)
            heads: np.ndarray = starts[filled]
            folded[first:last][filled] = np.bitwise_xor.reduceat(words, heads)
        first = last
    out: np.ndarray = splitmix(folded ^ splitmix(lengths.astype(U64) + _TEXT_SEED))
    return out


def value_hashes(arr: pa.Array) -> np.ndarray:
    """One uint64 per row; missing values share one hash."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        # every row's bytes, even repeated ones: cheaper than finding the distinct values first
        # (the slots of missing rows hash to something, replaced below)
        hashed = text_hashes(arr)
    elif pa.types.is_boolean(t):
        hashed = splitmix(primitive(pc.fill_null(arr, False)).astype(U64) + U64(1))
    elif pa.types.is_floating(t):
        values = primitive(pc.fill_null(pc.cast(arr, pa.float64()), 0.0)) + 0.0  # -0.0 == 0.0
        hashed = splitmix(values.view(U64))
    elif pa.types.is_null(t):
        return np.full(len(arr), _NULL, dtype=U64)
    else:  # integers, timestamps, dates: their integer value
        values = primitive(pc.fill_null(pc.cast(arr, pa.int64()), 0))
        hashed = splitmix(values.view(U64) + U64(7))
    if arr.null_count:
        hashed = np.where(bool_mask(arr.is_null()), _NULL, hashed)
    return hashed


def combine(row: np.ndarray | None, column: np.ndarray) -> np.ndarray:
    """Fold a column's hashes into the running row hashes (order matters, as in a row)."""
    if row is None:
        return column.copy()
    return splitmix(row * _PRIME ^ column)


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

    def kept(self, hashes: np.ndarray) -> np.ndarray:
        """True for the hashes in the kept hash space (all of them at level 0)."""
        if self.level == 0:
            return np.ones(len(hashes), dtype=bool)
        out: np.ndarray = hashes >> U64(64 - self.level) == 0
        return out

    def update(self, hashes: np.ndarray) -> None:
        self.rows += len(hashes)
        if self.level:
            hashes = hashes[self.kept(hashes)]
        self._parts.append(np.sort(hashes))
        self._kept += len(hashes)
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
        for part in self._parts:
            found += np.searchsorted(part, hashes, "right") - np.searchsorted(part, hashes, "left")
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
