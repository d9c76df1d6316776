"""Local-disk specifics: streamed uploads with limits, atomic writes, nothing left behind on failure."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sonda_events.settings import Secret, SettingsError, load_settings
from sonda_service.problems import status_for
from sonda_storage import (
    EmptyUploadError,
    LocalDiskStorage,
    S3Storage,
    StorageSettings,
    StorageUnavailableError,
    UploadTooLargeError,
    UrlSigner,
    new_upload_key,
    storage_from_settings,
)


async def chunks_of(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


def leftovers(storage: LocalDiskStorage) -> list[Path]:
    return [p for p in storage.root.rglob("*") if p.is_file()]


async def test_receive_streams_to_disk_and_hashes(local_storage: LocalDiskStorage) -> None:
    data = b"a;b\n1,5;2\n" * 300_000  # 3 MB in 7 kB chunks
    key = new_upload_key("data.csv")
    put = await local_storage.receive(key, chunks_of(data), max_bytes=len(data))
    assert put.size == len(data)
    assert put.sha256 == hashlib.sha256(data).hexdigest()
    assert local_storage.path_for(key).read_bytes() == data
    assert leftovers(local_storage) == [local_storage.path_for(key)]


async def test_an_oversize_upload_leaves_nothing(local_storage: LocalDiskStorage) -> None:
    key = new_upload_key("big.csv")
    with pytest.raises(UploadTooLargeError) as info:
        await local_storage.receive(key, chunks_of(b"x" * 100_001), max_bytes=100_000)
    assert info.value.code == "upload_too_large"
    assert status_for(info.value.code) == 413  # its HTTP status, at the edge
    assert leftovers(local_storage) == []


async def test_an_empty_upload_leaves_nothing(local_storage: LocalDiskStorage) -> None:
    with pytest.raises(EmptyUploadError) as info:
        await local_storage.receive(new_upload_key("e.csv"), chunks_of(b""), max_bytes=10)
    assert info.value.code == "empty_upload"
    assert leftovers(local_storage) == []


async def test_a_broken_or_cancelled_upload_leaves_nothing(local_storage: LocalDiskStorage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (3 << 20)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await local_storage.receive(new_upload_key("b.csv"), broken(), max_bytes=1 << 30)
    assert leftovers(local_storage) == []

    started = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"y" * (2 << 20)
        started.set()
        await asyncio.sleep(30)
        yield b"never"

    task = asyncio.create_task(local_storage.receive(new_upload_key("s.csv"), slow(), max_bytes=1 << 30))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(local_storage) == []


async def test_an_existing_object_is_replaced_only_when_complete(local_storage: LocalDiskStorage) -> None:
    key = new_upload_key("r.csv")
    await local_storage.receive(key, chunks_of(b"old"), max_bytes=100)
    with pytest.raises(UploadTooLargeError):
        await local_storage.receive(key, chunks_of(b"n" * 200), max_bytes=100)
    assert local_storage.path_for(key).read_bytes() == b"old"


async def test_delete_removes_empty_folders_but_not_the_root(local_storage: LocalDiskStorage) -> None:
    key = new_upload_key("d.csv")
    await local_storage.put_bytes(key, b"1")
    assert await local_storage.delete(key)
    assert not local_storage.path_for(key).parent.exists()
    assert local_storage.root.exists()


async def test_ping_fails_when_the_folder_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    storage = LocalDiskStorage(blocker / "objects", UrlSigner(b"0123456789abcdef0123"))
    with pytest.raises(StorageUnavailableError):
        await storage.ping()


def test_factory_picks_local_disk_without_r2_variables(tmp_path: Path) -> None:
    settings = load_settings(StorageSettings, {})
    storage = storage_from_settings(settings, tmp_path)
    assert isinstance(storage, LocalDiskStorage)
    assert storage.root == tmp_path / "objects"
    assert (tmp_path / "signing.key").exists()


def test_factory_picks_s3_with_r2_variables(tmp_path: Path) -> None:
    settings = load_settings(
        StorageSettings,
        {
            "CLOUDFLARE_R2_ACCESS_KEY_ID": "id",
            "CLOUDFLARE_R2_SECRET_ACCESS_KEY": "s3cr3t-value",
            "CLOUDFLARE_R2_ENDPOINT_URL": "http://127.0.0.1:9",
            "CLOUDFLARE_R2_BUCKET_NAME": "sonda-data",
        },
    )
    assert isinstance(settings.cloudflare_r2_secret_access_key, Secret)
    assert "s3cr3t-value" not in repr(settings)
    storage = storage_from_settings(settings, tmp_path)
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "sonda-data"


def test_factory_names_missing_r2_variables(tmp_path: Path) -> None:
    settings = load_settings(StorageSettings, {"CLOUDFLARE_R2_ENDPOINT_URL": "http://x"})
    with pytest.raises(SettingsError, match=r"CLOUDFLARE_R2_ACCESS_KEY_ID.*CLOUDFLARE_R2_BUCKET_NAME"):
        storage_from_settings(settings, tmp_path)


async def test_download_to_links_the_object_instead_of_copying_it(
    local_storage: LocalDiskStorage, tmp_path: Path
) -> None:
    data = b"x;y\n1;2\n" * 50_000
    key = new_upload_key("data.csv")
    await local_storage.receive(key, chunks_of(data), max_bytes=len(data))
    target = tmp_path / "work" / "data.csv"
    info = await local_storage.download_to(key, target)
    assert info.size == len(data)
    # Same filesystem: the analyzer reads the upload's own bytes, no copy made.
    assert target.stat().st_ino == local_storage.path_for(key).stat().st_ino
    assert [p.name for p in target.parent.iterdir()] == ["data.csv"]
    # A later write of the key renames a new file over it: what was handed over stays as it was.
    await local_storage.put_bytes(key, b"other")
    assert target.read_bytes() == data
    await local_storage.delete(key)
    assert target.read_bytes() == data
