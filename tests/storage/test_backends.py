"""The ObjectStorage promises, against both backends: the real local folder and S3 over HTTP."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from sonda_storage import (
    InvalidKeyError,
    LocalDiskStorage,
    ObjectNotFoundError,
    ObjectStorage,
    new_upload_key,
    result_key,
)

PAYLOAD = bytes(range(256)) * 41  # 10 496 bytes: not a multiple of the chunk sizes used below


async def read_all(storage: ObjectStorage, key: str, **kwargs: int | None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, **kwargs)])  # type: ignore[arg-type]


async def test_ping_describes_the_backend(storage: ObjectStorage) -> None:
    assert (await storage.ping())["kind"] == storage.kind


async def test_put_head_read_delete(storage: ObjectStorage) -> None:
    key = result_key(uuid.uuid4())
    put = await storage.put_bytes(key, PAYLOAD)
    assert put.size == len(PAYLOAD)
    assert put.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    info = await storage.head(key)
    assert info is not None
    assert info.size == len(PAYLOAD)
    assert info.etag
    assert await read_all(storage, key) == PAYLOAD
    chunks = [chunk async for chunk in storage.read(key, chunk_size=1000)]
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert b"".join(chunks) == PAYLOAD
    assert await storage.delete(key) is True
    assert await storage.head(key) is None
    assert await storage.delete(key) is False


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, 1), (5, 100), (1000, None), (len(PAYLOAD) - 3, None), (len(PAYLOAD) - 3, 50), (7, 0)],
)
async def test_range_reads(storage: ObjectStorage, offset: int, length: int | None) -> None:
    key = result_key(uuid.uuid4())
    await storage.put_bytes(key, PAYLOAD)
    end = None if length is None else offset + length
    assert await read_all(storage, key, offset=offset, length=length, chunk_size=333) == PAYLOAD[offset:end]


async def test_a_range_past_the_end_is_empty(storage: ObjectStorage) -> None:
    key = result_key(uuid.uuid4())
    await storage.put_bytes(key, PAYLOAD)
    assert await read_all(storage, key, offset=len(PAYLOAD) + 10) == b""


async def test_missing_objects(storage: ObjectStorage, tmp_path: Path) -> None:
    key = new_upload_key("missing.csv")
    assert await storage.head(key) is None
    with pytest.raises(ObjectNotFoundError) as info:
        await read_all(storage, key)
    assert info.value.code == "object_not_found"
    with pytest.raises(ObjectNotFoundError):
        await storage.download_to(key, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "uploads\\x", "a/../b", "x\x00"])
async def test_every_operation_refuses_an_unsafe_key(
    storage: ObjectStorage, key: str, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"x")
    calls = [
        storage.head(key),
        storage.put_bytes(key, b"x"),
        storage.put_file(key, tmp_path / "f"),
        storage.delete(key),
        storage.download_to(key, tmp_path / "out"),
        storage.presign_put(key, expires_in=60, max_bytes=10),
        read_all(storage, key),
    ]
    for call in calls:
        with pytest.raises(InvalidKeyError):
            await call


async def test_put_file_and_download_to_stream_large_objects(storage: ObjectStorage, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(12 * 1024 * 1024 + 17)  # above S3's 8 MiB multipart threshold
    source.write_bytes(data)
    key = result_key(uuid.uuid4())
    put = await storage.put_file(key, source, content_type="application/octet-stream")
    assert put.size == len(data)
    assert put.sha256 == hashlib.sha256(data).hexdigest()
    target = tmp_path / "copy" / "big.bin"
    info = await storage.download_to(key, target)
    assert info.size == len(data)
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["big.bin"]  # no temp file left behind


async def test_put_replaces_an_object(storage: ObjectStorage) -> None:
    key = result_key(uuid.uuid4())
    await storage.put_bytes(key, b"first version")
    await storage.put_bytes(key, b"second")
    assert await read_all(storage, key) == b"second"


async def test_presigned_put_with_a_real_http_client(storage: ObjectStorage) -> None:
    key = new_upload_key("vendas.csv")
    presigned = await storage.presign_put(key, expires_in=300, max_bytes=1 << 20)
    assert presigned.key == key
    assert presigned.method == "PUT"
    if isinstance(storage, LocalDiskStorage):
        # Local URLs point at ingest's own route; here we check their shape and signature.
        assert presigned.url.startswith(f"/api/v1/{key}?expires=")
        query = dict(part.split("=", 1) for part in presigned.url.split("?", 1)[1].split("&"))
        assert (
            storage.verify_upload(
                key, expires=query["expires"], max_bytes=query["max"], signature=query["sig"]
            )
            == 1 << 20
        )
        return
    async with httpx.AsyncClient() as client:
        response = await client.put(urljoin("http://unused", presigned.url), content=PAYLOAD)
    assert response.status_code == 200, response.text
    info = await storage.head(key)
    assert info is not None
    assert info.size == len(PAYLOAD)
    assert await read_all(storage, key) == PAYLOAD
