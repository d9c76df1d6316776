"""Categorical, text and identifier columns: one dictionary encoding serves every figure.

Encoding the column once gives the distinct values and their counts; lengths, words, hints and top
values are then computed on the distinct values weighted by their counts, which is far less work
than touching every row again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import (
    bool_array,
    char_lengths,
    distinct_ascending,
    filled_codes,
    index_array,
    primitive,
    single,
    spread_rows,
    string_offsets,
    take_sorted,
    valid_mask,
)
from sonda_analyzer.engine.floats import fnum, pct
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.patterns import DATE, NUMBER, weighted_share
from sonda_analyzer.engine.result import ColumnProfile, ColumnType, TextStats, TopValue
from sonda_analyzer.engine.rowhash import U64, word_hashes
from sonda_analyzer.engine.semantics import IDENTIFYING, SemanticScan, mark_semantics, with_semantics
from sonda_analyzer.engine.work import ColumnWork, narrow, narrowest

#: Hints and the type look at this many rows, evenly spread over the column.
HINT_SAMPLE = 20_000
#: Cramér's V needs a contingency table; beyond this many categories it says little and costs much.
MAX_CATEGORIES_FOR_ASSOCIATION = 100


@dataclass(slots=True)
class Encoded:
    """A string column as distinct values, their counts, and a code per row."""

    values: pa.Array  # distinct non-null values
    counts: np.ndarray  # occurrences of each value
    codes: np.ndarray  # per row: index into ``values``; missing rows get ``len(values)``
    missing: int


def _addresses(arr: pa.Array) -> list[int | None]:
    return [b.address if b is not None else None for b in arr.buffers()]


def _dictionary_codes(arr: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The distinct values (null among them when present) and each row's index into them.

    A column read in blocks is encoded chunk by chunk: Arrow keeps one memo table across the
    chunks, so every chunk ends up with the same dictionary, and the column is never joined into
    one copy first (for a column of unique strings that copy is as large as the column).
    """
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks > 1:
        chunks = pc.dictionary_encode(arr, null_encoding="encode").chunks
        dictionary = chunks[-1].dictionary
        address = _addresses(dictionary)
        shared = all(
            len(c.dictionary) == len(dictionary) and _addresses(c.dictionary) == address for c in chunks
        )
        if shared:
            codes = np.concatenate([primitive(c.indices) for c in chunks]).astype(np.int64)
            return dictionary, codes
    encoded = pc.dictionary_encode(single(arr), null_encoding="encode")
    return encoded.dictionary, primitive(encoded.indices).astype(np.int64)


#: A text column this large whose sampled values are nearly all distinct is grouped by hashes.
HASHED_BYTES = 1 << 20
#: ... when at least this share of the sampled values are distinct, and at most this share of its
#: present rows turn out to share a hash with another row.
_HASHED_SAMPLE_DISTINCT = 0.99
_HASHED_MAX_REPEATED = 0.1


def _looks_unique(arr: pa.ChunkedArray | pa.Array) -> bool:
    """Whether the column's values are nearly all distinct, judged from up to ``HINT_SAMPLE``
    rows evenly spread through it (a few ms for a column of 1M strings)."""
    n = len(arr)
    if arr.nbytes < HASHED_BYTES or n < 2:
        return False
    sample = take_sorted(arr, spread_rows(n, HINT_SAMPLE)).drop_null()
    return len(sample) > 0 and pc.count_distinct(sample).as_py() >= _HASHED_SAMPLE_DISTINCT * len(sample)


