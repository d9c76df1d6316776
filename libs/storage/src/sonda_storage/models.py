"""What storage operations return."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ObjectInfo(msgspec.Struct, kw_only=True, frozen=True):
    """What a ``head`` tells about an object."""

    key: str
    size: int
    #: Backend-specific version tag: S3's ETag; on local disk size and modification time.
    etag: str
    last_modified: datetime
    content_type: str | None = None
    #: SHA-256 hex digest when the writer recorded one (``put_bytes``/``put_file`` do).
    sha256: str | None = None


class PutResult(msgspec.Struct, kw_only=True, frozen=True):
    """An object just written, with the checksum computed while writing."""

    key: str
    size: int
    sha256: str
    etag: str


class PresignedUpload(msgspec.Struct, kw_only=True, frozen=True):
    """A URL a client PUTs the file's bytes to, without credentials of its own.

    ``url`` is absolute for S3/R2; for local disk it is a path on the ingest service
    (``/api/v1/uploads/...``) that the caller turns into an absolute URL.
    """

    url: str
    key: str
    expires_at: datetime
    method: str = "PUT"
    #: Headers the client must send with the PUT (signed ones, like Content-Length).
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    #: Largest upload the URL itself enforces, when the backend can enforce one.
    max_bytes: int | None = None
