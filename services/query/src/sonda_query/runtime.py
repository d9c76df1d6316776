"""One place that builds and wires the query service: store, storage, cache, recorder, projector.

``running_query`` opens everything in order, starts the background workers (recorder, dead-letter
copier, projector), and on exit stops them (the recorder finishes and acks its batch), drains NATS
and closes the rest in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client as NatsClient
from sonda_events.bus import close_nats, connect_nats, provision, redact_url
from sonda_events.errors import NatsUnsupportedError
from sonda_events.logging import get_logger
from sonda_events.recorder import build_dead_letter_copier, build_recorder
from sonda_events.recorder.watch import RecorderWatch
from sonda_events.store import EventStore
from sonda_storage import ObjectStorage, storage_from_settings

from sonda_query.cache import Cache, LocalCache, RedisCache
from sonda_query.health import HealthChecks
from sonda_query.llm.tokens import Tokenizer
from sonda_query.lookup import StreamLookup
from sonda_query.projection.projections import ALL
from sonda_query.projection.projector import Projector
from sonda_query.projection.rebuild import rebuild_all
from sonda_query.reader import Reader, connected
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.engine import read_engine
from sonda_query.readmodel.schema import ensure_schema, outdated
from sonda_query.results import ResultObjects
from sonda_query.service import QueryService
from sonda_query.settings import QuerySettings

log = get_logger(__name__)

NATS_CONNECT_S = 5.0


@dataclass
class Query:
    """What the handlers and health checks use, plus the workers' handles for tests."""

    settings: QuerySettings
    store: EventStore
    storage: ObjectStorage
    cache: Cache
    service: QueryService
    checks: HealthChecks
    projector: Projector | None
    nats: NatsClient | None


def build_cache(settings: QuerySettings) -> Cache:
    url = settings.redis_url.reveal()
    if url:
        return RedisCache.from_url(url, prefix=settings.query_cache_prefix, ttl_s=settings.query_cache_ttl_s)
    return LocalCache(
        max_analyses=settings.query_cache_entries,
        max_value_bytes=settings.query_cache_max_value_bytes,
        max_bytes=settings.query_cache_max_bytes,
    )


class GenerationClock:
    """The projections' generation when no projector runs here: read at most once a second."""

    def __init__(self, store: EventStore, projector: Projector | None) -> None:
        self._store = store
        self._projector = projector
        self._value = 0
        self._read_at = float("-inf")

    async def __call__(self) -> int:
        if self._projector is not None:
            return self._projector.generation
        if time.monotonic() - self._read_at > 1.0:
            async with connected(self._store.engine) as conn:
                found = await checkpoints.read(conn, [p.name for p in ALL])
            self._value = sum(c.generation for c in found.values())
            self._read_at = time.monotonic()
        return self._value


async def _connect(settings: QuerySettings) -> NatsClient | None:
    """NATS is required for the recorder; otherwise it only helps the status lookup."""
    try:
        # nats-py retries a refused first connection forever when reconnects are unlimited.
        nc = await asyncio.wait_for(connect_nats(settings.nats_url, name="sonda-query"), NATS_CONNECT_S)
    except NatsUnsupportedError:
        raise  # a server Sonda does not run on is refused, even when only the status lookup uses it
    except Exception as exc:
        if settings.query_recorder:
            raise
        log.warning("nats_unavailable", error=type(exc).__name__, url=redact_url(settings.nats_url))
        return None
    await provision(nc.jetstream())
    return nc


@contextlib.asynccontextmanager
async def running_query(settings: QuerySettings) -> AsyncIterator[Query]:
    async with contextlib.AsyncExitStack() as stack:
        store = await EventStore.open(
            settings.resolved_database_url(),
            echo=settings.database.database_echo,
            pool_size=settings.database.database_pool_size,
        )
        stack.push_async_callback(store.close)
        found = await ensure_schema(store.engine)
        stale = outdated(ALL, found)
        if stale:
            log.info("projections_outdated_rebuilding", projections=[p.name for p in stale])
            await rebuild_all(store, stale)
        storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
        await storage.start()
        stack.push_async_callback(storage.close)
        cache = build_cache(settings)
        stack.push_async_callback(cache.close)
        tokenizer = await asyncio.to_thread(Tokenizer)
        nc = await _connect(settings)
        if nc is not None:
            stack.push_async_callback(close_nats, nc)

        async def invalidate(ids: set[uuid.UUID], _generation: int) -> None:
            await cache.invalidate(ids)

        projector = None
        if settings.query_projector:
            projector = Projector(
                store,
                batch_size=settings.query_projector_batch,
                poll_s=settings.query_projector_poll_s,
                on_change=invalidate,
            )
        reads = read_engine(store.engine, pool_size=settings.database.database_pool_size)
        if reads is not store.engine:
            stack.push_async_callback(reads.dispose)
        service = QueryService(
            reader=Reader(reads),
            lookup=StreamLookup(store, nc),
            results=ResultObjects(storage),
            cache=cache,
            tokenizer=tokenizer,
            generation=GenerationClock(store, projector),
            status_wait_s=settings.query_status_wait_s,
        )
        checks = HealthChecks(
            store=store,
            storage=storage,
            cache=cache,
            projector=projector.stats if projector is not None else None,
            nats=nc,
            max_lag=settings.query_max_lag,
            # Whoever runs the recorder (this process or a standalone one), it must keep up.
            recorder=RecorderWatch(nc, max_behind=settings.query_max_lag) if nc is not None else None,
        )
        stop = asyncio.Event()
        workers: list[Coroutine[Any, Any, None]] = []
        if projector is not None:
            workers.append(projector.run(stop))
        if settings.query_recorder and nc is not None:
            workers.append(build_recorder(store, nc).run(stop))
            workers.append(build_dead_letter_copier(store, nc).run(stop))
        tasks = [asyncio.create_task(worker) for worker in workers]
        log.info("query_started", projector=projector is not None, recorder=settings.query_recorder)
        try:
            yield Query(
                settings=settings,
                store=store,
                storage=storage,
                cache=cache,
                service=service,
                checks=checks,
                projector=projector,
                nats=nc,
            )
        finally:
            stop.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=10)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
