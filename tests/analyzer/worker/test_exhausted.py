"""After the last delivery the analysis fails with the reason, never stays stuck.

Two ways to run out of deliveries: every attempt fails transiently inside the worker (here: the
object storage is unreachable), or the workers that took the request died without a word (here: a
consumer that takes it and never acks) — JetStream's max-deliveries advisory covers the latter.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sonda_events.bus import ensure_consumer, provision, work_queue_consumer

from tests.analyzer.worker.harness import (
    Event,
    all_events,
    assert_consecutive,
    publish_request,
    until_true,
    wait_for_events,
)
from tests.analyzer.worker.stack import SettingsFactory, running
from tests.support.servers import free_port

pytestmark = pytest.mark.slow


def _failed(events: list[Event]) -> dict[str, object]:
    assert_consecutive(events)
    assert events[-1]["type"] == "AnalysisFailed"
    data: dict[str, object] = events[-1]["data"]
    assert data["error_code"] == "attempts_exhausted"
    assert data["retryable"] is True
    return data


async def test_transient_failure_on_every_delivery_ends_in_failed_with_the_reason(
    make_settings: SettingsFactory, nc: NatsClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every storage call fails
    settings = make_settings(
        sonda_analyzer_max_deliver=2,
        cloudflare_r2_endpoint_url=dead,
        cloudflare_r2_access_key_id="key",
        cloudflare_r2_secret_access_key="secret",
        cloudflare_r2_bucket_name="nowhere",
    )
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    async with running(settings) as analyzer:
        await publish_request(js, analysis_id, f"uploads/{uuid.uuid4()}/data.csv")
        events = await wait_for_events(js, analysis_id, timeout=60)

        async def counted() -> bool:
            # The counters move when the handler returns, just after its event is on the bus.
            processed = (await analyzer.get("/api/v1/analyzer/info")).json()["processed"]
            return bool(processed["failed"] + processed["completed"] >= 1)

        await until_true(counted)
        info = (await analyzer.get("/api/v1/analyzer/info")).json()
    data = _failed(events)
    assert [e["data"]["attempt"] for e in events if e["type"] == "AnalysisStarted"] == [1, 2]
    assert data["attempt"] == 2
    assert "2 attempts" in str(data["error_message"])
    assert "unreachable" in str(data["error_message"])
    assert info["processed"]["retried"] == 2
    assert info["processed"]["failed"] == 1


async def test_request_whose_workers_all_died_is_failed_by_the_advisory_watcher(
    make_settings: SettingsFactory, nc: NatsClient, tmp_path: Path
) -> None:
    settings = make_settings(sonda_analyzer_max_deliver=2, sonda_analyzer_ack_wait_s=1.0)
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
    await publish_request(js, analysis_id, f"uploads/{uuid.uuid4()}/data.csv")
    # Two workers in turn take the request and die before acking it (or saying anything).
    sub = await js.pull_subscribe_bind(config.durable_name or "", stream="EDA")
    for attempt in (1, 2):
        taken = await sub.fetch(1, timeout=10)
        assert taken[0].metadata.num_delivered == attempt
    await sub.unsubscribe()
    await asyncio.sleep(settings.sonda_analyzer_ack_wait_s + 0.2)

    # A healthy analyzer starts; JetStream will not hand the request out again, but says so.
    async with running(settings):
        events = await wait_for_events(js, analysis_id, timeout=30)
    data = _failed(events)
    assert [e["type"] for e in events] == ["AnalysisRequested", "AnalysisFailed"]
    assert "2 times" in str(data["error_message"])
    await asyncio.sleep(0.3)
    assert len(await all_events(js, analysis_id)) == 2  # failed once, not once per analyzer
