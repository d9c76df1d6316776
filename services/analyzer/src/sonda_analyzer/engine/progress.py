"""Progress reporting: throttled updates plus a heartbeat while one long step runs.

The worker turns each :class:`ProgressUpdate` into an ``AnalysisProgress`` event and an in-progress
ack, so the engine promises a call at least every second (or every 5 %) even while pyarrow parses a
large file in one call. Calls come from the profiling thread or from the heartbeat thread, never at
the same time (a lock serialises them), so a callback needs no locking of its own. A callback may
raise to abort the profile (a time limit, a lost lease): the exception leaves ``profile_file``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

import msgspec


class ProgressUpdate(msgspec.Struct, frozen=True, kw_only=True):
    progress: float
    stage: str
    message: str
    rows_done: int
    bytes_done: int


ProgressCallback = Callable[[ProgressUpdate], None]

#: How often the heartbeat looks at the bytes read, at most.
_POLL_SECONDS = 0.1


class ProgressReporter:
    """Forwards progress to a callback at most every ``min_step`` points or ``interval`` seconds.

    Used as a context manager: inside it a daemon thread re-sends the latest state when nothing was
    sent for ``interval`` seconds, so a slow step still produces a heartbeat.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        interval: float = 1.0,
        min_step: float = 5.0,
        bytes_source: Callable[[], int] | None = None,
    ) -> None:
        self._callback = callback
        self._interval = interval
        self._min_step = min_step
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._last_sent_at = 0.0
        self._last_sent_progress = -100.0
        self._state = ProgressUpdate(
            progress=0.0, stage="reading", message="starting", rows_done=0, bytes_done=0
        )
        #: Reads the byte position of the input while a read runs (set by the reader).
        self.bytes_source = bytes_source
        #: While a whole file is read: the bar's start and end for that read and the file's size in
        #: bytes, so the heartbeat moves the bar with the bytes read (one read call takes seconds
        #: on a large file, and a bar stuck at 1 % looks like a hang).
        self.read_span: tuple[float, float, int] | None = None

    def __enter__(self) -> ProgressReporter:
        if self._callback is not None:
            self._thread = threading.Thread(target=self._beat, name="sonda-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def update(
        self,
        progress: float,
        stage: str,
        message: str,
        *,
        rows_done: int | None = None,
        bytes_done: int | None = None,
        force: bool = False,
    ) -> None:
        """Record the state; send it when it moved enough, a second passed, or ``force``."""
        if self._callback is None:
            return
        with self._lock:
            self._raise_pending()
            progress = max(self._state.progress, min(100.0, progress))
            self._state = ProgressUpdate(
                progress=round(progress, 1),
                stage=stage,
                message=message,
                rows_done=self._state.rows_done if rows_done is None else rows_done,
                bytes_done=self._state.bytes_done if bytes_done is None else bytes_done,
            )
            now = time.monotonic()
            if (
                force
                or progress - self._last_sent_progress >= self._min_step
                or now - self._last_sent_at >= self._interval
            ):
                self._send(now)

    def check(self) -> None:
        """Re-raise, in the profiling thread, an exception the callback raised in the heartbeat."""
        with self._lock:
            self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _send(self, now: float) -> None:
        assert self._callback is not None
        self._last_sent_at = now
        self._last_sent_progress = self._state.progress
        self._callback(self._state)

    def _beat(self) -> None:
        # The bytes read are looked at several times a second: a read moves the bar by
        # ``min_step`` as soon as it has read that share, as the profiling steps do (once a
        # second, a 262 MB file read in 0.6 s showed no value between its start and its end).
        while not self._stop.wait(min(self._interval / 4, _POLL_SECONDS)):
            with self._lock:
                now = time.monotonic()
                if self.bytes_source is not None:
                    done = self.bytes_source()
                    if done > self._state.bytes_done:
                        self._state = msgspec.structs.replace(self._state, bytes_done=done)
                        if self.read_span is not None and self.read_span[2] > 0:
                            start, end, total = self.read_span
                            moved = round(start + (end - start) * min(1.0, done / total), 1)
                            if moved > self._state.progress:
                                self._state = msgspec.structs.replace(self._state, progress=moved)
                if (
                    now - self._last_sent_at < self._interval
                    and self._state.progress - self._last_sent_progress < self._min_step
                ):
                    continue
                try:
                    self._send(now)
                except BaseException as exc:  # handed to the profiling thread by _raise_pending
                    self._error = exc
                    return
