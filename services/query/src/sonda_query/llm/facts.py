"""Facts for the LLM summary, read tolerantly from a result object (any field may be missing).

The result schema belongs to the analyzer (docs/result-schema.md); this module reads it as plain
JSON so an older or newer result still gives a summary. Shares are computed from counts where the
counts are there, because results have carried both 0–1 fractions and 0–100 percentages.

Personal data is decided here, once for every renderer: a column flagged ``pii`` gives its values
(top values, samples, extremes) only through ``sonda_events.privacy.mask`` unless ``include_pii``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import msgspec
from sonda_events.privacy import mask

from sonda_query.llm.numbers import is_number, number, parse_locale, plain
from sonda_query.llm.quoting import NAME_CHARS, VALUE_CHARS, clip, word

__all__ = ["NAME_CHARS", "SEVERITY_RANK", "VALUE_CHARS", "clip", "number"]

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
#: A text column with at least this share of distinct values (and enough rows) names rows, not groups.
IDENTIFIER_DISTINCT = 0.95
IDENTIFIER_MIN_COUNT = 20
#: Semantic hints that are a value's pattern by themselves.
PATTERN_SEMANTICS = ("uuid", "email", "url", "cpf", "cnpj", "cep", "phone", "ip", "credit_card", "uf")
#: Alert types whose value is a 0–1 share (shown as a percentage).
SHARE_ALERTS = frozenset({"missing", "unique", "zeros"})
TOP = 3
SAMPLES = 3
#: A sample is one value, shown whole (a summary figure is rounded to ``numbers.DIGITS``).
SAMPLE_DIGITS = 10

#: A value from the file (a string is data and is quoted when shown) or a figure.
Value = str | int | float | bool


class Top(msgspec.Struct, frozen=True):
    value: Value
    pct: float | None


class Alert(msgspec.Struct, kw_only=True, frozen=True):
    severity: str
    type: str
    column: str | None
    #: The second column of a pair alert (high correlation).
    other: str | None
    value: float | None
    #: True when ``value`` is a 0–1 share.
    share: bool
    index: int


class Column(msgspec.Struct, kw_only=True, frozen=True):
    """One column's facts. ``minimum``/``mean``/``maximum`` are strings only when masked."""

    index: int
    name: str
    type: str
    semantic: tuple[str, ...] = ()
    pii: bool = False
    #: Its values are shown masked (``pii`` and the caller did not ask for them).
    masked: bool = False
    missing_pct: float | None = None
    distinct: int | None = None
    distinct_pct: float | None = None
    unique: bool = False
    approximate: bool = False
    identifier: bool = False
    minimum: Value | None = None
    mean: Value | None = None
    maximum: Value | None = None
    #: Datetime range (ISO strings from the analyzer).
    start: str | None = None
    end: str | None = None
    top: tuple[Top, ...] = ()
    pattern: str | None = None
    #: Whether ``pattern`` is a semantic type's name (else it is the values' shape, which is data).
    pattern_is_semantic: bool = False
    length_mean: float | None = None
    #: Further figures, (label, value), shown after every column's core facts.
    extra: tuple[tuple[str, Value], ...] = ()
    more_top: tuple[Top, ...] = ()
    samples: tuple[Value, ...] = ()

    @property
    def has_detail(self) -> bool:
        return bool(self.extra or self.more_top or self.samples)


def percent(part: Any, whole: Any) -> float | None:
    if is_number(part) and is_number(whole) and whole > 0:
        return 100.0 * float(part) / float(whole)
    return None


def share(value: Any) -> float | None:
    """A share given without counts: 0–1 fractions become percentages."""
    if not is_number(value):
        return None
    return float(value) * 100.0 if 0 <= value <= 1 else float(value)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def finite(value: Any) -> float | int | None:
    if is_number(value) and math.isfinite(value):
        return int(value) if isinstance(value, int) else float(value)
    return None


def masked_value(value: Any) -> str:
    """``privacy.mask`` of a value as the summary writes it (a float's ".0" tail is no part of it)."""
    return mask(plain(value)) if is_number(value) else mask(value)


def dataset_facts(result: dict[str, Any]) -> dict[str, Any]:
    dataset = as_dict(result.get("dataset"))
    rows = dataset.get("rows")
    columns = dataset.get("columns", len(as_list(result.get("columns"))))
    cells = rows * columns if isinstance(rows, int) and isinstance(columns, int) else None
    facts: dict[str, Any] = {
        "rows": rows,
        "columns": columns,
        "format": word(dataset["format"]) if dataset.get("format") is not None else None,
        "file_size": dataset.get("file_size"),
        "encoding": dataset.get("encoding"),
        "delimiter": dataset.get("delimiter"),
        "decimal": dataset.get("decimal"),
        "sheet": dataset.get("sheet"),
        "missing_cells_pct": percent(dataset.get("missing_cells"), cells),
        "duplicate_rows": dataset.get("duplicate_rows"),
        "duplicate_rows_pct": percent(dataset.get("duplicate_rows"), rows),
        "column_types": _type_counts(result),
        "approximate": bool(dataset.get("approximate")),
        "truncated": bool(dataset.get("truncated")),
    }
    return {k: v for k, v in facts.items() if v is not None and v is not False}


