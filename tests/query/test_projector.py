"""The live projector against a real store (Postgres and SQLite): batches, checkpoints, idempotence."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sonda_events.contract import AnyEvent
from sonda_events.store import EventStore
from sonda_query.projection.fold import fold_analysis
from sonda_query.projection.projections import ALL
from sonda_query.projection.projector import Projector
from sonda_query.reader import Reader
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.rows import AnalysisRow
from sonda_query.readmodel.schema import ensure_schema, writer

from tests.query.factories import Stream


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    opened = await EventStore.open(database_url)
    await ensure_schema(opened.engine)
    yield opened
    await opened.close()


def lifecycle(stream: Stream) -> list[AnyEvent]:
    return [
        stream.requested(),
        stream.started(),
        stream.progress(30),
        stream.progress(60),
        stream.completed(),
    ]


async def folded(store: EventStore, analysis_id: uuid.UUID) -> AnalysisRow | None:
    """The row the rules give for the stored events (positions included), without the projector."""
    row = None
    for recorded in await store.read_stream(analysis_id):
        row = fold_analysis(row, recorded) or row
    return row


async def positions(store: EventStore) -> dict[str, int]:
    async with store.engine.connect() as conn:
        found = await checkpoints.read(conn, [p.name for p in ALL])
    return {name: c.position for name, c in found.items()}


async def test_projects_in_batches_with_the_checkpoint(store: EventStore) -> None:
    streams = [Stream() for _ in range(7)]
    histories = {s.analysis_id: lifecycle(s) for s in streams}
    for events in histories.values():
        await store.append(events)
    projector = Projector(store, batch_size=4)
    assert await projector.catch_up() == 35
    assert projector.stats.batches == 9
    assert await positions(store) == {"analyses": 35, "results": 35}
    reader = Reader(store.engine)
    for analysis_id in histories:
        assert await reader.analysis(analysis_id) == await folded(store, analysis_id)
        assert (await reader.result(analysis_id)) is not None


async def test_a_failing_batch_leaves_rows_and_checkpoint_as_they_were(store: EventStore) -> None:
    first, second = Stream(), Stream()
    await store.append(lifecycle(first))
    projector = Projector(store, batch_size=100)
    await projector.catch_up()
    await store.append(lifecycle(second))
    # A real fault inside the batch: the results table is gone when the batch writes to it, after
    # the analyses rows of the same batch were already written.
    async with writer(store.engine).begin() as conn:
        await conn.execute(sa.text("DROP TABLE analysis_results"))
    with pytest.raises(sa.exc.DBAPIError):
        await projector.step()
    assert await positions(store) == {"analyses": 5, "results": 5}
    assert await Reader(store.engine).analysis(second.analysis_id) is None
    await ensure_schema(store.engine)  # the table is back (empty): the projector goes on from 5
    await projector.catch_up()
    assert await Reader(store.engine).analysis(second.analysis_id) is not None
    assert await positions(store) == {"analyses": 10, "results": 10}


async def test_applying_events_twice_changes_nothing(store: EventStore) -> None:
    streams = [Stream() for _ in range(3)]
    for s in streams:
        await store.append(lifecycle(s))
    projector = Projector(store, batch_size=2)
    await projector.catch_up()
    reader = Reader(store.engine)
    before = [await reader.analysis(s.analysis_id) for s in streams]
    async with writer(store.engine).begin() as conn:
        await conn.execute(sa.update(checkpoints.checkpoints).values(position=3))
    assert await projector.catch_up() == 12
    assert [await reader.analysis(s.analysis_id) for s in streams] == before
    assert await positions(store) == {"analyses": 15, "results": 15}


async def test_projectors_of_two_instances_take_turns(pg_url: str) -> None:
    store = await EventStore.open(pg_url, pool_size=20)
    try:
        await ensure_schema(store.engine)
        one, two = Projector(store, batch_size=3), Projector(store, batch_size=5)
        histories = {}

        async def write() -> None:
            for _ in range(20):
                s = Stream()
                histories[s.analysis_id] = lifecycle(s)
                await store.append(histories[s.analysis_id])
                await asyncio.sleep(0)

        async def project(projector: Projector, done: asyncio.Event) -> None:
            while True:
                finished = done.is_set()  # read before the step: one last pass after the writer
                if not await projector.step() and finished:
                    return
                await asyncio.sleep(0)

        done = asyncio.Event()
        runners = [asyncio.create_task(project(p, done)) for p in (one, two)]
        await write()
        done.set()
        await asyncio.gather(*runners)
        await one.catch_up()
        assert one.stats.events + two.stats.events >= 100
        reader = Reader(store.engine)
        for analysis_id in histories:
            assert await reader.analysis(analysis_id) == await folded(store, analysis_id)
        assert await positions(store) == {"analyses": 100, "results": 100}
    finally:
        await store.close()
