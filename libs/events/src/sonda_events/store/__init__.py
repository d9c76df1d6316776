"""The append-only event store (Postgres or SQLite through SQLAlchemy Core)."""

from sonda_events.store.models import (
    AppendResult,
    DeadLetter,
    Incoming,
    NewDeadLetter,
    RecordOutcome,
    RecordStatus,
    StreamOpening,
)
from sonda_events.store.store import EventStore

__all__ = [
    "AppendResult",
    "DeadLetter",
    "EventStore",
    "Incoming",
    "NewDeadLetter",
    "RecordOutcome",
    "RecordStatus",
    "StreamOpening",
]
