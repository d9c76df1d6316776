"""The analyzer's JetStream worker: ``AnalysisRequested`` in, Started/Progress/Completed|Failed out.

Per request (a durable work-queue consumer shared by every analyzer instance):

1. Read where the analysis stands (the lifecycle's stream reader and fold). One already finished
   (Completed, Failed or Deleted) is a stale delivery, and a request that is not the one that opened
   the analysis (another system publishing it twice) a duplicate: both are acked and skipped.
2. Append ``AnalysisStarted`` (this worker, attempt = deliveries so far), check the options, the
   key and the size, download the file, profile it in a separate process (see ``profiler``) while
   in-progress acks and throttled ``AnalysisProgress`` events go out.
3. Write the full result as ``results/<analysis_id>.json`` (its SHA-256 computed while writing) and
   append ``AnalysisCompleted`` with the summary and that reference (claim check) — or
   ``AnalysisFailed`` with a stable code when the file cannot be profiled. Only then is the request
   acked.

Every append expects the stream's last sequence we saw, so a stale worker (one whose request was
redelivered elsewhere, or an analysis deleted meanwhile) gets ``StreamVersionConflictError`` and
stops quietly: the analysis is not ours anymore. Transient failures (storage or NATS down, a
crashed profiling process) raise, so the request is nak'ed with backoff; after the last delivery
``on_exhausted`` fails the analysis with the reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from pathlib import Path, PurePosixPath
from typing import TypeVar

import msgspec
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sonda_events.bus import (
    AnalysisWriter,
    Delivery,
    JetStreamDeadLetterSink,
    Publisher,
    PullConsumer,
    Reject,
    work_queue_consumer,
)
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisFailed,
    AnalysisRequested,
    AnalysisStarted,
    CompletedData,
    FailedData,
    ResultRef,
    StartedData,
)
from sonda_events.errors import SondaError, StreamVersionConflictError
from sonda_events.lifecycle import AnalysisStreamReader, StreamRead
from sonda_events.logging import get_logger
from sonda_events.subjects import type_subjects
from sonda_storage import InvalidKeyError, ObjectNotFoundError, ObjectStorage, result_key, validate_key

from sonda_analyzer.engine import ProfileError, parse_options
from sonda_analyzer.errors import (
    AnalysisFailure,
    InvalidFileKeyError,
    SourceMissingError,
    SourceTooLargeError,
    WorkerStoppingError,
)
from sonda_analyzer.profiler import ProfilerPool
from sonda_analyzer.progress import ProgressPublisher
from sonda_analyzer.protocol import Done, Job, Progress
from sonda_analyzer.settings import AnalyzerSettings
from sonda_analyzer.status import InFlight, WorkerStatus
from sonda_analyzer.workspace import folder_bytes, make_folder, remove_folder

log = get_logger(__name__)

PRODUCER = "analyzer"
EXHAUSTED_CODE = "attempts_exhausted"
_DOWNLOAD_BEAT_S = 1.0
T = TypeVar("T")


def describe(exc: BaseException) -> str:
    """A reason fit for an event: our errors' messages; for others no paths or internals."""
    if isinstance(exc, SondaError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"an unexpected {type(exc).__name__}; the details are in the analyzer's log"


class AnalysisWorker:
    """Consumes analysis requests until stopped; one instance per analyzer process."""

    def __init__(
        self,
        js: JetStreamContext,
        storage: ObjectStorage,
        pool: ProfilerPool,
        settings: AnalyzerSettings,
        *,
        worker_id: str,
        status: WorkerStatus,
        nc: NatsClient,
    ) -> None:
        self._js = js
        self._storage = storage
        self._pool = pool
        self._settings = settings
        self.worker_id = worker_id
        self.status = status
        # With the connection, publishes wait for it instead of being buffered during a reconnect.
        self.publisher = Publisher(nc)
        self._stream = AnalysisStreamReader(nc)
        self.consumer = PullConsumer(
            js,
            work_queue_consumer(
                settings.sonda_analyzer_consumer,
                type_subjects("AnalysisRequested"),
                max_deliver=settings.sonda_analyzer_max_deliver,
                ack_wait_s=settings.sonda_analyzer_ack_wait_s,
            ),
            dead_letters=JetStreamDeadLetterSink(js),
        )
        self._abort = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and process requests until ``stop`` is set; in-flight analyses finish (or are
        handed back after ``abort``) before this returns."""
        await self.consumer.run(
            self.handle,
            stop=stop,
            concurrency=self._settings.sonda_analyzer_concurrency,
            on_exhausted=self.exhausted,
        )

    def abort(self) -> None:
        """Stop in-flight analyses now: their processes are killed and their requests nak'ed."""
        self._abort.set()

    # -- one request -------------------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, AnalysisRequested):
            raise Reject(f"the analyzer consumes AnalysisRequested events, not {event.type}")
        async with delivery.keep_alive(self._settings.keep_alive_s()):
            writer, read = await self.resume(event)
            state = read.state
            if state.finished:
                log.info("analysis_already_finished", phase=state.phase.value, version=state.version)
                self.status.counts.skipped += 1
                return
            opened_by = read.request_seq
            if (
                state.request is None
                or state.request.event_id != event.event_id
                or (opened_by is not None and delivery.stream_sequence != opened_by)
            ):
                # Not the request that opened the analysis: that one's delivery owns it.
                log.info("duplicate_request_skipped", version=event.version)
                self.status.counts.skipped += 1
                return
            attempt = delivery.num_delivered
            with self.status.track(event.analysis_id, event.data.file_key, attempt) as flight:
                try:
                    await self._unless_aborted(self._analyse(event, writer, attempt, flight))
                except StreamVersionConflictError as exc:
                    log.info("analysis_superseded", reason=str(exc))
                    self.status.counts.superseded += 1
                except Exception as exc:
                    self.status.counts.retried += 1
                    if not isinstance(exc, SondaError):  # a bug or a surprise: keep its traceback
                        log.warning("analysis_attempt_crashed", attempt=attempt, exc_info=True)
                    raise

    async def resume(self, event: AnalysisRequested) -> tuple[AnalysisWriter, StreamRead]:
        """Where the analysis stands, and a writer positioned after its newest event."""
        read = await self._stream.read(event.analysis_id)
        writer = AnalysisWriter.after(
            self.publisher,
            read,
            producer=PRODUCER,
            correlation_id=event.correlation_id,
            causation_id=str(event.event_id),
            reader=self._stream,
        )
        if writer.version == 0:  # the request is not readable yet: it is the one in hand
            writer.version = event.version
        return writer, read

    async def _unless_aborted(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        aborted = asyncio.ensure_future(self._abort.wait())
        try:
            await asyncio.wait({task, aborted}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # our caller is cancelled: never leave the work running
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            aborted.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise WorkerStoppingError("the analyzer is shutting down; another worker will take over")
        return task.result()

    async def _analyse(
        self, event: AnalysisRequested, writer: AnalysisWriter, attempt: int, flight: InFlight
    ) -> None:
        started = time.monotonic()
        await writer.emit(AnalysisStarted, StartedData(worker=self.worker_id[:256], attempt=attempt))
        log.info("analysis_started", attempt=attempt, file_key=event.data.file_key, version=writer.version)
        progress = ProgressPublisher(writer, flight)
        try:
            done, ref = await self._profile(event, progress)
        except (AnalysisFailure, ProfileError) as exc:
            await writer.emit(
                AnalysisFailed,
                FailedData(
                    error_code=exc.code[:256],
                    error_message=exc.message[:4000],
                    retryable=exc.retryable,
                    attempt=attempt,
                ),
            )
            self.status.counts.failed += 1
            log.info("analysis_failed", error_code=exc.code, error=exc.message, retryable=exc.retryable)
            return
        duration = round(time.monotonic() - started, 3)
        await writer.emit(
            AnalysisCompleted, CompletedData(summary=done.summary, result=ref, duration_s=duration)
        )
        self.status.counts.completed += 1
        log.info(
            "analysis_completed",
            rows=done.summary.rows,
            columns=done.summary.columns,
            duration_s=duration,
            progress_events=progress.published,
            version=writer.version,
        )

    async def _profile(self, event: AnalysisRequested, progress: ProgressPublisher) -> tuple[Done, ResultRef]:
        options = parse_options(event.data.options)  # InvalidOptionsError before any download
        key = self._checked_key(event.data.file_key)
        info = await self._storage.head(key)
        if info is None:
            raise SourceMissingError(key)
        limit = self._settings.sonda_analyzer_max_file_mb << 20
        if info.size > limit:
            raise SourceTooLargeError(info.size, limit)
        folder = await asyncio.to_thread(make_folder, self._settings.work_dir())
        try:
            source = folder / PurePosixPath(key).name
            await self._download(key, source, info.size, progress)
            job = Job(
                analysis_id=str(event.analysis_id),
                path=str(source),
                options=msgspec.to_builtins(options),
                budget_mb=self._settings.sonda_analyzer_memory_mb,
                result_path=str(folder / "result.json"),
            )
            async with self._pool.lease() as profiler:
                time_limit = float(self._settings.sonda_analyzer_timeout_s)
                if options.time_limit_s is not None:
                    time_limit = min(time_limit, options.time_limit_s)
                done = await profiler.run(job, on_progress=progress, timeout_s=time_limit)
            put = await self._storage.put_file(
                result_key(event.analysis_id), Path(job.result_path), content_type="application/json"
            )
        finally:
            await asyncio.to_thread(remove_folder, folder)
        return done, ResultRef(
            key=put.key, sha256=put.sha256, size=put.size, schema_version=done.schema_version
        )

    async def _download(self, key: str, dest: Path, size: int, progress: ProgressPublisher) -> None:
        """Copy the object next to the profiler, with a progress event every second meanwhile.

        A large file on S3/R2 can take minutes to arrive; the bytes already in the work folder say
        how far it got (backends write to a temporary file there, then rename it).
        """
        fetched = 0
        download = asyncio.ensure_future(self._storage.download_to(key, dest))
        try:
            while True:
                message = f"fetching the file: {fetched:,} of {size:,} bytes"
                await progress(
                    Progress(
                        progress=0, stage="downloading", message=message, rows_done=0, bytes_done=fetched
                    ),
                    force=fetched == 0,
                )
                done, _ = await asyncio.wait({download}, timeout=_DOWNLOAD_BEAT_S)
                if done:
                    break
                fetched = min(size, await asyncio.to_thread(folder_bytes, dest.parent))
        finally:
            if not download.done():
                download.cancel()
                await asyncio.gather(download, return_exceptions=True)
        try:
            download.result()
        except ObjectNotFoundError:
            raise SourceMissingError(key) from None

    @staticmethod
    def _checked_key(key: str) -> str:
        try:
            validate_key(key)
        except InvalidKeyError as exc:
            raise InvalidFileKeyError(exc.message) from None
        if key.startswith("results/"):
            raise InvalidFileKeyError("results of analyses cannot be analysed; name an uploaded file")
        return key

    # -- giving up ---------------------------------------------------------------------------------

    async def exhausted(self, delivery: Delivery, exc: BaseException) -> None:
        """The last delivery failed transiently: fail the analysis with the reason."""
        event = delivery.event
        if not isinstance(event, AnalysisRequested):
            return
        reason = describe(exc)
        await self.fail_exhausted(
            event,
            f"the analysis did not finish after {delivery.num_delivered} attempts; the last one failed: {reason}",
            attempts=delivery.num_delivered,
        )

    async def fail_exhausted(self, event: AnalysisRequested, message: str, *, attempts: int) -> bool:
        """Publish ``AnalysisFailed`` unless the analysis already finished; True if published."""
        writer, read = await self.resume(event)
        if read.state.finished:
            return False
        try:
            await writer.emit(
                AnalysisFailed,
                FailedData(
                    error_code=EXHAUSTED_CODE, error_message=message[:4000], retryable=True, attempt=attempts
                ),
            )
        except StreamVersionConflictError:
            return False  # someone else appended meanwhile; the next delivery or advisory decides
        self.status.counts.failed += 1
        log.warning("analysis_exhausted", attempts=attempts, reason=message)
        return True
