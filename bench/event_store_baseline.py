"""The baseline of the event store benchmark: the ``eventsourcing`` library's PostgreSQL recorder.

``PostgresApplicationRecorder.insert_events`` stores the same events (the whole envelope as
``state``); ``select_notifications`` reads them back. For the end-to-end rows this file is also the
baseline's recorder process (``python bench/event_store_baseline.py <dsn> <nats url>``): the
recorder's pipeline with ``insert_events`` in place of ``EventStore.record``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import msgspec
import psycopg
from event_store_support import (  # type: ignore[import-not-found]
    READ_PASSES,
    Result,
    by_stream,
    end_to_end,
)
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from nats.aio.msg import Msg
from sonda_events.bus import connect_nats
from sonda_events.bus.batch import BatchPuller
from sonda_events.bus.provisioning import ensure_consumer
from sonda_events.contract import AnyEvent
from sonda_events.recorder import recorder_consumer_config
from sonda_events.recorder.decoding import decode_event
from sonda_events.subjects import STREAM_NAME

BASELINE_CONSUMER = "baseline-recorder"
BASELINE_TABLE = "recorded_events"


def es_recorder(params: dict[str, str], table: str) -> PostgresApplicationRecorder:
    datastore = PostgresDatastore(
        dbname=params["dbname"],
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        user=params.get("user", "postgres"),
        password=params.get("password", ""),
        pool_size=2,
    )
    app_recorder = PostgresApplicationRecorder(datastore, events_table_name=table)
    app_recorder.create_table()
    return app_recorder


def stored_event(event: AnyEvent) -> StoredEvent:
    return StoredEvent(
        originator_id=event.analysis_id,
        originator_version=event.version,
        topic=f"sonda_events.contract:{event.type}",
        state=msgspec.json.encode(event),
    )


def baseline(params: dict[str, str], events: list[AnyEvent], batch: int) -> list[Result]:
    results = []
    typed = msgspec.json.Decoder(AnyEvent)
    per_stream = es_recorder(params, "events_per_stream")
    streams = [[stored_event(e) for e in stream] for stream in by_stream(events)]
    start = time.perf_counter()
    for stream in streams:
        per_stream.insert_events(stream)
    results.append(
        Result("append", len(events), time.perf_counter() - start, "insert_events, one aggregate per call")
    )

    batched = es_recorder(params, "events_batched")
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        batched.insert_events([stored_event(e) for e in events[i : i + batch]])
    results.append(
        Result("record", len(events), time.perf_counter() - start, f"insert_events, {batch} per call")
    )

    read = float("inf")
    for _ in range(READ_PASSES):
        start = time.perf_counter()
        position, count = 1, 0
        while notifications := batched.select_notifications(position, 1000):
            position, count = notifications[-1].id + 1, count + len(notifications)
            for notification in notifications:  # decode to typed events like ours: a fair comparison
                typed.decode(notification.state)
        read = min(read, time.perf_counter() - start)
    results.append(Result("read_all", count, read, "select_notifications, 1000"))
    per_stream.datastore.close()
    batched.datastore.close()
    return results


async def run_baseline_recorder(dsn: str, nats_url: str) -> None:
    """The recorder's pipeline (pull 500, decode, insert, ack after commit, next batch fetched
    meanwhile) with eventsourcing's ``insert_events`` in place of ``EventStore.record``."""
    params = dict(part.split("=", 1) for part in dsn.split())
    recorder = es_recorder(params, BASELINE_TABLE)
    nc = await connect_nats(nats_url, name=BASELINE_CONSUMER)
    js = nc.jetstream()
    config = recorder_consumer_config()
    config.durable_name = BASELINE_CONSUMER
    await ensure_consumer(js, STREAM_NAME, config)
    puller = BatchPuller(nc, STREAM_NAME, BASELINE_CONSUMER)
    batches: asyncio.Queue[list[Msg]] = asyncio.Queue(maxsize=1)

    async def fetch() -> None:
        while True:
            if msgs := await puller.fetch(500, timeout=1.0):
                await batches.put(msgs)

    fetcher = asyncio.create_task(fetch())
    try:
        while True:
            msgs = await batches.get()
            rows = [stored_event(decode_event(msg.data)) for msg in msgs]
            await asyncio.to_thread(recorder.insert_events, rows)
            for msg in msgs:
                await msg.ack()
            await nc.flush()
    finally:
        fetcher.cancel()


async def baseline_end_to_end(
    dsn_params: dict[str, str], nats_url: str, events: list[AnyEvent], *, backlog: bool = False
) -> Result:
    dsn = " ".join(f"{k}={v}" for k, v in dsn_params.items())
    es_recorder(dsn_params, BASELINE_TABLE).datastore.close()  # the table exists before counting
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:

        async def stored() -> int:
            cursor = await conn.execute(f"SELECT count(*) FROM {BASELINE_TABLE}")
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

        elapsed, _ = await end_to_end(
            nats_url,
            events,
            commands=[[sys.executable, __file__, dsn, nats_url]],
            env={},
            consumer=BASELINE_CONSUMER,
            stored=stored,
            backlog=backlog,
        )
    return Result(
        "backlog -> stored" if backlog else "publish -> stored",
        len(events),
        elapsed,
        "the same pipeline in a process, eventsourcing's insert_events instead of record",
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_baseline_recorder(sys.argv[1], sys.argv[2]))
