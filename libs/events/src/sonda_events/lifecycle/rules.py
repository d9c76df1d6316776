"""The rules of an analysis' life: which event may follow which, and what each one leaves behind.

Every consumer asks these same functions — the event store when it records, the projector when it
folds, the notifier before it forwards, the analyzer and ingest before they write — so an event one
of them refuses is refused by all of them, for the same reason:

- ``AnalysisRequested`` only opens a stream (version 1 of an analysis nobody requested yet): a second
  request can never rewrite a file key or reopen a finished analysis;
- nothing but a request opens a stream;
- after ``AnalysisCompleted`` or ``AnalysisFailed`` (terminal) only a deletion or a purge is accepted;
- after ``AnalysisDeleted`` only a purge; after ``AnalysisPurged`` nothing;
- an ``AnalysisCompleted`` must point at the analysis' own result object (``results/<id>.json``), never
  at an upload or another analysis' result.

Version order (``version == current + 1``) is checked where the events are sequenced (the store's
unique ``(stream_id, version)``, JetStream's expected last subject sequence); these rules are about
*what* may come next, not *when*.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from sonda_events.codes import Code
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisPurged,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
)
from sonda_events.errors import SondaError

#: The lifecycle status; a deletion is a flag beside it (what the analysis was when deleted stays).
Status = Literal["pending", "running", "completed", "failed"]
#: What clients see: ``deleted`` hides the status of a soft-deleted analysis.
PublicStatus = Literal["pending", "running", "completed", "failed", "deleted"]

#: The status each event leaves an analysis in (deletion and purge leave it as it was).
STATUS_AFTER: dict[str, Status] = {
    "AnalysisRequested": "pending",
    "AnalysisStarted": "running",
    "AnalysisProgress": "running",
    "AnalysisCompleted": "completed",
    "AnalysisFailed": "failed",
}
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})
TERMINAL_TYPES: frozenset[str] = frozenset({"AnalysisCompleted", "AnalysisFailed"})
#: ``deleted_by`` of deletions the retention clean-up made before ``AnalysisPurged`` existed.
LEGACY_PURGE_BY = "retention"
RESULT_PREFIX = "results/"


class Phase(StrEnum):
    """Where a stream is, as far as the rules care; decided by its newest accepted event alone."""

    ABSENT = "absent"
    OPEN = "open"
    ENDED = "ended"
    DELETED = "deleted"
    PURGED = "purged"


class EventNotAllowedError(SondaError):
    """An event the lifecycle refuses; ``rule`` names which rule (stable, for dead letters)."""

    code = Code.EVENT_NOT_ALLOWED

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason


def own_result_key(analysis_id: uuid.UUID) -> str:
    """The object key an analysis' full result is written to (the claim check)."""
    return f"{RESULT_PREFIX}{analysis_id}.json"


def is_own_result(analysis_id: uuid.UUID, key: str) -> bool:
    return key == own_result_key(analysis_id)


def is_purge(event: AnyEvent) -> bool:
    """True for ``AnalysisPurged`` and for the retention's deletions recorded before it existed."""
    return isinstance(event, AnalysisPurged) or (
        isinstance(event, AnalysisDeleted) and event.data.deleted_by == LEGACY_PURGE_BY
    )


def phase_after(event: AnyEvent | None) -> Phase:
    """The phase a stream is in once ``event`` is its newest accepted event (None: no stream)."""
    if event is None:
        return Phase.ABSENT
    deleted_by = event.data.deleted_by if isinstance(event, AnalysisDeleted) else None
    return phase_of(event.type, deleted_by)


def phase_of(event_type: str | None, deleted_by: str | None = None) -> Phase:
    """``phase_after`` from the newest event's type (and ``deleted_by`` of a deletion), as a
    database row holds them: the store decides without decoding whole events."""
    if event_type is None:
        return Phase.ABSENT
    if event_type == "AnalysisPurged" or (event_type == "AnalysisDeleted" and deleted_by == LEGACY_PURGE_BY):
        return Phase.PURGED
    if event_type == "AnalysisDeleted":
        return Phase.DELETED
    if event_type in TERMINAL_TYPES:
        return Phase.ENDED
    return Phase.OPEN


def check(phase: Phase, event: AnyEvent) -> None:
    """Raise ``EventNotAllowedError`` when ``event`` may not follow a stream in ``phase``."""
    name, aid = event.type, event.analysis_id
    if isinstance(event, AnalysisRequested):
        if phase is not Phase.ABSENT or event.version != 1:
            raise EventNotAllowedError(
                "already_requested", f"a request only opens a stream; analysis {aid} is already {phase}"
            )
        return
    if phase is Phase.ABSENT:
        raise EventNotAllowedError("not_requested", f"{name} for analysis {aid}, which nobody requested")
    if phase is Phase.PURGED:
        raise EventNotAllowedError("already_purged", f"{name} after analysis {aid} was purged")
    if is_purge(event):
        return
    if isinstance(event, AnalysisDeleted):
        if phase is Phase.DELETED:
            raise EventNotAllowedError("already_deleted", f"analysis {aid} is already deleted")
        return
    if phase is Phase.DELETED:
        raise EventNotAllowedError("already_deleted", f"{name} after analysis {aid} was deleted")
    if phase is Phase.ENDED:
        raise EventNotAllowedError(
            "already_ended", f"{name} after analysis {aid} ended; only a deletion is accepted"
        )
    if isinstance(event, AnalysisCompleted) and not is_own_result(aid, event.data.result.key):
        raise EventNotAllowedError(
            "foreign_result", f"the result of analysis {aid} must be {own_result_key(aid)!r}"
        )
    assert isinstance(event, AnalysisStarted | AnalysisProgress | AnalysisCompleted | AnalysisFailed)
