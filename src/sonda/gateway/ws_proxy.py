"""Relay one WebSocket between a client and a service, both ways, until either side closes.

The client's offered subprotocols go upstream and the one the service picks is the one accepted, so
an API key sent as a subprotocol keeps working through the origin. Close codes and reasons pass
through in both directions; a service that refuses the handshake has its HTTP answer (status and
problem body) relayed to the client when the server supports the denial-response extension.

Keepalive is per leg, with protocol pings (RFC 6455) that are never relayed: uvicorn pings the
client (``sonda gateway`` sets the interval and timeout), and the upstream ``websockets`` client
answers the service's pings by itself, and pings it in turn, as long as the relay keeps reading it.
A client that answers its pings stays connected however long it sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from sonda.gateway.asgi import Receive, Scope, Send
from sonda.gateway.http_proxy import forwarded_headers

#: Codes that only describe a closure and may never be sent in a close frame (RFC 6455 §7.4.1).
_UNSENDABLE = {1005: 1000, 1006: 1011, 1015: 1011}
_HANDSHAKE_HEADERS = frozenset({b"host", b"content-length", b"origin"})
MAX_MESSAGE = 16 * 1024 * 1024


def _sendable(code: int | None) -> int:
    if code is None:
        return 1000
    return _UNSENDABLE.get(code, code)


def _upstream_headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in forwarded_headers(scope)
        if k not in _HANDSHAKE_HEADERS and not k.startswith(b"sec-websocket-")
    ]


async def _deny(scope: Scope, send: Send, status: int, body: bytes, content_type: str) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008 if status < 500 else 1011})


async def forward_websocket(
    scope: Scope, receive: Receive, send: Send, base_ws_url: str, service: str
) -> None:
    """Open the same path on the service and relay frames until one side closes."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    url = base_ws_url.rstrip("/") + scope["path"]
    if scope.get("query_string"):
        url += "?" + scope["query_string"].decode("latin-1")
    origin: Any = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"origin"), None)
    try:
        upstream = await connect(
            url,
            subprotocols=[Subprotocol(p) for p in scope.get("subprotocols", [])] or None,
            additional_headers=_upstream_headers(scope),
            origin=origin,
            proxy=None,
            open_timeout=10,
            max_size=MAX_MESSAGE,
            user_agent_header=None,
        )
    except InvalidStatus as exc:
        response = exc.response
        await _deny(
            scope,
            send,
            response.status_code,
            bytes(response.body or b""),
            response.headers.get("content-type", "application/problem+json"),
        )
        return
    except (OSError, InvalidHandshake, TimeoutError):
        body = (
            b'{"type":"about:blank","title":"Service unavailable","status":503,'
            + f'"detail":"The {service} service is not answering; it may be restarting, retry shortly.",'.encode()
            + b'"code":"service_unavailable"}'
        )
        await _deny(scope, send, 503, body, "application/problem+json")
        return
    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
    await _relay(receive, send, upstream)


async def _relay(receive: Receive, send: Send, upstream: ClientConnection) -> None:
    async def client_to_service() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(_sendable(message.get("code")), message.get("reason") or "")
                return
            if message.get("text") is not None:
                await upstream.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])

    async def service_to_client() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in upstream:
                if isinstance(frame, str):
                    await send({"type": "websocket.send", "text": frame})
                else:
                    await send({"type": "websocket.send", "bytes": frame})
        await send(
            {
                "type": "websocket.close",
                "code": _sendable(upstream.close_code),
                "reason": upstream.close_reason or "",
            }
        )

    tasks = [asyncio.create_task(client_to_service()), asyncio.create_task(service_to_client())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            # A send to a client that is already gone is the normal end of a relay, not an error.
            if (error := task.exception()) is not None and not isinstance(error, (ConnectionClosed, OSError)):
                raise error
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await upstream.close()
