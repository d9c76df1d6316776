"""Profile one column of an in-memory table: pick the profiler by storage type."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from sonda_analyzer.engine.arrays import index_array
from sonda_analyzer.engine.booleans import profile_boolean, profile_empty
from sonda_analyzer.engine.coerce import coerce
from sonda_analyzer.engine.numeric import profile_numeric
from sonda_analyzer.engine.options import ColumnTypeName, ProfileOptions
from sonda_analyzer.engine.patterns import LOCALE_NUMBER, all_match, parse_locale_numbers
from sonda_analyzer.engine.strings import HINT_SAMPLE, encode, profile_strings
from sonda_analyzer.engine.temporal import profile_datetime
from sonda_analyzer.engine.work import ColumnWork


@dataclass(frozen=True, slots=True)
class ColumnContext:
    rows: int
    options: ProfileOptions
    decimal: str
    #: Delimited text: strings such as "1.234,56" are numbers in the file's locale, not text.
    locale_numbers: bool
    mixed: frozenset[str] = field(default_factory=frozenset)


def profile_column(name: str, arr: pa.ChunkedArray, ctx: ColumnContext) -> ColumnWork:
    options = ctx.options
    hints = ["mixed_types"] if name in ctx.mixed else []
    target: ColumnTypeName | None = options.column_types.get(name)
    forced = None
    if target is not None:
        coerced, forced, failed = coerce(arr, target, ctx.decimal)
        arr = pa.chunked_array([coerced])
        if failed:
            hints.append("coerced")
    t = arr.type
    if pa.types.is_null(t) or (arr.null_count == len(arr) and forced is None):
        return profile_empty(name, arr, ctx.rows)
    if pa.types.is_boolean(t):
        return profile_boolean(name, arr, ctx.rows)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        work = profile_numeric(name, arr, ctx.rows, options.histogram_bins, hints)
        if forced is not None and forced != work.profile.type:
            work.profile.type = forced
        return work
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return profile_datetime(name, arr, ctx.rows, options.histogram_bins)
    encoded = encode(arr)
    if ctx.locale_numbers and forced is None and _locale_numeric(encoded.values, ctx.decimal):
        parsed = parse_locale_numbers(encoded.values, ctx.decimal)
        numbers = pa.concat_arrays([parsed, pa.nulls(1, parsed.type)]).take(index_array(encoded.codes))
        work = profile_numeric(
            name, pa.chunked_array([numbers]), ctx.rows, options.histogram_bins, ["locale_number"]
        )
        work.profile.memory_bytes = int(arr.nbytes)
        return work
    return profile_strings(
        name,
        arr,
        ctx.rows,
        top_k=options.top_values,
        thresholds=options.thresholds,
        extra_hints=hints,
        encoded=encoded,
        forced=forced,
    )


def _locale_numeric(values: pa.Array, decimal: str) -> bool:
    """Every distinct value is a number written with thousands separators or the decimal mark."""
    pattern = LOCALE_NUMBER[decimal]
    return all_match(values[:HINT_SAMPLE], pattern) and all_match(values, pattern)
