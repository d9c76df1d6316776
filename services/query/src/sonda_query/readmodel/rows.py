"""Rows of the read models as msgspec Structs, and their conversion to and from table rows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes and ignores offsets on write: everything is kept in UTC."""
    if value.tzinfo is UTC:
        return value  # the common case, and ``astimezone`` costs microseconds per call
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AnalysisRow(msgspec.Struct, kw_only=True):
    """The ``analyses`` read model (see ``tables.analyses_table``)."""

    analysis_id: uuid.UUID
    file_key: str
    filename: str | None = None
    analysis_type: str = "basic_eda"
    requested_by: str = "anonymous"
    status: str = "pending"
    #: The lifecycle's phase (``sonda_events.lifecycle.Phase``): open, ended, deleted, purged.
    phase: str = "open"
    deleted: bool = False
    progress: float = 0.0
    stage: str | None = None
    message: str | None = None
    rows: int | None = None
    columns: int | None = None
    file_size: int | None = None
    format: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempt: int = 0
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    delete_reason: str | None = None
    version: int = 0
    position: int = 0

    @property
    def public_status(self) -> str:
        """What clients see: ``deleted`` hides the lifecycle status of a soft-deleted analysis."""
        return "deleted" if self.deleted else self.status


class ResultRow(msgspec.Struct, kw_only=True):
    """The ``analysis_results`` read model: summary plus the claim check of the full result."""

    analysis_id: uuid.UUID
    #: ``AnalysisSummary`` as JSON; a dict when read back, the event's Struct when just folded.
    summary: Any
    result_key: str
    result_sha256: str
    result_size: int
    result_content_type: str = "application/json"
    result_schema_version: int = 1
    duration_s: float = 0.0
    completed_at: datetime
    version: int = 0
    position: int = 0


R = TypeVar("R", AnalysisRow, ResultRow)


def to_db(row: msgspec.Struct) -> dict[str, Any]:
    """Column values of a row; datetimes in UTC (SQLite would drop their offset)."""
    values = msgspec.structs.asdict(row)
    for key, value in values.items():
        if isinstance(value, datetime):
            values[key] = utc(value)
    return values


def from_db(row_type: type[R], mapping: Mapping[Any, Any]) -> R:
    """A row Struct from a result row's mapping (datetimes made UTC-aware)."""
    values: dict[str, Any] = {str(k): utc(v) if isinstance(v, datetime) else v for k, v in mapping.items()}
    return row_type(**values)
