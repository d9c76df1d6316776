"""Small ASGI helpers shared by the gateway's parts (types, headers, problem answers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

#: Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), plus ``host`` we set ourselves.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> RawHeaders:
    """The headers a proxy passes on: everything but the hop-by-hop ones."""
    return [(k.lower(), v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


class Problem(msgspec.Struct):
    """The JSON problem body every Sonda service answers errors with."""

    type: str
    title: str
    status: int
    detail: str
    code: str


async def send_problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = msgspec.json.encode(
        Problem(type="about:blank", title=title, status=status, detail=detail, code=code)
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
