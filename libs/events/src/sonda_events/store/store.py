"""The append-only event store: one ``events`` table in Postgres or SQLite, the same code for both.

Guarantees (each has a test in ``tests/events/store``):

- an event id is stored once; appending or recording it again returns its original position;
- per stream, versions are contiguous from 1 and a stale expected version writes nothing;
- an append or a record batch commits as a whole or not at all;
- positions become visible in order (one writer at a time, see ``dialects``), so a reader tailing
  by position never skips an event;
- the database refuses UPDATE and DELETE on ``events`` (migration ``rev_0001``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import psycopg
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sonda_events.contract import AnyEvent, RecordedEvent
from sonda_events.errors import EventStoreError, StoreUnavailableError
from sonda_events.store import migrate
from sonda_events.store.dialects import WRITE_OPTION, create_engine
from sonda_events.store.models import (
    AppendResult,
    DeadLetter,
    Incoming,
    NewDeadLetter,
    RecordOutcome,
    StreamOpening,
)
from sonda_events.store.planning import RecordPlan, plan_append
from sonda_events.store.reads import rows_after_position, rows_of_stream
from sonda_events.store.rows import dead_letter, event_row, recorded_event, utc
from sonda_events.store.schema import dead_letters, events
from sonda_events.store.writes import insert_and_commit, take_turn_and_read_state

# psycopg's own errors too: the hot paths talk to the driver connection directly.
_UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    OSError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


@asynccontextmanager
async def _guard() -> AsyncIterator[None]:
    """Connection-level failures become the retryable ``StoreUnavailableError``."""
    try:
        yield
    except _UNAVAILABLE as error:
        # The driver's first line says why; SQLAlchemy's text adds the SQL, which clients must not see.
        reason = getattr(error, "orig", None) or error
        raise StoreUnavailableError(
            f"event store unavailable: {str(reason).splitlines()[0][:200]}"
        ) from error
    except (exc.IntegrityError, psycopg.IntegrityError) as error:  # only a writer skipping the turn
        raise EventStoreError(f"event store constraint violated: {error}") from error


class EventStore:
    """Append and read events; see the module docstring for the guarantees."""

    def __init__(self, engine: AsyncEngine) -> None:
        #: Shared with projections, which write their rows and checkpoint in one transaction.
        self.engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    @classmethod
    async def open(
        cls, url: str, *, echo: bool = False, pool_size: int = 10, migrate: bool = True
    ) -> EventStore:
        """Connect and (by default) bring the schema to the latest migration."""
        engine = create_engine(url, echo=echo, pool_size=pool_size)
        if migrate:
            try:
                async with _guard():
                    await _migrate(engine)
            except BaseException:
                await engine.dispose()
                raise
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the database answers."""
        async with _guard(), self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # -- writing ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        # The writer turn is taken by the first statement (``take_turn_and_read_state``).
        async with _guard(), self._writer.begin() as conn:
            yield conn

    async def append(
        self,
        events_: Sequence[AnyEvent],
        *,
        expected_version: int | None = None,
        stream_sequence: int | None = None,
    ) -> AppendResult:
        """Append events of one stream atomically.

        Raises:
            ConcurrencyError: ``expected_version`` is stale or the versions do not continue the
                stream; nothing of the batch is written.
        """
        if not events_:
            raise ValueError("append needs at least one event")
        stream_id = events_[0].analysis_id
        if any(event.analysis_id != stream_id for event in events_):
            raise ValueError("append takes events of one stream; use record() for many")
        async with self._write() as conn:
            state = await take_turn_and_read_state(conn, [event.event_id for event in events_], [stream_id])
            current = state.version_of(stream_id)
            new = plan_append(events_, state.stored_ids, state.stream_tips.get(stream_id), expected_version)
            positions = dict(state.stored_ids)
            if new:
                first = state.last_position + 1
                now = datetime.now(UTC)
                rows = [
                    event_row(e, position=first + i, stream_sequence=stream_sequence, recorded_at=now)
                    for i, e in enumerate(new)
                ]
                await insert_and_commit(conn, rows)
                positions.update((e.event_id, first + i) for i, e in enumerate(new))
        return AppendResult(
            positions=[positions[event.event_id] for event in events_],
            stream_version=current + len(new),
            stored=len(new),
        )

    async def record(self, batch: Sequence[Incoming]) -> list[RecordOutcome]:
        """Store a batch of events of many streams in one transaction; one outcome per event.

        Events that continue their stream are stored; the others are reported (``duplicate``,
        ``gap``, ``conflict``) and left for the caller to ack, retry or reject.
        """
        if not batch:
            return []
        async with self._write() as conn:
            state = await take_turn_and_read_state(
                conn,
                [incoming.event.event_id for incoming in batch],
                list({incoming.event.analysis_id: None for incoming in batch}),
            )
            plan = RecordPlan(batch, state.stored_ids, state.stream_tips)
            first = state.last_position + 1
            if plan.to_write:
                now = datetime.now(UTC)
                rows = [
                    event_row(
                        incoming.event,
                        position=first + offset,
                        stream_sequence=incoming.stream_sequence,
                        recorded_at=now,
                    )
                    for offset, (_, incoming) in enumerate(plan.to_write)
                ]
                await insert_and_commit(conn, rows)
        return plan.assign(first)

    async def record_dead_letter(
        self,
        *,
        subject: str,
        payload: bytes,
        error_code: str,
        reason: str,
        stream_sequence: int | None,
        consumer: str | None = None,
    ) -> None:
        """Keep a message no consumer could use, with the reason (``consumer``: who gave up)."""
        letter = NewDeadLetter(
            subject=subject,
            payload=payload,
            error_code=error_code,
            reason=reason,
            stream_sequence=stream_sequence,
            consumer=consumer,
        )
        await self.record_dead_letters([letter])

    async def record_dead_letters(self, letters: Sequence[NewDeadLetter]) -> None:
        """Keep many dead letters in one transaction (a flood of bad messages costs one commit per
        fetched batch, not one per message)."""
        if not letters:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "consumer": letter.consumer[:256] if letter.consumer else None,
                # PostgreSQL text cannot hold NUL; a reason may quote a hostile message.
                "subject": letter.subject[:1024].replace("\x00", ""),
                "payload": letter.payload,
                "error_code": letter.error_code[:64],
                "reason": letter.reason.replace("\x00", ""),
                "stream_sequence": letter.stream_sequence,
                "recorded_at": now,
            }
            for letter in letters
        ]
        async with _guard(), self._writer.begin() as conn:
            await conn.execute(dead_letters.insert(), rows)

    # -- reading ---------------------------------------------------------------------------------

    async def read_stream(self, analysis_id: uuid.UUID, *, after_version: int = 0) -> list[RecordedEvent]:
        """Events of one analysis in version order."""
        async with _guard(), self.engine.connect() as conn:
            rows = await rows_of_stream(conn, analysis_id, after_version)
        return [recorded_event(row) for row in rows]

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events after ``after_position``, in position order.

        Safe for tailing: a later call never returns a position at or below one already returned.
        """
        async with _guard(), self.engine.connect() as conn:
            rows = await rows_after_position(conn, after_position, limit)
        return [recorded_event(row) for row in rows]

    async def streams_opened_before(
        self, cutoff: datetime, *, lacking_type: str | None = None, after_position: int = 0, limit: int = 500
    ) -> list[StreamOpening]:
        """Streams whose first event happened before ``cutoff`` (and that hold no event of
        ``lacking_type``), in the order they were opened, after ``after_position``."""
        first = events.alias("first")
        query = sa.select(first.c.stream_id, first.c.occurred_at, first.c.position).where(
            first.c.version == 1, first.c.position > after_position
        )
        if lacking_type is not None:
            other = events.alias("other")
            query = query.where(
                ~sa.exists().where(other.c.stream_id == first.c.stream_id, other.c.type == lacking_type)
            )
        async with _guard(), self.engine.connect() as conn:
            # SQLite keeps UTC wall-clock digits without an offset; compare like with like.
            bound = cutoff.replace(tzinfo=None) if conn.dialect.name == "sqlite" else cutoff
            query = query.where(first.c.occurred_at < bound).order_by(first.c.position).limit(limit)
            rows = (await conn.execute(query)).all()
        return [StreamOpening(stream_id=r[0], opened_at=utc(r[1]), position=r[2]) for r in rows]

    async def stream_version(self, analysis_id: uuid.UUID) -> int:
        """Version of the last event of an analysis; 0 if it has none."""
        query = sa.select(sa.func.max(events.c.version)).where(events.c.stream_id == analysis_id)
        async with _guard(), self.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def last_position(self) -> int:
        """Position of the newest event; 0 for an empty store."""
        async with _guard(), self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.max(events.c.position))) or 0)

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters first."""
        query = sa.select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        async with _guard(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [dead_letter(row) for row in rows]


async def _migrate(engine: AsyncEngine) -> None:
    # A function of its own: inside ``open`` the name ``migrate`` is the keyword argument.
    await migrate.upgrade(engine)
