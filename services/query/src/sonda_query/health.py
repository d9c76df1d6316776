"""Health of what the query service depends on: database, storage, projection lag, cache, NATS."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sonda_events.bus import require_supported_server
from sonda_events.recorder.watch import RecorderWatch
from sonda_events.store import EventStore
from sonda_storage import ObjectStorage

from sonda_query.cache import Cache
from sonda_query.projection.projections import ALL
from sonda_query.projection.projector import ProjectorStats
from sonda_query.readmodel import checkpoints

#: A projection that has not moved for this long while behind is reported as stalled.
STALL_S = 30.0


class ProjectionStalledError(Exception):
    pass


class HealthChecks:
    def __init__(
        self,
        *,
        store: EventStore,
        storage: ObjectStorage,
        cache: Cache,
        projector: ProjectorStats | None,
        nats: Any | None,
        max_lag: int,
        recorder: RecorderWatch | None = None,
    ) -> None:
        self._recorder = recorder
        self._store = store
        self._storage = storage
        self._cache = cache
        self._projector = projector
        self._nats = nats
        self._max_lag = max_lag

    async def database(self) -> dict[str, Any]:
        await self._store.ping()
        return {
            "dialect": self._store.engine.dialect.name,
            "store_position": await self._store.last_position(),
        }

    async def storage(self) -> dict[str, Any]:
        return {**(await self._storage.ping()), "kind": self._storage.kind}

    async def cache(self) -> dict[str, Any]:
        return await self._cache.ping()

    async def nats(self) -> dict[str, Any]:
        if self._nats is None:
            return {"connected": False, "used": False}
        if not self._nats.is_connected:
            raise ConnectionError("NATS is not connected")
        return {"connected": True, **msgspec.structs.asdict(require_supported_server(self._nats))}

    async def recorder(self) -> dict[str, Any]:
        """How far the recorder (JetStream -> store) is behind; fails when far behind and stuck."""
        if self._recorder is None:
            return {"used": False}
        return await self._recorder.check()

    async def projection(self) -> dict[str, Any]:
        """Each projection's position and lag; fails when one is far behind and not moving."""
        head = await self._store.last_position()
        async with self._store.engine.connect() as conn:
            found = await checkpoints.read(conn, [p.name for p in ALL])
        report: dict[str, Any] = {"store_position": head, "projections": {}}
        worst = 0
        for name, checkpoint in sorted(found.items()):
            lag = max(0, head - checkpoint.position)
            worst = max(worst, lag)
            report["projections"][name] = {"position": checkpoint.position, "lag": lag}
        report["lag"] = worst
        if self._projector is not None:
            idle = time.monotonic() - self._projector.last_moved
            report["projector"] = {
                "running": self._projector.running,
                "last_error": self._projector.last_error,
            }
            if not self._projector.running:
                raise ProjectionStalledError("the projector is not running")
            if worst > self._max_lag and idle > STALL_S:
                raise ProjectionStalledError(f"projection {worst} events behind and idle for {idle:.0f} s")
        return report
