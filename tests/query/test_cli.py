"""``sonda projections rebuild|status`` (the click group the root CLI mounts); rebuilds publish nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nats
import sqlalchemy as sa
from click.testing import CliRunner
from nats.aio.msg import Msg
from sonda_events.store import EventStore
from sonda_query.cli import projections
from sonda_query.projection.projector import Projector
from sonda_query.readmodel.schema import ensure_schema, writer

from tests.query.factories import Stream
from tests.query.test_projector import lifecycle


async def populate(url: str, analyses: int) -> None:
    store = await EventStore.open(url)
    try:
        await ensure_schema(store.engine)
        for _ in range(analyses):
            await store.append(lifecycle(Stream()))
        await Projector(store, batch_size=7).catch_up()
    finally:
        await store.close()


async def tamper(url: str) -> None:
    store = await EventStore.open(url)
    try:
        async with writer(store.engine).begin() as conn:
            await conn.execute(sa.text("UPDATE analyses SET progress = 1 WHERE rowid = 2"))
    finally:
        await store.close()


def run(args: list[str], url: str, tmp_path: Path) -> tuple[int, str]:
    env = {
        "DATABASE_URL": url,
        "SONDA_DATA_DIR": str(tmp_path),
        "REDIS_URL": "",
        "SONDA_LOG_LEVEL": "warning",
    }
    result = CliRunner().invoke(projections, args, env=env)
    return result.exit_code, result.output


def test_rebuild_verify_and_status(tmp_path: Path, sqlite_url: str, nats_url: str) -> None:
    asyncio.run(populate(sqlite_url, 6))
    received: list[object] = []

    async def listen_while(args: list[str]) -> tuple[int, str]:
        nc = await nats.connect(nats_url)

        async def note(msg: Msg) -> None:
            received.append(msg.subject)

        sub = await nc.subscribe("eda.>", cb=note)
        try:
            return await asyncio.to_thread(run, args, sqlite_url, tmp_path)
        finally:
            await nc.flush()
            await sub.unsubscribe()
            await nc.close()

    code, output = asyncio.run(listen_while(["rebuild", "--verify"]))
    assert code == 0, output
    assert "analyses: 6 rows identical" in output and "results: 6 rows identical" in output
    assert received == []  # nothing published, so nothing notified

    code, output = run(["status", "--json"], sqlite_url, tmp_path)
    assert code == 0, output
    rows = {row["name"]: row for row in json.loads(output)}
    assert rows["analyses"]["position"] == rows["analyses"]["store_position"] == 30
    assert rows["analyses"]["lag"] == 0 and rows["analyses"]["generation"] == 1

    asyncio.run(tamper(sqlite_url))
    code, output = run(["rebuild", "analyses", "--verify", "--dry-run"], sqlite_url, tmp_path)
    assert code == 1
    assert "changed progress" in output
    code, output = run(["rebuild", "analyses", "--verify"], sqlite_url, tmp_path)
    assert code == 1 and "analyses: 1 rows differ" in output  # reported; the rebuilt rows are swapped in
    code, output = run(["rebuild", "analyses", "--verify"], sqlite_url, tmp_path)
    assert code == 0 and "analyses: 6 rows identical" in output

    code, output = run(["rebuild", "nonsense"], sqlite_url, tmp_path)
    assert code == 2
