"""The one interface every object storage backend implements (local disk, S3/R2/MinIO)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from sonda_storage.models import ObjectInfo, PresignedUpload, PutResult

#: Read size for streaming reads: large enough for throughput, small enough to keep memory flat.
CHUNK_SIZE = 1 << 20
JSON = "application/json"


@runtime_checkable
class ObjectStorage(Protocol):
    """Object storage as Sonda uses it. Every key is checked with ``keys.validate_key`` first.

    Errors: ``InvalidKeyError`` (bad key), ``ObjectNotFoundError`` (reads of a missing object),
    ``StorageUnavailableError`` (backend down or refusing us).
    """

    #: ``"local"`` or ``"s3"``: shown in readiness and logs.
    kind: Literal["local", "s3"]

    async def start(self) -> None:
        """Prepare the backend (folders, client, bucket); call once before use."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def ping(self) -> dict[str, str]:
        """Raise ``StorageUnavailableError`` unless the backend answers; returns a short description."""

    async def presign_put(
        self, key: str, *, expires_in: int, max_bytes: int, content_length: int | None = None
    ) -> PresignedUpload:
        """A URL to PUT the object's bytes to for ``expires_in`` seconds.

        ``content_length``, when the client declared it, is signed into the URL where the backend
        allows (S3), so the store itself refuses a different size.
        """

    async def head(self, key: str) -> ObjectInfo | None:
        """Size and version of an object, or None when there is none."""

    def read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        """Stream the bytes ``[offset, offset + length)`` (to the end when ``length`` is None).

        A range past the end yields nothing. Raises ``ObjectNotFoundError`` on first iteration.
        """

    async def download_to(self, key: str, path: Path) -> ObjectInfo:
        """Copy an object to a local file (written whole, then renamed into place)."""

    async def put_bytes(self, key: str, data: bytes, *, content_type: str = JSON) -> PutResult:
        """Write a (small) object, e.g. a result; replaces an existing one atomically."""

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> PutResult:
        """Write a local file as an object, streaming it (large files stay out of memory)."""

    async def delete(self, key: str) -> bool:
        """Remove an object; True if it existed. Deleting a missing object is not an error."""
