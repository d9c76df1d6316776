"""Response bodies of the query endpoints (msgspec Structs, so OpenAPI documents them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from sonda_query.readmodel.rows import AnalysisRow

#: Where a status came from: the read model, or (not projected yet) the store or JetStream.
Source = Literal["projection", "event_store", "jetstream"]


class StatusView(msgspec.Struct, kw_only=True):
    analysis_id: str
    #: pending, running, completed, failed, or deleted (soft-deleted, whatever it was before).
    status: str
    progress: float
    stage: str | None
    message: str | None
    file_key: str
    filename: str | None
    analysis_type: str
    rows: int | None
    columns: int | None
    file_size: int | None
    format: str | None
    error_code: str | None
    error_message: str | None
    attempt: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    failed_at: datetime | None
    deleted_at: datetime | None
    #: Version of the last event reflected here (the position WebSocket messages carry).
    version: int
    source: Source = "projection"

    @classmethod
    def of(cls, row: AnalysisRow, source: Source = "projection") -> StatusView:
        return cls(
            analysis_id=str(row.analysis_id),
            status=row.public_status,
            progress=row.progress,
            stage=row.stage,
            message=row.message,
            file_key=row.file_key,
            filename=row.filename,
            analysis_type=row.analysis_type,
            rows=row.rows,
            columns=row.columns,
            file_size=row.file_size,
            format=row.format,
            error_code=row.error_code,
            error_message=row.error_message,
            attempt=row.attempt,
            created_at=row.created_at,
            started_at=row.started_at,
            completed_at=row.completed_at,
            failed_at=row.failed_at,
            deleted_at=row.deleted_at,
            version=row.version,
            source=source,
        )


class ListItem(msgspec.Struct, kw_only=True):
    analysis_id: str
    file_key: str
    filename: str | None
    status: str
    progress: float
    stage: str | None
    created_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None
    rows: int | None
    columns: int | None
    error_message: str | None
    #: Version of the last event reflected here (the ``version`` WebSocket messages carry).
    version: int = 0

    @classmethod
    def of(cls, row: AnalysisRow) -> ListItem:
        return cls(
            analysis_id=str(row.analysis_id),
            file_key=row.file_key,
            filename=row.filename,
            status=row.public_status,
            progress=row.progress,
            stage=row.stage,
            created_at=row.created_at,
            completed_at=row.completed_at,
            deleted_at=row.deleted_at,
            rows=row.rows,
            columns=row.columns,
            error_message=row.error_message,
            version=row.version,
        )


class ListPage(msgspec.Struct, kw_only=True):
    items: list[ListItem]
    #: Pass as ``cursor`` for the next page; null on the last page.
    next_cursor: str | None


class ResultsView(msgspec.Struct, kw_only=True):
    """Documentation of the results body (served as pre-encoded, cached JSON)."""

    analysis_id: str
    status: str
    filename: str | None
    file_key: str
    completed_at: datetime | None
    version: int
    #: The summary carried by AnalysisCompleted (shape, column digests, alerts).
    summary: dict[str, Any]
    #: The full result object (docs/result-schema.md).
    results: dict[str, Any]


class LeftOutView(msgspec.Struct, kw_only=True):
    columns_shown: int
    columns_detailed: int
    columns_total: int
    alerts_shown: int
    alerts_total: int
    alerts_left_out: dict[str, int]
    correlations_shown: int
    correlations_total: int
    columns_with_detail: int = 0
    correlations_near_zero: int = 0


class SummaryView(msgspec.Struct, kw_only=True):
    analysis_id: str
    format: str
    max_tokens: int
    #: Tokens of ``text`` counted with cl100k_base; never above ``max_tokens``.
    tokens: int
    tokenizer: str
    text: str
    left_out: LeftOutView
    #: The same summary as a JSON document (``format=json`` only).
    summary: msgspec.Raw | dict[str, Any] | None = None
    #: ``list`` or ``table`` (Markdown: one line or one table row per column), or ``json``.
    layout: str = "list"
    #: Personal columns' values are shown unmasked (asked for with ``include_pii=true``).
    include_pii: bool = False
