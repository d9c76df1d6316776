"""Duplicates, stale redeliveries and a newer writer: an analysis ends once, and a stale worker stops.

Each test runs its own analyzer, so the counters in /info belong to it alone.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from sonda_events.bus import AnalysisWriter, Publisher, ensure_consumer, provision, work_queue_consumer
from sonda_events.contract import AnalysisDeleted, DeletedData
from sonda_storage import ObjectStorage

from tests.analyzer.worker.datasets import BigFile, make_frame, write
from tests.analyzer.worker.harness import (
    Event,
    all_events,
    assert_consecutive,
    publish_request,
    until_true,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import SettingsFactory, running

pytestmark = pytest.mark.slow


def _types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


async def test_same_request_published_twice_at_once_is_analysed_once(
    make_settings: SettingsFactory, nc: NatsClient, storage: ObjectStorage, tmp_path: Any
) -> None:
    js = nc.jetstream()
    dataset = write("csv", tmp_path, make_frame(rows=200))
    key = await upload(storage, dataset.path)
    analysis_id = uuid.uuid4()
    # An at-least-once producer without message ids: the same request twice, back to back. Both
    # are in the stream before the analyzer starts, so they are truly "at once": a running analyzer
    # could otherwise start the first before the second arrives (that case is the test below).
    await provision(js)
    request = await publish_request(js, analysis_id, key)
    await js.publish(
        f"eda.analysis.{analysis_id}.requested",
        json.dumps(request).encode(),
        headers={"Nats-Msg-Id": "again"},
    )
    async with running(make_settings(sonda_analyzer_concurrency=2)) as analyzer:

        async def settled() -> bool:
            info = (await analyzer.get("/api/v1/analyzer/info")).json()
            return bool(info["processed"]["skipped"] == 1 and info["processed"]["completed"] == 1)

        await until_true(settled)
    types = _types(await all_events(js, analysis_id))
    assert types[:2] == ["AnalysisRequested", "AnalysisRequested"]
    assert types.count("AnalysisStarted") == 1
    assert types.count("AnalysisCompleted") == 1
    assert types[-1] == "AnalysisCompleted"


async def test_request_delivered_again_after_completion_does_not_complete_twice(
    make_settings: SettingsFactory, nc: NatsClient, storage: ObjectStorage, tmp_path: Any
) -> None:
    js = nc.jetstream()
    dataset = write("csv", tmp_path, make_frame(rows=200))
    async with running(make_settings()) as analyzer:
        analysis_id = uuid.uuid4()
        request = await publish_request(js, analysis_id, await upload(storage, dataset.path))
        first = await wait_for_events(js, analysis_id)
        assert first[-1]["type"] == "AnalysisCompleted"
        # The other system sends the very same request again (its own retry, a new message id).
        await js.publish(
            f"eda.analysis.{analysis_id}.requested",
            json.dumps(request).encode(),
            headers={"Nats-Msg-Id": "retry-1"},
        )

        async def skipped() -> bool:
            info = (await analyzer.get("/api/v1/analyzer/info")).json()
            return bool(info["processed"]["skipped"] == 1)

        await until_true(skipped)
        events = await all_events(js, analysis_id)
    assert events[: len(first)] == first
    assert _types(events[len(first) :]) == ["AnalysisRequested"]  # nothing followed the duplicate
    assert _types(events).count("AnalysisCompleted") == 1
    assert _types(events).count("AnalysisStarted") == 1


async def test_stale_redelivery_of_a_finished_analysis_is_acked_and_skipped(
    make_settings: SettingsFactory, nc: NatsClient, storage: ObjectStorage
) -> None:
    settings = make_settings(sonda_analyzer_ack_wait_s=1.0)
    js = nc.jetstream()
    await provision(js)
    config = work_queue_consumer(
        settings.sonda_analyzer_consumer,
        "eda.analysis.*.requested",
        max_deliver=settings.sonda_analyzer_max_deliver,
        ack_wait_s=settings.sonda_analyzer_ack_wait_s,
    )
    await ensure_consumer(js, "EDA", config)
    analysis_id = uuid.uuid4()
    await publish_request(js, analysis_id, f"uploads/{uuid.uuid4()}/gone.csv")
    # A worker takes the request (first delivery) and dies without acking; meanwhile the analysis
    # is deleted, so when JetStream redelivers it there is nothing left to do.
    sub = await js.pull_subscribe_bind(config.durable_name or "", stream="EDA")
    taken = await sub.fetch(1, timeout=5)
    assert taken[0].metadata.num_delivered == 1
    writer = await AnalysisWriter.resume(Publisher(js), analysis_id, producer="ingest")
    await writer.emit(AnalysisDeleted, DeletedData(reason="user asked"))
    await sub.unsubscribe()

    async with running(settings) as analyzer:

        async def skipped() -> bool:
            info = (await analyzer.get("/api/v1/analyzer/info")).json()
            return bool(info["processed"]["skipped"] == 1)

        await until_true(skipped)
        consumer = await js.consumer_info("EDA", config.durable_name or "")
    assert consumer.num_ack_pending == 0
    assert _types(await all_events(js, analysis_id)) == ["AnalysisRequested", "AnalysisDeleted"]


async def test_worker_overtaken_by_a_newer_event_stops_quietly_and_acks(
    make_settings: SettingsFactory, nc: NatsClient, storage: ObjectStorage, big_csv: BigFile
) -> None:
    settings = make_settings(sonda_analyzer_ack_wait_s=1.0)
    js = nc.jetstream()
    async with running(settings) as analyzer:
        analysis_id = uuid.uuid4()
        await publish_request(js, analysis_id, await upload(storage, big_csv.path))

        def profiling(events: list[Event]) -> bool:
            return any(
                e["type"] == "AnalysisProgress" and e["data"]["stage"] != "downloading" for e in events
            )

        await wait_for_events(js, analysis_id, until=profiling)
        # Someone else appends to the analysis (here: a delete, as ingest would) while it is profiled.
        writer = await AnalysisWriter.resume(Publisher(js), analysis_id, producer="ingest")
        await writer.emit(AnalysisDeleted, DeletedData(reason="user asked"))

        async def superseded() -> bool:
            info = (await analyzer.get("/api/v1/analyzer/info")).json()
            return bool(info["processed"]["superseded"] == 1 and not info["in_flight"])

        await until_true(superseded)
        await asyncio.sleep(settings.sonda_analyzer_ack_wait_s + 0.5)  # no redelivery comes
        consumer = await js.consumer_info("EDA", settings.sonda_analyzer_consumer)
        info = (await analyzer.get("/api/v1/analyzer/info")).json()
    events = await all_events(js, analysis_id)
    assert_consecutive(events)
    assert events[-1]["type"] == "AnalysisDeleted"
    assert not {"AnalysisCompleted", "AnalysisFailed"} & set(_types(events))
    assert consumer.num_ack_pending == 0
    assert consumer.num_redelivered == 0
    assert info["processed"]["completed"] == 0