def _type_counts(result: dict[str, Any]) -> dict[str, int] | None:
    """How many columns of each type (most common first): the shape of what may be left out."""
    counts: dict[str, int] = {}
    for raw in as_list(result.get("columns")):
        kind = word(as_dict(raw).get("type", "unknown"))
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))) or None


def alerts(result: dict[str, Any]) -> list[Alert]:
    """Alerts ranked by severity, then grouped by type, then in result order (deterministic)."""
    found = []
    for index, raw in enumerate(as_list(result.get("alerts"))):
        item = as_dict(raw)
        severity = str(item.get("severity", "info"))
        kind = word(item.get("type", "alert"))
        column = item.get("column")
        pair = [str(c) for c in as_list(item.get("columns"))]
        other = pair[1] if len(pair) == 2 and column is not None and pair[0] == str(column) else None
        value = finite(item.get("value"))
        found.append(
            Alert(
                severity=severity if severity in SEVERITY_RANK else "info",
                type=kind,
                column=clip(str(column), NAME_CHARS) if column is not None else None,
                other=clip(other, NAME_CHARS) if other is not None else None,
                value=float(value) if value is not None else None,
                share=kind in SHARE_ALERTS and value is not None and 0 <= value <= 1,
                index=index,
            )
        )
    # Alerts of one severity and type stay together (one line each), in order of first appearance.
    first: dict[tuple[str, str], int] = {}
    for alert in found:
        first.setdefault((alert.severity, alert.type), alert.index)
    return sorted(found, key=lambda a: (SEVERITY_RANK[a.severity], first[(a.severity, a.type)], a.index))


def columns(result: dict[str, Any], *, include_pii: bool = False) -> list[Column]:
    dataset = as_dict(result.get("dataset"))
    rows = dataset.get("rows")
    decimal = dataset.get("decimal") if isinstance(dataset.get("decimal"), str) else None
    samples = _samples(as_dict(result.get("sample")))
    found = []
    for index, raw in enumerate(as_list(result.get("columns"))):
        profile = as_dict(raw)
        name = str(profile.get("name", f"column {index + 1}"))
        found.append(
            _column(
                index,
                name,
                profile,
                rows=rows,
                samples=samples.get(name, []),
                decimal=decimal,
                include_pii=include_pii,
            )
        )
    return found


def _column(
    index: int,
    name: str,
    profile: dict[str, Any],
    *,
    rows: Any,
    samples: list[Any],
    decimal: str | None,
    include_pii: bool,
) -> Column:
    kind = word(profile.get("type", "unknown"))
    semantic = tuple(word(s) for s in as_list(profile.get("semantic")))
    pii = profile.get("pii") is True
    masked = pii and not include_pii
    missing = percent(profile.get("missing"), rows)
    count = profile.get("count") if is_number(profile.get("count")) else None
    distinct = profile.get("distinct") if isinstance(profile.get("distinct"), int) else None
    distinct_pct = percent(distinct, count) if count else share(profile.get("distinct_pct"))
    unique = profile.get("unique") is True
    identifier = kind == "identifier" or (
        kind in ("text", "categorical")
        and distinct_pct is not None
        and distinct_pct >= 100 * IDENTIFIER_DISTINCT
        and (count or 0) >= IDENTIFIER_MIN_COUNT
    )

    def shown(value: Any) -> Value:
        return masked_value(value) if masked else value

    facts: dict[str, Any] = {}
    stats = as_dict(profile.get("stats"))
    when = as_dict(profile.get("datetime"))
    extra: list[tuple[str, Value]] = []
    if stats:
        for key, label in (("min", "minimum"), ("mean", "mean"), ("max", "maximum")):
            value = finite(stats.get(key))
            # The mean of identifiers (row numbers, phone numbers stored as numbers) means nothing.
            if value is not None and not ((identifier or masked) and key == "mean"):
                facts[label] = shown(value)
        if not masked and not identifier:
            extra += _numeric_extra(stats, distinct)
    elif when:
        for key, label in (("min", "start"), ("max", "end")):
            if isinstance(when.get(key), str):
                # Results of older engines wrote dates as midnight timestamps: the time adds nothing.
                instant = (
                    when[key].removesuffix("T00:00:00") if when[key].endswith("T00:00:00") else when[key]
                )
                facts[label] = mask(instant) if masked else clip(instant, 32)
        if isinstance(when.get("frequency"), str):
            extra.append(("frequency", clip(when["frequency"], 12)))
    text = as_dict(profile.get("text"))
    length_mean = finite(text.get("length_mean"))
    tops = _top(profile, count)
    top: list[Top] = []
    more_top: list[Top] = []
    if kind == "boolean":
        top = _boolean(as_dict(profile.get("boolean")))
    elif identifier and not stats:
        facts |= _pattern(semantic, [t.value for t in tops] + samples)
    elif kind == "text":
        more_top = tops[:TOP]
        if length_mean is not None:
            facts["length_mean"] = length_mean
    elif not stats and not when:
        top, more_top = tops[:TOP], tops[TOP : TOP + 2]
    if masked:
        top = [Top(masked_value(t.value), t.pct) for t in top]
        more_top = [Top(masked_value(t.value), t.pct) for t in more_top]
    return Column(
        index=index,
        name=clip(name, NAME_CHARS),
        type=kind,
        semantic=semantic,
        pii=pii,
        masked=masked,
        missing_pct=missing if missing is not None else share(profile.get("missing_pct")),
        distinct=distinct,
        distinct_pct=distinct_pct,
        unique=unique,
        approximate=profile.get("approximate") is True,
        identifier=identifier,
        top=tuple(top),
        more_top=tuple(more_top),
        extra=tuple(extra),
        # Samples add to what the core says only for numbers (as parsed) and free text; an
        # identifier has its pattern, a category its top values, a date its range.
        samples=tuple(_sample_values(samples, bool(stats), decimal, masked))
        if (stats and not identifier) or kind == "text"
        else (),
        **facts,
    )


