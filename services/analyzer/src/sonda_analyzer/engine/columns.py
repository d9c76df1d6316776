"""Profile one column of an in-memory table: pick the profiler by storage type."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.arrays import index_array, primitive, spread_rows, take_sorted
from sonda_analyzer.engine.booleans import profile_boolean, profile_empty
from sonda_analyzer.engine.coerce import coerce
from sonda_analyzer.engine.numeric import profile_numeric
from sonda_analyzer.engine.options import ColumnTypeName, ProfileOptions
from sonda_analyzer.engine.semantics import with_semantics
from sonda_analyzer.engine.strings import (
    HINT_SAMPLE,
    MAX_CATEGORIES_FOR_ASSOCIATION,
    Encoded,
    encode,
    profile_strings,
)
from sonda_analyzer.engine.temporal import profile_datetime
from sonda_analyzer.engine.text_formats import (
    TextFormat,
    converts,
    detect,
    parse,
    parsing_of,
    reported,
    share_hints,
)
from sonda_analyzer.engine.work import ColumnWork


@dataclass(frozen=True, slots=True)
class ColumnContext:
    rows: int
    options: ProfileOptions
    decimal: str
    #: Kinds of values read from text columns whose every value is one (see ``ReadInfo.text_kinds``).
    text_kinds: frozenset[str]
    mixed: frozenset[str] = field(default_factory=frozenset)
    #: Numeric columns sort for Spearman as they are profiled (every one of them is ranked).
    rank_numbers: bool = False


def profile_column(name: str, arr: pa.ChunkedArray, ctx: ColumnContext) -> ColumnWork:
    options = ctx.options
    hints = ["mixed_types"] if name in ctx.mixed else []
    target: ColumnTypeName | None = options.column_types.get(name)
    forced = None
    if target is not None:
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        coerced, forced, failed = coerce(arr, target, ctx.decimal)
        arr = pa.chunked_array([coerced])
        if failed:
            hints.append("coerced")
    t = arr.type
    if pa.types.is_null(t) or (arr.null_count == len(arr) and forced is None):
        return profile_empty(name, arr, ctx.rows)
    if pa.types.is_boolean(t):
        return _hinted(profile_boolean(name, arr, ctx.rows), hints)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        work = profile_numeric(name, arr, ctx.rows, options.histogram_bins, hints, rank=ctx.rank_numbers)
        if forced is not None and forced != work.profile.type:
            work.profile.type = forced
        return work
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return _hinted(profile_datetime(name, arr, ctx.rows, options.histogram_bins), hints)
    encoded = encode(arr)
    detected = None
    if ctx.text_kinds and forced is None:
        detected = detect(encoded.values, encoded.counts, ctx.decimal, ctx.text_kinds)
        if converts(detected):
            assert detected is not None
            return _profile_parsed(name, arr, encoded, detected.format, ctx)
    work = profile_strings(
        name,
        arr,
        ctx.rows,
        top_k=options.top_values,
        thresholds=options.thresholds,
        extra_hints=hints,
        encoded=encoded,
        forced=forced,
    )
    partial = reported(detected, options.thresholds)
    if partial is not None:
        profile = work.profile
        # A semantic type found (a phone, a CPF) explains values that also read as numbers.
        shared = share_hints(profile.semantic, partial.format, partial.share, options.thresholds)
        profile.semantic = with_semantics(shared, profile.semantic_validity)
        profile.parsing = parsing_of(partial.format, partial.share)
    return work


def may_correlate(name: str, arr: pa.ChunkedArray, ctx: ColumnContext) -> bool:
    """Whether a text column could enter the correlations once profiled: as the number, date or
    yes/no its values could all be read as, or as a category with few enough values.

    Told from up to ``HINT_SAMPLE`` rows spread through it: when the sample alone has more
    distinct values than a category may, and some of them fit none of the formats the column
    could be read as, the whole column has and does too (False). Otherwise, or for a column of
    a type forced by the options, it may (True).
    """
    if ctx.options.column_types.get(name) is not None:
        return True
    counted = pc.value_counts(take_sorted(arr, spread_rows(len(arr), HINT_SAMPLE)).drop_null())
    values, counts = counted.field("values"), primitive(counted.field("counts")).astype(np.int64)
    if len(values) <= MAX_CATEGORIES_FOR_ASSOCIATION:
        return True
    return bool(ctx.text_kinds) and converts(detect(values, counts, ctx.decimal, ctx.text_kinds))


def _hinted(work: ColumnWork, hints: list[str]) -> ColumnWork:
    work.profile.semantic = list(dict.fromkeys([*hints, *work.profile.semantic]))
    return work


def _profile_parsed(
    name: str, arr: pa.ChunkedArray, encoded: Encoded, fmt: TextFormat, ctx: ColumnContext
) -> ColumnWork:
    """A text column every value of which fits ``fmt``, profiled as the type it holds."""
    parsed = parse(fmt, encoded.values)
    column = pa.chunked_array(
        [pa.concat_arrays([parsed, pa.nulls(1, parsed.type)]).take(index_array(encoded.codes))]
    )
    options = ctx.options
    if fmt.kind == "number":
        work = profile_numeric(name, column, ctx.rows, options.histogram_bins, ["locale_number"])
    elif fmt.kind == "datetime":
        work = profile_datetime(name, column, ctx.rows, options.histogram_bins)
    else:
        work = profile_boolean(name, column, ctx.rows)
    work.profile.memory_bytes = int(arr.nbytes)
    work.profile.parsing = parsing_of(fmt, 1.0)
    return work
