"""Cache of rendered results and LLM summaries: Redis shared by every instance, or in-process.

Entries are grouped per analysis and keyed by the analysis' version and the projections' generation
(``g3:v7:results``): a new event gives new keys, so a stale entry can never be served even if it was
written just after the projector dropped the analysis' group. The projector still drops the group
(``invalidate``) so old entries do not wait for their TTL. The cache never fails a request: a Redis
error is logged and counted as a miss.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Protocol

from sonda_events.logging import get_logger

log = get_logger(__name__)


class Cache(Protocol):
    kind: str

    async def get(self, analysis_id: uuid.UUID, field: str) -> bytes | None: ...
    async def set(self, analysis_id: uuid.UUID, field: str, value: bytes) -> None: ...
    async def invalidate(self, analysis_ids: Iterable[uuid.UUID]) -> None: ...
    async def clear(self) -> int: ...
    async def ping(self) -> dict[str, Any]: ...
    async def close(self) -> None: ...


def field_name(*, generation: int, version: int, name: str) -> str:
    return f"g{generation}:v{version}:{name}"


class LocalCache:
    """A bounded LRU of analyses (each with its few entries), for one process.

    Bounded twice: by the number of analyses and by the bytes held, since one wide result can
    weigh megabytes.
    """

    kind = "memory"

    def __init__(
        self, *, max_analyses: int = 256, max_value_bytes: int = 8 << 20, max_bytes: int = 128 << 20
    ) -> None:
        self._groups: OrderedDict[uuid.UUID, dict[str, bytes]] = OrderedDict()
        self._max_analyses = max_analyses
        self._max_value_bytes = max_value_bytes
        self._max_bytes = max_bytes
        self._bytes = 0

    async def get(self, analysis_id: uuid.UUID, field: str) -> bytes | None:
        group = self._groups.get(analysis_id)
        if group is None or field not in group:
            return None
        self._groups.move_to_end(analysis_id)
        return group[field]

    async def set(self, analysis_id: uuid.UUID, field: str, value: bytes) -> None:
        if len(value) > self._max_value_bytes:
            return
        group = self._groups.setdefault(analysis_id, {})
        # Entries of older versions of this analysis can never be read again.
        version = field.split(":", 2)[:2]
        for old in [f for f in group if f.split(":", 2)[:2] != version or f == field]:
            self._bytes -= len(group.pop(old))
        group[field] = value
        self._bytes += len(value)
        self._groups.move_to_end(analysis_id)
        while len(self._groups) > self._max_analyses or (
            self._bytes > self._max_bytes and len(self._groups) > 1
        ):
            _, evicted = self._groups.popitem(last=False)
            self._bytes -= sum(len(v) for v in evicted.values())

    async def invalidate(self, analysis_ids: Iterable[uuid.UUID]) -> None:
        for analysis_id in analysis_ids:
            group = self._groups.pop(analysis_id, None)
            if group is not None:
                self._bytes -= sum(len(v) for v in group.values())

    async def clear(self) -> int:
        count = len(self._groups)
        self._groups.clear()
        self._bytes = 0
        return count

    async def ping(self) -> dict[str, Any]:
        return {"kind": self.kind, "analyses": len(self._groups), "bytes": self._bytes}

    async def close(self) -> None:
        await self.clear()


class RedisCache:
    """One Redis hash per analysis (``<prefix>a:<id>``), with a TTL."""

    kind = "redis"

    def __init__(self, client: Any, *, prefix: str = "sonda:query:", ttl_s: int = 3600) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_s = ttl_s

    @classmethod
    def from_url(cls, url: str, *, prefix: str, ttl_s: int) -> RedisCache:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, prefix=prefix, ttl_s=ttl_s)

    def _key(self, analysis_id: uuid.UUID) -> str:
        return f"{self._prefix}a:{analysis_id}"

    async def get(self, analysis_id: uuid.UUID, field: str) -> bytes | None:
        try:
            value: bytes | None = await self._redis.hget(self._key(analysis_id), field)
            return value
        except Exception as exc:
            log.warning("cache_get_failed", error=type(exc).__name__)
            return None

    async def set(self, analysis_id: uuid.UUID, field: str, value: bytes) -> None:
        key = self._key(analysis_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, field, value)
                pipe.expire(key, self._ttl_s)
                await pipe.execute()
        except Exception as exc:
            log.warning("cache_set_failed", error=type(exc).__name__)

    async def invalidate(self, analysis_ids: Iterable[uuid.UUID]) -> None:
        keys = [self._key(analysis_id) for analysis_id in analysis_ids]
        try:
            for start in range(0, len(keys), 500):
                await self._redis.unlink(*keys[start : start + 500])
        except Exception as exc:
            log.warning("cache_invalidate_failed", error=type(exc).__name__, keys=len(keys))

    async def clear(self) -> int:
        """Drop every entry of this prefix (after a rebuild swapped tables in)."""
        count = 0
        batch: list[bytes] = []
        async for key in self._redis.scan_iter(match=f"{self._prefix}a:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                count += await self._redis.unlink(*batch)
                batch.clear()
        if batch:
            count += await self._redis.unlink(*batch)
        return count

    async def ping(self) -> dict[str, Any]:
        await self._redis.ping()
        return {"kind": self.kind}

    async def close(self) -> None:
        await self._redis.aclose()
