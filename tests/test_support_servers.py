"""The test servers themselves work (a broken fixture would make every other test meaningless)."""

from __future__ import annotations

import nats
import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.servers import NatsServer


async def test_private_nats_has_jetstream(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_fresh_postgres_database_is_empty(pg_url: str) -> None:
    engine = create_async_engine(pg_url)
    async with engine.connect() as conn:
        tables = (
            await conn.execute(
                sa.text("select count(*) from information_schema.tables where table_schema='public'")
            )
        ).scalar_one()
    await engine.dispose()
    assert tables == 0
    assert psycopg.__version__