def _numeric_extra(stats: dict[str, Any], distinct: int | None) -> list[tuple[str, Value]]:
    quantiles = as_dict(stats.get("quantiles"))
    wanted: list[tuple[str, Any]] = [
        ("median", stats.get("median")),
        ("std", stats.get("std")),
        ("p25", quantiles.get("p25")),
        ("p75", quantiles.get("p75")),
        ("distinct", distinct),
    ]
    wanted += [(k, stats.get(k)) for k in ("zeros", "negatives", "infinite") if stats.get(k)]
    return [(label, value) for label, value in ((k, finite(v)) for k, v in wanted) if value is not None]


def _top(profile: dict[str, Any], count: Any) -> list[Top]:
    top = []
    for raw in as_list(profile.get("top_values"))[: TOP + 2]:
        item = as_dict(raw)
        value = item.get("value")
        if value is None or isinstance(value, (dict, list)):
            continue
        pct = percent(item.get("count"), count) or share(item.get("pct"))
        top.append(
            Top(value if isinstance(value, (int, float, bool)) else clip(str(value), VALUE_CHARS), pct)
        )
    return top


def _boolean(flags: dict[str, Any]) -> list[Top]:
    true, false = finite(flags.get("true")), finite(flags.get("false"))
    if true is None or false is None or true + false <= 0:
        return []
    ranked = sorted([(True, true), (False, false)], key=lambda item: -item[1])
    return [Top(value, percent(n, true + false)) for value, n in ranked]


def _shape(value: Any) -> str:
    """A value's pattern: letters as ``A``, digits as ``9``, anything else as it is."""
    text = str(value)[:VALUE_CHARS]
    return "".join("9" if ch.isdigit() else "A" if ch.isalpha() else ch for ch in text)


def _pattern(semantic: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    named = next((s for s in PATTERN_SEMANTICS if s in semantic), None)
    if named is not None:
        return {"pattern": named, "pattern_is_semantic": True}
    shapes = Counter(_shape(v) for v in values if v is not None and not isinstance(v, bool))
    if not shapes:
        return {}
    (common, _), *rest = sorted(shapes.items(), key=lambda item: (-item[1], item[0]))
    if rest and len({len(s) for s in shapes}) > 1:
        common = re.sub(r"(9+|A+)", lambda m: m.group(1)[0] + "…", common)  # lengths vary
    return {"pattern": common}


def _samples(sample: dict[str, Any]) -> dict[str, list[Any]]:
    names = [str(n) for n in as_list(sample.get("columns"))]
    out: dict[str, list[Any]] = {name: [] for name in names}
    for row in as_list(sample.get("rows")):
        for name, value in zip(names, as_list(row), strict=False):
            if value is not None and not isinstance(value, (dict, list)):
                out[name].append(value)
    return out


def _sample_values(values: list[Any], numeric: bool, decimal: str | None, masked: bool) -> list[Value]:
    """The first distinct samples, numbers as parsed (``1.234,56`` -> 1234.56), personal ones masked."""
    shown: list[Value] = []
    for value in values:
        parsed = value
        if numeric and isinstance(value, str):
            parsed = parse_locale(value, decimal)
            if parsed is None:
                parsed = value
        item: Value = masked_value(parsed) if masked else parsed
        if isinstance(item, str):
            item = clip(item, VALUE_CHARS)
        if item not in shown:
            shown.append(item)
        if len(shown) == SAMPLES:
            break
    return shown
