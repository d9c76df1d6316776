"""What every fault test asserts about the final state: the store, the stream and the read models."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable

import nats.errors
from nats.js import JetStreamContext
from sonda_events import codec
from sonda_events.contract import AnyEvent, RecordedEvent
from sonda_events.errors import EventValidationError
from sonda_events.lifecycle import TERMINAL_TYPES
from sonda_events.store import EventStore
from sonda_events.subjects import ALL_SUBJECTS, STREAM_NAME
from sonda_query.projection.projections import ALL
from sonda_query.projection.rebuild import rebuild
from sonda_query.readmodel import checkpoints


async def until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def stream_events(js: JetStreamContext, subjects: str = ALL_SUBJECTS) -> list[AnyEvent]:
    """Every valid event the EDA stream holds now, in stream order (foreign messages skipped)."""
    info = await js.stream_info(STREAM_NAME, subjects_filter=subjects)
    expected = sum((info.state.subjects or {}).values())
    found: list[AnyEvent] = []
    if expected == 0:
        return found
    sub = await js.subscribe(subjects, ordered_consumer=True)
    seen = 0
    try:
        deadline = time.monotonic() + 60
        while seen < expected:
            try:
                msg = await sub.next_msg(timeout=2.0)
            except nats.errors.TimeoutError:
                if time.monotonic() > deadline:
                    raise
                continue
            seen += 1
            try:
                found.append(codec.decode(msg.data))
            except EventValidationError:
                continue
    finally:
        await sub.unsubscribe()
    return found


def assert_analysis_consistent(events: list[AnyEvent], *, terminal: str | None = None) -> AnyEvent:
    """Versions 1..n without gaps, a request first, exactly one terminal event; returns it.

    Only a soft delete may follow the terminal event.
    """
    described = [(e.type, e.version) for e in events]
    assert [e.version for e in events] == list(range(1, len(events) + 1)), described
    assert events[0].type == "AnalysisRequested", described
    terminals = [e for e in events if e.type in TERMINAL_TYPES]
    assert len(terminals) == 1, described
    after = events[events.index(terminals[0]) + 1 :]
    assert all(e.type == "AnalysisDeleted" for e in after), described
    if terminal is not None:
        assert terminals[0].type == terminal, (described, terminals[0])
    return terminals[0]


def assert_positions_gap_free(recorded: list[RecordedEvent]) -> None:
    positions = [r.position for r in recorded]
    assert positions == list(range(1, len(positions) + 1)), "store positions have gaps or repeats"


async def assert_store_equals_stream(store: EventStore, js: JetStreamContext) -> list[RecordedEvent]:
    """Every valid event on the bus is in the store exactly once (and the store has nothing else)."""
    recorded = await store.read_all(limit=10_000_000)
    assert_positions_gap_free(recorded)
    on_bus = await stream_events(js)
    ids = Counter(r.event.event_id for r in recorded)
    assert max(ids.values(), default=1) == 1, "an event is stored twice"
    assert set(ids) == {e.event_id for e in on_bus}
    by_id = {e.event_id: e for e in on_bus}
    for r in recorded:
        assert r.event == by_id[r.event.event_id]
    return recorded


def by_analysis(recorded: Iterable[RecordedEvent]) -> dict[uuid.UUID, list[AnyEvent]]:
    streams: dict[uuid.UUID, list[AnyEvent]] = defaultdict(list)
    for r in recorded:
        streams[r.event.analysis_id].append(r.event)
    for events in streams.values():
        events.sort(key=lambda e: e.version)
    return dict(streams)


async def projections_at(store: EventStore) -> dict[str, int]:
    async with store.engine.connect() as conn:
        found = await checkpoints.read(conn, [p.name for p in ALL])
    return {name: c.position for name, c in found.items()}


async def assert_projections_equal_rebuild(store: EventStore) -> None:
    """Each live read model holds exactly the rows a rebuild from the whole store gives."""
    head = await store.last_position()
    assert set((await projections_at(store)).values()) == {head}, "projections are behind the store"
    for projection in ALL:
        report = await rebuild(store, projection, verify=True, swap_in=False)
        assert report.verification is not None
        assert report.verification.ok, (projection.name, report.verification)
        assert report.position == head
