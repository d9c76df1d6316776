"""What keeps a service without API keys (the ``sonda up`` default) safe from web pages elsewhere.

With no key to present, any page the user visits could drive Sonda from the browser:
- **CSRF**: a page may POST a form or a ``text/plain`` body cross-site without asking (a "simple"
  request). Every POST (and PATCH) must therefore say it is JSON (``Content-Type:
  application/json``), which a browser sends cross-site only after a CORS preflight that Sonda
  does not grant. DELETE and PUT are never simple requests: a browser preflights them cross-site
  whatever their content type (and uploads carry their own signature).
- **DNS rebinding**: a hostile name re-pointed at 127.0.0.1 reaches Sonda as same-origin; its
  ``Host`` header still names the hostile host. Only loopback names (``localhost``,
  ``*.localhost``, ``127.0.0.1``, ``[::1]``), the host of ``SONDA_PUBLIC_URL`` and those in
  ``SONDA_ALLOWED_HOSTS`` are served. Upload URLs are built from that host or the public URL, so
  they can no longer point anywhere a client names either.

With API keys on, neither applies: a browser never attaches a key to a cross-site request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar.types import ASGIApp, Receive
from sonda_events.codes import Code

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_UNSAFE_METHODS = frozenset({"POST", "PATCH"})


def allowed_hosts(public_url: str, extra: str) -> frozenset[str]:
    """The host names served without keys: loopback, the public URL's host, ``extra`` (comma list)."""
    hosts = set(_LOOPBACK)
    if public_url and (name := urlsplit(public_url).hostname):
        hosts.add(name.lower())
    hosts.update(h.strip().lower() for h in extra.split(",") if h.strip())
    return frozenset(hosts)


def host_name(value: str) -> str:
    """``Host`` without its port: ``[::1]:8000`` -> ``::1``, ``Example.org:80`` -> ``example.org``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    name = host_name(host)
    return name in allowed or name.endswith(".localhost")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _header(scope: Any, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _refuse(send: Any, status: int, code: str, title: str, detail: str) -> None:
    body = msgspec.json.encode({"title": title, "status": status, "detail": detail, "code": code})
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def local_safety_middleware(allowed: frozenset[str]) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware factory refusing foreign hosts and non-JSON state changes (auth off only)."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Any, receive: Receive, send: Any) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            host = _header(scope, b"host")
            if host and not host_allowed(host, allowed):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                detail = (
                    f"this Sonda has no API keys and serves only local host names; {host_name(host)[:100]!r} "
                    "is not one (set SONDA_PUBLIC_URL or SONDA_ALLOWED_HOSTS to serve it)"
                )
                await _refuse(send, 421, Code.MISDIRECTED_REQUEST, "Misdirected request", detail)
                return
            method = str(scope.get("method", ""))
            if method in _UNSAFE_METHODS and not _is_json(_header(scope, b"content-type")):
                detail = "a request that changes something must be sent as Content-Type: application/json"
                await _refuse(send, 415, Code.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", detail)
                return
            await app(scope, receive, send)

        return guarded

    return middleware
