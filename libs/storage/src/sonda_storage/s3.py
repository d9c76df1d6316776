"""Object storage on an S3-compatible service (Cloudflare R2, AWS S3, MinIO) through aioboto3.

One long-lived client per process (opened in ``start``, closed in ``close``): creating a client per
call costs tens of milliseconds. botocore's failures are mapped onto Sonda's storage errors so callers
never see a botocore type: a missing object is ``ObjectNotFoundError``, a connection or credential
problem ``StorageUnavailableError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sonda_events.logging import get_logger

from sonda_storage.base import CHUNK_SIZE, JSON
from sonda_storage.errors import ObjectNotFoundError, StorageError, StorageUnavailableError
from sonda_storage.keys import validate_key
from sonda_storage.models import ObjectInfo, PresignedUpload, PutResult

log = get_logger(__name__)

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
_BUCKET_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})
_UNAVAILABLE = (BotoCoreError, OSError, asyncio.TimeoutError)
SHA256_METADATA = "sha256"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _mapped(key: str | None = None) -> Iterator[None]:
    """Translate botocore errors into storage errors."""
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        if key is not None and code in _NOT_FOUND:
            raise ObjectNotFoundError(key) from exc
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"} or status >= 500:
            raise StorageUnavailableError(f"object storage refused the request: {code}") from exc
        raise StorageError(f"object storage error: {code or exc}") from exc
    except _UNAVAILABLE as exc:
        raise StorageUnavailableError(f"object storage unreachable: {type(exc).__name__}: {exc}") from exc


class S3Storage:
    """``ObjectStorage`` on an S3 bucket."""

    kind: Literal["local", "s3"] = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        access_key_id: str,
        secret_access_key: str,
        region: str = "auto",
        addressing_style: Literal["path", "virtual", "auto"] = "path",
        create_bucket: bool = True,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            # R2 and MinIO do not accept every checksum newer SDKs add by default, and a presigned
            # URL must not demand a checksum header a browser will not send.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._create_bucket = create_bucket
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._bucket_ready = False
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the client and make sure the bucket exists (created when allowed).

        An unreachable endpoint does not stop the start: readiness reports it and the bucket is
        checked again by the next ``ping``.
        """
        await self._open()
        try:
            await self._ensure_bucket()
        except StorageUnavailableError as exc:
            log.warning("storage_unavailable_at_start", error=exc.message, bucket=self.bucket)
        except BaseException:
            await self.close()
            raise

    async def _open(self) -> Any:
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(
                    self._session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
                )
                self._stack = stack
        return self._client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        client = await self._open()
        try:
            with _mapped():
                await client.head_bucket(Bucket=self.bucket)
        except StorageError as exc:
            cause = exc.__cause__
            missing = isinstance(cause, ClientError) and _code(cause) in _BUCKET_MISSING
            if not (missing and self._create_bucket):
                raise
            with _mapped():
                await self._create(client)
        self._bucket_ready = True

    async def _create(self, client: Any) -> None:
        try:
            try:
                await client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                # R2 and us-east-1 take no location; other S3 regions insist on their own name.
                if _code(exc) != "IllegalLocationConstraintException" or self.region in ("auto", "us-east-1"):
                    raise
                await client.create_bucket(
                    Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
                )
            log.info("bucket_created", bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    async def ping(self) -> dict[str, str]:
        await self._ensure_bucket()
        client = await self._open()
        with _mapped():
            await client.head_bucket(Bucket=self.bucket)
        return {"kind": self.kind, "bucket": self.bucket}

    # -- uploads -----------------------------------------------------------------------------------

    async def presign_put(
        self, key: str, *, expires_in: int, max_bytes: int, content_length: int | None = None
    ) -> PresignedUpload:
        validate_key(key)
        client = await self._open()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        headers: dict[str, str] = {}
        if content_length is not None:
            # A presigned PUT cannot carry a size range (only POST policies can); a declared size is
            # signed instead, so the store refuses any other length.
            params["ContentLength"] = content_length
            headers["Content-Length"] = str(content_length)
        with _mapped():
            url = await client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=expires_in, HttpMethod="PUT"
            )
        return PresignedUpload(
            url=url,
            key=key,
            expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=expires_in),
            headers=headers,
            max_bytes=content_length,
        )

    # -- reads -------------------------------------------------------------------------------------

    async def head(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        client = await self._open()
        try:
            with _mapped(key):
                response = await client.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFoundError:
            return None
        metadata = response.get("Metadata") or {}
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            etag=str(response.get("ETag", "")),
            last_modified=response["LastModified"].astimezone(UTC),
            content_type=response.get("ContentType"),
            sha256=metadata.get(SHA256_METADATA),
        )

    async def read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        if offset < 0 or (length is not None and length < 0) or chunk_size < 1:
            raise ValueError("offset and length must not be negative, chunk_size must be positive")
        validate_key(key)
        if length == 0:
            return
        client = await self._open()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            params["Range"] = f"bytes={offset}-{end}"
        try:
            with _mapped(key):
                response = await client.get_object(**params)
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _code(cause) == "InvalidRange":
                return  # the range starts past the end: nothing to read
            raise
        body = response["Body"]
        # ``async with body`` would hand back the bare aiohttp response; keep the wrapper, which
        # checks the length, and release the connection when done or abandoned.
        async with body:
            while True:
                with _mapped(key):
                    chunk = await body.read(chunk_size)
                if not chunk:
                    break
                yield chunk

    async def download_to(self, key: str, path: Path) -> ObjectInfo:
        info = await self.head(key)
        if info is None:
            raise ObjectNotFoundError(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        handle = os.fdopen(fd, "wb")
        try:
            async for chunk in self.read(key):
                await asyncio.to_thread(handle.write, chunk)
            handle.close()
            os.replace(temp, path)
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return info

    # -- writes ------------------------------------------------------------------------------------

    async def put_bytes(self, key: str, data: bytes, *, content_type: str = JSON) -> PutResult:
        validate_key(key)
        client = await self._open()
        sha256 = hashlib.sha256(data).hexdigest()
        with _mapped():
            response = await client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={SHA256_METADATA: sha256},
            )
        return PutResult(key=key, size=len(data), sha256=sha256, etag=str(response.get("ETag", "")))

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> PutResult:
        validate_key(key)
        client = await self._open()
        sha256, size = await asyncio.to_thread(_file_digest, path)
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: sha256}}
        if content_type:
            extra["ContentType"] = content_type
        with _mapped():
            # Multipart for large files, so a big result or file is never read into memory whole.
            await client.upload_file(str(path), self.bucket, key, ExtraArgs=extra)
        info = await self.head(key)
        return PutResult(key=key, size=size, sha256=sha256, etag=info.etag if info else "")

    async def delete(self, key: str) -> bool:
        existed = await self.head(key) is not None
        if existed:
            client = await self._open()
            with _mapped():
                await client.delete_object(Bucket=self.bucket, Key=key)
        return existed


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_SIZE):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
