"""What the endpoints do: status with a short wait for the projector, results and summaries (cached)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import PurePath
from typing import Any, Literal

import msgspec
from sonda_service import OPEN_ACCESS, Principal

from sonda_query.cache import Cache, field_name
from sonda_query.compare import CompareOptions, Comparison, compare_results
from sonda_query.compare.compare import side_of
from sonda_query.compare.stored import decode_for_comparison
from sonda_query.errors import (
    AnalysisDeletedError,
    AnalysisNotCompletedError,
    AnalysisNotFoundError,
    QueryError,
    ResultNotReadyError,
    ResultUnavailableError,
    SameAnalysisError,
)
from sonda_query.llm.compare import ComparisonSummaryView, summarize_comparison
from sonda_query.llm.render import Meta, SummaryFormat, summarize
from sonda_query.llm.tokens import Tokenizer
from sonda_query.lookup import StreamLookup
from sonda_query.reader import OPEN_STATUSES, ListFilters, Reader, encode_cursor
from sonda_query.readmodel.rows import AnalysisRow, ResultRow
from sonda_query.report import ReportMeta, render_report
from sonda_query.results import ResultObjects
from sonda_query.table_schema import table_schema
from sonda_query.views import LeftOutView, ListItem, ListPage, Source, StatusView, SummaryView

_encoder = msgspec.json.Encoder()
POLL_S = 0.05


@contextlib.contextmanager
def _naming(role: str) -> Iterator[None]:
    """Problems raised inside say which side of a comparison (base or target) they are about."""
    try:
        yield
    except QueryError as exc:
        exc.message = f"{role}: {exc.message}"
        exc.args = (exc.message,)
        raise


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


class Report(msgspec.Struct, kw_only=True, frozen=True):
    html: bytes
    #: A safe download name: the upload's stem with anything but letters, digits, ``.-_`` replaced.
    filename: str


def report_filename(filename: str | None, analysis_id: uuid.UUID) -> str:
    stem = PurePath(filename or str(analysis_id)).stem or str(analysis_id)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80] + "-sonda-report.html"


class Found(msgspec.Struct, kw_only=True):
    row: AnalysisRow
    #: The result reference when the events answered (the projection's is read on demand).
    result: ResultRow | None
    source: Source


class QueryService:
    """Built once per process (``runtime.py``); each request gets it ``seen_by`` its caller.

    Tenancy lives here, in the one lookup every per-analysis read goes through (``find``) and in
    the listing: another principal's analysis is "not found" (404, no existence leak), and a
    listing holds only the caller's own analyses (an admin's: everyone's).
    """

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
        principal: Principal = OPEN_ACCESS,
    ) -> None:
        self._principal = principal
        self._reader = reader
        self._lookup = lookup
        self._results = results
        self._cache = cache
        self._tokenizer = tokenizer
        self._generation = generation
        self._status_wait_s = status_wait_s

    def seen_by(self, principal: Principal) -> QueryService:
        """The same service answering as ``principal`` may see (cheap: the parts are shared)."""
        seen = copy.copy(self)
        seen._principal = principal
        return seen

    async def find(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> Found:
        """The analysis at least as new as ``min_version`` (see ``_newest``), if the caller may see it.

        Raises:
            AnalysisNotFoundError: nobody knows it, or another principal owns it.
        """
        found = await self._newest(analysis_id, min_version=min_version)
        if not self._principal.may_access(found.row.requested_by):
            raise AnalysisNotFoundError(analysis_id)
        return found

    async def _newest(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> Found:
        """The analysis at least as new as ``min_version`` and as what JetStream already holds.

        Read your notification: a client told of version N (a WebSocket message) never reads an
        older state. The projection answers when it has the newest version JetStream holds for the
        analysis; when it is behind, the events themselves answer (``lookup``: the lifecycle's
        stream reader and the projector's own rules), without waiting. Only a ``min_version`` that
        nothing has reached yet waits, briefly, for it to arrive.

        Raises:
            AnalysisNotFoundError: neither the read model, the store nor JetStream know it.
        """
        deadline = time.monotonic() + self._status_wait_s
        while True:
            row = await self._reader.analysis(analysis_id)
            newest = await self._lookup.newest_version(analysis_id)
            target = max(min_version, newest or 0)
            if row is not None and row.version >= target:
                return Found(row=row, result=None, source="projection")
            folded = await self._lookup.find(analysis_id)
            best = None
            if folded is not None and (row is None or folded.row.version > row.version):
                best = Found(row=folded.row, result=folded.result, source=folded.source)
            if best is not None and best.row.version >= target:
                return best
            # Unknown yet: waited for too (a store another writer fills, NATS unreachable).
            if time.monotonic() >= deadline:
                if best is not None:
                    return best
                if row is not None:
                    return Found(row=row, result=None, source="projection")
                raise AnalysisNotFoundError(analysis_id)
            await asyncio.sleep(POLL_S)

    async def status(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> StatusView:
        found = await self.find(analysis_id, min_version=min_version)
        return StatusView.of(found.row, found.source)

    async def list(self, filters: ListFilters, *, limit: int, cursor: str | None) -> ListPage:
        """A page of the projection, with the analyses it still shows pending or running brought up
        to what JetStream holds: no "running" beside a report the WebSocket announced, and an
        analysis just completed is listed under ``status=completed`` at once."""
        if not self._principal.admin:
            filters = msgspec.structs.replace(filters, requested_by=self._principal.id)
        await self._lookup.until_projected(self._status_wait_s)
        items: list[ListItem] = []
        more: str | None = cursor
        while True:
            page = await self._reader.page(filters, limit=limit, cursor=more, with_open=True)
            for listed in page.items:
                item = await self._current(listed, filters)
                if item is not None:
                    items.append(item)
            more = page.next_cursor
            if len(items) >= limit or more is None:
                break
        if len(items) > limit or (len(items) == limit and more is not None):
            items = items[:limit]
            last = items[-1]
            more = encode_cursor(last.created_at, uuid.UUID(last.analysis_id), filters)
        return ListPage(items=items, next_cursor=more)

    async def _current(self, item: ListItem, filters: ListFilters) -> ListItem | None:
        """The item as JetStream has it when the read model still shows it pending or running
        (None: it no longer matches the filters); any other item as the read model filtered it."""
        if item.status not in OPEN_STATUSES:
            return item
        analysis_id = uuid.UUID(item.analysis_id)
        newest = await self._lookup.newest_version(analysis_id)
        folded = await self._lookup.find(analysis_id) if (newest or 0) > item.version else None
        row = folded.row if folded is not None and folded.row.version > item.version else None
        status, deleted = (row.status, row.deleted) if row is not None else (item.status, False)
        if filters.status == "deleted":
            keep = deleted
        else:
            keep = (filters.status is None or status == filters.status) and (
                not deleted or filters.include_deleted
            )
        if not keep:
            return None
        return ListItem.of(row) if row is not None else item

    async def _completed(self, analysis_id: uuid.UUID, min_version: int) -> tuple[AnalysisRow, ResultRow]:
        """The completed analysis and its result reference (from the projection or the events)."""
        found = await self.find(analysis_id, min_version=min_version)
        row = found.row
        if row.deleted:
            raise AnalysisDeletedError(analysis_id)
        if row.status != "completed":
            raise AnalysisNotCompletedError(analysis_id, row.status, row.error_message)
        ref = found.result or await self._reader.result(analysis_id)
        if ref is None or ref.completed_at != row.completed_at:  # the completion this row shows
            raise ResultNotReadyError(analysis_id)
        return row, ref

    async def _field(self, row: AnalysisRow, name: str) -> str:
        return field_name(generation=await self._generation(), version=row.version, name=name)

    async def _cached(self, owner: uuid.UUID, field: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The body cached under ``owner``'s ``field``; built and stored when the cache lacks it."""
        cached = await self._cache.get(owner, field)
        if cached is not None:
            return cached
        body = await build()
        await self._cache.set(owner, field, body)
        return body

    async def results(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> bytes:
        """The results body as JSON bytes (from the cache when it holds this version)."""
        row, ref = await self._completed(analysis_id, min_version)
        field = await self._field(row, "results")

        async def build() -> bytes:
            return _encoder.encode(
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

        return await self._cached(analysis_id, field, build)

    async def report(self, analysis_id: uuid.UUID, *, include_pii: bool, min_version: int = 1) -> Report:
        """The downloadable HTML report (cached per version, and apart with personal values shown)."""
        row, ref = await self._completed(analysis_id, min_version)
        field = await self._field(row, f"report:{'pii' if include_pii else 'masked'}")
        filename = report_filename(row.filename, analysis_id)

        async def build() -> bytes:
            result = msgspec.json.decode(await self._results.read(ref))
            meta = ReportMeta(
                analysis_id=str(analysis_id),
                filename=row.filename,
                completed_at=row.completed_at.isoformat() if row.completed_at else None,
                include_pii=include_pii,
            )
            return await asyncio.to_thread(render_report, result if isinstance(result, dict) else {}, meta)

        return Report(html=await self._cached(analysis_id, field, build), filename=filename)

    async def summary(
        self,
        analysis_id: uuid.UUID,
        *,
        fmt: SummaryFormat,
        max_tokens: int,
        min_version: int = 1,
        include_pii: bool = False,
    ) -> bytes:
        """The LLM summary body as JSON bytes (cached per format, budget and masking)."""
        row, ref = await self._completed(analysis_id, min_version)
        pii = ":pii" if include_pii else ""
        field = await self._field(row, f"summary:{fmt}:{max_tokens}{pii}")
        return await self._cached(
            analysis_id,
            field,
            lambda: self._summary_body(
                analysis_id, row=row, ref=ref, fmt=fmt, max_tokens=max_tokens, include_pii=include_pii
            ),
        )

    async def _summary_body(
        self,
        analysis_id: uuid.UUID,
        *,
        row: AnalysisRow,
        ref: ResultRow,
        fmt: SummaryFormat,
        max_tokens: int,
        include_pii: bool,
    ) -> bytes:
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
            include_pii=include_pii,
        )
        return _encoder.encode(
            SummaryView(
                analysis_id=str(analysis_id),
                format=fmt,
                max_tokens=max_tokens,
                tokens=summary.tokens,
                tokenizer="cl100k_base",
                text=summary.text,
                left_out=msgspec.convert(msgspec.to_builtins(summary.left_out), LeftOutView),
                # The text itself, not the document re-encoded: its figures keep their plain digits.
                summary=msgspec.Raw(summary.text.encode()) if summary.document is not None else None,
                layout=summary.layout,
                include_pii=include_pii,
            )
        )

    async def schema(self, analysis_id: uuid.UUID, *, min_version: int = 1) -> bytes:
        """The Frictionless resource (Table Schema and CSV dialect) of the analysed file, as JSON."""
        row, ref = await self._completed(analysis_id, min_version)
        field = await self._field(row, "schema")

        async def build() -> bytes:
            try:
                view = table_schema(
                    await self._results.read(ref),
                    analysis_id=str(analysis_id),
                    filename=row.filename,
                    file_key=row.file_key,
                )
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ResultUnavailableError(f"the result object is not a profile result: {exc}") from None
            return _encoder.encode(view)

        return await self._cached(analysis_id, field, build)

    async def _sides(
        self, base_id: uuid.UUID, target_id: uuid.UUID, base_min_version: int, target_min_version: int
    ) -> tuple[tuple[AnalysisRow, ResultRow], tuple[AnalysisRow, ResultRow]]:
        """Both analyses of a comparison, each refused as results-enhanced refuses it."""
        if base_id == target_id:
            raise SameAnalysisError(base_id)
        with _naming("base"):
            base = await self._completed(base_id, base_min_version)
        with _naming("target"):
            target = await self._completed(target_id, target_min_version)
        return base, target

    async def _compared(
        self,
        base: tuple[AnalysisRow, ResultRow],
        target: tuple[AnalysisRow, ResultRow],
        options: CompareOptions,
    ) -> Comparison:
        results: list[dict[str, Any]] = []
        for role, (_, ref) in (("base", base), ("target", target)):
            with _naming(role):
                data = await self._results.read(ref)
            results.append(await asyncio.to_thread(decode_for_comparison, data))
        (base_row, _), (target_row, _) = base, target
        return await asyncio.to_thread(
            compare_results,
            results[0],
            results[1],
            options,
            base_side=side_of(results[0], analysis_id=str(base_row.analysis_id), filename=base_row.filename),
            target_side=side_of(
                results[1], analysis_id=str(target_row.analysis_id), filename=target_row.filename
            ),
        )

    async def comparison(
        self,
        base_id: uuid.UUID,
        target_id: uuid.UUID,
        *,
        options: CompareOptions,
        base_min_version: int = 1,
        target_min_version: int = 1,
    ) -> tuple[Comparison, AnalysisRow, AnalysisRow]:
        """Two completed analyses compared from their stored results (no data is read again).

        Raises:
            SameAnalysisError: ``base_id == target_id``.
            AnalysisNotFoundError, AnalysisDeletedError, AnalysisNotCompletedError,
            ResultNotReadyError, ResultUnavailableError: as for results, naming the side.
        """
        base, target = await self._sides(base_id, target_id, base_min_version, target_min_version)
        return await self._compared(base, target, options), base[0], target[0]

    async def compare(
        self,
        base_id: uuid.UUID,
        target_id: uuid.UUID,
        *,
        options: CompareOptions,
        base_min_version: int = 1,
        target_min_version: int = 1,
    ) -> bytes:
        """The comparison body as JSON bytes, cached under the base per target version and options.

        Both analyses are looked up on every request, so a target deleted since is refused, not
        served from the cache.
        """
        base, target = await self._sides(base_id, target_id, base_min_version, target_min_version)
        digest = hashlib.sha256(_encoder.encode(options)).hexdigest()[:16]
        field = await self._field(base[0], f"compare:{target_id}:v{target[0].version}:{digest}")

        async def build() -> bytes:
            return _encoder.encode(await self._compared(base, target, options))

        return await self._cached(base_id, field, build)

    async def comparison_summary(
        self,
        analysis_id: uuid.UUID,
        compare_to: uuid.UUID,
        *,
        fmt: SummaryFormat,
        max_tokens: int,
        min_version: int = 1,
    ) -> bytes:
        """The LLM summary of this analysis (the target) against ``compare_to`` (the base)."""
        base, target = await self._sides(compare_to, analysis_id, 1, min_version)
        field = await self._field(
            target[0], f"summary-compare:{compare_to}:v{base[0].version}:{fmt}:{max_tokens}"
        )

        async def build() -> bytes:
            return await self._comparison_summary_body(
                analysis_id, compare_to=compare_to, base=base, target=target, fmt=fmt, max_tokens=max_tokens
            )

        return await self._cached(analysis_id, field, build)

    async def _comparison_summary_body(
        self,
        analysis_id: uuid.UUID,
        *,
        compare_to: uuid.UUID,
        base: tuple[AnalysisRow, ResultRow],
        target: tuple[AnalysisRow, ResultRow],
        fmt: SummaryFormat,
        max_tokens: int,
    ) -> bytes:
        comparison = await self._compared(base, target, CompareOptions())
        # A comparison has no per-column table form: "table" reads as markdown there.
        shape: Literal["markdown", "json"] = "json" if fmt == "json" else "markdown"
        summary = await asyncio.to_thread(
            summarize_comparison, comparison, fmt=shape, max_tokens=max_tokens, tokenizer=self._tokenizer
        )
        return _encoder.encode(
            ComparisonSummaryView(
                analysis_id=str(analysis_id),
                compare_to=str(compare_to),
                format=fmt,
                max_tokens=max_tokens,
                tokens=summary.tokens,
                tokenizer="cl100k_base",
                text=summary.text,
                left_out=summary.left_out,
                summary=summary.document,
            )
        )
