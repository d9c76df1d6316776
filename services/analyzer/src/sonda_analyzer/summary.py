"""The ``AnalysisCompleted`` summary of a result (claim check: the full result is an object).

The engine's digest is cut to what an event may carry: the event must stay far below NATS' max
payload whatever the table looks like (thousands of columns, 4 KiB column names), so lists are
capped, long strings are shortened, and ``columns_truncated``/``alerts_truncated`` say how much was
left out. Clients that need everything read the result object the event references.
"""

from __future__ import annotations

import msgspec
from sonda_events.contract import AlertDigest, AnalysisSummary, ColumnDigest

from sonda_analyzer.engine import ProfileResult, build_digest

MAX_COLUMNS = 200
MAX_ALERTS = 100
MAX_NAME = 200
MAX_MESSAGE = 500
#: Encoded summaries stay below this; the lists are halved until they do.
MAX_SUMMARY_BYTES = 128 * 1024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(result: ProfileResult) -> AnalysisSummary:
    """The shape, per-column digests and most severe alerts of ``result``, bounded in size."""
    digest = build_digest(result, max_columns=MAX_COLUMNS, max_alerts=MAX_ALERTS)
    ds = result.dataset
    columns = [
        ColumnDigest(
            name=_cut(c.name, MAX_NAME), type=c.type, missing=c.missing, distinct=c.distinct, pii=c.pii
        )
        for c in digest.column_digests
    ]
    alerts = [
        AlertDigest(
            type=a.type,
            column=None if a.column is None else _cut(a.column, MAX_NAME),
            severity=a.severity,
            message=_cut(a.message, MAX_MESSAGE),
        )
        for a in digest.alerts
    ]
    while True:
        summary = AnalysisSummary(
            rows=ds.rows,
            columns=ds.columns,
            missing_cells=ds.missing_cells,
            duplicate_rows=ds.duplicate_rows,
            file_size=ds.file_size,
            format=ds.format,
            encoding=ds.encoding,
            delimiter=ds.delimiter,
            approximate=ds.approximate,
            column_digests=columns,
            columns_truncated=len(result.columns) - len(columns),
            alerts=alerts,
            alerts_truncated=len(result.alerts) - len(alerts),
        )
        if len(msgspec.json.encode(summary)) <= MAX_SUMMARY_BYTES or not (columns or alerts):
            return summary
        columns, alerts = columns[: len(columns) // 2], alerts[: len(alerts) // 2]
