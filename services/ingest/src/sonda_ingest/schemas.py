"""Request and response bodies of ingest's HTTP API (msgspec Structs: validated and in OpenAPI)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta


class PresignedUploadResponse(msgspec.Struct, kw_only=True):
    """Where to PUT the file, and the key to start an analysis with afterwards."""

    upload_url: str
    file_key: str
    expires_at: datetime
    method: Literal["PUT"] = "PUT"
    #: Headers the PUT must carry (a declared size is signed in on S3/R2).
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    #: Largest upload accepted, in bytes.
    max_bytes: int
    #: The filename as it appears in the key.
    filename: str


class UploadReceipt(msgspec.Struct, kw_only=True):
    """A local upload that was stored."""

    file_key: str
    size: int
    sha256: str


class StartRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Start an analysis of an uploaded file."""

    file_key: Annotated[str, Meta(max_length=2048)]
    analysis_type: Annotated[str, Meta(max_length=64)] = "basic_eda"
    #: Reading and profiling options (see the analyzer's ``ProfileOptions``); unknown keys are refused.
    options: dict[str, Any] | None = None


class StartResponse(msgspec.Struct, kw_only=True):
    analysis_id: uuid.UUID
    status: Literal["pending"] = "pending"
    status_url: str
    websocket_url: str
    file_key: str
    analysis_type: str
    #: True when an Idempotency-Key matched an analysis started before (nothing new was published).
    replayed: bool = False


class DeleteResponse(msgspec.Struct, kw_only=True):
    analysis_id: uuid.UUID
    status: Literal["deleted"] = "deleted"
    #: Version of the analysis stream after the deletion.
    version: int
    #: True when the analysis was deleted before (nothing new was published).
    already_deleted: bool = False


class CleanedAnalysis(msgspec.Struct, kw_only=True):
    analysis_id: uuid.UUID
    requested_at: datetime
    #: An ``AnalysisDeleted`` was published by this run (False: it was deleted before).
    soft_deleted: bool
    objects_deleted: list[str]


class CleanupFailure(msgspec.Struct, kw_only=True):
    analysis_id: uuid.UUID
    code: str
    error: str


class CleanupReport(msgspec.Struct, kw_only=True):
    """What one clean-up run did."""

    days_old: int
    cutoff: datetime
    analyses: list[CleanedAnalysis]
    analyses_deleted: int
    objects_deleted: int
    failures: list[CleanupFailure]
    #: More analyses are due than one run handles; run again (the schedule does).
    more: bool
