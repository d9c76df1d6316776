"""Profiling in separate, warm processes: one per concurrent analysis.

Why a subprocess and not a thread: profiling is CPU-bound and pandas/pyarrow release the GIL only
in parts, so in a thread it would starve the event loop that must keep sending in-progress acks and
progress events. A process also gives what a thread cannot: a hard time limit (the process is
killed, not asked), a hard memory ceiling (its resident memory is watched and it is killed past the
limit) and survival of engine crashes (a segfault in a native library ends the child, not the
worker). Why not ``concurrent.futures.ProcessPoolExecutor``: killing one of its workers breaks the
whole pool (``BrokenProcessPool``) and with it every other analysis in flight. Here each slot owns
its process; the process stays warm between analyses (importing the engine takes a while) and is
replaced after a kill, a crash, or an analysis that left it bloated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
from sonda_events.logging import get_logger

from sonda_analyzer.errors import (
    AnalysisTimeoutError,
    EngineCrashedError,
    EngineFailure,
    MemoryLimitError,
)
from sonda_analyzer.protocol import Done, Failure, Job, Progress, Ready, encoder, message_decoder

log = get_logger(__name__)

ProgressHandler = Callable[[Progress], Awaitable[None]]
#: Lines may carry a summary of a few hundred KiB; asyncio's default line limit is 64 KiB.
_LINE_LIMIT = 8 << 20
_START_TIMEOUT_S = 120.0
_WATCH_INTERVAL_S = 0.2


def resident_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux ``/proc``); None where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class ProfilerProcess:
    """One profiling process; ``run`` sends it a job and relays its progress until it answers."""

    def __init__(self, *, memory_limit_mb: int, python: str = sys.executable) -> None:
        self.memory_limit_mb = memory_limit_mb
        self._python = python
        self._proc: asyncio.subprocess.Process | None = None
        self._killed_for_memory = False
        self._starting = asyncio.Lock()
        self.jobs = 0
        self.peak_mb = 0.0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.alive and self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start the process (unless it runs) and wait until it has imported the engine."""
        async with self._starting:
            if not self.alive:
                await self._spawn()

    async def _spawn(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            self._python,
            "-m",
            "sonda_analyzer.child",
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
            # Its own session: a Ctrl-C meant for the worker must not interrupt an analysis the
            # worker is still letting finish; the child dies with the worker anyway.
            start_new_session=True,
        )
        self.jobs = 0
        self.peak_mb = 0.0
        try:
            message = await asyncio.wait_for(self._read(), _START_TIMEOUT_S)
        except BaseException:
            await self.kill()
            raise
        if not isinstance(message, Ready):
            await self.kill()
            raise EngineCrashedError("the profiling process did not start")
        log.info("profiler_started", pid=message.pid)

    async def _read(self) -> Ready | Progress | Done | Failure | None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            return None
        try:
            message: Ready | Progress | Done | Failure = message_decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise EngineCrashedError(f"the profiling process sent an unreadable message: {exc}") from exc
        return message

    async def run(self, job: Job, *, on_progress: ProgressHandler, timeout_s: float) -> Done:
        """Profile ``job``; relays progress (awaited, in order) and returns the ``Done`` answer.

        Raises:
            EngineFailure: the engine refused the file (its code, message and retryable flag).
            AnalysisTimeoutError, MemoryLimitError: a limit was hit; the process was killed.
            EngineCrashedError: the process died without answering (worth another attempt).
            Whatever ``on_progress`` raises (the process is killed first).
        """
        await self.start()
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._killed_for_memory = False
        self.jobs += 1
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + timeout_s
        watch = asyncio.create_task(self._watch_memory())
        try:
            self._proc.stdin.write(encoder.encode(job) + b"\n")
            await self._proc.stdin.drain()
            while True:
                # The time limit stops the wait for the process's next message, never a progress
                # event on its way to the bus: cancelled after JetStream had stored one but before
                # its acknowledgement came back, the analysis' writer kept its old position, and
                # the failure event that followed was refused as a lost race (the analysis stayed
                # running). A limit reached during a publish is acted on as soon as it returns.
                try:
                    message = await asyncio.wait_for(self._read(), max(0.0, ends_at - loop.time()))
                except TimeoutError:
                    await self.kill()
                    raise AnalysisTimeoutError(timeout_s) from None
                if message is None:
                    break
                if isinstance(message, Progress):
                    await on_progress(message)
                elif isinstance(message, Done):
                    return message
                elif isinstance(message, Failure):
                    raise EngineFailure(message.code, message.message, retryable=message.retryable)
        except (EngineFailure, AnalysisTimeoutError):
            raise  # answered (it waits for its next job), or killed above
        except BaseException:  # cancelled, or on_progress failed: the process is mid-job
            await self.kill()
            raise
        finally:
            watch.cancel()
        reason = await self._exit_reason()
        if self._killed_for_memory:
            raise MemoryLimitError(self.memory_limit_mb)
        raise EngineCrashedError(f"the profiling process died while profiling ({reason})")

    async def _exit_reason(self) -> str:
        assert self._proc is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._proc.wait(), 5)
        code = self._proc.returncode
        self._proc = None
        if code is None:
            return "no exit status"
        if code < 0:
            return f"killed by signal {-code}" + (", perhaps out of memory" if code == -9 else "")
        return f"exit status {code}"

    async def _watch_memory(self) -> None:
        while self.alive and self._proc is not None:
            rss = resident_mb(self._proc.pid)
            if rss is None:
                return  # no /proc: no watchdog on this platform
            self.peak_mb = max(self.peak_mb, rss)
            if rss > self.memory_limit_mb:
                log.warning("profiler_over_memory", rss_mb=round(rss), limit_mb=self.memory_limit_mb)
                self._killed_for_memory = True
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                return
            await asyncio.sleep(_WATCH_INTERVAL_S)

    async def recycle_if_bloated(self) -> None:
        """Replace a process that kept much memory after its job (allocators rarely give it back)."""
        if self.alive and self._proc is not None:
            rss = resident_mb(self._proc.pid)
            if rss is not None and rss > self.memory_limit_mb / 2:
                log.info("profiler_recycled", rss_mb=round(rss))
                await self.close()

    async def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 10)

    async def close(self) -> None:
        """Let the process exit by closing its stdin; kill it if it does not."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            self._proc = None
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            await self.kill()
        self._proc = None


class ProfilerPool:
    """``size`` profiling processes handed out one analysis at a time."""

    def __init__(self, size: int, *, memory_limit_mb: int, python: str = sys.executable) -> None:
        self.processes = [
            ProfilerProcess(memory_limit_mb=memory_limit_mb, python=python) for _ in range(size)
        ]
        self._idle: asyncio.Queue[ProfilerProcess] = asyncio.Queue()
        for process in self.processes:
            self._idle.put_nowait(process)

    async def start(self) -> None:
        """Warm every process now, so the first analysis does not wait for imports."""
        await asyncio.gather(*(p.start() for p in self.processes))

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[ProfilerProcess]:
        process = await self._idle.get()
        try:
            yield process
        finally:
            with contextlib.suppress(Exception):
                await process.recycle_if_bloated()
            self._idle.put_nowait(process)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.processes), return_exceptions=True)
