"""Forward one HTTP request to a service and stream the answer back, without buffering either body.

Uploads can be gigabytes, so the request body goes upstream chunk by chunk as the client sends it
(with its ``Content-Length`` when the client declared one), and the response is relayed as raw bytes
(compressed bodies stay compressed, their ``Content-Encoding`` intact).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sonda_events.logging import get_logger

from sonda.gateway.asgi import Receive, Scope, Send, end_to_end, header, send_problem

log = get_logger(__name__)

#: The longest request target (path and query) passed on; the services refuse request heads over
#: 64 KiB anyway, and httpx cannot even build a URL much longer than this.
MAX_TARGET_CHARS = 32 * 1024


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
    if len(target) > MAX_TARGET_CHARS:
        await send_problem(
            send,
            414,
            "uri_too_long",
            "URI too long",
            f"The request target exceeds {MAX_TARGET_CHARS} characters.",
        )
        return
    if header(scope, b"transfer-encoding") is not None and header(scope, b"content-length") is not None:
        # RFC 9112 §6.3: a message with both is a request-smuggling attempt or a broken client.
        detail = "A request may not carry both Content-Length and Transfer-Encoding."
        await send_problem(send, 400, "bad_request", "Bad request", detail)
        return
    has_body = header(scope, b"content-length") not in (None, b"0") or header(scope, b"transfer-encoding")
    if has_body:
        content: AsyncIterator[bytes] | bytes = _request_body(receive)
    else:
        content = b"".join([chunk async for chunk in _request_body(receive)])
    try:
        request = client.build_request(
            scope["method"], target, headers=forwarded_headers(scope), content=content
        )
        response = await client.send(request, stream=True)
    except ClientGone:
        return
    except (httpx.InvalidURL, httpx.LocalProtocolError) as exc:
        # The request cannot be forwarded as it is (a target httpx refuses, a body that does not
        # match its headers): the client's fault, answered as a problem, never as a bare 500.
        detail = f"The request cannot be forwarded ({type(exc).__name__})."
        await send_problem(send, 400, "bad_request", "Bad request", detail)
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
    except Exception as exc:  # anything else before an answer started: still a problem body
        log.warning("forward_failed", service=service, error_type=type(exc).__name__, error=str(exc)[:200])
        detail = f"The request could not be forwarded to the {service} service ({type(exc).__name__})."
        await send_problem(send, 502, "bad_gateway", "Bad gateway", detail)
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
