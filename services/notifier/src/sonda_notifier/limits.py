"""At most N open WebSockets per client, so one client cannot take every connection of an instance.

A client is its API key when keys are on, else its address (behind a proxy, the address uvicorn
takes from ``X-Forwarded-For`` when the proxy is trusted). Counted per notifier instance.
"""

from __future__ import annotations

from typing import Any

from litestar import WebSocket
from sonda_service import requester
from sonda_service.auth import ANONYMOUS


def client_of(socket: WebSocket[Any, Any, Any]) -> str:
    key = requester(socket)
    if key != ANONYMOUS:
        return key
    return f"addr:{socket.client.host}" if socket.client else "addr:unknown"


class ClientSlots:
    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def take(self, client: str, limit: int) -> bool:
        """Count one more connection of ``client``; False (nothing counted) when at ``limit``."""
        current = self._open.get(client, 0)
        if limit > 0 and current >= limit:
            return False
        self._open[client] = current + 1
        return True

    def give_back(self, client: str) -> None:
        left = self._open.get(client, 0) - 1
        if left > 0:
            self._open[client] = left
        else:
            self._open.pop(client, None)
