"""Readiness of the recorder: far behind JetStream and not moving is a failure; catching up is not."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nats.aio.client import Client as NatsClient
from sonda_events.bus import Publisher
from sonda_events.bus.provisioning import ensure_consumer
from sonda_events.recorder import RECORDER_CONSUMER, recorder_consumer_config
from sonda_events.recorder.watch import RecorderStalledError, RecorderWatch
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME

from tests.events.recorder.conftest import running_recorder
from tests.events.recorder.test_poison_flood import _settled, analysis_stream
from tests.support.servers import NatsServer


async def test_a_stalled_recorder_fails_readiness_and_a_working_one_passes(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    watch = RecorderWatch(nc, max_behind=10, stall_s=0.5)
    assert await watch.check() == {"consumer": "not created yet"}
    # The consumer exists (a recorder ran once) but no recorder takes the 25 events published now.
    await ensure_consumer(nc.jetstream(), STREAM_NAME, recorder_consumer_config())
    await Publisher(nc.jetstream()).publish_many([e for _ in range(5) for e in analysis_stream(uuid.uuid4())])
    # JetStream counts a consumer's pending messages a moment after their publish acks (later still
    # on a busy machine): wait until it shows all 25, then take the watch's first reading.
    for _ in range(200):
        info = await nc.jetstream().consumer_info(STREAM_NAME, RECORDER_CONSUMER)
        if info.num_pending == 25:
            break
        await asyncio.sleep(0.05)
    report = await watch.check()
    assert report["behind"] == 25, report  # behind, but not for long enough to call it stuck
    await asyncio.sleep(0.6)
    with pytest.raises(RecorderStalledError, match="25 messages behind"):
        await watch.check()

    async with running_recorder(pg_url, private_nats.url):
        await _settled(nc)
        report = await watch.check()
    assert report["behind"] == 0 and report["ack_floor"] == 25
    await asyncio.sleep(0.6)
    assert (await watch.check())["behind"] == 0  # nothing waiting: idle is fine
