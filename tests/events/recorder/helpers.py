"""Shared checks of the recorder tests."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sonda_events.contract import AnyEvent
from sonda_events.store import EventStore

from tests.events.store.conftest import make_events


def workload(analyses: int, per_analysis: int) -> list[list[AnyEvent]]:
    return [make_events(uuid.uuid4(), per_analysis) for _ in range(analyses)]


async def assert_stored_exactly_once(store: EventStore, streams: list[list[AnyEvent]]) -> None:
    """Every event once, each stream complete and in version order, positions gap-free."""
    recorded = await store.read_all(limit=1_000_000)
    expected = {e.event_id: e for stream in streams for e in stream}
    assert len(recorded) == len(expected)
    assert {r.event.event_id for r in recorded} == set(expected)
    assert [r.position for r in recorded] == list(range(1, len(recorded) + 1))
    by_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for r in recorded:
        assert r.event == expected[r.event.event_id]
        by_stream[r.event.analysis_id].append(r.event.version)
    for stream in streams:
        assert by_stream[stream[0].analysis_id] == list(range(1, len(stream) + 1))
