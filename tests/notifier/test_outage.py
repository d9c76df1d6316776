"""A NATS restart: connected clients keep their socket and get the events after it, a client that
connects during the outage is told to come back (1013), and the instance does not replay old events."""

from __future__ import annotations

import pytest
from sonda_events.bus import close_nats, connect_nats, provision

from tests.notifier.conftest import Producer, serve_notifier, ws_client
from tests.support.servers import NatsServer


@pytest.mark.fault
async def test_nats_restart_loses_nothing_and_replays_nothing(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="test-producer")
    await provision(nc.jetstream())
    producer = Producer(nc)
    old = await producer.request()
    await producer.run(old, 30)  # history from before the notifier started: 33 events
    async with serve_notifier(private_nats.url) as notifier:
        async with ws_client(notifier.ws_url(old.analysis_id)) as connected:
            await connected.until_terminal()
            assert connected.positions == [32, 33]

            private_nats.stop()
            async with ws_client(notifier.ws_url(old.analysis_id)) as during:
                code, reason = await during.closed(timeout=10)
            assert code == 1013, reason
            private_nats.start()

            # the producer's and the notifier's connections come back by themselves, and the client
            # that stayed connected through the outage gets what happened after it
            await producer.delete(old)
            deleted = await connected.next(timeout=20)
            assert (deleted["type"], deleted["position"]) == ("analysis_deleted", 34)
        info = await notifier.info()
        # the feed resumed where it was (the stream's end), not from the beginning
        assert info["events_received"] == 1
        async with ws_client(notifier.ws_url(old.analysis_id, since=30)) as later:
            for _ in range(5):
                await later.next()
        assert later.positions == [31, 32, 33, 34]
    await close_nats(nc)
