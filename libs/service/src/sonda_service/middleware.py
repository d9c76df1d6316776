"""Per-request log context: a correlation id (from ``X-Correlation-Id`` or new) bound in structlog.

The id is echoed in the response so a client can quote it, and handlers pass it on to the events
they publish (``correlation_id``), carrying it across NATS.
"""

from __future__ import annotations

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sonda_events.logging import bind_context

HEADER = "x-correlation-id"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def correlation_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("correlation_id", ""))


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER.encode()), "")
        cid = given if _SAFE.match(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = cid
        bind_context(correlation_id=cid, path=scope["path"])

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[HEADER] = cid
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware
