"""The recorder: every event from JetStream into the store exactly once, in order per analysis."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import uuid
from pathlib import Path

import msgspec
import pytest
from nats.aio.client import Client as NatsClient
from sonda_events import codec
from sonda_events.bus import DeadLetter, Publisher
from sonda_events.contract import AnalysisProgress, ProgressData, new_event
from sonda_events.errors import StoreUnavailableError
from sonda_events.recorder import RECORDER_CONSUMER
from sonda_events.store import EventStore
from sonda_events.subjects import DEAD_LETTER_SUBJECT_PREFIX, STREAM_NAME, subject_for

from tests.events.recorder.conftest import (
    recorder_process,
    running_recorder,
    wait_for_position,
)
from tests.events.recorder.helpers import assert_stored_exactly_once, workload
from tests.events.store.conftest import make_events
from tests.support.servers import NatsServer, PostgresCluster


async def _settled(nc: NatsClient) -> None:
    """Wait until the recorder consumer has nothing pending and nothing unacknowledged."""
    js = nc.jetstream()
    for _ in range(250):
        info = await js.consumer_info(STREAM_NAME, RECORDER_CONSUMER)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"consumer not settled: {info}")


async def test_same_event_published_three_times_is_stored_once(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    js = nc.jetstream()
    publisher = Publisher(js)
    (event,) = make_events(uuid.uuid4(), 1)
    await publisher.publish(event)
    await publisher.publish(event)  # JetStream drops it: same Nats-Msg-Id in the duplicate window
    # Another system re-publishes without a message id: it reaches the stream a second time.
    await js.publish(subject_for(event.analysis_id, event.type), codec.encode(event))
    assert (await js.stream_info(STREAM_NAME)).state.messages == 2

    async with running_recorder(pg_url, private_nats.url) as recorder:
        await wait_for_position(store, 1)
        await _settled(nc)
        assert recorder.stats.stored + recorder.stats.duplicates == 2

    recorded = await store.read_all()
    assert [r.event for r in recorded] == [event]
    assert recorder.stats.duplicates == 1
    assert await store.dead_letters() == []


async def test_ten_thousand_events_of_a_hundred_concurrent_analyses(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    streams = workload(100, 100)
    publisher = Publisher(nc.jetstream(), deadline=60)

    async with running_recorder(pg_url, private_nats.url) as recorder:
        # Each analysis publishes its own events in order while the others do the same.
        await asyncio.gather(*(publisher.publish_many(stream) for stream in streams))
        await wait_for_position(store, 10_000)
        await _settled(nc)

    await assert_stored_exactly_once(store, streams)
    assert recorder.stats.stored == 10_000
    assert await store.dead_letters() == []


async def test_two_recorder_instances_store_everything_exactly_once(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    streams = workload(50, 60)
    events = sorted((e for s in streams for e in s), key=lambda e: e.version)  # interleaved
    publisher = Publisher(nc.jetstream(), deadline=60)

    async with (
        running_recorder(pg_url, private_nats.url, batch_size=50) as first,
        running_recorder(pg_url, private_nats.url, batch_size=50) as second,
    ):
        await publisher.publish_many(events)
        await wait_for_position(store, len(events))
        await _settled(nc)

    await assert_stored_exactly_once(store, streams)
    assert first.stats.stored > 0
    assert second.stats.stored > 0
    assert first.stats.stored + second.stats.stored == len(events)
    assert await store.dead_letters() == []


async def test_recorder_killed_mid_stream_loses_and_duplicates_nothing(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    streams = workload(100, 100)
    events = sorted((e for s in streams for e in s), key=lambda e: e.version)
    await Publisher(nc.jetstream(), deadline=60).publish_many(events)

    with recorder_process(pg_url, private_nats.url) as proc:
        await wait_for_position(store, 1000)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    killed_at = await store.last_position()
    assert killed_at < len(events), "the recorder finished before it could be killed"

    with recorder_process(pg_url, private_nats.url) as proc:
        await wait_for_position(store, len(events))
        await _settled(nc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0  # a graceful stop: finish the batch, ack, drain, exit 0

    await assert_stored_exactly_once(store, streams)


async def test_malformed_messages_become_dead_letters_and_recording_goes_on(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    good = make_events(analysis_id, 2)
    bad_progress = msgspec.json.encode(
        {**codec.to_builtins(good[1]), "version": 3, "data": {"progress": 500, "stage": "x"}}
    )
    misplaced = new_event(
        AnalysisProgress,
        analysis_id=uuid.uuid4(),
        version=1,
        data=ProgressData(progress=1, stage="x"),
        producer="elsewhere",
    )
    # Another system publishes straight to NATS, without our helpers.
    await js.publish(subject_for(analysis_id, "AnalysisRequested"), codec.encode(good[0]))
    await js.publish(subject_for(analysis_id, "AnalysisRequested"), b"{not json")
    await js.publish(subject_for(analysis_id, "AnalysisProgress"), bad_progress)
    await js.publish(subject_for(analysis_id, "AnalysisExploded"), b'{"type": "AnalysisExploded"}')
    await js.publish(subject_for(analysis_id, "AnalysisProgress"), codec.encode(misplaced))
    await js.publish(subject_for(analysis_id, "AnalysisProgress"), codec.encode(good[1]))

    async with running_recorder(pg_url, private_nats.url):
        await wait_for_position(store, 2)
        await _settled(nc)

    assert [r.event for r in await store.read_stream(analysis_id)] == good
    letters = sorted(await store.dead_letters(), key=lambda letter: letter.id)
    assert [(letter.error_code, letter.consumer) for letter in letters] == [
        ("invalid_event", RECORDER_CONSUMER),
        ("invalid_event", RECORDER_CONSUMER),
        ("unknown_event_type", RECORDER_CONSUMER),
        ("subject_mismatch", RECORDER_CONSUMER),
    ]
    assert letters[0].payload == b"{not json"
    assert "$.data.progress" in letters[1].reason
    assert letters[3].stream_sequence == 5


async def test_version_taken_by_another_event_is_dead_lettered(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    analysis_id = uuid.uuid4()
    original = make_events(analysis_id, 2)
    rival = make_events(analysis_id, 2, first_version=1)[1:]  # another event claiming version 2
    await Publisher(nc.jetstream()).publish_many([*original, *rival])

    async with running_recorder(pg_url, private_nats.url):
        await wait_for_position(store, 2)
        await _settled(nc)

    assert [r.event for r in await store.read_stream(analysis_id)] == original
    (letter,) = await store.dead_letters()
    assert letter.error_code == "version_conflict"
    assert msgspec.json.decode(letter.payload)["event_id"] == str(rival[0].event_id)


async def test_dead_letters_of_other_consumers_are_copied_into_the_store(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    letter = DeadLetter.build(
        consumer="analyzer",
        subject="eda.analysis.x.requested",
        stream_sequence=12,
        error_code="invalid_event",
        reason="invalid event at $.data.file_key: Expected `str`",
        payload=b'{"type": "AnalysisRequested"}',
    )
    js = nc.jetstream()
    await js.publish(f"{DEAD_LETTER_SUBJECT_PREFIX}.analyzer", msgspec.json.encode(letter))
    await js.publish(f"{DEAD_LETTER_SUBJECT_PREFIX}.analyzer", b"garbage")

    async with running_recorder(pg_url, private_nats.url, copy_dead_letters=True):
        for _ in range(250):
            if len(await store.dead_letters()) == 2:
                break
            await asyncio.sleep(0.02)

    copied, garbage = sorted(await store.dead_letters(), key=lambda d: d.id)
    assert (copied.consumer, copied.subject, copied.stream_sequence, copied.error_code) == (
        "analyzer",
        "eda.analysis.x.requested",
        12,
        "invalid_event",
    )
    assert copied.payload == b'{"type": "AnalysisRequested"}'
    assert garbage.error_code == "invalid_dead_letter"
    assert garbage.payload == b"garbage"


async def test_recorder_over_sqlite(sqlite_url: str, nc: NatsClient, private_nats: NatsServer) -> None:
    """The embedded default: the same recorder over the SQLite store."""
    store = await EventStore.open(sqlite_url)
    try:
        streams = workload(20, 25)
        publisher = Publisher(nc.jetstream())
        async with running_recorder(sqlite_url, private_nats.url, batch_size=100):
            await asyncio.gather(*(publisher.publish_many(stream) for stream in streams))
            await wait_for_position(store, 500)
            await _settled(nc)
        await assert_stored_exactly_once(store, streams)
    finally:
        await store.close()


@pytest.mark.fault
async def test_database_outage_loses_nothing(nc: NatsClient, private_nats: NatsServer) -> None:
    """Postgres stops mid-stream: the recorder naks and waits; after the restart all is stored once."""
    root = Path(tempfile.mkdtemp(prefix="sonda-pg-"))
    root.chmod(0o755)  # the postgres user must reach its data folder (pytest's tmp is root-only)
    cluster = PostgresCluster(root / "data")
    cluster.init()
    cluster.start()
    try:
        store = await EventStore.open(cluster.url)
        streams = workload(40, 50)
        events = sorted((e for s in streams for e in s), key=lambda e: e.version)
        publisher = Publisher(nc.jetstream(), deadline=60)
        async with running_recorder(cluster.url, private_nats.url, batch_size=100) as recorder:
            await publisher.publish_many(events[:1000])
            await wait_for_position(store, 1000)
            cluster.stop("immediate")
            await publisher.publish_many(events[1000:])
            with pytest.raises(StoreUnavailableError):
                await store.last_position()
            await asyncio.sleep(1.0)
            cluster.start()
            await wait_for_position(store, len(events))
            await _settled(nc)
        assert recorder.stats.store_failures > 0
        await assert_stored_exactly_once(store, streams)
        await store.close()
    finally:
        with contextlib.suppress(Exception):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
