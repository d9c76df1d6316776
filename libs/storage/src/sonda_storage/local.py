"""Object storage in a folder: the embedded default when no S3/R2 endpoint is configured.

Every write goes to a temporary file under ``<root>/.tmp`` (same filesystem), is flushed to disk and
then renamed into place, so a reader never sees half an object and a failed or rejected write leaves
nothing behind. Keys pass ``validate_key`` (no segment may start with a dot), so no key can reach
``.tmp`` or anything outside the root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sonda_storage.base import CHUNK_SIZE, JSON
from sonda_storage.errors import (
    EmptyUploadError,
    InvalidKeyError,
    ObjectNotFoundError,
    StorageUnavailableError,
    UploadTooLargeError,
)
from sonda_storage.files import TempObject
from sonda_storage.keys import key_parts
from sonda_storage.models import ObjectInfo, PresignedUpload, PutResult
from sonda_storage.signing import UrlSigner

#: Upload URLs are ``{prefix}/{key}?expires=&max=&sig=``: for an upload key that is ingest's route
#: ``PUT /api/v1/uploads/<uuid>/<name>``.
LOCAL_UPLOAD_PREFIX = "/api/v1"
#: Bytes gathered before one write to disk (one thread hop per MiB, not per network chunk).
FLUSH_BYTES = 1 << 20
STALE_TEMP_S = 24 * 3600.0
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalDiskStorage:
    """``ObjectStorage`` in a local folder, with signed upload URLs served by ingest."""

    kind: Literal["local", "s3"] = "local"

    def __init__(self, root: Path, signer: UrlSigner, *, url_prefix: str = LOCAL_UPLOAD_PREFIX) -> None:
        self.root = root.expanduser().absolute()
        self.signer = signer
        self.url_prefix = url_prefix.rstrip("/")
        self._tmp = self.root / ".tmp"

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        # Temp files of a process that died mid-write; recent ones may belong to a live writer.
        cutoff = time.time() - STALE_TEMP_S
        for entry in self._tmp.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()

    async def close(self) -> None:
        return None

    async def ping(self) -> dict[str, str]:
        def check() -> None:
            self._tmp.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._tmp, prefix="ping-"):
                pass

        try:
            await asyncio.to_thread(check)
        except OSError as exc:
            raise StorageUnavailableError(f"local storage at {self.root} is not writable: {exc}") from exc
        return {"kind": self.kind}

    # -- keys and paths ----------------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        """The file of a key; ``InvalidKeyError`` for a key that is not safe."""
        path = self.root.joinpath(*key_parts(key))
        # The allow-list already forbids it; this guards the invariant if the rules ever loosen.
        if os.path.commonpath([self.root, path]) != str(self.root) or path == self.root:
            raise InvalidKeyError(f"{key!r} leaves the storage root")
        return path

    # -- uploads -----------------------------------------------------------------------------------

    async def presign_put(
        self, key: str, *, expires_in: int, max_bytes: int, content_length: int | None = None
    ) -> PresignedUpload:
        self.path_for(key)
        expires = int(time.time()) + expires_in
        signature = self.signer.sign("PUT", key, expires=expires, max_bytes=max_bytes)
        return PresignedUpload(
            url=f"{self.url_prefix}/{key}?expires={expires}&max={max_bytes}&sig={signature}",
            key=key,
            expires_at=datetime.fromtimestamp(expires, UTC),
            max_bytes=max_bytes,
        )

    def verify_upload(
        self, key: str, *, expires: str | None, max_bytes: str | None, signature: str | None
    ) -> int:
        """Check an upload URL's parameters; return the size limit it was signed with."""
        self.path_for(key)
        _, limit = self.signer.verify("PUT", key, expires=expires, max_bytes=max_bytes, signature=signature)
        return limit

    async def receive(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> PutResult:
        """Stream an upload to disk without holding it in memory.

        Raises:
            UploadTooLargeError: more than ``max_bytes`` arrived (reading stops there).
            EmptyUploadError: no bytes arrived.
            In both cases, and on any other failure or cancellation, nothing is left on disk.
        """
        dest = self.path_for(key)
        temp = await asyncio.to_thread(TempObject.create, self._tmp)
        size = 0
        pending: list[bytes] = []
        pending_bytes = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLargeError(max_bytes, received=size)
                pending.append(chunk)
                pending_bytes += len(chunk)
                if pending_bytes >= FLUSH_BYTES:
                    await asyncio.to_thread(temp.write, b"".join(pending))
                    pending, pending_bytes = [], 0
            if size == 0:
                raise EmptyUploadError(key)
            if pending:
                await asyncio.to_thread(temp.write, b"".join(pending))
            return await asyncio.to_thread(temp.commit, dest, key)
        except BaseException:
            temp.abort()  # synchronous on purpose: it must also run when we are being cancelled
            raise

    # -- reads -------------------------------------------------------------------------------------

    async def head(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except _MISSING:
            return None
        if not path.is_file():
            return None
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    async def read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        if offset < 0 or (length is not None and length < 0) or chunk_size < 1:
            raise ValueError("offset and length must not be negative, chunk_size must be positive")
        path = self.path_for(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except _MISSING:
            raise ObjectNotFoundError(key) from None
        try:
            await asyncio.to_thread(handle.seek, offset)
            remaining = length
            while remaining is None or remaining > 0:
                want = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def download_to(self, key: str, path: Path) -> ObjectInfo:
        source = self.path_for(key)

        def copy() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A hard link when both folders share a filesystem: the analyzer reads the upload
            # itself, with no copy of a file of gigabytes first. Safe because an object is never
            # written in place (a write renames a new file over the key), so the link keeps the
            # bytes that were asked for even if the key is overwritten or deleted meanwhile.
            temp = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}"
            try:
                try:
                    os.link(source, temp)
                except FileNotFoundError:
                    raise
                except OSError:  # another filesystem, or links not allowed there
                    shutil.copyfile(source, temp)
                os.replace(temp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise

        try:
            await asyncio.to_thread(copy)
        except _MISSING:
            raise ObjectNotFoundError(key) from None
        info = await self.head(key)
        if info is None:  # deleted between the copy and the stat
            raise ObjectNotFoundError(key)
        return info

    # -- writes ------------------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes, *, content_type: str = JSON) -> PutResult:
        dest = self.path_for(key)

        def write() -> PutResult:
            temp = TempObject.create(self._tmp)
            try:
                temp.write(data)
                return temp.commit(dest, key)
            except BaseException:
                temp.abort()
                raise

        return await asyncio.to_thread(write)

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> PutResult:
        dest = self.path_for(key)

        def copy() -> PutResult:
            temp = TempObject.create(self._tmp)
            try:
                with path.open("rb") as source:
                    while block := source.read(CHUNK_SIZE):
                        temp.write(block)
                return temp.commit(dest, key)
            except BaseException:
                temp.abort()
                raise

        return await asyncio.to_thread(copy)

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)

        def remove() -> bool:
            try:
                path.unlink()
            except _MISSING:
                return False
            # Drop folders left empty (``uploads/<uuid>/``), never the root itself.
            parent = path.parent
            while parent != self.root and parent.is_relative_to(self.root):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
            return True

        return await asyncio.to_thread(remove)
