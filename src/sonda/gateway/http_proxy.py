"""Forward one HTTP request to a service and stream the answer back, without buffering either body.

Uploads can be gigabytes, so the request body goes upstream chunk by chunk as the client sends it
(with its ``Content-Length`` when the client declared one), and the response is relayed as raw bytes
(compressed bodies stay compressed, their ``Content-Encoding`` intact).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from sonda.gateway.asgi import Receive, Scope, Send, end_to_end, header, send_problem


class ClientGone(Exception):
    """The client disconnected while its request body was still arriving."""


def forwarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The request's end-to-end headers plus the ``X-Forwarded-*`` trio.

    ``Host`` is kept as the client sent it, so a service building absolute URLs (a presigned upload
    URL served by ingest) builds them for the origin the client sees, not for its internal port.
    """
    client = scope.get("client")
    proto = b"https" if scope.get("scheme") in ("https", "wss") else b"http"
    headers = [
        (k, v)
        for k, v in end_to_end(scope["headers"])
        if k not in (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")
    ]
    prior = header(scope, b"x-forwarded-for")
    if client:
        peer = str(client[0]).encode()
        headers.append((b"x-forwarded-for", prior + b", " + peer if prior else peer))
    headers.append((b"x-forwarded-proto", proto))
    host = header(scope, b"host")
    if host:
        headers.append((b"x-forwarded-host", host))
    return headers


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def forward_http(
    scope: Scope, receive: Receive, send: Send, client: httpx.AsyncClient, service: str
) -> None:
    """Proxy one request to ``client`` (whose base URL is the service) and relay the answer."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    target = raw_path.decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    has_body = header(scope, b"content-length") not in (None, b"0") or header(scope, b"transfer-encoding")
    if has_body:
        content: AsyncIterator[bytes] | bytes = _request_body(receive)
    else:
        content = b"".join([chunk async for chunk in _request_body(receive)])
    request = client.build_request(scope["method"], target, headers=forwarded_headers(scope), content=content)
    try:
        response = await client.send(request, stream=True)
    except ClientGone:
        return
    except httpx.TransportError as exc:
        await send_problem(
            send,
            503,
            "service_unavailable",
            "Service unavailable",
            f"The {service} service is not answering ({type(exc).__name__}); it may be restarting, retry shortly.",
        )
        return
    try:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": end_to_end(response.headers.raw),
            }
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except httpx.TransportError:
        # The service died mid-answer: the status line is gone, all we can do is cut the body short.
        return
    finally:
        await response.aclose()
