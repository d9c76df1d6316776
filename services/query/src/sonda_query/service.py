"""What the endpoints do: status with a short wait for the projector, results and summaries (cached)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from sonda_query.cache import Cache, field_name
from sonda_query.errors import (
    AnalysisDeletedError,
    AnalysisNotCompletedError,
    AnalysisNotFoundError,
    ResultNotReadyError,
)
from sonda_query.llm.render import Meta, SummaryFormat, summarize
from sonda_query.llm.tokens import Tokenizer
from sonda_query.lookup import StreamLookup
from sonda_query.reader import ListFilters, Reader
from sonda_query.readmodel.rows import AnalysisRow
from sonda_query.results import ResultObjects
from sonda_query.views import LeftOutView, ListPage, Source, StatusView, SummaryView

_encoder = msgspec.json.Encoder()
POLL_S = 0.05


class _Results(msgspec.Struct, kw_only=True):
    analysis_id: str
    status: str
    filename: str | None
    file_key: str
    completed_at: str | None
    version: int
    summary: dict[str, Any]
    #: The stored object's bytes, embedded without decoding them again.
    results: msgspec.Raw


class QueryService:
    """Built once per process (``runtime.py``) and handed to the handlers as a dependency."""

    def __init__(
        self,
        *,
        reader: Reader,
        lookup: StreamLookup,
        results: ResultObjects,
        cache: Cache,
        tokenizer: Tokenizer,
        generation: Callable[[], Awaitable[int]],
        status_wait_s: float = 2.5,
    ) -> None:
        self._reader = reader
        self._lookup = lookup
        self._results = results
        self._cache = cache
        self._tokenizer = tokenizer
        self._generation = generation
        self._status_wait_s = status_wait_s

    async def find(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> tuple[AnalysisRow, Source]:
        """The analysis at ``min_version`` or later, waiting briefly for the projector.

        Raises:
            AnalysisNotFoundError: neither the read model, the store nor JetStream know it.
        """
        deadline = time.monotonic() + self._status_wait_s
        while True:
            row = await self._reader.analysis(analysis_id)
            if row is not None and row.version >= min_version:
                return row, "projection"
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_S)
        found = await self._lookup.find(analysis_id)
        if found is not None and (row is None or found[0].version > row.version):
            return found
        if row is not None:
            return row, "projection"
        raise AnalysisNotFoundError(analysis_id)

    async def status(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> StatusView:
        row, source = await self.find(analysis_id, min_version=min_version)
        return StatusView.of(row, source)

    async def list(self, filters: ListFilters, *, limit: int, cursor: str | None) -> ListPage:
        return await self._reader.page(filters, limit=limit, cursor=cursor)

    async def _completed(self, analysis_id: uuid.UUID) -> AnalysisRow:
        row, _ = await self.find(analysis_id)
        if row.deleted:
            raise AnalysisDeletedError(analysis_id)
        if row.status != "completed":
            raise AnalysisNotCompletedError(analysis_id, row.status, row.error_message)
        return row

    async def _field(self, row: AnalysisRow, name: str) -> str:
        return field_name(generation=await self._generation(), version=row.version, name=name)

    async def results(self, analysis_id: uuid.UUID) -> bytes:
        """The results body as JSON bytes (from the cache when it holds this version)."""
        row = await self._completed(analysis_id)
        field = await self._field(row, "results")
        cached = await self._cache.get(analysis_id, field)
        if cached is not None:
            return cached
        ref = await self._reader.result(analysis_id)
        if ref is None or ref.completed_at != row.completed_at:  # the completion this row shows
            raise ResultNotReadyError(analysis_id)
        body = _encoder.encode(
            _Results(
                analysis_id=str(analysis_id),
                status=row.public_status,
                filename=row.filename,
                file_key=row.file_key,
                completed_at=row.completed_at.isoformat() if row.completed_at else None,
                version=row.version,
                summary=ref.summary,
                results=msgspec.Raw(await self._results.read(ref)),
            )
        )
        await self._cache.set(analysis_id, field, body)
        return body

    async def summary(self, analysis_id: uuid.UUID, *, fmt: SummaryFormat, max_tokens: int) -> bytes:
        """The LLM summary body as JSON bytes (cached per format and budget)."""
        row = await self._completed(analysis_id)
        field = await self._field(row, f"summary:{fmt}:{max_tokens}")
        cached = await self._cache.get(analysis_id, field)
        if cached is not None:
            return cached
        ref = await self._reader.result(analysis_id)
        if ref is None or ref.completed_at != row.completed_at:  # the completion this row shows
            raise ResultNotReadyError(analysis_id)
        result = msgspec.json.decode(await self._results.read(ref))
        meta = Meta(
            analysis_id=str(analysis_id),
            filename=row.filename,
            file_key=row.file_key,
            completed_at=row.completed_at.isoformat() if row.completed_at else None,
        )
        # Rendering a wide table takes tens of milliseconds: keep it off the event loop.
        summary = await asyncio.to_thread(
            summarize,
            result if isinstance(result, dict) else {},
            meta,
            fmt=fmt,
            max_tokens=max_tokens,
            tokenizer=self._tokenizer,
        )
        body = _encoder.encode(
            SummaryView(
                analysis_id=str(analysis_id),
                format=fmt,
                max_tokens=max_tokens,
                tokens=summary.tokens,
                tokenizer="cl100k_base",
                text=summary.text,
                left_out=msgspec.convert(msgspec.to_builtins(summary.left_out), LeftOutView),
                summary=summary.document,
            )
        )
        await self._cache.set(analysis_id, field, body)
        return body