def encode_by_hash(
    arr: pa.ChunkedArray | pa.Array, hashes_of: Callable[[pa.Array], np.ndarray] = word_hashes
) -> Encoded | None:
    """The encoding of a column of (nearly) unique strings from a hash per row, with the same
    values in the same order (first appearance) as Arrow's dictionary; None where the column
    turns out to repeat too many values, or two different strings share a hash.

    Arrow's dictionary takes 0.25-0.45 s for 1M unique strings (a hash table of them all, and a
    copy). Here: a hash per row and one sort of the hashes. Rows whose hash no other row has hold
    a value no other row has, so only the few rows with a shared hash are grouped, and their
    strings are compared with their group's first one: the result is exact.
    """
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    column = single(arr)
    valid = valid_mask(column)
    present = column if valid is None else column.filter(bool_array(valid))
    hashes = hashes_of(present)
    n = len(present)
    rows, group = _sharing_a_hash(hashes)
    if rows is None:
        return None  # too many repeats: a dictionary is the better tool
    first = None  # per present row: whether it is the first with its value (None: all are)
    codes = np.arange(n, dtype=np.int64)
    counts = np.ones(n, dtype=np.int64)
    if len(rows):
        by_group = np.argsort(group, kind="stable")  # rows ascending within each group
        starts = np.flatnonzero(np.diff(group[by_group], prepend=-1))
        leaders = rows[by_group[starts]]  # the first row of each group
        leader = np.zeros(int(group.max()) + 1, dtype=np.int64)
        leader[group[by_group[starts]]] = leaders
        same = pc.equal(present.take(index_array(rows)), present.take(index_array(leader[group])))
        if not pc.all(same).as_py():
            return None  # two different strings with one hash: Arrow's dictionary decides
        first = np.ones(n, dtype=bool)
        first[rows] = False
        first[leaders] = True
        codes = np.cumsum(first, dtype=np.int64) - 1
        codes[rows] = codes[leader[group]]
        counts = np.ones(int(np.count_nonzero(first)), dtype=np.int64)
        counts[codes[leaders]] = np.diff(np.append(starts, len(rows)))
    values = present if first is None else present.filter(bool_array(first))
    distinct = len(values)
    if valid is not None:
        everything = np.full(len(column), distinct, dtype=np.int64)
        everything[valid] = codes
        codes = everything
    return Encoded(values=values, counts=counts, codes=codes, missing=len(column) - n)


def _sharing_a_hash(hashes: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The rows (ascending) whose hash another row has too, and a label per row for its hash;
    None when more than ``_HASHED_MAX_REPEATED`` of the rows would be among them.

    The hashes' upper halves are sorted first (a sort of 32-bit keys takes half the time of
    64-bit ones): the rows whose upper half repeats are few, and among them the whole hashes
    tell the rows that truly share one.
    """
    empty = np.zeros(0, dtype=np.int64)
    upper = (hashes >> U64(32)).astype(np.uint32)
    ordered = np.sort(upper)
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    if len(again) > _HASHED_MAX_REPEATED * len(hashes):
        return None, empty
    if not len(again):
        return empty, empty
    repeated = distinct_ascending(again)  # ``again`` came from a sorted array
    # A bitmap of the repeated upper halves' low bits spares most rows the search among them.
    bits = np.uint32((1 << 20) - 1)
    seen = np.zeros(1 << 20, dtype=bool)
    seen[(repeated & bits).astype(np.intp)] = True
    maybe = np.flatnonzero(seen[(upper & bits).astype(np.intp)])
    at = np.minimum(np.searchsorted(repeated, upper[maybe]), len(repeated) - 1)
    candidates = maybe[repeated[at] == upper[maybe]]
    _, label, size = np.unique(hashes[candidates], return_inverse=True, return_counts=True)
    shared = size[label] > 1
    return candidates[shared], label[shared].astype(np.int64)


def encode(arr: pa.ChunkedArray | pa.Array) -> Encoded:
    """The column's distinct values (first appearance first), their counts and each row's code."""
    if pa.types.is_dictionary(arr.type):
        return encode_dictionary(arr)
    if _looks_unique(arr):
        hashed = encode_by_hash(arr)
        if hashed is not None:
            return hashed
    return encode_by_dictionary(arr)


def encode_by_dictionary(arr: pa.ChunkedArray | pa.Array) -> Encoded:
    """:func:`encode` by Arrow's dictionary encoding (any column)."""
    dictionary, codes = _dictionary_codes(arr)
    counts = np.bincount(codes, minlength=len(dictionary))
    present = valid_mask(dictionary)
    valid = present if present is not None else np.ones(len(dictionary), dtype=bool)
    missing = int(counts[~valid].sum())
    if not valid.all():
        # Renumber so that codes index the non-null values and missing rows come last.
        remap = np.empty(len(dictionary), dtype=np.int64)
        n_valid = int(valid.sum())
        remap[valid] = np.arange(n_valid)
        remap[~valid] = n_valid
        codes = remap[codes]
        dictionary = dictionary.filter(bool_array(valid))
    return Encoded(values=dictionary, counts=counts[valid], codes=codes, missing=missing)


