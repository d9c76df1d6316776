"""Upload URLs, and the local PUT that receives a file when storage is the local disk."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from sonda_events.logging import bind_context, get_logger
from sonda_service import correlation_id_of, principal_of
from sonda_service.auth import PUBLIC_OPT
from sonda_storage import (
    EmptyUploadError,
    LocalDiskStorage,
    UploadTooLargeError,
    new_upload_key,
    parse_upload_key,
    sanitise_filename,
)

from sonda_ingest.errors import InvalidFilenameError, LocalUploadsDisabledError
from sonda_ingest.links import absolute
from sonda_ingest.ownership import owned_upload_id
from sonda_ingest.pacing import paced
from sonda_ingest.runtime import Ingest
from sonda_ingest.schemas import PresignedUploadResponse, UploadReceipt

log = get_logger(__name__)


@get("/api/v1/r2/presigned-upload", tags=["uploads"], summary="Get a URL to upload a file to")
async def presigned_upload(
    request: Request[Any, Any, Any],
    ingest: NamedDependency[Ingest],
    filename: Annotated[str, QueryParameter(description="The file's name (only its safe part is kept)")],
    size: Annotated[
        int | None,
        QueryParameter(
            ge=0, description="Size in bytes, when known: refused early if too big, signed in on S3"
        ),
    ] = None,
) -> PresignedUploadResponse:
    """Issue an upload key ``uploads/<uuid>/<safe name>`` and a URL to PUT the bytes to.

    The key is bound to the caller's principal: only it (or an admin) may start an analysis of it.
    """
    if not filename.strip() or len(filename) > 1024:
        raise InvalidFilenameError("filename must be 1–1024 characters")
    limit = ingest.settings.max_upload_bytes()
    if size is not None:
        if size == 0:
            raise EmptyUploadError(sanitise_filename(filename))
        if size > limit:
            raise UploadTooLargeError(limit, received=size)
    key = new_upload_key(filename, owned_upload_id(principal_of(request)))
    # A declared size is the most the URL accepts: signed into it (local) or into the request (S3).
    presigned = await ingest.storage.presign_put(
        key,
        expires_in=ingest.settings.sonda_upload_url_ttl_s,
        max_bytes=size if size is not None else limit,
        content_length=size,
    )
    _, safe_name = parse_upload_key(key)
    return PresignedUploadResponse(
        upload_url=absolute(request, ingest.settings.sonda_public_url, presigned.url),
        file_key=key,
        expires_at=presigned.expires_at,
        headers=presigned.headers,
        max_bytes=size if size is not None else limit,
        filename=safe_name,
    )


@put(
    "/api/v1/uploads/{upload_id:str}/{filename:str}",
    tags=["uploads"],
    summary="Receive an upload (local storage only; the URL comes from presigned-upload)",
    status_code=200,
    # The signed URL is the credential (a browser PUTs without our API key), and the body can be far
    # larger than JSON bodies: the route enforces its own size limit while streaming.
    opt={PUBLIC_OPT: True},
    request_max_body_size=None,
)
async def receive_upload(
    request: Request[Any, Any, Any],
    ingest: NamedDependency[Ingest],
    *,
    upload_id: FromPath[str],
    filename: FromPath[str],
    expires: FromQuery[str | None] = None,
    max_bytes: Annotated[str | None, QueryParameter(name="max")] = None,
    sig: FromQuery[str | None] = None,
) -> UploadReceipt:
    """Stream the body to disk chunk by chunk; the object appears only when complete."""
    storage = ingest.storage
    if not isinstance(storage, LocalDiskStorage):
        raise LocalUploadsDisabledError(
            "uploads go to object storage directly; use the URL from presigned-upload"
        )
    key = f"uploads/{upload_id}/{filename}"
    parse_upload_key(key)
    bind_context(file_key=key, correlation_id=correlation_id_of(request.scope), path=request.url.path)
    signed_limit = storage.verify_upload(key, expires=expires, max_bytes=max_bytes, signature=sig)
    limit = min(signed_limit, ingest.settings.max_upload_bytes())
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(limit, received=int(declared))  # refused before reading a byte
    body = paced(
        request.stream(),
        idle_s=ingest.settings.sonda_upload_idle_timeout_s,
        min_bytes_per_s=ingest.settings.sonda_upload_min_kib_per_s * 1024,
    )
    put_result = await storage.receive(key, body, max_bytes=limit)
    log.info("upload_received", file_key=key, size=put_result.size)
    return UploadReceipt(file_key=key, size=put_result.size, sha256=put_result.sha256)
