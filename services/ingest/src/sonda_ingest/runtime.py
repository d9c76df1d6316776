"""Everything one ingest process runs, built in one place and handed to the routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from sonda_events.bus import (
    Publisher,
    ServerSupport,
    close_nats,
    connect_nats,
    provision,
    require_supported_server,
)
from sonda_events.logging import get_logger
from sonda_events.store import EventStore
from sonda_storage import ObjectStorage, storage_from_settings

from sonda_ingest.commands import AnalysisCommands
from sonda_ingest.history import AnalysisHistory
from sonda_ingest.quota import ActiveAnalyses
from sonda_ingest.retention import Retention, scheduled
from sonda_ingest.settings import IngestSettings

log = get_logger(__name__)


@dataclass
class Ingest:
    settings: IngestSettings
    storage: ObjectStorage
    nc: NatsClient
    commands: AnalysisCommands
    retention: Retention
    store: EventStore | None

    async def check_nats(self) -> ServerSupport:
        """The server and its version; fails when not connected or below Sonda's nats-server floor."""
        if not self.nc.is_connected:
            raise ConnectionError("not connected to NATS")
        return require_supported_server(self.nc)

    async def check_storage(self) -> dict[str, str]:
        return await self.storage.ping()


async def _open_store(settings: IngestSettings) -> EventStore | None:
    """Ingest reads the store for old analyses (delete, clean-up, late idempotent retries).

    It brings the schema up to date like the query service does (the migration is idempotent and
    locked), so ingest started first, or alone, reads an empty store instead of a missing table.
    Without a reachable store, uploads and starts still work; reads answer 503.
    """

    def open_store(migrate: bool) -> Awaitable[EventStore]:
        return EventStore.open(
            settings.resolved_database_url(),
            echo=settings.database.database_echo,
            pool_size=min(settings.database.database_pool_size, 5),
            migrate=migrate,
        )

    try:
        return await open_store(migrate=True)
    except Exception as exc:
        log.warning("event_store_migration_failed", error=str(exc)[:200])
    try:
        return await open_store(migrate=False)
    except Exception as exc:
        log.warning("event_store_unavailable", error=str(exc)[:200])
        return None


@contextlib.asynccontextmanager
async def running_ingest(settings: IngestSettings) -> AsyncIterator[Ingest]:
    """Start storage and NATS, provision the stream, run the retention schedule; close all on exit."""
    storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
    await storage.start()
    try:
        nc = await connect_nats(settings.nats_url, name="sonda-ingest")
        store: EventStore | None = None
        try:
            js = nc.jetstream()
            await provision(js)
            store = await _open_store(settings)
            publisher = Publisher(nc, request_timeout=2.0, deadline=settings.sonda_publish_deadline_s)
            history = AnalysisHistory(nc, store)
            commands = AnalysisCommands(
                storage=storage,
                publisher=publisher,
                history=history,
                max_upload_bytes=settings.max_upload_bytes(),
                publish_deadline=settings.sonda_publish_deadline_s,
                quota=ActiveAnalyses(history, settings.sonda_max_active_analyses_per_key),
            )
            retention = Retention(
                storage=storage,
                publisher=publisher,
                history=history,
                publish_deadline=settings.sonda_publish_deadline_s,
                batch=settings.sonda_cleanup_batch,
            )
            log.info("ingest_started", storage=storage.kind, store=store is not None)
            async with scheduled(retention, settings.sonda_retention_days, settings.sonda_cleanup_interval_s):
                yield Ingest(settings, storage, nc, commands, retention, store)
        finally:
            await close_nats(nc)
            if store is not None:
                await store.close()
    finally:
        await storage.close()
