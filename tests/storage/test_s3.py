"""S3 specifics against moto over HTTP: bucket creation, signed sizes, an unreachable endpoint."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from sonda_service.problems import status_for
from sonda_storage import StorageError, StorageUnavailableError, new_upload_key

from tests.storage.conftest import s3_storage
from tests.support.servers import S3Endpoint, free_port


async def test_the_bucket_is_created_at_start(s3_endpoint: S3Endpoint) -> None:
    bucket = f"sonda-new-{uuid.uuid4().hex[:8]}"
    storage = s3_storage(s3_endpoint, bucket)
    await storage.start()
    try:
        assert await storage.ping() == {"kind": "s3", "bucket": bucket}
        # A second process starting on the same bucket is fine.
        again = s3_storage(s3_endpoint, bucket)
        await again.start()
        await again.ping()
        await again.close()
    finally:
        await storage.close()


async def test_a_missing_bucket_is_an_error_when_creation_is_off(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(s3_endpoint, f"sonda-absent-{uuid.uuid4().hex[:8]}", create_bucket=False)
    with pytest.raises(StorageError):
        await storage.start()
    await storage.close()


async def test_a_declared_size_is_signed_into_the_url(s3_endpoint: S3Endpoint) -> None:
    storage = s3_storage(s3_endpoint)
    await storage.start()
    try:
        key = new_upload_key("sized.csv")
        presigned = await storage.presign_put(key, expires_in=60, max_bytes=100, content_length=42)
        assert presigned.headers == {"Content-Length": "42"}
        assert "content-length" in presigned.url.lower()  # among X-Amz-SignedHeaders
        assert presigned.expires_at.timestamp() == pytest.approx(time.time() + 60, abs=5)
        async with httpx.AsyncClient() as client:
            response = await client.put(presigned.url, content=b"z" * 42)
        assert response.status_code == 200
        info = await storage.head(key)
        assert info is not None
        assert info.size == 42
    finally:
        await storage.close()


async def test_an_unreachable_endpoint_is_unavailable_not_a_crash() -> None:
    endpoint = S3Endpoint(url=f"http://127.0.0.1:{free_port()}")
    storage = s3_storage(endpoint, "sonda-nowhere", max_attempts=1)
    await storage.start()  # does not raise: readiness reports it
    for call in (
        storage.ping(),
        storage.head(new_upload_key("a.csv")),
        storage.put_bytes("results/x.json", b"{}"),
    ):
        # one attempt, then the error: the guard only catches retries that never end
        with pytest.raises(StorageUnavailableError) as info:
            async with asyncio.timeout(120):
                await call
        assert info.value.code == "storage_unavailable"
        assert status_for(info.value.code) == 503  # its HTTP status, at the edge
    await storage.close()
