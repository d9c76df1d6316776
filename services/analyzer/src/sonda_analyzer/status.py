"""What this analyzer instance is doing: analyses in flight and what it has processed so far.

One ``WorkerStatus`` per process, owned by the runtime and shown by ``GET /api/v1/analyzer/info``.
It is touched only from the event loop, so it needs no lock.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec


class InFlight(msgspec.Struct, kw_only=True):
    analysis_id: uuid.UUID
    file_key: str
    attempt: int
    started_at: datetime
    stage: str = "starting"
    progress: float = 0.0
    rows_done: int = 0


class Counts(msgspec.Struct, kw_only=True):
    #: Analyses this instance finished with ``AnalysisCompleted``.
    completed: int = 0
    #: Analyses this instance finished with ``AnalysisFailed`` (including exhausted deliveries).
    failed: int = 0
    #: Deliveries of analyses that had already finished (duplicates, stale redeliveries).
    skipped: int = 0
    #: Analyses another worker (or a delete) got ahead of while this one worked.
    superseded: int = 0
    #: Attempts that failed transiently and went back to the queue.
    retried: int = 0


class ProcessInfo(msgspec.Struct, kw_only=True):
    pid: int | None
    jobs: int
    peak_rss_mb: float


class AnalyzerInfo(msgspec.Struct, kw_only=True):
    worker: str
    concurrency: int
    in_flight: list[InFlight]
    processed: Counts
    profilers: list[ProcessInfo]


class WorkerStatus:
    def __init__(self) -> None:
        self.counts = Counts()
        self.in_flight: dict[uuid.UUID, InFlight] = {}

    @contextlib.contextmanager
    def track(self, analysis_id: uuid.UUID, file_key: str, attempt: int) -> Iterator[InFlight]:
        flight = InFlight(
            analysis_id=analysis_id, file_key=file_key, attempt=attempt, started_at=datetime.now(UTC)
        )
        self.in_flight[analysis_id] = flight
        try:
            yield flight
        finally:
            self.in_flight.pop(analysis_id, None)
