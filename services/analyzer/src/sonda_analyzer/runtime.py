"""Everything the analyzer process runs, wired in one place: NATS, storage, profilers, the worker.

``running_analyzer`` is the service's lifespan: it connects and provisions, warms the profiling
processes, runs the worker until the context exits, then stops gracefully — no new requests are
fetched, in-flight analyses get ``SONDA_ANALYZER_SHUTDOWN_GRACE_S`` to finish, the rest are killed
and nak'ed so another worker takes them at once — and closes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
from nats.aio.client import Client as NatsClient
from sonda_events.bus import ServerSupport, close_nats, connect_nats, provision, require_supported_server
from sonda_events.logging import get_logger
from sonda_storage import ObjectStorage, storage_from_settings

from sonda_analyzer.exhausted import ExhaustedWatcher
from sonda_analyzer.profiler import ProfilerPool
from sonda_analyzer.settings import AnalyzerSettings
from sonda_analyzer.status import AnalyzerInfo, ProcessInfo, WorkerStatus
from sonda_analyzer.worker import AnalysisWorker
from sonda_analyzer.workspace import sweep_orphans

log = get_logger(__name__)

_RESTART_DELAY_S = 1.0


@dataclass
class Analyzer:
    settings: AnalyzerSettings
    nc: NatsClient
    storage: ObjectStorage
    pool: ProfilerPool
    worker: AnalysisWorker
    status: WorkerStatus

    def info(self) -> AnalyzerInfo:
        return AnalyzerInfo(
            worker=self.worker.worker_id,
            concurrency=self.settings.sonda_analyzer_concurrency,
            in_flight=list(self.status.in_flight.values()),
            processed=self.status.counts,
            profilers=[
                ProcessInfo(pid=p.pid, jobs=p.jobs, peak_rss_mb=round(p.peak_mb, 1))
                for p in self.pool.processes
            ],
        )

    async def check_nats(self) -> ServerSupport:
        """The server and its version; fails when not connected or below Sonda's nats-server floor."""
        if not self.nc.is_connected:
            raise ConnectionError("not connected to NATS")
        support = require_supported_server(self.nc)
        await self.nc.jetstream().account_info()
        return support

    async def check_storage(self) -> dict[str, str]:
        return await self.storage.ping()


async def _supervise(worker: AnalysisWorker, stop: asyncio.Event) -> None:
    """Run the worker; an unexpected crash of its loop (not of one analysis) restarts it."""
    while not stop.is_set():
        try:
            await worker.run(stop)
        except Exception as exc:
            log.error("worker_loop_crashed", error=str(exc), error_type=type(exc).__name__)
            await asyncio.sleep(_RESTART_DELAY_S)


@contextlib.asynccontextmanager
async def running_analyzer(settings: AnalyzerSettings) -> AsyncIterator[Analyzer]:
    """Start the analyzer; stop it gracefully when the block exits."""
    worker_id = settings.instance_id()
    nc = await connect_nats(settings.nats_url, name=f"sonda-analyzer-{worker_id}")
    storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
    pool = ProfilerPool(settings.sonda_analyzer_concurrency, memory_limit_mb=settings.memory_limit_mb())
    stop = asyncio.Event()
    try:
        js = nc.jetstream()
        await provision(js)
        await storage.start()
        await asyncio.to_thread(sweep_orphans, settings.work_dir())
        status = WorkerStatus()
        worker = AnalysisWorker(js, storage, pool, settings, worker_id=worker_id, status=status, nc=nc)
        await worker.consumer.start()
        watcher = ExhaustedWatcher(nc, js, worker, consumer=worker.consumer.name)
        await watcher.start()
        warm = asyncio.create_task(pool.start())
        running = asyncio.create_task(_supervise(worker, stop))
        log.info("analyzer_started", worker=worker_id, concurrency=settings.sonda_analyzer_concurrency)
        try:
            yield Analyzer(settings, nc, storage, pool, worker, status)
        finally:
            stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(running), settings.sonda_analyzer_shutdown_grace_s)
            except TimeoutError:
                log.warning("analyzer_aborting_in_flight", in_flight=len(status.in_flight))
                worker.abort()
                await running
            warm.cancel()
            await asyncio.gather(warm, return_exceptions=True)
            await watcher.close()
            log.info("analyzer_stopped", worker=worker_id, **msgspec.structs.asdict(status.counts))
    finally:
        await pool.close()
        with contextlib.suppress(Exception):
            await storage.close()
        await close_nats(nc)
