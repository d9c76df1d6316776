"""A small client for the seed flow over one origin: upload, start, follow live, read the results.

The same calls a browser makes (presigned upload URL, PUT, start, WebSocket, results, LLM summary),
so ``sonda analyze`` exercises exactly what the page does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import anyio
import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

CHUNK = 1 << 20
TERMINAL = ("analysis_completed", "analysis_error")

Progress = Callable[[dict[str, Any]], None]


class SondaApiError(Exception):
    """A call answered with an error; ``str()`` is the server's problem detail."""

    def __init__(self, what: str, status: int, detail: str, code: str = "") -> None:
        super().__init__(f"{what} failed ({status}{' ' + code if code else ''}): {detail}")
        self.status = status
        self.code = code


def _error(what: str, response: httpx.Response) -> SondaApiError:
    try:
        body = response.json()
        return SondaApiError(
            what, response.status_code, str(body.get("detail") or body), str(body.get("code", ""))
        )
    except (ValueError, AttributeError):
        return SondaApiError(what, response.status_code, response.text[:300] or response.reason_phrase)


def ws_url(base_url: str, path: str) -> str:
    absolute = urljoin(base_url.rstrip("/") + "/", path)
    return "ws" + absolute.removeprefix("http") if absolute.startswith("http") else absolute


class SondaClient:
    """One origin's API (``base_url`` like http://localhost:8000)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._auth,
            timeout=httpx.Timeout(timeout, connect=10.0),
            trust_env=False,
        )
        # Uploads go to a signed URL (maybe another host, S3): no API key, no read timeout on big files.
        self._upload = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0), trust_env=False)

    async def __aenter__(self) -> SondaClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()
        await self._upload.aclose()

    async def _json(self, what: str, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, url, **kwargs)
        if response.status_code >= 400:
            raise _error(what, response)
        return response.json()

    async def upload(self, path: Path, on_bytes: Callable[[int], None]) -> str:
        """Ask for an upload URL, PUT the file there in chunks; returns the file key."""
        target = await self._json(
            "Preparing the upload", "GET", "/api/v1/r2/presigned-upload", params={"filename": path.name}
        )
        size = (await anyio.Path(path).stat()).st_size

        async def chunks() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as f:
                while chunk := await f.read(CHUNK):
                    on_bytes(len(chunk))
                    yield chunk

        url = urljoin(self.base_url + "/", target["upload_url"])
        headers = {"Content-Length": str(size), **(target.get("headers") or {})}
        response = await self._upload.put(url, content=chunks(), headers=headers)
        if response.status_code >= 400:
            raise _error("Uploading the file", response)
        return str(target["file_key"])

    async def start(self, file_key: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"file_key": file_key, "analysis_type": "basic_eda", "options": options or {}}
        result: dict[str, Any] = await self._json(
            "Starting the analysis", "POST", "/api/v1/analysis/start-enhanced", json=body
        )
        return result

    async def follow(self, analysis_id: str, on_message: Progress) -> dict[str, Any]:
        """Follow the analysis over its WebSocket until it completes or fails; returns the last message.

        A dropped connection is resumed from the last position seen (``?since=``).
        """
        since: int | None = None
        for _ in range(10):
            path = f"/api/v1/analysis/websocket/{analysis_id}" + (f"?since={since}" if since else "")
            try:
                async with connect(
                    ws_url(self.base_url, path), additional_headers=self._auth, proxy=None, max_size=None
                ) as ws:
                    async for raw in ws:
                        message = json.loads(raw)
                        if message.get("type") == "ping":
                            await ws.send(json.dumps({"type": "pong"}))
                            continue
                        since = message.get("position", since)
                        on_message(message)
                        if message.get("type") in TERMINAL:
                            return dict(message)
            except InvalidStatus as exc:
                raise SondaApiError(
                    "Following the analysis",
                    exc.response.status_code,
                    bytes(exc.response.body or b"").decode(),
                ) from exc
            except (ConnectionClosed, OSError):
                pass
            await asyncio.sleep(1.0)
        raise SondaApiError("Following the analysis", 0, "the WebSocket kept closing")

    async def status(self, analysis_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "Reading the status", "GET", f"/api/v1/analysis/status-enhanced/{analysis_id}"
        )
        return result

    async def _after(self, what: str, url: str, version: int | None, **params: str) -> httpx.Response:
        """GET ``url`` at least at ``version`` (a WebSocket message's): the query service answers
        with what the notification said, so there is nothing to retry around."""
        if version is not None:
            params["min_version"] = str(version)
        response = await self._http.get(url, params=params)
        if response.status_code >= 400:
            raise _error(what, response)
        return response

    async def results(self, analysis_id: str, version: int | None = None) -> dict[str, Any]:
        url = f"/api/v1/analysis/results-enhanced/{analysis_id}"
        result: dict[str, Any] = (await self._after("Loading the results", url, version)).json()
        return result

    async def llm_summary(
        self, analysis_id: str, version: int | None = None, *, include_pii: bool = False
    ) -> dict[str, Any]:
        url = f"/api/v1/analysis/summary-for-llm/{analysis_id}"
        # include_pii is only sent when asked for: the server masks personal values by default.
        extra = {"include_pii": "true"} if include_pii else {}
        result: dict[str, Any] = (await self._after("Loading the LLM summary", url, version, **extra)).json()
        return result

    async def report(
        self, analysis_id: str, version: int | None = None, *, include_pii: bool = False
    ) -> bytes:
        """The self-contained HTML report (personal values masked unless ``include_pii``)."""
        url = f"/api/v1/analysis/report/{analysis_id}"
        extra = {"include_pii": "true"} if include_pii else {}
        return (await self._after("Loading the report", url, version, **extra)).content

    async def compare(self, base: str, target: str, options: dict[str, str] | None = None) -> dict[str, Any]:
        """``GET /api/v1/analysis/compare``: the server compares two of its stored analyses."""
        query = {"base": base, "target": target, **(options or {})}
        response = await self._http.get("/api/v1/analysis/compare", params=query)
        if response.status_code >= 400:
            raise _error("Comparing the analyses", response)
        result: dict[str, Any] = response.json()
        return result
