"""Caching: Redis shared by instances and dropped by the projector on change; a bounded LRU without it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sonda_query.cache import LocalCache, RedisCache, field_name

from tests.query.conftest import HarnessFactory
from tests.query.factories import Stream
from tests.query.test_endpoints import RESULTS, SUMMARY, assert_problem

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"sonda-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def fields(prefix: str, analysis_id: uuid.UUID) -> list[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        names = await client.hkeys(f"{prefix}a:{analysis_id}")
        return sorted(f.decode() if isinstance(f, bytes) else f for f in names)
    finally:
        await client.aclose()


async def test_redis_entries_are_shared_and_dropped_when_events_change_them(
    query_app: HarnessFactory, sqlite_url: str, redis_prefix: str
) -> None:
    settings = {"redis_url": REDIS_URL, "query_cache_prefix": redis_prefix}
    async with (
        query_app(sqlite_url, **settings) as one,
        query_app(sqlite_url, **settings) as two,
    ):
        s = Stream()
        await one.append(s.requested(), await one.completed(s))
        await one.settle()
        await two.settle()
        first = await one.client.get(RESULTS.format(s.analysis_id))
        summary = await one.client.get(SUMMARY.format(s.analysis_id))
        assert first.status_code == summary.status_code == 200
        assert await fields(redis_prefix, s.analysis_id) == ["g0:v2:results", "g0:v2:summary:markdown:1500"]
        # The second instance answers from the shared entry: the object itself is gone now.
        await one.storage.delete(f"results/{s.analysis_id}.json")
        second = await two.client.get(RESULTS.format(s.analysis_id))
        assert second.status_code == 200 and second.content == first.content
        # An event changing the analysis drops its entries; the new version is computed afresh.
        await one.append(s.deleted())
        await one.settle()
        assert await fields(redis_prefix, s.analysis_id) == []
        await two.settle()
        assert_problem(await two.client.get(RESULTS.format(s.analysis_id)), 410, "analysis_deleted")


async def test_redis_errors_are_misses() -> None:
    cache = RedisCache.from_url("redis://127.0.0.1:9/0", prefix="x:", ttl_s=5)
    try:
        await cache.set(uuid.uuid4(), "f", b"v")
        assert await cache.get(uuid.uuid4(), "f") is None
        await cache.invalidate([uuid.uuid4()])
    finally:
        await cache.close()


async def test_redis_clear_removes_only_its_prefix(redis_prefix: str) -> None:
    cache = RedisCache.from_url(REDIS_URL, prefix=redis_prefix, ttl_s=60)
    other = RedisCache.from_url(REDIS_URL, prefix=redis_prefix + "other:", ttl_s=60)
    try:
        ids = [uuid.uuid4() for _ in range(3)]
        for analysis_id in ids:
            await cache.set(analysis_id, "f", b"v")
        await other.set(ids[0], "f", b"kept")
        # The other prefix starts with this one, but its keys are not "<prefix>a:*".
        assert await cache.clear() == 3
        assert await cache.get(ids[0], "f") is None
        assert await other.get(ids[0], "f") == b"kept"
    finally:
        await other.clear()
        await cache.close()
        await other.close()


async def test_local_cache_is_bounded_and_drops_old_versions() -> None:
    cache = LocalCache(max_analyses=2, max_value_bytes=10)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    v1 = field_name(generation=0, version=1, name="results")
    v2 = field_name(generation=0, version=2, name="results")
    await cache.set(a, v1, b"a1")
    await cache.set(a, v2, b"a2")
    assert await cache.get(a, v1) is None and await cache.get(a, v2) == b"a2"
    await cache.set(b, v1, b"b")
    await cache.get(a, v2)  # a is now the most recently used
    await cache.set(c, v1, b"c")
    assert await cache.get(b, v1) is None
    assert await cache.get(a, v2) == b"a2" and await cache.get(c, v1) == b"c"
    await cache.set(c, v2, b"x" * 11)  # too big to keep
    assert await cache.get(c, v2) is None
    await cache.invalidate([a])
    assert await cache.get(a, v2) is None
    assert (await cache.ping())["bytes"] == 1  # only c's entry is left


async def test_local_cache_is_bounded_in_bytes() -> None:
    cache = LocalCache(max_analyses=100, max_value_bytes=100, max_bytes=250)
    ids = [uuid.uuid4() for _ in range(4)]
    field = field_name(generation=0, version=1, name="results")
    for analysis_id in ids:
        await cache.set(analysis_id, field, b"x" * 100)
    assert [await cache.get(i, field) is not None for i in ids] == [False, False, True, True]
    assert (await cache.ping())["bytes"] == 200
