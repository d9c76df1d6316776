"""A compact digest of a result, small enough for the ``AnalysisCompleted`` event (claim check:
the full result is stored as an object; the event carries this digest and a reference)."""

from __future__ import annotations

import msgspec

from sonda_analyzer.engine.result import ColumnType, ProfileResult, Severity


class ColumnDigest(msgspec.Struct, kw_only=True):
    name: str
    type: ColumnType
    missing: int
    distinct: int
    pii: bool = False


class AlertDigest(msgspec.Struct, kw_only=True):
    type: str
    column: str | None
    severity: Severity
    message: str


class Digest(msgspec.Struct, kw_only=True):
    schema_version: int
    rows: int
    columns: int
    missing_cells: int
    duplicate_rows: int
    format: str
    encoding: str | None
    delimiter: str | None
    approximate: bool
    column_digests: list[ColumnDigest]
    alerts: list[AlertDigest]
    #: True when columns/alerts were cut to stay under the size limit.
    truncated: bool = False


def build_digest(result: ProfileResult, *, max_columns: int = 500, max_alerts: int = 200) -> Digest:
    """The shape, per-column digest and alerts of ``result`` (lists capped for very wide tables)."""
    ds = result.dataset
    columns = [
        ColumnDigest(name=c.name, type=c.type, missing=c.missing, distinct=c.distinct, pii=c.pii)
        for c in result.columns[:max_columns]
    ]
    order = {"critical": 0, "warning": 1, "info": 2}
    ranked = sorted(result.alerts, key=lambda a: order[a.severity])
    alerts = [
        AlertDigest(type=a.type, column=a.column, severity=a.severity, message=a.message)
        for a in ranked[:max_alerts]
    ]
    return Digest(
        schema_version=result.schema_version,
        rows=ds.rows,
        columns=ds.columns,
        missing_cells=ds.missing_cells,
        duplicate_rows=ds.duplicate_rows,
        format=ds.format,
        encoding=ds.encoding,
        delimiter=ds.delimiter,
        approximate=ds.approximate,
        column_digests=columns,
        alerts=alerts,
        truncated=len(result.columns) > max_columns or len(result.alerts) > max_alerts,
    )
