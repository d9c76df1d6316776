"""Analysis options: what ``AnalysisRequested.data.options`` may hold.

One definition serves the door and the engine: ingest refuses a bad option with a 422 before
anything is published, and the analyzer decodes the same Struct from the event (another system may
publish straight to NATS). Every guess the engine makes can be overridden here.
"""

from __future__ import annotations

import codecs
from typing import Annotated, Any, Literal

import msgspec

FormatName = Literal["csv", "tsv", "json", "jsonl", "parquet", "xlsx"]
ColumnTypeName = Literal[
    "numeric", "integer", "float", "boolean", "datetime", "categorical", "text", "identifier"
]
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]


class AlertThresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """When an alert fires. Fractions are 0–1 (``missing_pct=0.05`` means 5 % of the rows)."""

    #: ydata-profiling's defaults fire above 1 % missing and 1 % zeros; ours fire from 1 %, with
    #: the severity rising at ``missing_warning_pct`` and ``missing_critical_pct`` (docs/alerts.md).
    missing_pct: Fraction = 0.01
    missing_warning_pct: Fraction = 0.05
    missing_critical_pct: Fraction = 0.5
    high_cardinality: Annotated[int, msgspec.Meta(ge=1)] = 50
    high_correlation: Fraction = 0.9
    imbalance: Fraction = 0.5
    skewness: Positive = 3.0
    zeros_pct: Fraction = 0.01
    duplicates_pct: Fraction = 0.0
    #: Share of a text column's distinct values that must look like numbers/dates to raise
    #: ``numbers_as_text``/``dates_as_text``; a smaller (but > ``mixed_types_pct``) share is "mixed".
    as_text_pct: Fraction = 0.99
    mixed_types_pct: Fraction = 0.05


class AnalysisOptions(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """What to read and how. ``None`` means "detect it" for every reading option."""

    format: FormatName | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    encoding: str | None = None
    decimal: Literal[".", ","] | None = None
    #: 0-based line of the header (lines above it are skipped), "auto" to detect, "none" for no header.
    header_row: Annotated[int, msgspec.Meta(ge=0)] | Literal["auto", "none"] = "auto"
    #: Excel sheet by name or 0-based position; the first sheet by default.
    sheet: str | Annotated[int, msgspec.Meta(ge=0)] | None = None
    column_types: dict[str, ColumnTypeName] = msgspec.field(default_factory=dict)
    thresholds: AlertThresholds = msgspec.field(default_factory=AlertThresholds)
    #: Profile only the first ``max_rows`` data rows (the result says so).
    max_rows: Annotated[int, msgspec.Meta(ge=1)] | None = None
    sample_rows: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    top_values: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    histogram_bins: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    correlations: bool = True
    #: On wide tables only the most informative columns enter the correlation matrices.
    max_correlation_columns: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 40
    max_columns: Annotated[int, msgspec.Meta(ge=1)] = 20_000
    #: True/False forces streaming/exact mode; None decides from the file size and memory budget.
    streaming: bool | None = None
    #: Seconds this analysis may spend profiling, when the requester wants less than the
    #: analyzer's own limit (SONDA_ANALYZER_TIMEOUT_S); the smaller of the two applies.
    time_limit_s: Annotated[float, msgspec.Meta(gt=0)] | None = None

    def __post_init__(self) -> None:
        for name in ("delimiter", "quotechar"):
            value = getattr(self, name)
            if value is not None and len(value) != 1:
                raise ValueError(f"{name} must be exactly one character, got {value!r}")
        if self.delimiter is not None and self.delimiter in "\r\n":
            raise ValueError("delimiter cannot be a line break")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"unknown encoding {self.encoding!r}") from None


_TAB_SPELLINGS = ("\\t", "tab", "TAB")


def convert_options(raw: dict[str, Any]) -> AnalysisOptions:
    """Decode options from builtins; raises ``msgspec.ValidationError`` naming the field.

    People type the tab delimiter as an escape or a word; both can only mean the tab character.
    """
    if raw.get("delimiter") in _TAB_SPELLINGS:
        raw = {**raw, "delimiter": "\t"}
    return msgspec.convert(raw, AnalysisOptions, strict=False)
