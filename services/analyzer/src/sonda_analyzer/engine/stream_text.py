"""Streaming accumulators of text and boolean columns (see :mod:`stream_columns`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import bool_array, char_lengths, filled_codes, single, valid_mask
from sonda_analyzer.engine.floats import fnum, pct
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.result import BooleanStats, ColumnProfile, TextStats, TopValue
from sonda_analyzer.engine.rowhash import text_hashes
from sonda_analyzer.engine.semantics import SemanticScan, mark_semantics, with_semantics
from sonda_analyzer.engine.sketches import ValueCounts
from sonda_analyzer.engine.stream_columns import Settings
from sonda_analyzer.engine.strings import (
    encode_by_hash,
    entropy_bits,
    mean_words,
    row_sample,
    semantic_hints,
    string_type,
    words_per_value,
)
from sonda_analyzer.engine.text_formats import (
    Detected,
    TextFormat,
    parsed_count,
    parsing_of,
    reported,
    share_hints,
)

#: A chunk is encoded from its hashes when the one before was at least this share distinct
#: values (a column of ids, e-mails, URLs): 118k UUIDs take 3-4 ms so against 9 ms for Arrow's
#: dictionary, and their hashes are the ones the distinct count needs anyway.
_HASHED_SHARE = 0.99


@dataclass(slots=True)
class StringAcc:
    name: str
    rows: int = 0
    missing: int = 0
    length_min: int | None = None
    length_max: int | None = None
    length_sum: int = 0
    words_sum: int = 0
    words_counted: bool = True
    counts: ValueCounts = field(default_factory=ValueCounts)
    hints: list[str] | None = None
    head_words: float = 0.0
    head_length: float = 0.0
    extra_hints: list[str] = field(default_factory=list)
    #: A format some values fit (dates, amounts): the share that parses is counted and reported.
    candidate: TextFormat | None = None
    parsed: int = 0
    scan: SemanticScan | None = None
    #: The share of the last chunk's present values that were distinct.
    distinct_share: float = 0.0
    #: The figures of the values counted exactly are in (see :meth:`_settle`).
    settled: bool = False

    def _hashed(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray] | None:
        """A chunk's distinct values, their counts and its present rows' hashes, from the hashes
        (see :func:`encode_by_hash`), while the chunks before were nearly all distinct values;
        None where the chunk repeats too much. The hashes then serve the distinct count too."""
        if self.distinct_share < _HASHED_SHARE:
            return None
        kept: list[np.ndarray] = []

        def hashes_of(present: pa.Array) -> np.ndarray:
            kept.append(text_hashes(present))
            return kept[0]

        encoded = encode_by_hash(arr, hashes_of)
        if encoded is None:
            return None
        return encoded.values, encoded.counts, kept[0]

    def update(
        self, arr: pa.Array, thresholds: AlertThresholds, encoded: pa.DictionaryArray | None = None
    ) -> None:
        """Take a chunk; ``encoded``: its dictionary encoding, when the caller has it."""
        arr = single(arr)
        self.rows += len(arr)
        self.missing += arr.null_count
        hashed = self._hashed(arr) if self.scan is not None else None
        hashes: np.ndarray | None = None
        if hashed is not None:
            dictionary, counts, hashes = hashed
            codes, valid = np.zeros(0, dtype=np.int64), None  # the first chunk alone needs them
        else:
            encoded = pc.dictionary_encode(arr) if encoded is None else encoded
            dictionary = encoded.dictionary
            indices = encoded.indices
            codes = filled_codes(indices, 0)
            valid = valid_mask(indices)
            counts = np.bincount(codes[valid] if valid is not None else codes, minlength=len(dictionary))
        present = len(arr) - arr.null_count
        self.distinct_share = len(dictionary) / present if present else 0.0
        if self.scan is None:
            sample = row_sample(dictionary, codes[valid] if valid is not None else codes)
            self.scan = SemanticScan(self.name)
            self.scan.choose_text_rules(sample)
            self.hints, _ = semantic_hints(sample, thresholds)
            ones = np.ones(len(sample), dtype=np.int64)
            self.head_words = mean_words(sample, ones)
            lengths = char_lengths(sample)
            self.head_length = float(lengths.mean()) if len(sample) else 0.0
            # Words are counted for text and categories only; a column of identifiers skips them.
            self.words_counted = self.head_words > 1.05 or len(dictionary) <= 0.95 * max(1, int(counts.sum()))
        if self.counts.exact:
            # The figures of each value (length, words, semantic type, format) are summed over
            # the values counted so far once, when the counts let them go (or at the end), rather
            # than over each chunk's: a column of 50,000 URLs took them 17 times over 0.5 GB.
            counted = self.counts.add_exact(dictionary, counts)
            if counted is not None:
                self._add_figures(*counted)
        else:
            self._add_figures(dictionary, counts)
            repeated = counts >= 2
            self.counts.add_sketch(
                dictionary.filter(bool_array(repeated)).to_pylist(),
                counts[repeated].tolist(),
                text_hashes(dictionary) if hashes is None else hashes,
            )

    def _add_figures(self, values: pa.Array, counts: np.ndarray) -> None:
        """Lengths, words, semantic types and the format's fit of ``values`` (distinct), each
        value counted ``counts`` times."""
        if not len(values):
            return
        lengths = char_lengths(values)
        lo, hi = int(lengths.min()), int(lengths.max())
        self.length_min = lo if self.length_min is None else min(self.length_min, lo)
        self.length_max = hi if self.length_max is None else max(self.length_max, hi)
        self.length_sum += int((lengths * counts).sum())
        assert self.scan is not None
        self.scan.add_text(values, counts, values)
        if self.words_counted:
            self.words_sum += int((words_per_value(values) * counts).sum())
        if self.candidate is not None:
            self.parsed += parsed_count(self.candidate, values, counts)

    def _settle(self) -> None:
        """The figures of the values still counted exactly, once (see :meth:`update`)."""
        if self.settled:
            return
        self.settled = True
        if self.counts.exact and self.counts.keys is not None and self.scan is not None:
            self._add_figures(self.counts.keys, self.counts.counts)

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]:
        self._settle()
        count = self.rows - self.missing
        distinct = self.counts.distinct()
        approx: set[str] = set()
        if not self.counts.exact:
            approx.update({"distinct", "top_values"})
        found = self.scan.found() if self.scan is not None else {}
        hints = with_semantics(list(dict.fromkeys([*self.extra_hints, *(self.hints or [])])), found)
        partial = None
        if self.candidate is not None and count:
            partial = reported(Detected(self.candidate, self.parsed / count), s.thresholds)
            if partial is not None:
                hints = share_hints(hints, partial.format, partial.share, s.thresholds)
        col_type = string_type(
            count, distinct, self.head_words, self.head_length, hints=hints, thresholds=s.thresholds
        )
        words_mean = self.words_sum / count if count and self.words_counted else None
        entropy = imbalance = None
        if self.counts.exact:
            entropy, imbalance = entropy_bits(self.counts.counts)
        text = TextStats(
            entropy=entropy,
            imbalance=imbalance,
            length_min=self.length_min,
            length_mean=fnum(self.length_sum / count) if count else None,
            length_max=self.length_max,
            words_mean=fnum(words_mean) if col_type in ("text", "categorical") else None,
        )
        tops = [TopValue(value=v, count=c, pct=pct(c, count)) for v, c in self.counts.top(s.top_k)]
        profile = ColumnProfile(
            name=self.name,
            type=col_type,
            dtype="string",
            semantic=hints,
            count=count,
            missing=self.missing,
            missing_pct=pct(self.missing, self.rows),
            distinct=distinct,
            distinct_pct=pct(distinct, count),
            unique=count > 0 and distinct >= count,
            memory_bytes=0,
            approximate=bool(approx),
            top_values=tops or None,
            text=text if count else None,
            parsing=parsing_of(partial.format, partial.share) if partial is not None else None,
        )
        mark_semantics(profile, found)
        return profile, approx


@dataclass(slots=True)
class BooleanAcc:
    name: str
    rows: int = 0
    trues: int = 0
    falses: int = 0

    def update(self, arr: pa.Array) -> None:
        self.rows += len(arr)
        t = int(pc.sum(arr).as_py() or 0)
        present = len(arr) - arr.null_count
        self.trues += t
        self.falses += present - t

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]:
        count = self.trues + self.falses
        missing = self.rows - count
        distinct = int(self.trues > 0) + int(self.falses > 0)
        tops = sorted([(True, self.trues), (False, self.falses)], key=lambda kv: -kv[1])
        profile = ColumnProfile(
            name=self.name, type="boolean", dtype="bool", semantic=[], count=count,
            missing=missing, missing_pct=pct(missing, self.rows), distinct=distinct,
            distinct_pct=pct(distinct, count), unique=count > 0 and distinct == count,
            memory_bytes=0, approximate=False,
            top_values=[TopValue(value=v, count=c, pct=pct(c, count)) for v, c in tops if c] or None,
            boolean=BooleanStats(true=self.trues, false=self.falses, missing=missing),
        )  # fmt: skip
        return profile, set()
