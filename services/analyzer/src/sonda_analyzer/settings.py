"""The analyzer's settings: the shared service ones, object storage, and the worker's limits.

Read with ``load_settings(AnalyzerSettings)``; each field comes from the env var of the same name in
upper case (``SONDA_ANALYZER_CONCURRENCY=2``). Object storage is the ``storage`` section
(``sonda_storage.StorageSettings``), read from the same environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta
from sonda_service import ServiceSettings
from sonda_storage.config import StorageSettings

Seconds = Annotated[float, Meta(gt=0, le=86_400)]


class AnalyzerSettings(ServiceSettings, kw_only=True):
    """How the analyzer service runs its JetStream worker and its profiling processes."""

    port: Annotated[int, Meta(ge=0, le=65535)] = 8002

    # -- worker ----------------------------------------------------------------------------------
    #: Analyses run at the same time by this process (one profiling process each; CPU-bound).
    sonda_analyzer_concurrency: Annotated[int, Meta(ge=1, le=64)] = 1
    #: Memory budget of one analysis in MiB: bigger files are profiled in streaming chunks.
    sonda_analyzer_memory_mb: Annotated[int, Meta(ge=64)] = 1024
    #: Hard ceiling on a profiling process' resident memory in MiB (it is killed past it and the
    #: analysis fails with ``out_of_memory``); 0 means twice the budget plus 512 MiB of headroom.
    sonda_analyzer_memory_limit_mb: Annotated[int, Meta(ge=0)] = 0
    #: Largest file accepted, in MiB; bigger ones fail with ``file_too_large`` before any download.
    sonda_analyzer_max_file_mb: Annotated[int, Meta(ge=1)] = 10 * 1024
    #: Seconds one analysis may spend profiling before it fails with ``timeout``.
    sonda_analyzer_timeout_s: Seconds = 1800.0
    #: Deliveries of one request before the analysis fails with the last reason.
    sonda_analyzer_max_deliver: Annotated[int, Meta(ge=1, le=100)] = 3
    #: Seconds JetStream waits for an ack (or an in-progress ack) before redelivering a request.
    sonda_analyzer_ack_wait_s: Annotated[float, Meta(ge=1, le=3600)] = 30.0
    #: Seconds a graceful stop waits for in-flight analyses before handing them back (nak).
    sonda_analyzer_shutdown_grace_s: Annotated[float, Meta(ge=0, le=3600)] = 20.0
    #: Folder for downloaded files and results being written; empty = the system's temp folder.
    sonda_analyzer_work_dir: str = ""
    #: Durable consumer name; every analyzer instance shares it (one work queue).
    sonda_analyzer_consumer: str = "analyzer"

    #: Object storage: uploads read, results written.
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)

    def memory_limit_mb(self) -> int:
        return self.sonda_analyzer_memory_limit_mb or 2 * self.sonda_analyzer_memory_mb + 512

    def work_dir(self) -> Path | None:
        return Path(self.sonda_analyzer_work_dir).expanduser() if self.sonda_analyzer_work_dir else None

    def keep_alive_s(self) -> float:
        """Interval of in-progress acks: three per ack wait, so one lost beat is harmless."""
        return max(0.2, min(5.0, self.sonda_analyzer_ack_wait_s / 3))