def encode_dictionary(arr: pa.ChunkedArray | pa.Array) -> Encoded:
    """:func:`encode` of a column already held as a dictionary (text of few distinct values, as
    the CSV reader keeps it, or a Parquet dictionary): its indices are the codes once the chunks
    share one dictionary, where encoding its text again took 20 ms per 1M rows.

    A dictionary may list values in any order, hold values no row uses, and nulls: the values are
    put in first-appearance order with only the used ones, as :func:`encode_by_dictionary` gives
    them. The CSV reader's dictionaries (each chunk's in the order its values appear, joined in
    chunk order) already are, which one pass over the codes confirms."""
    chunked = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    if chunked.num_chunks == 0:
        chunked = pa.chunked_array([pa.array([], type=arr.type)])
    try:
        unified = chunked.unify_dictionaries()
    except pa.ArrowInvalid:  # Arrow does not unify dictionaries that hold nulls: encode the text
        return encode_by_dictionary(chunked.cast(chunked.type.value_type))
    dictionary = unified.chunk(0).dictionary.cast(pa.string())
    k = len(dictionary)
    # In the narrowest integers that hold every code and the missing rows' ``k``: the passes
    # below read a byte per row for a column of up to 127 values where int64 codes took eight,
    # and the codes kept for duplicates and associations are already narrow (the 1M-row file's
    # five category columns, with the row sample's pass below: 9-16 ms each against 17-23 ms).
    codes = np.concatenate([filled_codes(c.indices, k, narrowest(k + 1)) for c in unified.chunks])
    entry_valid = valid_mask(dictionary)
    if entry_valid is not None:  # null entries: their rows are missing
        codes = np.append(np.where(entry_valid, np.arange(k), k), k)[codes]
    # Without null rows or entries every row is present: no pass over the codes picks them out.
    present = codes[codes < k] if chunked.null_count or entry_valid is not None else codes
    ahead = np.maximum.accumulate(present) if len(present) else present
    in_order = len(present) == 0 or (present[0] == 0 and bool((present[1:] <= ahead[:-1] + 1).all()))
    if in_order:
        used = int(ahead[-1]) + 1 if len(present) else 0
        values = dictionary.slice(0, used)
        if used < k:
            codes = np.where(codes == k, used, codes)  # missing rows take the last code
    else:
        # the first row of each value used, and the values in the order of those rows
        firsts, first_rows = np.unique(present, return_index=True)
        by_appearance = firsts[np.argsort(first_rows, kind="stable")]
        used = len(by_appearance)
        remap = np.full(k + 1, used, dtype=np.int64)  # unused values and missing rows: none of them
        remap[by_appearance] = np.arange(used)
        codes = remap[codes]
        values = dictionary.take(index_array(by_appearance))
    counts = np.bincount(codes, minlength=used + 1)[:used].astype(np.int64)
    return Encoded(values=values, counts=counts, codes=codes, missing=len(codes) - len(present))


def top_values(values: pa.Array, counts: np.ndarray, k: int, total: int) -> list[TopValue]:
    """The ``k`` most frequent values; ties keep the order of first appearance."""
    if len(counts) == 0:
        return []
    k = min(k, len(counts))
    if k < len(counts):
        # The values above the k-th count, then the first ones met of those at it: the pick among
        # ties is the first appearance too (a column of unique ids shows its first rows).
        kth = -np.partition(-counts, k - 1)[k - 1]
        above = np.flatnonzero(counts > kth)
        idx = np.concatenate((above, np.flatnonzero(counts == kth)[: k - len(above)]))
    else:
        idx = np.arange(len(counts))
    idx = idx[np.lexsort((idx, -counts[idx]))]
    picked = values.take(index_array(idx)).to_pylist()
    return [
        TopValue(value=v, count=int(counts[i]), pct=pct(int(counts[i]), total))
        for v, i in zip(picked, idx, strict=True)
    ]


def entropy_bits(counts: np.ndarray) -> tuple[float | None, float | None]:
    """Shannon entropy (bits) of the value distribution and imbalance = 1 - H / log2(k)."""
    total = counts.sum()
    if total == 0:
        return None, None
    k = int(np.count_nonzero(counts))
    if len(counts) and counts.dtype.kind in "iu" and int(counts.max()) <= 4 * len(counts):
        # The terms of equal counts are equal: summed per count, a logarithm per different count
        # (a column of 1M mostly unique values: 1-2 ms, where a logarithm per value took 12 ms).
        times = np.bincount(counts)
        seen = np.flatnonzero(times[1:]) + 1
        p = seen / total
        entropy = float(-(times[seen] * p * np.log2(p)).sum())
    else:
        p = counts[counts > 0] / total
        entropy = float(-(p * np.log2(p)).sum())
    imbalance = 1.0 - entropy / np.log2(k) if k > 1 else 0.0
    return fnum(entropy), fnum(max(0.0, imbalance))


