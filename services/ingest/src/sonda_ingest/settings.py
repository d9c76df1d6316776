"""Ingest settings, read from the environment (``SONDA_MAX_UPLOAD_MB=2048`` etc.).

Object storage is the ``storage`` section (``sonda_storage.StorageSettings``, the ``CLOUDFLARE_R2_*``
and ``SONDA_S3_*`` variables), read from the same environment.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from sonda_events.settings import load_settings
from sonda_service import ServiceSettings
from sonda_storage.config import StorageSettings

MIB = 1024 * 1024


class IngestSettings(ServiceSettings, kw_only=True):
    """Uploads, analysis commands and retention."""

    port: Annotated[int, Meta(ge=0, le=65535)] = 8001

    # -- uploads and commands --------------------------------------------------------------------
    #: Largest upload accepted, in MiB (the local PUT stops reading past it; start refuses bigger objects).
    sonda_max_upload_mb: Annotated[int, Meta(ge=1)] = 1024
    #: Seconds an upload URL stays valid.
    sonda_upload_url_ttl_s: Annotated[int, Meta(ge=10, le=7 * 24 * 3600)] = 3600
    #: Analyses one API key (or "anonymous" without keys) may have in progress at once, per
    #: ingest instance; more starts answer 429. 0 = no limit.
    sonda_max_active_analyses_per_key: Annotated[int, Meta(ge=0)] = 50
    #: Seconds an upload may go without receiving a byte before it is stopped (408).
    sonda_upload_idle_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    #: Slowest average upload rate accepted, in KiB/s, once the first idle timeout has passed.
    sonda_upload_min_kib_per_s: Annotated[float, Meta(ge=0)] = 4.0
    #: Seconds a command waits for NATS to acknowledge its event before answering 503.
    sonda_publish_deadline_s: Annotated[float, Meta(gt=0, le=120)] = 5.0

    # -- retention -------------------------------------------------------------------------------
    #: When set, analyses older than this many days are cleaned up on a schedule.
    sonda_retention_days: Annotated[int, Meta(ge=1, le=36_500)] | None = None
    #: Seconds between scheduled clean-ups.
    sonda_cleanup_interval_s: Annotated[float, Meta(gt=0, le=7 * 24 * 3600)] = 3600.0
    #: Analyses handled by one clean-up run at most (the next run continues).
    sonda_cleanup_batch: Annotated[int, Meta(ge=1, le=100_000)] = 500

    #: Object storage: uploads and results.
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)

    def max_upload_bytes(self) -> int:
        return self.sonda_max_upload_mb * MIB


def load() -> IngestSettings:
    return load_settings(IngestSettings)
