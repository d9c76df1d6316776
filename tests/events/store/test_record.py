"""``EventStore.record``: the recorder's batched path over many streams in one transaction."""

from __future__ import annotations

import uuid

from sonda_events.store import EventStore, Incoming

from tests.events.store.conftest import make_events


def incoming(events: list, first_sequence: int = 1) -> list[Incoming]:  # type: ignore[type-arg]
    return [Incoming(event=e, stream_sequence=first_sequence + i) for i, e in enumerate(events)]


async def test_batch_of_many_streams_is_stored_in_order(store: EventStore) -> None:
    streams = {}
    for _ in range(20):
        analysis_id = uuid.uuid4()
        streams[analysis_id] = make_events(analysis_id, 5)
    # Interleave the streams, as JetStream delivers them.
    batch = [streams[a][v] for v in range(5) for a in streams]

    outcomes = await store.record(incoming(batch))

    assert [o.status for o in outcomes] == ["stored"] * 100
    assert [o.position for o in outcomes] == list(range(1, 101))
    for analysis_id, events in streams.items():
        recorded = await store.read_stream(analysis_id)
        assert [r.event for r in recorded] == events
    everything = await store.read_all(limit=1000)
    assert [r.event.event_id for r in everything] == [e.event_id for e in batch]
    assert [r.stream_sequence for r in everything] == list(range(1, 101))


async def test_redelivered_events_are_duplicates_with_their_original_position(store: EventStore) -> None:
    events = make_events(uuid.uuid4(), 3)
    first = await store.record(incoming(events))
    # A fetch can even hold the same message twice (redelivered before the first ack arrived).
    again = await store.record(incoming([events[0], *events, events[2]]))

    assert [o.status for o in again] == ["duplicate"] * 5
    assert [o.position for o in again] == [1, 1, 2, 3, 3]
    assert [o.position for o in first] == [1, 2, 3]
    assert await store.last_position() == 3


async def test_copy_within_one_batch_is_stored_once(store: EventStore) -> None:
    events = make_events(uuid.uuid4(), 2)
    outcomes = await store.record(incoming([events[0], events[0], events[1]]))
    assert [(o.status, o.position) for o in outcomes] == [
        ("stored", 1),
        ("duplicate", 1),
        ("stored", 2),
    ]


async def test_gap_is_reported_and_fills_later(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 4)
    outcomes = await store.record(incoming([events[0], events[2], events[3]]))
    assert [o.status for o in outcomes] == ["stored", "gap", "gap"]
    assert outcomes[1].stream_version == 1

    # The missing version arrives, then the retried ones.
    assert [o.status for o in await store.record(incoming([events[1]]))] == ["stored"]
    assert [o.status for o in await store.record(incoming(events[2:]))] == ["stored", "stored"]
    assert [r.event.version for r in await store.read_stream(analysis_id)] == [1, 2, 3, 4]


async def test_out_of_order_versions_in_one_batch_get_positions_in_version_order(
    store: EventStore,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    ea, eb = make_events(a, 3), make_events(b, 2)
    # Published in this order (each version after the one it follows), delivered shuffled.
    published = {e.event_id: seq for seq, e in enumerate([ea[0], eb[0], ea[1], eb[1], ea[2]], start=1)}
    batch = [ea[2], eb[0], ea[0], eb[1], ea[1]]

    outcomes = await store.record([Incoming(event=e, stream_sequence=published[e.event_id]) for e in batch])

    assert all(o.status == "stored" for o in outcomes)
    recorded = await store.read_stream(a)
    assert [r.event.version for r in recorded] == [1, 2, 3]
    assert [r.position for r in recorded] == sorted(r.position for r in recorded)
    assert sorted(o.position or 0 for o in outcomes) == [1, 2, 3, 4, 5]


async def test_version_taken_by_another_event_is_a_conflict(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    await store.record(incoming(make_events(analysis_id, 2)))
    impostor = make_events(analysis_id, 1, first_version=2)  # same version 2, another event id

    (outcome,) = await store.record(incoming(impostor))

    assert outcome.status == "conflict"
    assert outcome.stream_version == 2
    assert not outcome.settled
    assert await store.last_position() == 2


async def test_two_events_claiming_one_version_in_a_batch(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    first = make_events(analysis_id, 1)
    rival = make_events(analysis_id, 1)
    outcomes = await store.record(incoming([*first, *rival]))
    assert [o.status for o in outcomes] == ["stored", "conflict"]
    (recorded,) = await store.read_stream(analysis_id)
    assert recorded.event == first[0]


async def test_record_and_append_share_one_history(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    events = make_events(analysis_id, 4)
    await store.append(events[:2])
    outcomes = await store.record(incoming(events))
    assert [o.status for o in outcomes] == ["duplicate", "duplicate", "stored", "stored"]
    assert await store.stream_version(analysis_id) == 4
    assert await store.record([]) == []
