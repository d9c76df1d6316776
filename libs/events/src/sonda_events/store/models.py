"""Values the event store takes and returns (msgspec Structs, so they cross any boundary as JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from sonda_events.contract import AnyEvent

#: What ``EventStore.record`` did with one incoming event:
#: ``stored`` (new, at ``position``), ``duplicate`` (its id was already stored at ``position``),
#: ``gap`` (its version is ahead of the stream: an earlier event is missing, try again later),
#: ``conflict`` (another event id already holds that version: reject it),
#: ``refused`` (the lifecycle does not allow it after the stream's newest event: reject it).
RecordStatus = Literal["stored", "duplicate", "gap", "conflict", "refused"]


class AppendResult(msgspec.Struct, kw_only=True, frozen=True):
    """Outcome of ``EventStore.append``."""

    #: Global position of each event passed in, in the same order (the original one for duplicates).
    positions: list[int]
    #: Version of the stream after the append.
    stream_version: int
    #: How many events were new (0 when every one was already stored).
    stored: int


class Incoming(msgspec.Struct, kw_only=True, frozen=True):
    """One event the recorder received, with where it came from."""

    event: AnyEvent
    #: JetStream stream sequence of the message (kept as metadata, never as a key).
    stream_sequence: int | None = None


class RecordOutcome(msgspec.Struct, kw_only=True, frozen=True):
    """What happened to one ``Incoming`` (see ``RecordStatus``)."""

    status: RecordStatus
    #: Global position for ``stored`` and ``duplicate``; None otherwise.
    position: int | None = None
    #: Version the stream was at when the event was refused (``gap``, ``conflict``, ``refused``).
    stream_version: int | None = None
    #: Why a ``refused`` event was refused (the lifecycle rule and its reason).
    reason: str | None = None

    @property
    def settled(self) -> bool:
        """True when the message can be acknowledged (the store holds the event)."""
        return self.status in ("stored", "duplicate")


class DeadLetter(msgspec.Struct, kw_only=True, frozen=True):
    """A message no consumer could use, kept with the reason for an operator to inspect."""

    id: int
    #: Which consumer gave up on it (None when unknown).
    consumer: str | None
    subject: str
    payload: bytes
    error_code: str
    reason: str
    stream_sequence: int | None
    recorded_at: datetime


class NewDeadLetter(msgspec.Struct, kw_only=True, frozen=True):
    """A dead letter to keep (``EventStore.record_dead_letters``)."""

    subject: str
    payload: bytes
    error_code: str
    reason: str
    stream_sequence: int | None
    consumer: str | None = None


class StreamOpening(msgspec.Struct, kw_only=True, frozen=True):
    """A stream's first event: which stream, when, and at which global position."""

    stream_id: uuid.UUID
    opened_at: datetime
    position: int
