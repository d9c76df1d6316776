"""Rebuilding a projection gives the live rows (invariant 3); reads go on during the rebuild."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sonda_events.contract import AnyEvent
from sonda_events.lifecycle import EventNotAllowedError, check, phase_after
from sonda_events.store import EventStore
from sonda_query.projection.locks import RebuildInProgressError, rebuild_lock
from sonda_query.projection.projections import ALL, ANALYSES, RESULTS
from sonda_query.projection.projector import Projector
from sonda_query.projection.rebuild import rebuild, rebuild_all
from sonda_query.reader import ListFilters, Reader
from sonda_query.readmodel import checkpoints
from sonda_query.readmodel.schema import ensure_schema, writer

from tests.query.factories import Stream
from tests.query.test_projector import folded, lifecycle

#: One step of an analysis' life, applied to its stream in the order drawn.
STEPS = ("started", "progress", "progress", "failed", "completed", "deleted")


def script(draw_steps: list[list[str]], order: list[int], duplicates: list[int]) -> list[list[AnyEvent]]:
    """Append batches: each analysis' events interleaved by ``order``, some re-sent (duplicates)."""
    streams = [Stream() for _ in draw_steps]
    pending: list[list[AnyEvent]] = []
    for stream, steps in zip(streams, draw_steps, strict=True):
        events = [stream.requested()]
        for step in steps:
            event = stream.progress(50.0) if step == "progress" else getattr(stream, step)()
            try:  # only what the lifecycle allows: the store refuses the rest
                check(phase_after(events[-1]), event)
            except EventNotAllowedError:
                stream.version -= 1
                continue
            events.append(event)
        pending.append(events)
    batches: list[list[AnyEvent]] = []
    cursor = [0] * len(pending)
    for pick in order:
        i = pick % len(pending)
        if cursor[i] < len(pending[i]):
            batches.append([pending[i][cursor[i]]])
            cursor[i] += 1
    for i, events in enumerate(pending):  # whatever the order did not reach, in sequence
        batches.extend([e] for e in events[cursor[i] :])
    for d in duplicates:  # the same event ids again: the store keeps each once
        batches.append(batches[d % len(batches)])
    return batches


