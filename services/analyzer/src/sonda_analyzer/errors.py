"""Errors of the analyzer worker, split by what the worker does with them.

- ``AnalysisFailure`` (and the engine's ``ProfileError``): the analysis itself cannot succeed as
  asked. The worker publishes ``AnalysisFailed`` with the error's stable ``code``, its message (meant
  for a person) and ``retryable`` (may the person try the same request again later?), then acks.
- Everything else (storage or NATS down, a crashed profiling process, a stopping worker) is
  transient: the handler raises, the request is nak'ed with backoff and redelivered, and after the
  last delivery the analysis fails with ``attempts_exhausted`` and the last reason.
"""

from __future__ import annotations

from sonda_events.codes import Code
from sonda_events.errors import SondaError


class AnalysisFailure(SondaError):
    """Ends the analysis with ``AnalysisFailed`` (not retried by the worker)."""

    code = Code.ANALYSIS_FAILED


class EngineFailure(AnalysisFailure):
    """An error the profiling process reported, with the engine's own code."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


class AnalysisTimeoutError(AnalysisFailure):
    code = Code.TIMEOUT

    def __init__(self, limit_s: float) -> None:
        super().__init__(
            f"the analysis took longer than this analyzer's limit of {limit_s:g} seconds and was stopped; "
            "profiling fewer rows (options.max_rows) makes it faster"
        )


class MemoryLimitError(AnalysisFailure):
    code = Code.OUT_OF_MEMORY

    def __init__(self, limit_mb: int) -> None:
        super().__init__(
            f"profiling this file needed more than this analyzer's memory limit of {limit_mb} MiB and was stopped"
        )


class SourceTooLargeError(AnalysisFailure):
    code = Code.FILE_TOO_LARGE

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the file is {_size(size)}, more than the {_size(limit)} this analyzer accepts; "
            "split it or profile a sample of it"
        )


class SourceMissingError(AnalysisFailure):
    code = Code.FILE_NOT_FOUND

    def __init__(self, key: str) -> None:
        super().__init__(
            f"there is no uploaded file under {key[:200]!r}; upload it before asking for an analysis"
        )


class InvalidFileKeyError(AnalysisFailure):
    code = Code.INVALID_FILE_KEY


class EngineCrashedError(SondaError):
    """The profiling process died without an answer (killed, segfault): worth another attempt."""

    code = Code.ENGINE_CRASHED


class WorkerStoppingError(SondaError):
    """The worker is shutting down: the request goes back to the queue for another worker."""

    code = Code.WORKER_STOPPING


def _size(size: int) -> str:
    return f"{size:,} bytes ({size / (1 << 20):,.1f} MiB)"
