"""Every refusal: a 4xx JSON problem body with a stable code, and nothing on the bus or on disk."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from sonda_storage import UrlSigner, load_signing_secret, new_upload_key

from tests.ingest.conftest import JSON_TYPE, ClientFactory, local_files, stream_messages

#: A fixed id no analysis has: parametrized ids must be the same in every test process (xdist).
UNKNOWN_ID = uuid.UUID("5b1f3c0e-8a2d-4c6b-9e7f-0a1b2c3d4e5f")

MIB = 1024 * 1024
Client: TypeAlias = AsyncTestClient[Litestar]


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]


class Untouched:
    """Nothing published and no file added or removed while the block runs."""

    def __init__(self, js: JetStreamContext, data_dir: Path) -> None:
        self.js = js
        self.data_dir = data_dir

    async def __aenter__(self) -> None:
        self.messages = await stream_messages(self.js)
        self.files = local_files(self.data_dir)

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert await stream_messages(self.js) == self.messages
            assert local_files(self.data_dir) == self.files


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[Client]:
    async with make_client("local", SONDA_MAX_UPLOAD_MB="1") as client:
        yield client


@pytest.fixture
def untouched(js: JetStreamContext, tmp_path: Path) -> Untouched:
    return Untouched(js, tmp_path / "data")


async def upload(client: Client, data: bytes, filename: str = "data.csv") -> str:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": filename})).json()
    put = await client.put(issued["upload_url"], content=data)
    assert put.status_code == 200, put.text
    return str(issued["file_key"])


def signed_url(tmp_path: Path, key: str, *, expires: int, max_bytes: int = MIB) -> str:
    signer = UrlSigner(load_signing_secret(tmp_path / "data"))
    sig = signer.sign("PUT", key, expires=expires, max_bytes=max_bytes)
    return f"/api/v1/{key}?expires={expires}&max={max_bytes}&sig={sig}"


# -- upload URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, "validation_error"),
        ({"filename": " "}, 400, "invalid_filename"),
        ({"filename": "x" * 1025}, 400, "invalid_filename"),
        ({"filename": "a.csv", "size": "0"}, 400, "empty_upload"),
        ({"filename": "a.csv", "size": str(MIB + 1)}, 413, "upload_too_large"),
        ({"filename": "a.csv", "size": "-1"}, 422, "validation_error"),
        ({"filename": "a.csv", "size": "many"}, 422, "validation_error"),
    ],
)
async def test_presigned_upload_refusals(
    client: Client, untouched: Untouched, params: dict[str, str], status: int, code: str
) -> None:
    async with untouched:
        assert_problem(await client.get("/api/v1/r2/presigned-upload", params=params), status, code)


async def test_hostile_filenames_become_safe_keys(client: Client) -> None:
    for name in ["../../etc/passwd", "/etc/passwd", "..\\..\\boot.ini", "a\x00b.csv", ".htaccess"]:
        issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": name})).json()
        _, upload_id, safe = issued["file_key"].split("/")
        uuid.UUID(upload_id)
        assert ".." not in safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")


# -- the local upload route --------------------------------------------------------------------------


async def test_tampered_expired_and_unsigned_urls(
    client: Client, untouched: Untouched, tmp_path: Path
) -> None:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "t.csv"})).json()
    url = urlsplit(str(issued["upload_url"]))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    key = issued["file_key"]

    def with_query(**changes: str) -> str:
        merged = {**query, **changes}
        return url.path + "?" + "&".join(f"{k}={v}" for k, v in merged.items() if v != "")

    async with untouched:
        for target, code in [
            (
                with_query(sig=query["sig"][:-1] + ("A" if query["sig"][-1] != "A" else "B")),
                "invalid_signature",
            ),
            (with_query(expires=str(int(query["expires"]) + 10)), "invalid_signature"),
            (with_query(max=str(int(query["max"]) * 2)), "invalid_signature"),
            (with_query(sig=""), "invalid_signature"),
            (url.path, "invalid_signature"),
            (url.path.replace("t.csv", "u.csv") + "?" + url.query, "invalid_signature"),
            (signed_url(tmp_path, key, expires=int(time.time()) - 5), "signature_expired"),
        ]:
            assert_problem(await client.put(target, content=b"a,b\n1,2\n"), 403, code)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/uploads/not-a-uuid/a.csv",
        "/api/v1/uploads/%2e%2e/passwd",
        f"/api/v1/uploads/{UNKNOWN_ID}/.hidden",
        f"/api/v1/uploads/{str(UNKNOWN_ID).upper()}/a.csv",
    ],
)
async def test_upload_paths_outside_issued_keys(client: Client, untouched: Untouched, path: str) -> None:
    async with untouched:
        response = await client.put(path + "?expires=9999999999&max=10&sig=x", content=b"x")
        assert_problem(response, 400, "invalid_key")


async def test_upload_paths_with_more_segments_match_no_route(client: Client, untouched: Untouched) -> None:
    async with untouched:
        for path in ["/api/v1/uploads/..%2F..%2Fetc/passwd", f"/api/v1/uploads/{uuid.uuid4()}/a/b.csv"]:
            response = await client.put(path + "?expires=9999999999&max=10&sig=x", content=b"x")
            assert_problem(response, 404, "not_found")


async def test_oversize_uploads_are_refused_and_leave_nothing(
    client: Client, untouched: Untouched, tmp_path: Path
) -> None:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "big.csv"})).json()
    async with untouched:
        assert_problem(
            await client.put(issued["upload_url"], content=b"x" * (MIB + 1)), 413, "upload_too_large"
        )
        # A URL signed for more than the server allows is still held to the server's limit.
        big = signed_url(tmp_path, issued["file_key"], expires=int(time.time()) + 60, max_bytes=10 * MIB)
        assert_problem(await client.put(big, content=b"x" * (MIB + 1)), 413, "upload_too_large")
    assert not any((tmp_path / "data" / "objects" / ".tmp").iterdir())
    # Streamed bodies without Content-Length are covered over real HTTP in test_flow.py.


async def test_an_empty_upload_is_refused(client: Client, untouched: Untouched) -> None:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "e.csv"})).json()
    async with untouched:
        assert_problem(await client.put(issued["upload_url"], content=b""), 400, "empty_upload")


async def test_the_local_route_is_off_with_s3(make_client: ClientFactory) -> None:
    async with make_client("s3") as client:
        response = await client.put(
            f"/api/v1/uploads/{uuid.uuid4()}/a.csv?expires=1&max=1&sig=x", content=b"x"
        )
        assert_problem(response, 404, "local_uploads_disabled")


# -- start -------------------------------------------------------------------------------------------


async def test_start_refusals(client: Client, untouched: Untouched, tmp_path: Path) -> None:
    good_key = await upload(client, b"a;b\n1;2\n")
    start = "/api/v1/analysis/start-enhanced"
    missing = new_upload_key("missing.csv")
    cases: list[tuple[Any, int, str]] = [
        ({"file_key": "../../etc/passwd"}, 400, "invalid_key"),
        ({"file_key": "/etc/passwd"}, 400, "invalid_key"),
        ({"file_key": "uploads\\..\\x.csv"}, 400, "invalid_key"),
        ({"file_key": f"results/{uuid.uuid4()}.json"}, 400, "invalid_key"),
        ({"file_key": "uploads/not-a-uuid/a.csv"}, 400, "invalid_key"),
        ({"file_key": "other/bucket/file.csv"}, 400, "invalid_key"),
        ({"file_key": ""}, 400, "invalid_key"),
        ({"file_key": missing}, 404, "object_not_found"),
        ({"file_key": good_key, "analysis_type": "deep_learning"}, 422, "unknown_analysis_type"),
        ({"file_key": good_key, "options": {"delimitr": ";"}}, 422, "invalid_options"),
        ({"file_key": good_key, "options": {"delimiter": ";;"}}, 422, "invalid_options"),
        ({"file_key": good_key, "options": {"encoding": "klingon"}}, 422, "invalid_options"),
        ({"file_key": good_key, "options": {"sample_rows": 5000}}, 422, "invalid_options"),
        ({"file_key": good_key, "options": {"thresholds": {"missing_pct": 2}}}, 422, "invalid_options"),
        ({"file_key": good_key, "options": {"header_row": "first"}}, 422, "invalid_options"),
        ({"file_key": good_key, "extra": 1}, 422, "validation_error"),
        ({"analysis_type": "basic_eda"}, 422, "validation_error"),
        ({"file_key": 42}, 422, "validation_error"),
        ([good_key], 422, "validation_error"),
    ]
    async with untouched:
        for body, status, code in cases:
            assert_problem(await client.post(start, json=body), status, code)
        for raw in [b"{bad json", b"\xff\xfe", b"not json at all"]:
            response = await client.post(start, content=raw, headers={"content-type": "application/json"})
            assert_problem(response, 400, "malformed_json")
        truncated = await client.post(
            start, content=b'{"file_key": "a"', headers={"content-type": "application/json"}
        )
        assert truncated.status_code == 400
        assert truncated.json()["code"] in {
            "malformed_json",
            "bad_request",
        }  # shared edge maps msgspec's text


async def test_empty_and_oversize_objects_are_refused_at_start(
    client: Client, untouched: Untouched, tmp_path: Path
) -> None:
    # Objects that reached storage some other way (S3 URLs cannot cap a size): start checks them.
    root = tmp_path / "data" / "objects"
    empty, big = new_upload_key("empty.csv"), new_upload_key("big.csv")
    for key, size in ((empty, 0), (big, MIB + 1)):
        (root / key).parent.mkdir(parents=True)
        (root / key).write_bytes(b"x" * size)
    async with untouched:
        start = "/api/v1/analysis/start-enhanced"
        assert_problem(await client.post(start, json={"file_key": empty}), 400, "empty_upload")
        assert_problem(await client.post(start, json={"file_key": big}), 413, "upload_too_large")


async def test_idempotency_key_refusals(client: Client, untouched: Untouched) -> None:
    first, second = await upload(client, b"a\n1\n"), await upload(client, b"b\n2\n")
    start = "/api/v1/analysis/start-enhanced"
    async with untouched:
        for bad in [b"has space", b"x" * 256, "é".encode("latin-1"), b""]:
            response = await client.post(start, json={"file_key": first}, headers={b"Idempotency-Key": bad})
            assert_problem(response, 400, "invalid_idempotency_key")
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    assert (await client.post(start, json={"file_key": first}, headers=key)).status_code == 202
    async with untouched:
        assert_problem(
            await client.post(start, json={"file_key": second}, headers=key), 409, "idempotency_key_reused"
        )
        with_options = {"file_key": first, "options": {"delimiter": ","}}
        assert_problem(
            await client.post(start, json=with_options, headers=key), 409, "idempotency_key_reused"
        )


# -- delete and maintenance --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/analysis/not-a-uuid", 400, "invalid_analysis_id"),
        ("/api/v1/analysis/1234", 400, "invalid_analysis_id"),
        (f"/api/v1/analysis/{UNKNOWN_ID}", 404, "analysis_not_found"),
    ],
)
async def test_delete_refusals(
    client: Client, untouched: Untouched, path: str, status: int, code: str
) -> None:
    async with untouched:
        assert_problem(await client.delete(path), status, code)


@pytest.mark.parametrize("days", ["0", "-3", "many", "100000"])
async def test_cleanup_refuses_bad_ages(client: Client, untouched: Untouched, days: str) -> None:
    async with untouched:
        response = await client.post(
            "/api/v1/maintenance/cleanup-old-analyses", params={"days_old": days}, headers=JSON_TYPE
        )
        assert_problem(response, 422, "validation_error")


# -- auth --------------------------------------------------------------------------------------------


async def test_every_endpoint_but_health_needs_a_key(
    make_client: ClientFactory, untouched: Untouched
) -> None:
    async with make_client("local", SONDA_API_KEYS="k1-secret,k2-secret") as client, untouched:
        for method, path in [
            ("GET", "/api/v1/r2/presigned-upload?filename=a.csv"),
            ("POST", "/api/v1/analysis/start-enhanced"),
            ("DELETE", f"/api/v1/analysis/{uuid.uuid4()}"),
            ("POST", "/api/v1/maintenance/cleanup-old-analyses"),
        ]:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "k1-secre"}):
                response = await client.request(method, path, headers=headers)
                assert_problem(response, 401, "unauthorized")
        assert (await client.get("/api/v1/health/live")).status_code == 200
        ok = await client.get(
            "/api/v1/r2/presigned-upload?filename=a.csv", headers={"X-API-Key": "k2-secret"}
        )
        assert ok.status_code == 200


async def test_openapi_describes_the_endpoints(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    assert "/api/v1/r2/presigned-upload" in paths
    assert "put" in paths["/api/v1/uploads/{upload_id}/{filename}"]
    start = paths["/api/v1/analysis/start-enhanced"]["post"]
    assert "202" in start["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])
    assert "delete" in paths["/api/v1/analysis/{analysis_id}"]
    assert "/api/v1/maintenance/cleanup-old-analyses" in paths
    assert {"StartRequest", "StartResponse", "CleanupReport"} <= set(schema["components"]["schemas"])


# -- a probe's 500s ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["expires", "max"])
async def test_unicode_digits_in_an_upload_url_are_a_tampered_url(
    client: Client, untouched: Untouched, field: str
) -> None:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "t.csv"})).json()
    url = urlsplit(str(issued["upload_url"]))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query[field] = "²"  # str.isdigit() says yes, int() says no
    target = url.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    async with untouched:
        assert_problem(await client.put(target, content=b"a,b\n1,2\n"), 403, "invalid_signature")
        declared = await client.put(
            issued["upload_url"], content=b"a,b\n", headers={b"Content-Length": "²".encode()}
        )
        assert declared.status_code < 500, declared.text


async def test_the_declared_size_is_signed_into_a_local_upload_url(client: Client, tmp_path: Path) -> None:
    issued = (
        await client.get("/api/v1/r2/presigned-upload", params={"filename": "s.csv", "size": "8"})
    ).json()
    assert issued["max_bytes"] == 8
    assert parse_qs(urlsplit(issued["upload_url"]).query)["max"] == ["8"]
    assert_problem(
        await client.put(issued["upload_url"], content=b"a,b\n1,2\n3,4\n"), 413, "upload_too_large"
    )
    assert (await client.put(issued["upload_url"], content=b"a,b\n1,2\n")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"file_key": "uploads/\xff\xfe/a.csv"}',  # not UTF-8 inside a string
        b"[" * 10_000 + b"]" * 10_000,  # nested 10,000 deep
        b'{"file_key": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    ],
)
async def test_malformed_json_bodies_are_a_400_problem(
    client: Client, untouched: Untouched, body: bytes
) -> None:
    async with untouched:
        response = await client.post(
            "/api/v1/analysis/start-enhanced", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "malformed_json")
