"""Everything one notifier instance runs, built in one place and handed to the routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from sonda_events.bus import ServerSupport, close_nats, connect_nats, provision, require_supported_server
from sonda_events.logging import get_logger
from sonda_events.store import EventStore

from sonda_notifier.feed import Feed
from sonda_notifier.history import History
from sonda_notifier.hub import Hub
from sonda_notifier.messages import CloseCode
from sonda_notifier.settings import NotifierSettings

log = get_logger(__name__)


@dataclass
class Notifier:
    settings: NotifierSettings
    hub: Hub
    history: History
    feed: Feed
    nc: NatsClient
    store: EventStore | None

    async def check_nats(self) -> ServerSupport:
        """The server and its version; fails when not connected or below Sonda's nats-server floor."""
        if not self.nc.is_connected or not self.feed.running:
            raise ConnectionError("not connected to NATS")
        return require_supported_server(self.nc)

    async def check_store(self) -> str:
        """Reported, never failing: the store only serves events older than JetStream's window, so a
        database blip must not take this instance out of its balancer."""
        if self.store is None:
            return "not used"
        try:
            await self.store.ping()
        except Exception as exc:
            return f"unreachable, serving JetStream's window only: {str(exc)[:120]}"
        return "ok"


async def _open_store(settings: NotifierSettings) -> EventStore | None:
    """The store is a fallback for old events: without it the notifier still serves JetStream's window."""
    if not settings.sonda_notifier_event_store:
        return None
    try:
        # The query service owns migrations; the notifier only reads.
        return await EventStore.open(
            settings.resolved_database_url(),
            echo=settings.database.database_echo,
            pool_size=min(settings.database.database_pool_size, 5),
            migrate=False,
        )
    except Exception as exc:
        log.warning("event_store_unavailable", error=str(exc)[:200])
        return None


@contextlib.asynccontextmanager
async def running_notifier(settings: NotifierSettings) -> AsyncIterator[Notifier]:
    """Connect NATS, start this instance's feed, and on exit close every connection and drain."""
    instance_id = settings.instance_id()
    nc = await connect_nats(settings.nats_url, name=f"sonda-notifier-{instance_id}")
    store: EventStore | None = None
    feed: Feed | None = None
    try:
        js = nc.jetstream()
        await provision(js)
        store = await _open_store(settings)
        hub = Hub(instance_id)
        feed = Feed(js, hub)
        await feed.start()
        log.info("notifier_started", instance_id=instance_id, store=store is not None)
        yield Notifier(settings, hub, History(nc, store), feed, nc, store)
        hub.stop_all(CloseCode.GOING_AWAY, "server shutting down")
    finally:
        if feed is not None:
            await feed.stop()
        await close_nats(nc)
        if store is not None:
            await store.close()
