"""HTTP and WebSocket routes of the notifier."""

from sonda_notifier.routes.info import websocket_info
from sonda_notifier.routes.socket import analysis_socket

__all__ = ["analysis_socket", "websocket_info"]
