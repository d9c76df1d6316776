"""Query parameters parsed by hand, so every bad value answers 422 with a problem naming it."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Literal

from sonda_events.ids import parse_analysis_id

from sonda_query.compare.options import CompareOptions, NumericMethod
from sonda_query.errors import InvalidParameterError
from sonda_query.llm.render import MIN_TOKENS, SummaryFormat

ListStatus = Literal["pending", "running", "completed", "failed", "deleted"]
LIST_STATUSES: tuple[ListStatus, ...] = ("pending", "running", "completed", "failed", "deleted")
MAX_LIMIT = 200
MAX_SUMMARY_TOKENS = 32_000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def analysis_id(value: str) -> uuid.UUID:
    """As every service parses an analysis id of a path: 400 ``invalid_analysis_id`` if malformed."""
    return parse_analysis_id(value)


def integer(name: str, value: str | None, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameterError(name, f"must be an integer, not {value[:40]!r}") from None
    if not low <= number <= high:
        raise InvalidParameterError(name, f"must be between {low} and {high}")
    return number


def flag(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameterError(name, "must be true or false")


def timestamp(name: str, value: str | None) -> datetime | None:
    """ISO 8601; a time without an offset is taken as UTC."""
    if value is None or value == "":
        return None
    text = value.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # a "+01:00" offset arrives as " 01:00" when not URL-encoded
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameterError(name, "must be an ISO 8601 date or time (2026-01-31T12:00:00Z)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def status(value: str | None) -> ListStatus | None:
    if value is None or value == "":
        return None
    if value not in LIST_STATUSES:
        raise InvalidParameterError("status", f"must be one of {', '.join(LIST_STATUSES)}")
    return value


def summary_format(value: str | None) -> SummaryFormat:
    if value is None or value in ("", "markdown", "md"):
        return "markdown"
    if value == "json":
        return "json"
    if value == "table":
        return "table"
    raise InvalidParameterError("format", "must be markdown, table or json")


def max_tokens(value: str | None) -> int:
    return integer("max_tokens", value, default=1500, low=MIN_TOKENS, high=MAX_SUMMARY_TOKENS)


def file_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 1024:
        raise InvalidParameterError("file_key", "is longer than 1024 characters")
    return value


def required_analysis_id(name: str, value: str | None) -> uuid.UUID:
    """An analysis id given as a query parameter: 422 when absent, 400 when malformed."""
    if value is None or value == "":
        raise InvalidParameterError(name, "is required (an analysis id)")
    return parse_analysis_id(value)


def number(name: str, value: str | None, *, default: float, low: float, high: float) -> float:
    if value is None or value == "":
        return default
    try:
        parsed = float(value)
    except ValueError:
        raise InvalidParameterError(name, f"must be a number, not {value[:40]!r}") from None
    if not math.isfinite(parsed) or not low <= parsed <= high:
        raise InvalidParameterError(name, f"must be between {low:g} and {high:g}")
    return parsed


def numeric_method(value: str | None) -> NumericMethod:
    if value is None or value in {"", "wasserstein"}:
        return "wasserstein"
    if value == "psi":
        return "psi"
    raise InvalidParameterError("numeric_method", "must be wasserstein or psi")


def compare_options(
    *,
    numeric_method_value: str | None,
    wasserstein_threshold: str | None,
    psi_threshold: str | None,
    jensen_shannon_threshold: str | None,
    missing_threshold: str | None,
    drift_share: str | None,
) -> CompareOptions:
    """The comparison's thresholds from the query; each absent one keeps ``CompareOptions``' default."""
    d = CompareOptions()
    return CompareOptions(
        numeric_method=numeric_method(numeric_method_value),
        wasserstein_threshold=number(
            "wasserstein_threshold", wasserstein_threshold, default=d.wasserstein_threshold, low=0, high=1e6
        ),
        psi_threshold=number("psi_threshold", psi_threshold, default=d.psi_threshold, low=0, high=1e6),
        jensen_shannon_threshold=number(
            "jensen_shannon_threshold",
            jensen_shannon_threshold,
            default=d.jensen_shannon_threshold,
            low=0,
            high=1,
        ),
        missing_threshold=number(
            "missing_threshold", missing_threshold, default=d.missing_threshold, low=0, high=1
        ),
        drift_share=number("drift_share", drift_share, default=d.drift_share, low=0, high=1),
    )
