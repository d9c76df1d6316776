"""Keys: nothing a client sends can name a path outside the storage root."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sonda_service.problems import status_for
from sonda_storage import (
    InvalidKeyError,
    LocalDiskStorage,
    UrlSigner,
    new_upload_key,
    parse_upload_key,
    result_key,
    sanitise_filename,
    validate_key,
)

HOSTILE_KEYS = [
    "",
    "../../etc/passwd",
    "..",
    ".",
    "uploads/../../etc/passwd",
    "uploads/./x.csv",
    "/etc/passwd",
    "//server/share",
    "uploads//x.csv",
    "uploads/x.csv/",
    "uploads\\..\\x.csv",
    "C:/Windows/win.ini",
    "c:x",
    "uploads/x\x00.csv",
    "uploads/x\n.csv",
    "uploads/ x.csv",
    ".tmp/obj-1.part",
    "uploads/.hidden",
    "uploads/relatório.csv",
    "uploads/%2e%2e/x",
    "a" * 1025,
    "uploads/" + "a" * 256,
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidKeyError) as info:
        validate_key(key)
    assert info.value.code == "invalid_key"
    assert status_for(info.value.code) == 400  # its HTTP status, at the edge


@pytest.mark.parametrize("key", [None, 3, b"uploads/x"])
def test_non_strings_are_rejected(key: object) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(key)


@pytest.mark.parametrize(
    "key", ["uploads/0b1c/data.csv", "results/abc.json", "a", "x/y/z-1_2.tar.gz", "A" * 255]
)
def test_safe_keys_pass(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.csv", "data.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\vendas 2024.csv", "vendas_2024.csv"),
        ("Relatório Março.CSV", "Relatorio_Marco.CSV"),
        (".bashrc", "upload.bashrc"),
        ("...", "upload"),
        ("", "upload"),
        (".csv", "upload.csv"),
        ("名前.csv", "upload.csv"),
        ("a\x00b.csv", "a_b.csv"),
        ("x" * 300 + ".parquet", "x" * 120 + ".parquet"),
    ],
)
def test_sanitise_filename(name: str, expected: str) -> None:
    assert sanitise_filename(name) == expected
    validate_key(f"uploads/{uuid.uuid4()}/{sanitise_filename(name)}")


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_filename_gives_a_valid_upload_key(name: str) -> None:
    key = new_upload_key(name)
    upload_id, filename = parse_upload_key(key)
    assert key == f"uploads/{upload_id}/{filename}"
    assert len(filename) <= 128


def test_upload_keys_round_trip_and_foreign_keys_are_refused() -> None:
    upload_id = uuid.uuid4()
    assert parse_upload_key(f"uploads/{upload_id}/a.csv") == (upload_id, "a.csv")
    for foreign in [
        "uploads/not-a-uuid/a.csv",
        f"uploads/{upload_id}",
        f"uploads/{upload_id}/sub/a.csv",
        f"results/{upload_id}.json",
        f"uploads/{str(upload_id).upper()}/a.csv",
        f"other/{upload_id}/a.csv",
        "../../etc/passwd",
    ]:
        with pytest.raises(InvalidKeyError):
            parse_upload_key(foreign)
    assert result_key(upload_id) == f"results/{upload_id}.json"


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_no_key_maps_outside_the_root(key: str) -> None:
    root = Path("/srv/sonda/objects")
    storage = LocalDiskStorage(root, UrlSigner(b"0123456789abcdef0123"))
    try:
        path = storage.path_for(key)
    except InvalidKeyError:
        return
    assert os.path.commonpath([root, path]) == str(root)
    assert path != root
    assert ".." not in path.parts
