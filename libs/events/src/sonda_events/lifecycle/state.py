"""An analysis' state as a pure fold of its events: ``evolve(state, event) -> state``.

The one place that says what an analysis *is* after its events — status, terminal or not, deleted,
purged, version, the request that opened it, the completion that ended it. Services fold with it
instead of keeping their own copies of the rules; read models add their own columns around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec

from sonda_events.codes import Code
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
)
from sonda_events.errors import SondaError
from sonda_events.lifecycle.rules import (
    STATUS_AFTER,
    EventNotAllowedError,
    Phase,
    PublicStatus,
    Status,
    check,
    is_purge,
    phase_after,
)


class VersionGapError(SondaError):
    """An event whose version does not follow the state's: an earlier event is missing."""

    code = Code.VERSION_GAP


class AnalysisState(msgspec.Struct, kw_only=True, frozen=True):
    analysis_id: uuid.UUID
    #: Version of the newest event applied (0: nothing yet).
    version: int = 0
    phase: Phase = Phase.ABSENT
    status: Status = "pending"
    deleted: bool = False
    purged: bool = False
    #: The request that opened the stream (its event id tells a duplicate request apart).
    request: AnalysisRequested | None = None
    attempt: int = 0
    progress: float = 0.0
    stage: str | None = None
    message: str | None = None
    completed: AnalysisCompleted | None = None
    failed: AnalysisFailed | None = None
    #: The newest event applied.
    last: AnyEvent | None = None

    @property
    def exists(self) -> bool:
        return self.phase is not Phase.ABSENT

    @property
    def public_status(self) -> PublicStatus:
        return "deleted" if self.deleted else self.status

    @property
    def finished(self) -> bool:
        """Nothing will run any more: it ended, or was deleted (or purged) first."""
        return self.phase in (Phase.ENDED, Phase.DELETED, Phase.PURGED)

    @property
    def correlation_id(self) -> str:
        return self.request.correlation_id if self.request is not None else str(self.analysis_id)


def evolve(state: AnalysisState, event: AnyEvent) -> AnalysisState:
    """The state after ``event``; the same state for an event at a version already applied.

    Raises:
        EventNotAllowedError: the lifecycle refuses the event (see ``rules``), or it belongs to
            another analysis.
        VersionGapError: the event is ahead of the state (an earlier version is missing).
    """
    if event.analysis_id != state.analysis_id:
        raise EventNotAllowedError(
            "foreign_event", f"an event of analysis {event.analysis_id} in the stream of {state.analysis_id}"
        )
    if event.version <= state.version:
        return state  # applied already (or a copy losing a race at that version): nothing changes
    if event.version != state.version + 1:
        raise VersionGapError(f"analysis {state.analysis_id}: version {event.version} after {state.version}")
    check(state.phase, event)
    changes: dict[str, object] = {"version": event.version, "phase": phase_after(event), "last": event}
    if event.type in STATUS_AFTER:
        changes["status"] = STATUS_AFTER[event.type]
    match event:
        case AnalysisRequested():
            changes.update(request=event, stage="queued")
        case AnalysisStarted(data=data):
            changes.update(attempt=data.attempt, progress=0.0, stage="started", message=None)
        case AnalysisProgress(data=data):
            changes.update(progress=data.progress, stage=data.stage, message=data.message or None)
        case AnalysisCompleted():
            changes.update(completed=event, progress=100.0, stage="completed", message=None)
        case AnalysisFailed(data=data):
            changes.update(failed=event, stage="failed", attempt=max(state.attempt, data.attempt))
        case AnalysisDeleted():
            changes.update(deleted=True)
    if is_purge(event):
        changes.update(deleted=True, purged=True)
    # Phase came from the event alone; a purge of an analysis keeps it deleted whatever came first.
    return msgspec.structs.replace(state, **changes)


def fold(analysis_id: uuid.UUID, events: Iterable[AnyEvent]) -> tuple[AnalysisState, list[SondaError]]:
    """Fold events in order, skipping (and returning) the ones the lifecycle refuses."""
    state = AnalysisState(analysis_id=analysis_id)
    refused: list[SondaError] = []
    for event in events:
        try:
            state = evolve(state, event)
        except (EventNotAllowedError, VersionGapError) as exc:
            refused.append(exc)
    return state, refused
