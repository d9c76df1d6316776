"""A reader tailing by global position never sees N+k and later N (no event is ever skipped)."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa
from sonda_events.contract import AnyEvent
from sonda_events.store import EventStore, Incoming

from tests.events.store.conftest import make_events

# Holds the writer's transaction open after its row is inserted (and its position assigned), so that
# without in-order visibility other writers' later positions would commit first.
_SLOW_WRITER_TRIGGER = """
CREATE FUNCTION hold_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
CREATE TRIGGER hold_transaction AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.metadata->>'producer' = 'slow-writer') EXECUTE FUNCTION hold_transaction();
"""


def _slow(events: list[AnyEvent]) -> list[AnyEvent]:
    return [
        type(e)(**{**{f: getattr(e, f) for f in e.__struct_fields__}, "producer": "slow-writer"})
        for e in events
    ]


async def _tail(store: EventStore, done: asyncio.Event, seen: list[int]) -> None:
    checkpoint = 0
    while True:
        finished = done.is_set()  # read before the page: a final pass after writers are done
        page = await store.read_all(after_position=checkpoint, limit=37)
        for recorded in page:
            assert recorded.position > checkpoint
            seen.append(recorded.position)
            checkpoint = recorded.position
        if finished and not page:
            return
        if not page:
            await asyncio.sleep(0.002)


async def test_tailing_reader_never_skips_an_event(pg_store: EventStore) -> None:
    store = pg_store
    async with store.engine.begin() as conn:
        await conn.execute(sa.text(_SLOW_WRITER_TRIGGER))

    async def appender(rounds: int) -> None:
        analysis_id = uuid.uuid4()
        events = make_events(analysis_id, rounds * 3)
        for i in range(rounds):
            await store.append(events[i * 3 : i * 3 + 3], expected_version=i * 3)

    async def recorder(rounds: int) -> None:
        for _ in range(rounds):
            batch = [Incoming(event=e) for _ in range(4) for e in make_events(uuid.uuid4(), 3)]
            assert all(o.status == "stored" for o in await store.record(batch))

    async def slow_writer() -> None:
        analysis_id = uuid.uuid4()
        events = _slow(make_events(analysis_id, 3))
        for i in range(3):
            await store.append([events[i]])
            await asyncio.sleep(0.05)

    done = asyncio.Event()
    seen: list[int] = []
    reader = asyncio.create_task(_tail(store, done, seen))
    await asyncio.gather(slow_writer(), *(appender(15) for _ in range(8)), *(recorder(10) for _ in range(4)))
    done.set()
    await reader

    stored = await store.read_all(limit=100_000)
    assert len(stored) == 3 + 8 * 45 + 4 * 10 * 12
    assert seen == [r.position for r in stored]
    # The single writer turn also keeps positions free of holes.
    assert seen == list(range(1, len(stored) + 1))
