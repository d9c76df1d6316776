"""Analysis options, checked at the door.

This mirrors the analyzer's ``ProfileOptions`` (same fields, types, ranges and unknown-key
rejection; a test compares the two) so a bad option is refused with a 422 before anything is
published, instead of failing the analysis later. Ingest does not import the analyzer: each service
installs on its own.
"""

from __future__ import annotations

import codecs
from typing import Annotated, Any, Literal

import msgspec

from sonda_ingest.errors import InvalidOptionsError

FormatName = Literal["csv", "tsv", "json", "jsonl", "parquet", "xlsx"]
ColumnTypeName = Literal[
    "numeric", "integer", "float", "boolean", "datetime", "categorical", "text", "identifier"
]
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]
_TAB_SPELLINGS = ("\\t", "tab", "TAB")


class Thresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """When an alert fires (fractions are 0–1)."""

    missing_pct: Fraction = 0.05
    missing_critical_pct: Fraction = 0.5
    high_cardinality: Annotated[int, msgspec.Meta(ge=1)] = 50
    high_correlation: Fraction = 0.9
    imbalance: Fraction = 0.5
    skewness: Positive = 3.0
    zeros_pct: Fraction = 0.1
    duplicates_pct: Fraction = 0.0
    as_text_pct: Fraction = 0.99
    mixed_types_pct: Fraction = 0.05


class AnalysisOptions(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """What to read and how; ``None`` means "detect it"."""

    format: FormatName | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    encoding: str | None = None
    decimal: Literal[".", ","] | None = None
    header_row: Annotated[int, msgspec.Meta(ge=0)] | Literal["auto", "none"] = "auto"
    sheet: str | Annotated[int, msgspec.Meta(ge=0)] | None = None
    column_types: dict[str, ColumnTypeName] = msgspec.field(default_factory=dict)
    thresholds: Thresholds = msgspec.field(default_factory=Thresholds)
    max_rows: Annotated[int, msgspec.Meta(ge=1)] | None = None
    sample_rows: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    top_values: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    histogram_bins: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    correlations: bool = True
    max_correlation_columns: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 40
    max_columns: Annotated[int, msgspec.Meta(ge=1)] = 20_000
    streaming: bool | None = None

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


def validate_options(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Check options and return the ones the client set, in canonical form, for the event.

    Raises:
        InvalidOptionsError: an unknown option, a wrong type or a value out of range.
    """
    if not raw:
        return {}
    if raw.get("delimiter") in _TAB_SPELLINGS:
        # People type the tab as an escape or a word; both can only mean the tab character.
        raw = {**raw, "delimiter": "\t"}
    try:
        options = msgspec.convert(raw, AnalysisOptions, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidOptionsError(f"invalid analysis options: {exc}") from None
    canonical: dict[str, Any] = msgspec.to_builtins(options)
    return {name: canonical[name] for name in raw}
