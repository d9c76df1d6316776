"""Without API keys (the ``sonda up`` default), pages elsewhere cannot drive Sonda from a browser:
a cross-site ``text/plain`` POST (CSRF) and a foreign ``Host`` (DNS rebinding) are refused, and
upload URLs name only a host Sonda serves."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from nats.js import JetStreamContext

from tests.ingest.conftest import ClientFactory, stream_messages
from tests.ingest.test_bad_input import assert_problem, upload


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/v1/maintenance/cleanup-old-analyses?days_old=1", "text/plain"),
        ("POST", "/api/v1/maintenance/cleanup-old-analyses?days_old=1", None),
        ("POST", "/api/v1/analysis/start-enhanced", "text/plain"),
        ("POST", "/api/v1/analysis/start-enhanced", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_change_not_sent_as_json_is_refused(
    make_client: ClientFactory, js: JetStreamContext, method: str, path: str, content_type: str | None
) -> None:
    async with make_client("local") as client:
        file_key = await upload(client, b"a,b\n1,2\n")
        before = await stream_messages(js)
        body = f'{{"file_key": "{file_key}"}}'.encode()
        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.request(method, path, content=body, headers=headers)
        assert_problem(response, 415, "unsupported_media_type")
        assert await stream_messages(js) == before  # nothing started, deleted or purged
        # The same request sent as JSON (as the page and the CLI send it) goes through.
        started = await client.post(
            "/api/v1/analysis/start-enhanced", content=body, headers={"Content-Type": "application/json"}
        )
        assert started.status_code == 202, started.text


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"]
)
async def test_a_foreign_host_is_refused(make_client: ClientFactory, host: str) -> None:
    async with make_client("local") as client:
        response = await client.get(
            "/api/v1/r2/presigned-upload", params={"filename": "a.csv"}, headers={"Host": host}
        )
        assert_problem(response, 421, "misdirected_request")


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:9000", "[::1]:8000", "sonda.localhost"])
async def test_loopback_hosts_are_served_and_name_the_upload_url(
    make_client: ClientFactory, host: str
) -> None:
    async with make_client("local") as client:
        issued = await client.get(
            "/api/v1/r2/presigned-upload", params={"filename": "a.csv"}, headers={"Host": host}
        )
        assert issued.status_code == 200, issued.text
        assert urlsplit(issued.json()["upload_url"]).netloc == host


async def test_the_public_url_decides_upload_urls_and_is_served(make_client: ClientFactory) -> None:
    async with make_client("local", SONDA_PUBLIC_URL="https://eda.example.org") as client:
        for host in ("eda.example.org", "localhost:8000"):
            issued = await client.get(
                "/api/v1/r2/presigned-upload",
                params={"filename": "a.csv"},
                headers={"Host": host, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"},
            )
            assert issued.status_code == 200, issued.text
            assert issued.json()["upload_url"].startswith("https://eda.example.org/api/v1/uploads/")
        assert_problem(
            await client.get(
                "/api/v1/r2/presigned-upload", params={"filename": "a.csv"}, headers={"Host": "evil.example"}
            ),
            421,
            "misdirected_request",
        )


async def test_with_api_keys_neither_check_applies(make_client: ClientFactory) -> None:
    async with make_client("local", SONDA_ADMIN_API_KEYS="k1") as client:
        client.headers["Authorization"] = "Bearer k1"
        response = await client.get(
            "/api/v1/r2/presigned-upload", params={"filename": "a.csv"}, headers={"Host": "eda.internal"}
        )
        assert response.status_code == 200, response.text
        cleanup = await client.post("/api/v1/maintenance/cleanup-old-analyses?days_old=1")
        assert cleanup.status_code == 200, cleanup.text