#: Values whose words are counted at a time: their bytes' working arrays (a few hundred KB for
#: short text) stay on the heap and in cache; made whole, two copies of a column's bytes were
#: mapped and faulted in afresh (0.18 s for 531,508 values in a profile, against 0.07 s alone).
_WORDS_SLICE = 1 << 14


def _ascii_words(values: pa.Array) -> np.ndarray | None:
    """Runs of non-blank characters in each value of an ASCII string array without nulls, from
    its bytes: a word starts at a non-blank byte that begins its value or follows a blank one
    (Arrow's split builds a list of every word: 110-120 ms for 500,000 to 1M short values).
    None when the array has nulls or non-ASCII text.

    The blanks are told by two comparisons (the ASCII white space is 9-13 and 28-32), and the
    words of a value are the word starts summed over its bytes: a look-up table and a search
    of the starts took twice as long as a running count, which took twice as long again."""
    if not pa.types.is_string(values.type) or values.null_count or len(values) == 0:
        return None
    data = values.buffers()[2]
    offsets = string_offsets(values)
    words = np.zeros(len(values), dtype=np.int64)
    if data is None or offsets[-1] == offsets[0]:
        return words
    text = np.frombuffer(data, dtype=np.uint8)
    for at in range(0, len(values), _WORDS_SLICE):
        bounds = offsets[at : at + _WORDS_SLICE + 1].astype(np.int64)
        first = int(bounds[0])
        part = text[first : int(bounds[-1])]
        if part.size and int(part.max()) >= 0x80:
            return None  # not ASCII: a blank may take several bytes
        blank = (part - np.uint8(9) < 5) | (part - np.uint8(28) < 5)
        begins = ~blank
        begins[1:] &= blank[:-1]
        bounds -= first
        nonempty = np.diff(bounds) > 0
        filled = bounds[:-1][nonempty]
        begins[filled] = ~blank[filled]  # a value's first byte follows no byte of it
        # The words of each value are the word starts among its bytes: summed from each filled
        # value's first byte to the next one's (the empty values between have no bytes), in one
        # pass where a running count and its differences took two (61 ms against 37 ms for the
        # 1M-row file's comments).
        if len(filled):
            counts = words[at : at + len(bounds) - 1]
            counts[nonempty] = np.add.reduceat(begins, filled, dtype=np.int64)
    return words


def words_per_value(values: pa.Array) -> np.ndarray:
    """Runs of non-blank characters in each value."""
    words = _ascii_words(values)
    if words is not None:
        return words
    trimmed = pc.utf8_trim_whitespace(values)
    words = primitive(pc.list_value_length(pc.utf8_split_whitespace(trimmed)))
    return np.where(primitive(pc.binary_length(trimmed)) == 0, 0, words)


def mean_words(values: pa.Array, counts: np.ndarray) -> float:
    total = counts.sum()
    return float((words_per_value(values) * counts).sum()) / float(total) if total else 0.0


def text_figures(values: pa.Array, counts: np.ndarray, *, with_words: bool) -> TextStats:
    """Length (and, for text and categories, word) figures weighted by counts."""
    total = int(counts.sum())
    entropy, imbalance = entropy_bits(counts)
    if total == 0:
        return TextStats(entropy=None, imbalance=None, length_min=None, length_mean=None,
                         length_max=None, words_mean=None)  # fmt: skip
    lengths = char_lengths(values)
    return TextStats(
        entropy=entropy,
        imbalance=imbalance,
        length_min=int(lengths.min()),
        length_mean=fnum(float((lengths * counts).sum()) / total),
        length_max=int(lengths.max()),
        words_mean=fnum(mean_words(values, counts)) if with_words else None,
    )


def row_sample(
    values: pa.Array, codes: np.ndarray, size: int = HINT_SAMPLE, *, missing: int | None = None
) -> pa.Array:
    """The values of up to ``size`` present rows, evenly spaced through the column.

    Rows, not distinct values: the first distinct values met are the frequent ones, so a sample
    of them would misjudge, say, the typical number of words. ``missing``: the column's missing
    rows, when known (none: every row is present, and no pass over the codes picks them out).
    """
    present = codes if missing == 0 else codes[codes < len(values)]
    if len(present) > size:
        present = present[np.linspace(0, len(present) - 1, size).astype(np.int64)]
    return values.take(index_array(present))


