"""Storage backends under test: the real local folder and S3 over HTTP (moto in server mode)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sonda_storage import LocalDiskStorage, ObjectStorage, S3Storage, UrlSigner

from tests.support.servers import S3Endpoint


def s3_storage(endpoint: S3Endpoint, bucket: str | None = None, **kwargs: object) -> S3Storage:
    return S3Storage(
        bucket=bucket or f"sonda-{uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint.url,
        access_key_id=endpoint.access_key_id,
        secret_access_key=endpoint.secret_access_key,
        region=endpoint.region,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(b"a test secret of enough bytes!!")


@pytest.fixture
async def local_storage(tmp_path: Path, signer: UrlSigner) -> AsyncIterator[LocalDiskStorage]:
    storage = LocalDiskStorage(tmp_path / "objects", signer)
    await storage.start()
    yield storage
    await storage.close()


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, signer: UrlSigner, s3_endpoint: S3Endpoint
) -> AsyncIterator[ObjectStorage]:
    """Each backend in turn: the same promises hold for both."""
    backend: ObjectStorage
    if request.param == "local":
        backend = LocalDiskStorage(tmp_path / "objects", signer)
    else:
        backend = s3_storage(s3_endpoint)
    await backend.start()
    yield backend
    await backend.close()
