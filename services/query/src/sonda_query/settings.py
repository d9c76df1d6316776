"""The query service's settings: the shared service ones plus cache, projector and recorder knobs."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from sonda_events.settings import Secret, load_settings
from sonda_service import ServiceSettings
from sonda_storage.config import StorageSettings


def _no_secret() -> Secret:
    return Secret("")


class QuerySettings(ServiceSettings, kw_only=True):
    """Read from the environment with ``load_settings(QuerySettings)``."""

    port: Annotated[int, Meta(ge=0, le=65535)] = 8004
    #: Redis shared by every query instance (results and LLM summaries); empty = in-process cache.
    redis_url: Secret = msgspec.field(default_factory=_no_secret)
    #: Prefix of every Redis key this service writes (several deployments may share one Redis).
    query_cache_prefix: str = "sonda:query:"
    #: Seconds a cached result or summary lives in Redis (entries are also dropped on change).
    query_cache_ttl_s: Annotated[int, Meta(ge=1)] = 3600
    #: Entries kept by the in-process cache used when Redis is not configured.
    query_cache_entries: Annotated[int, Meta(ge=1)] = 256
    #: Largest single value (bytes) the in-process cache keeps; bigger results are not cached.
    query_cache_max_value_bytes: Annotated[int, Meta(ge=1)] = 8 * 1024 * 1024
    #: Bytes the in-process cache holds at most, all entries together.
    query_cache_max_bytes: Annotated[int, Meta(ge=1)] = 128 * 1024 * 1024
    #: Run the recorder (JetStream -> event store) inside this process.
    query_recorder: bool = True
    #: Run the projector (event store -> read models) inside this process.
    query_projector: bool = True
    #: Events applied per projector transaction.
    query_projector_batch: Annotated[int, Meta(ge=1, le=10_000)] = 1000
    #: Seconds the projector sleeps when it has caught up.
    query_projector_poll_s: Annotated[float, Meta(gt=0, le=10)] = 0.1
    #: Seconds a status request for an analysis not yet projected waits for the projector.
    query_status_wait_s: Annotated[float, Meta(ge=0, le=30)] = 2.5
    #: Events of lag after which readiness reports the projection as stalled (when not moving).
    query_max_lag: Annotated[int, Meta(ge=1)] = 10_000

    #: Object storage: results read.
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)


def load() -> QuerySettings:
    return load_settings(QuerySettings)