async def check_rebuild_equals_live(
    url: str, batches: list[list[AnyEvent]], batch_size: int, rewind: int, *, migrate: bool = True
) -> None:
    store = await EventStore.open(url, migrate=migrate)
    try:
        await ensure_schema(store.engine)
        projector = Projector(store, batch_size=batch_size)
        for i, batch in enumerate(batches):
            await store.append(batch)
            if i % 3 == 0:
                await projector.step()
        await projector.catch_up()
        # Apply a stretch of events a second time: nothing may change.
        async with writer(store.engine).begin() as conn:
            await conn.execute(
                sa.update(checkpoints.checkpoints).values(position=min(rewind, await store.last_position()))
            )
        await projector.catch_up()
        reports = await rebuild_all(store, ALL, verify=True)
        for report in reports:
            assert report.verification is not None
            assert report.verification.ok, report.verification.examples
            assert report.swapped
        # And the swapped-in rows are what the rules give for the stored events.
        reader = Reader(store.engine)
        for analysis_id in {e.analysis_id for batch in batches for e in batch}:
            assert await reader.analysis(analysis_id) == await folded(store, analysis_id)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite database to copy: each example starts fresh without migrating."""
    path = tmp_path_factory.mktemp("template") / "sonda.db"

    async def create() -> None:
        store = await EventStore.open(f"sqlite+aiosqlite:///{path}")
        await ensure_schema(store.engine)
        await store.close()

    asyncio.run(create())
    return path


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.lists(st.sampled_from(STEPS), max_size=5), min_size=1, max_size=4),
    order=st.lists(st.integers(0, 3), max_size=20),
    duplicates=st.lists(st.integers(0, 40), max_size=4),
    batch_size=st.integers(1, 7),
    rewind=st.integers(0, 10),
)
def test_rebuild_equals_live(
    migrated_sqlite: Path,
    steps: list[list[str]],
    order: list[int],
    duplicates: list[int],
    batch_size: int,
    rewind: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sonda.db"
        shutil.copyfile(migrated_sqlite, path)
        batches = script(steps, order, duplicates)
        asyncio.run(
            check_rebuild_equals_live(
                f"sqlite+aiosqlite:///{path}", batches, batch_size, rewind, migrate=False
            )
        )


async def test_rebuild_equals_live_on_postgres(pg_url: str) -> None:
    rng = random.Random(5)
    steps = [[rng.choice(STEPS) for _ in range(rng.randrange(6))] for _ in range(12)]
    order = [rng.randrange(12) for _ in range(60)]
    await check_rebuild_equals_live(pg_url, script(steps, order, [3, 17, 40]), batch_size=4, rewind=9)


async def test_reads_keep_working_during_a_rebuild(database_url: str) -> None:
    store = await EventStore.open(database_url, pool_size=20)
    try:
        await ensure_schema(store.engine)
        streams = [Stream() for _ in range(400)]
        await store.append(lifecycle(streams[0]))
        for s in streams[1:]:
            await store.append(lifecycle(s))
        await Projector(store, batch_size=1000).catch_up()
        reader = Reader(store.engine)
        expected = (await reader.page(ListFilters(), limit=20)).items
        stop = asyncio.Event()
        reads = 0

        async def read_forever() -> None:
            nonlocal reads
            while not stop.is_set():
                assert (await reader.page(ListFilters(), limit=20)).items == expected
                assert (await reader.analysis(streams[7].analysis_id)) is not None
                reads += 1
                await asyncio.sleep(0)

        readers = [asyncio.create_task(read_forever()) for _ in range(3)]
        report = await rebuild(store, ANALYSES, verify=True, page_size=250)
        stop.set()
        await asyncio.gather(*readers)
        assert report.verification is not None and report.verification.ok
        assert report.rows == 400
        assert reads > 3
        async with store.engine.connect() as conn:
            assert (await checkpoints.read(conn, ["analyses"]))["analyses"].generation == 1
    finally:
        await store.close()


async def test_verify_reports_rows_that_differ_and_the_swap_fixes_them(sqlite_url: str) -> None:
    store = await EventStore.open(sqlite_url)
    try:
        await ensure_schema(store.engine)
        streams = [Stream() for _ in range(5)]
        for s in streams:
            await store.append(lifecycle(s))
        await Projector(store).catch_up()
        async with writer(store.engine).begin() as conn:
            await conn.execute(sa.text("UPDATE analyses SET status = 'failed' WHERE rowid = 3"))
            await conn.execute(sa.text("DELETE FROM analysis_results WHERE rowid = 1"))
        report = await rebuild(store, ANALYSES, verify=True)
        assert report.verification is not None
        assert report.verification.differences == 1
        [diff] = report.verification.examples
        assert diff.kind == "changed" and diff.fields == ["status"]
        assert (await Reader(store.engine).analysis(diff.analysis_id)) == await folded(
            store, diff.analysis_id
        )
        results = await rebuild(store, RESULTS, verify=True, swap_in=False)
        assert results.verification is not None
        assert results.verification.differences == 1
        assert results.verification.examples[0].kind == "extra"
        async with store.engine.connect() as conn:
            found = await checkpoints.read(conn, ["analyses", "results"])
        assert (found["analyses"].generation, found["results"].generation) == (1, 0)  # dry run: no swap
    finally:
        await store.close()


async def test_one_rebuild_at_a_time(database_url: str) -> None:
    store = await EventStore.open(database_url)
    try:
        await ensure_schema(store.engine)
        async with rebuild_lock(store.engine, "analyses"):
            with pytest.raises(RebuildInProgressError):
                await rebuild(store, ANALYSES)
        report = await rebuild(store, ANALYSES)
        assert report.rows == 0
    finally:
        await store.close()


async def test_rebuild_catches_up_a_live_table_that_lags(sqlite_url: str) -> None:
    """No projector running (the service is down): the swap still lands at the store's position."""
    store = await EventStore.open(sqlite_url)
    try:
        await ensure_schema(store.engine)
        for _ in range(4):
            await store.append(lifecycle(Stream()))
        report = await rebuild(store, ANALYSES, verify=True)
        assert report.verification is not None and report.verification.ok
        assert report.position == 20
        async with store.engine.connect() as conn:
            assert (await checkpoints.read(conn, ["analyses"]))["analyses"].position == 20
    finally:
        await store.close()


async def test_rebuild_beside_a_running_projector_and_new_events(pg_url: str) -> None:
    """The done-when of the issue: events keep coming, the projector keeps projecting, reads keep
    being answered, and ``rebuild --verify`` reports identical rows; afterwards nothing is lost."""
    store = await EventStore.open(pg_url, pool_size=20)
    other = await EventStore.open(pg_url, pool_size=5, migrate=False)  # the CLI's own connection
    try:
        await ensure_schema(store.engine)
        for _ in range(100):
            await store.append(lifecycle(Stream()))
        stop = asyncio.Event()
        projector = Projector(store, batch_size=50, poll_s=0.01)
        running = asyncio.create_task(projector.run(stop))
        written: list[uuid.UUID] = []

        async def keep_writing() -> None:
            while not stop.is_set():
                s = Stream()
                await store.append(lifecycle(s))
                written.append(s.analysis_id)
                await asyncio.sleep(0.005)

        writer_task = asyncio.create_task(keep_writing())
        reports = await rebuild_all(other, ALL, verify=True, page_size=100)
        stop.set()
        await asyncio.gather(writer_task, running)
        for report in reports:
            assert report.verification is not None and report.verification.ok, report.verification
        assert written  # events arrived during the rebuild
        await projector.catch_up()
        reader = Reader(store.engine)
        for analysis_id in written[-5:]:
            assert await reader.analysis(analysis_id) == await folded(store, analysis_id)
        assert (await reader.page(ListFilters(), limit=200)).items  # the swapped-in tables answer
        async with store.engine.connect() as conn:
            found = await checkpoints.read(conn, ["analyses", "results"])
        head = await store.last_position()
        assert {c.position for c in found.values()} == {head}
        assert projector.stats.batches > 1  # it kept projecting beside the rebuild
    finally:
        await other.close()
        await store.close()
