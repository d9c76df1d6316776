"""Run child processes, restart one that dies (with backoff), stop them all in a chosen order.

Each child gets its own session, so a Ctrl-C in the terminal reaches only the supervisor, which then
stops the children in order (the gateway first, NATS last) instead of all of them at once. On Linux a
child also receives SIGTERM if the supervisor itself dies, so nothing is left holding ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import msgspec

PR_SET_PDEATHSIG = 1
#: A child that ran this long before dying is restarted with the first delay again.
STABLE_AFTER_S = 30.0
LOG_ROTATE_BYTES = 10 * 1024 * 1024


class ProcessSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How to run one child."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    #: Restart delays in seconds; the last one repeats.
    backoff: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0)
    #: Seconds between SIGTERM and SIGKILL when stopping.
    stop_timeout: float = 15.0
    #: Descriptors the child inherits: the listening socket it serves on, which ``sonda up`` opened
    #: (and keeps for the child's restarts).
    pass_fds: Sequence[int] = ()


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)

    def set_parent_death_signal() -> None:  # runs in the child, between fork and exec
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_parent_death_signal


def _open_log(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_suffix(path.suffix + ".1"))
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def tail(path: Path, lines: int = 12) -> list[str]:
    """The last ``lines`` lines of a log file (empty when there is none)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16_384))
            return f.read().decode("utf-8", "replace").splitlines()[-lines:]
    except OSError:
        return []


Report = Callable[[str, str], None]
"""``report(level, text)``: how the supervisor tells the person what happens (info, warning, error)."""


class Supervised:
    """One child: started, watched, restarted after a crash, stopped on request."""

    def __init__(self, spec: ProcessSpec, report: Report) -> None:
        self.spec = spec
        self._report = report
        self._preexec = _die_with_parent()
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False

    def stopping(self) -> bool:
        """True once ``stop`` or ``kill`` was called (a method: the flag changes while awaiting)."""
        return self._stopping

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def start(self) -> None:
        log_fd = _open_log(self.spec.log_path)
        try:
            header = f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {self.spec.name} ===\n"
            os.write(log_fd, header.encode())
            self.process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                env=dict(self.spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_fd,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=self._preexec,
                pass_fds=tuple(self.spec.pass_fds),
            )
        finally:
            os.close(log_fd)

    async def watch(self) -> None:
        """Restart the child whenever it exits, until ``stop`` is called."""
        attempt = 0
        while not self.stopping():
            if self.process is None:
                await self.start()
            assert self.process is not None
            started = time.monotonic()
            code = await self.process.wait()
            if self.stopping():
                return
            if time.monotonic() - started > STABLE_AFTER_S:
                attempt = 0
            delay = self.spec.backoff[min(attempt, len(self.spec.backoff) - 1)]
            attempt += 1
            self.restarts += 1
            last = "\n".join(f"    {line}" for line in tail(self.spec.log_path, 8))
            self._report(
                "warning",
                f"{self.spec.name} exited with code {code}; restarting in {delay:g}s "
                f"(log: {self.spec.log_path})" + (f"\n{last}" if last else ""),
            )
            self.process = None
            await asyncio.sleep(delay)

    async def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; returns the exit code (None if never started)."""
        self._stopping = True
        process = self.process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            return await asyncio.wait_for(process.wait(), self.spec.stop_timeout)
        except TimeoutError:
            self._report(
                "warning", f"{self.spec.name} did not stop in {self.spec.stop_timeout:g}s; killing it"
            )
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return await process.wait()

    def kill(self) -> None:
        """Kill at once (a second Ctrl-C)."""
        self._stopping = True
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class Supervisor:
    """A set of children, each watched by its own task; stopped in groups, in order."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self.children: dict[str, Supervised] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}

    async def start(self, spec: ProcessSpec) -> Supervised:
        child = Supervised(spec, self._report)
        await child.start()
        self.children[spec.name] = child
        self._watchers[spec.name] = asyncio.create_task(child.watch(), name=f"watch-{spec.name}")
        return child

    async def stop(self, names: Sequence[str]) -> None:
        """Stop these children together and wait for all of them."""
        present = [n for n in names if n in self.children]
        await asyncio.gather(*(self.children[n].stop() for n in present))
        for name in present:
            watcher = self._watchers.pop(name)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            del self.children[name]

    def kill_all(self) -> None:
        for child in self.children.values():
            child.kill()
