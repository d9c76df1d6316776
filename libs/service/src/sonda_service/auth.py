"""API keys: stored as SHA-256 digests, compared in constant time, on HTTP and WebSocket.

Keys come from ``SONDA_API_KEYS`` as plain keys or ``sha256:<hex>`` digests (so a deployment never
has to keep the keys themselves). A request presents one as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``; a WebSocket as ``?api_key=<key>`` or the subprotocol ``bearer.<key>`` (browsers
cannot set headers on a WebSocket). Health, metrics and schema endpoints stay open.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

OPEN_PATH_PREFIXES = ("/api/v1/health", "/schema", "/docs", "/metrics")
ANONYMOUS = "anonymous"
#: Route handler option: the route authenticates its callers itself (e.g. by a signed URL).
PUBLIC_OPT = "sonda_public"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The accepted keys, by digest; an empty set means authentication is off."""

    def __init__(self, configured: str) -> None:
        digests = []
        for item in (part.strip() for part in configured.split(",")):
            if not item:
                continue
            digests.append(item.removeprefix("sha256:") if item.startswith("sha256:") else digest(item))
        self._digests = tuple(digests)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def identify(self, presented: str | None) -> str | None:
        """The key's id (first 12 hex digits of its digest) when it is valid, else None."""
        if not presented:
            return None
        candidate = digest(presented)
        match = None
        for known in self._digests:  # no early exit: time does not depend on which key matched
            if hmac.compare_digest(candidate, known):
                match = known
        return f"key_{match[:12]}" if match else None


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if key := connection.headers.get("x-api-key"):
        return key.strip()
    if str(connection.scope["type"]) == "websocket":
        if key := connection.query_params.get("api_key"):
            return str(key)
        for raw in connection.headers.get("sec-websocket-protocol", "").split(","):
            proto = raw.strip()
            if proto.startswith("bearer."):
                return proto[7:]
    return None


def requester(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who is calling: the key id set by the guard, or ``anonymous`` when auth is off."""
    return str(connection.scope.get("state", {}).get("sonda_key_id", ANONYMOUS))


def api_key_guard(keys: ApiKeys) -> Any:
    """A Litestar guard refusing requests without a valid key (when keys are configured)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if not keys.enabled or connection.scope["path"].startswith(OPEN_PATH_PREFIXES):
            return
        # A route that proves its caller otherwise (ingest's signed upload URL: a browser PUTs
        # there without our key) opts out with ``opt={PUBLIC_OPT: True}``.
        if handler.opt.get(PUBLIC_OPT):
            return
        key_id = keys.identify(presented_key(connection))
        if key_id is None:
            raise NotAuthorizedException("a valid API key is required (Authorization: Bearer <key>)")
        connection.scope.setdefault("state", {})["sonda_key_id"] = key_id

    return guard
