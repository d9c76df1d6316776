"""Reads of the read models: one analysis, its result row, and keyset-paged listings.

Listings are ordered newest first by ``(created_at, analysis_id)``, both descending, so the order is
total and stable while analyses are added. The cursor is opaque (base64url of the last row's key and
a digest of the filters), so a cursor from one filter cannot be replayed against another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sonda_events.errors import StoreUnavailableError
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sonda_query.errors import InvalidCursorError
from sonda_query.params import ListStatus
from sonda_query.readmodel.rows import AnalysisRow, ResultRow, from_db, utc
from sonda_query.readmodel.tables import analyses_table, results_table
from sonda_query.views import ListItem, ListPage

_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError)


@asynccontextmanager
async def connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read connection; a database that cannot be reached is a 503 (retry later), not a 500."""
    try:
        async with engine.connect() as conn:
            yield conn
    except _UNAVAILABLE as error:
        raise StoreUnavailableError("the read models are unavailable; try again later") from error


class ListFilters(msgspec.Struct, kw_only=True, frozen=True):
    status: ListStatus | None = None
    file_key: str | None = None
    #: Inclusive lower bound of ``created_at``.
    created_after: datetime | None = None
    #: Exclusive upper bound of ``created_at``.
    created_before: datetime | None = None
    include_deleted: bool = False
    #: Only this principal's analyses (None: everyone's); the service sets it, never a client.
    requested_by: str | None = None

    def digest(self) -> str:
        return hashlib.sha256(msgspec.json.encode(self)).hexdigest()[:12]


class _Cursor(msgspec.Struct, array_like=True, frozen=True):
    created_at: datetime
    analysis_id: uuid.UUID
    filters: str


def encode_cursor(created_at: datetime, analysis_id: uuid.UUID, filters: ListFilters) -> str:
    raw = msgspec.json.encode(_Cursor(utc(created_at), analysis_id, filters.digest()))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, filters: ListFilters) -> _Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidCursorError("not a cursor this service issued") from None
    if cursor.filters != filters.digest():
        raise InvalidCursorError("the cursor belongs to a listing with other filters")
    return cursor


#: Statuses the read model may show behind what JetStream already holds.
OPEN_STATUSES = ("pending", "running")

_LIST_COLUMNS = (
    "analysis_id",
    "version",
    "file_key",
    "filename",
    "status",
    "deleted",
    "progress",
    "stage",
    "created_at",
    "completed_at",
    "deleted_at",
    "rows",
    "columns",
    "error_message",
)


class Reader:
    """Queries the live read-model tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        metadata = sa.MetaData()
        self._analyses = analyses_table(metadata)
        self._results = results_table(metadata)

    async def _rows(self, query: sa.Select[Any]) -> list[sa.Row[Any]]:
        # Once more on a fresh connection: a pooled one may have died with a restarted server
        # (the read engine does not ping, see ``readmodel.engine``).
        try:
            async with connected(self._engine) as conn:
                return list((await conn.execute(query)).all())
        except StoreUnavailableError:
            async with connected(self._engine) as conn:
                return list((await conn.execute(query)).all())

    async def analysis(self, analysis_id: uuid.UUID) -> AnalysisRow | None:
        table = self._analyses
        rows = await self._rows(sa.select(table).where(table.c.analysis_id == analysis_id))
        return from_db(AnalysisRow, rows[0]._mapping) if rows else None

    async def result(self, analysis_id: uuid.UUID) -> ResultRow | None:
        table = self._results
        rows = await self._rows(sa.select(table).where(table.c.analysis_id == analysis_id))
        return from_db(ResultRow, rows[0]._mapping) if rows else None

    async def page(
        self, filters: ListFilters, *, limit: int, cursor: str | None = None, with_open: bool = False
    ) -> ListPage:
        """A page of the list. ``with_open``: also the analyses the read model still shows pending or
        running, whatever the status asked for (the caller brings them up to date and filters)."""
        t = self._analyses
        query = sa.select(*(t.c[name] for name in _LIST_COLUMNS))
        still_open = sa.and_(t.c.status.in_(OPEN_STATUSES), t.c.deleted.is_(False))
        if filters.status == "deleted":
            query = query.where(
                sa.or_(t.c.deleted.is_(True), still_open) if with_open else t.c.deleted.is_(True)
            )
        else:
            if filters.status is not None:
                wanted = t.c.status == filters.status
                query = query.where(sa.or_(wanted, still_open) if with_open else wanted)
            if not filters.include_deleted:
                query = query.where(t.c.deleted.is_(False))
        if filters.requested_by is not None:
            query = query.where(t.c.requested_by == filters.requested_by)
        if filters.file_key is not None:
            query = query.where(t.c.file_key == filters.file_key)
        if filters.created_after is not None:
            query = query.where(t.c.created_at >= utc(filters.created_after))
        if filters.created_before is not None:
            query = query.where(t.c.created_at < utc(filters.created_before))
        if cursor:
            after = decode_cursor(cursor, filters)
            query = query.where(
                sa.tuple_(t.c.created_at, t.c.analysis_id) < (after.created_at, after.analysis_id)
            )
        query = query.order_by(t.c.created_at.desc(), t.c.analysis_id.desc()).limit(limit + 1)
        rows = await self._rows(query)
        items = [_item(row._mapping) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last.created_at, last.analysis_id, filters)
        return ListPage(items=items, next_cursor=next_cursor)


def _item(values: sa.RowMapping) -> ListItem:
    return ListItem(
        analysis_id=str(values["analysis_id"]),
        file_key=values["file_key"],
        filename=values["filename"],
        status="deleted" if values["deleted"] else values["status"],
        progress=values["progress"],
        stage=values["stage"],
        created_at=utc(values["created_at"]),
        completed_at=utc(values["completed_at"]) if values["completed_at"] else None,
        deleted_at=utc(values["deleted_at"]) if values["deleted_at"] else None,
        rows=values["rows"],
        columns=values["columns"],
        error_message=values["error_message"],
        version=values["version"],
    )
