"""Promises of ``EventStore.append``, against Postgres and SQLite."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sonda_events.errors import ConcurrencyError
from sonda_events.store import EventStore

from tests.events.store.conftest import make_events


async def test_events_round_trip_exactly(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 3)
    await store.append(events, expected_version=0, stream_sequence=42)
    recorded = await store.read_stream(analysis_id)
    assert [r.event for r in recorded] == events
    assert all(r.stream_sequence == 42 for r in recorded)
    assert all(r.recorded_at.tzinfo is not None for r in recorded)


async def test_duplicate_event_id_stores_nothing_and_returns_original_positions(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 3)
    first = await store.append(events)
    await store.append(make_events(uuid.uuid4(), 2))  # move the global position on
    last = await store.last_position()

    again = await store.append(events, expected_version=0)  # a retry with its original expectation

    assert again.positions == first.positions
    assert again.stored == 0
    assert await store.last_position() == last
    assert len(await store.read_stream(analysis_id)) == 3


async def test_stale_expected_version_fails_and_writes_nothing(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 4)
    await store.append(events[:2], expected_version=0)
    before = await store.last_position()

    with pytest.raises(ConcurrencyError) as caught:
        await store.append(events[2:], expected_version=1)

    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert caught.value.code == "version_conflict"
    assert await store.last_position() == before
    assert await store.stream_version(analysis_id) == 2


async def test_batch_append_is_atomic(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 5)
    broken = [*events[:3], events[4]]  # version 5 after 3: the whole batch must be refused

    with pytest.raises(ConcurrencyError):
        await store.append(broken)

    assert await store.read_stream(analysis_id) == []
    assert await store.last_position() == 0


async def test_versions_are_contiguous_from_one(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 6)
    with pytest.raises(ConcurrencyError):
        await store.append(events[1:2])  # version 2 into an empty stream

    for i in range(0, 6, 2):
        await store.append(events[i : i + 2], expected_version=i)
    with pytest.raises(ConcurrencyError):
        await store.append(make_events(analysis_id, 1, first_version=8))

    recorded = await store.read_stream(analysis_id)
    assert [r.event.version for r in recorded] == [1, 2, 3, 4, 5, 6]
    assert [r.event.event_id for r in recorded] == [e.event_id for e in events]
    assert [r.position for r in recorded] == sorted(r.position for r in recorded)
    assert [r.event.version for r in await store.read_stream(analysis_id, after_version=4)] == [5, 6]
    assert await store.stream_version(analysis_id) == 6
    assert await store.stream_version(uuid.uuid4()) == 0


async def test_racing_writers_on_one_stream_exactly_one_wins(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    await store.append(make_events(analysis_id, 1))
    # Ten writers all read version 1 and each try to append their own version 2.
    candidates = [make_events(analysis_id, 1, first_version=2) for _ in range(10)]
    results = await asyncio.gather(
        *(store.append(c, expected_version=1) for c in candidates), return_exceptions=True
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in losers)
    assert await store.stream_version(analysis_id) == 2


async def test_append_takes_one_stream(store: EventStore) -> None:
    mixed = [*make_events(uuid.uuid4(), 1), *make_events(uuid.uuid4(), 1)]
    with pytest.raises(ValueError, match="one stream"):
        await store.append(mixed)
    with pytest.raises(ValueError, match="at least one"):
        await store.append([])
