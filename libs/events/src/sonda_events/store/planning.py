"""Pure decisions of the store: which incoming events to write, in what order, and why not.

Kept apart from the SQL so the rules read in one place and are checked without a database. The store
calls these while it holds the writer turn, with what the database holds right now.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence

from sonda_events.contract import AnyEvent
from sonda_events.errors import ConcurrencyError
from sonda_events.lifecycle.rules import EventNotAllowedError, Phase, check, phase_after
from sonda_events.store.models import Incoming, RecordOutcome
from sonda_events.store.writes import StreamTip

_NO_STREAM = StreamTip(0, Phase.ABSENT)


class RecordPlan:
    """For a batch of many streams: the events to insert (in position order) and every outcome.

    ``outcomes[i]`` is final for refused and already-stored events; for the events to write it is
    filled by ``assign`` once their positions are known.
    """

    def __init__(
        self,
        batch: Sequence[Incoming],
        stored_ids: Mapping[uuid.UUID, int],
        stream_tips: Mapping[uuid.UUID, StreamTip],
    ) -> None:
        self.outcomes: list[RecordOutcome | None] = [None] * len(batch)
        #: (batch index, incoming) in the order they get positions.
        self.to_write: list[tuple[int, Incoming]] = []
        self._copies: list[tuple[int, int]] = []  # (index, index of the first with that event id)
        first_index: dict[uuid.UUID, int] = {}
        by_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
        for i, incoming in enumerate(batch):
            event = incoming.event
            if event.event_id in stored_ids:
                self.outcomes[i] = RecordOutcome(status="duplicate", position=stored_ids[event.event_id])
            elif event.event_id in first_index:  # redelivered twice within one fetch
                self._copies.append((i, first_index[event.event_id]))
            else:
                first_index[event.event_id] = i
                by_stream[event.analysis_id].append(i)

        slots: list[tuple[int, int]] = []  # (slot index in batch order, batch index written there)
        for stream_id, indexes in by_stream.items():
            tip = stream_tips.get(stream_id, _NO_STREAM)
            current, phase = tip.version, tip.phase
            #: JetStream sequence of the event accepted last in this batch (None: not known here).
            previous_seq: int | None = None
            accepted: list[int] = []
            # Version order within a stream, whatever order JetStream delivered them in.
            for i in sorted(indexes, key=lambda j: (batch[j].event.version, j)):
                event = batch[i].event
                version = event.version
                seq = batch[i].stream_sequence
                if (
                    version == current + 1
                    and previous_seq is not None
                    and seq is not None
                    and seq < previous_seq
                ):
                    # Published before the version it claims to follow (a foreign publisher guessing
                    # a version): readers fold JetStream in stream order and skip it, so must we.
                    self.outcomes[i] = RecordOutcome(
                        status="refused",
                        stream_version=current,
                        reason=f"out_of_order: published before version {current} of its stream",
                    )
                    continue
                if version == current + 1:
                    try:
                        check(phase, event)
                    except EventNotAllowedError as exc:
                        # Refused for good: the next event at this version may still be accepted.
                        self.outcomes[i] = RecordOutcome(
                            status="refused", stream_version=current, reason=exc.message
                        )
                        continue
                    accepted.append(i)
                    current, phase, previous_seq = version, phase_after(event), seq
                elif version <= current:
                    self.outcomes[i] = RecordOutcome(status="conflict", stream_version=current)
                else:
                    self.outcomes[i] = RecordOutcome(status="gap", stream_version=current)
            # The stream's accepted events take the stream's earliest slots, in version order, so
            # global positions follow versions within a stream and arrival order across streams.
            slots.extend(zip(sorted(accepted), accepted, strict=True))
        self.to_write = [(i, batch[i]) for _, i in sorted(slots)]

    def assign(self, first_position: int) -> list[RecordOutcome]:
        """Give the written events consecutive positions from ``first_position``; all outcomes."""
        for offset, (i, _) in enumerate(self.to_write):
            self.outcomes[i] = RecordOutcome(status="stored", position=first_position + offset)
        for i, first in self._copies:
            original = self.outcomes[first]
            assert original is not None
            status = "duplicate" if original.status == "stored" else original.status
            self.outcomes[i] = RecordOutcome(
                status=status, position=original.position, stream_version=original.stream_version
            )
        result = [outcome for outcome in self.outcomes if outcome is not None]
        assert len(result) == len(self.outcomes)
        return result


def plan_append(
    events: Sequence[AnyEvent],
    stored_ids: Mapping[uuid.UUID, int],
    tip: StreamTip | None,
    expected_version: int | None,
) -> list[AnyEvent]:
    """The events of one stream to write, or ``ConcurrencyError`` / ``EventNotAllowedError``
    (nothing of the batch is written).

    Events whose id is already stored are left out (the caller returns their original positions);
    the rest must continue the stream: ``current_version + 1``, ``+ 2``, ... in the order given, each
    one allowed by the lifecycle after the one before.
    """
    current_version, phase = (tip or _NO_STREAM).version, (tip or _NO_STREAM).phase
    new: list[AnyEvent] = []
    seen: set[uuid.UUID] = set()
    for event in events:
        if event.event_id not in stored_ids and event.event_id not in seen:
            seen.add(event.event_id)
            new.append(event)
    if not new:
        return new  # an idempotent retry: the stream has moved on, but these are already in it
    stream = str(new[0].analysis_id)
    if expected_version is not None and expected_version != current_version:
        raise ConcurrencyError(stream, expected_version, current_version)
    next_version = current_version + 1
    for event in new:
        if event.version != next_version:
            raise ConcurrencyError(stream, event.version - 1, next_version - 1)
        check(phase, event)
        phase = phase_after(event)
        next_version += 1
    return new