def semantic_hints(sample: pa.Array, thresholds: AlertThresholds) -> tuple[list[str], dict[str, float]]:
    """Hints from a sample of rows: numbers or dates stored as text (semantic types: :mod:`semantics`)."""
    weights = np.ones(len(sample), dtype=np.int64)
    hints: list[str] = []
    shares: dict[str, float] = {}
    number = weighted_share(sample, weights, NUMBER)
    date = weighted_share(sample, weights, DATE) if number < thresholds.as_text_pct else 0.0
    shares["number"], shares["date"] = number, date
    if number >= thresholds.as_text_pct:
        hints.append("numeric_as_text")
    elif date >= thresholds.as_text_pct:
        hints.append("date_as_text")
    elif max(number, date) >= thresholds.mixed_types_pct:
        hints.append("mixed_types")
    return hints, shares


def string_type(
    count: int, distinct: int, words_mean: float, length_mean: float, *, hints: list[str],
    thresholds: AlertThresholds,
) -> ColumnType:  # fmt: skip
    if count == 0:
        return "empty"
    if not IDENTIFYING.isdisjoint(hints) and distinct > thresholds.high_cardinality:
        return "identifier"
    if distinct <= thresholds.high_cardinality:
        return "categorical"
    if distinct >= 0.95 * count and words_mean <= 1.05:
        return "identifier"
    if words_mean >= 3 or length_mean >= 50:
        return "text"
    return "categorical"


def profile_strings(
    name: str,
    arr: pa.ChunkedArray,
    rows: int,
    *,
    top_k: int,
    thresholds: AlertThresholds,
    extra_hints: list[str],
    encoded: Encoded | None = None,
    forced: ColumnType | None = None,
) -> ColumnWork:
    enc = encoded or encode(arr)
    count = int(enc.counts.sum())
    distinct = len(enc.values)
    sample = row_sample(enc.values, enc.codes, missing=enc.missing)
    hints, _ = semantic_hints(sample, thresholds)
    scan = SemanticScan(name)
    scan.add_text(enc.values, enc.counts, sample)
    found = scan.found()
    hints = with_semantics(list(dict.fromkeys([*extra_hints, *hints])), found)
    # The type needs typical words and lengths: a sample of rows tells them well enough.
    ones = np.ones(len(sample), dtype=np.int64)
    length = float(char_lengths(sample).mean()) if len(sample) else 0.0
    col_type = forced or string_type(
        count, distinct, mean_words(sample, ones), length, hints=hints, thresholds=thresholds
    )
    text = text_figures(enc.values, enc.counts, with_words=col_type in ("text", "categorical"))
    profile = ColumnProfile(
        name=name,
        type=col_type,
        dtype="string",
        semantic=hints,
        count=count,
        missing=rows - count,
        missing_pct=pct(rows - count, rows),
        distinct=distinct,
        distinct_pct=pct(distinct, count),
        unique=count > 0 and distinct == count,
        memory_bytes=int(arr.nbytes),
        approximate=False,
        top_values=top_values(enc.values, enc.counts, top_k, count) if count else None,
        text=text if count else None,
    )
    mark_semantics(profile, found)
    # Kept until duplicates and associations are done, for every text column at once, in the
    # narrowest integers that hold them, and handed out as they are.
    cardinality = distinct + 1
    kept = narrow(enc.codes, cardinality)
    # Every value of a duplicated row occurs in two rows at least, so only such values are kept
    # for listing those rows: for a column of unique strings that is none of them, instead of a
    # dictionary as large as the column held to the end.
    repeated = np.flatnonzero(enc.counts >= 2)
    repeated_values = enc.values.take(index_array(repeated))

    def take(rows: np.ndarray) -> pa.Array:
        if len(repeated) == 0:
            return pa.nulls(len(rows), repeated_values.type)
        picked = kept[rows].astype(np.int64)
        at = np.minimum(np.searchsorted(repeated, picked), len(repeated) - 1)
        # missing rows (code ``distinct``) are not among the repeated values, so they come out null
        return repeated_values.take(index_array(at, missing=repeated[at] != picked))

    return ColumnWork(
        profile=profile,
        codes=lambda: (kept, cardinality),
        take=take,
        categorical=col_type == "categorical" and 2 <= distinct <= MAX_CATEGORIES_FOR_ASSOCIATION,
    )
