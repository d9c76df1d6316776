"""Serve the web page's static files (``sonda.web.static_dir()``) at ``/``.

The files are small and few, so each is read whole; ``no-cache`` makes browsers revalidate with the
ETag, so a new version of the page is picked up at the next load without stale modules.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

import anyio

from sonda.gateway.asgi import Receive, Scope, Send, header, send_problem

_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class StaticFiles:
    """GET/HEAD of files under one folder; ``/`` is ``index.html``; nothing outside the folder."""

    def __init__(self, root: Path, index: str = "index.html") -> None:
        self._root = root.resolve()
        self._index = index

    def resolve(self, path: str) -> Path | None:
        """The file a URL path names, or None (missing, a folder, or outside the root)."""
        relative = path.lstrip("/") or self._index
        candidate = (self._root / relative).resolve()
        if candidate.is_dir():
            candidate = candidate / self._index
        if not candidate.is_relative_to(self._root) or not candidate.is_file():
            return None
        return candidate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await send_problem(
                send, 405, "method_not_allowed", "Method not allowed", "The page is read-only."
            )
            return
        file = self.resolve(scope["path"])
        if file is None:
            await send_problem(send, 404, "not_found", "Not found", f"Nothing is served at {scope['path']}.")
            return
        body = await anyio.Path(file).read_bytes()
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        content_type = (
            _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        if content_type.startswith("text/") or content_type == "application/json":
            content_type += "; charset=utf-8"
        headers = [
            (b"content-type", content_type.encode()),
            (b"cache-control", b"no-cache"),
            (b"etag", etag),
            (b"x-content-type-options", b"nosniff"),
        ]
        if header(scope, b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
