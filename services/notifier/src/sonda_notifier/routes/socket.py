"""``WS /api/v1/analysis/websocket/{analysis_id}[?since=<position>]``.

The connection is accepted before the id is checked so a refusal arrives as a close code and reason a
browser can read (4400 malformed id or ``since``, 4404 unknown analysis) instead of a bare failed
handshake. With API keys enabled the app's guard has already checked ``?api_key=`` or the
``bearer.<key>`` subprotocol. The answer names ``sonda.v1`` when the client offered it and no
subprotocol otherwise: echoing ``bearer.<key>`` would send the key back in a response header, where
proxies and browsers log it (a client without ``sonda.v1`` in its list still connects, RFC 6455
lets the server choose none). An analysis another key owns is closed with 4404, as an unknown one.
"""

from __future__ import annotations

from typing import Any

from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.params import FromPath
from sonda_events.errors import InvalidAnalysisIdError
from sonda_events.ids import parse_analysis_id
from sonda_events.logging import bind_context, get_logger
from sonda_service import correlation_id_of, principal_of

from sonda_notifier.limits import client_of
from sonda_notifier.messages import CloseCode
from sonda_notifier.runtime import Notifier
from sonda_notifier.session import Session

log = get_logger(__name__)


#: The one subprotocol the notifier speaks; never a credential.
SUBPROTOCOL = "sonda.v1"


def chosen_subprotocol(socket: WebSocket[Any, Any, Any]) -> str | None:
    offered = [p.strip() for p in socket.headers.get("sec-websocket-protocol", "").split(",")]
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


def parse_since(raw: str | None) -> int | None:
    """``None`` when absent; raises ValueError unless a non-negative integer."""
    if raw is None:
        return None
    since = int(raw)
    if since < 0 or since > 2**53:
        raise ValueError(raw)
    return since


@websocket("/api/v1/analysis/websocket/{analysis_id:str}")
async def analysis_socket(
    socket: WebSocket[Any, Any, Any], analysis_id: FromPath[str], notifier: NamedDependency[Notifier]
) -> None:
    """Live events of one analysis; see ``sonda_notifier.session`` for the protocol."""
    await socket.accept(subprotocols=chosen_subprotocol(socket))
    try:
        parsed = parse_analysis_id(analysis_id)  # as ingest and query: a 400 there, 4400 here
        since = parse_since(socket.query_params.get("since"))
    except (InvalidAnalysisIdError, ValueError):
        notifier.hub.counters.refused_malformed += 1
        await socket.close(CloseCode.MALFORMED, "malformed analysis id or since")
        return
    bind_context(analysis_id=parsed, correlation_id=correlation_id_of(socket.scope))
    client = client_of(socket)
    if not notifier.hub.clients.take(client, notifier.settings.sonda_ws_max_per_client):
        notifier.hub.counters.refused_too_many += 1
        await socket.close(CloseCode.TOO_MANY_CONNECTIONS, "too many connections from this client")
        return
    try:
        session = Session(
            socket,
            parsed,
            since,
            principal=principal_of(socket),
            hub=notifier.hub,
            history=notifier.history,
            settings=notifier.settings,
        )
        await session.run()
    finally:
        notifier.hub.clients.give_back(client)
