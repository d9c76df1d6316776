"""The connections of one notifier instance, by analysis, and the counters behind websocket-info.

``dispatch`` runs once per live event, on the event loop, and never awaits: it encodes the client
message once and hands it to each connection's non-blocking ``deliver`` (a per-connection queue), so a
slow connection cannot delay the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import msgspec
from sonda_events.contract import AnyEvent
from sonda_service import OPEN_ACCESS, Principal

from sonda_notifier.limits import ClientSlots
from sonda_notifier.messages import Outgoing


class Subscriber(Protocol):
    analysis_id: uuid.UUID
    #: Who opened the connection (websocket-info shows a principal only its own).
    principal: Principal

    def deliver(self, event: AnyEvent, outgoing: Outgoing) -> None: ...

    def stop(self, code: int, reason: str) -> None: ...


@dataclass
class Counters:
    connections_total: int = 0
    messages_sent: int = 0
    slow_client_closes: int = 0
    heartbeat_timeouts: int = 0
    coalesced_messages: int = 0
    refused_unknown: int = 0
    refused_malformed: int = 0
    refused_too_many: int = 0
    events_received: int = 0
    invalid_events: int = 0


class WebsocketInfo(msgspec.Struct, kw_only=True):
    """``GET /api/v1/analysis/websocket-info``: this instance's connections and counters."""

    instance_id: str
    #: The caller's open connections (an admin's: all of them).
    active_connections: int
    #: The caller's open connections per analysis id.
    analyses: dict[str, int]
    messages_sent: int
    slow_client_closes: int
    heartbeat_timeouts: int
    coalesced_messages: int
    connections_total: int
    refused_unknown: int
    refused_malformed: int
    #: Connections closed because their client already held ``SONDA_WS_MAX_PER_CLIENT``.
    refused_too_many: int = 0
    #: Events this instance's own JetStream consumer received, and how many were not valid events.
    events_received: int
    invalid_events: int


class Hub:
    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.counters = Counters()
        self.clients = ClientSlots()
        self._topics: dict[uuid.UUID, set[Subscriber]] = {}

    def join(self, subscriber: Subscriber) -> None:
        self._topics.setdefault(subscriber.analysis_id, set()).add(subscriber)
        self.counters.connections_total += 1

    def leave(self, subscriber: Subscriber) -> None:
        topic = self._topics.get(subscriber.analysis_id)
        if topic is None:
            return
        topic.discard(subscriber)
        if not topic:
            del self._topics[subscriber.analysis_id]

    def dispatch(self, event: AnyEvent) -> None:
        self.counters.events_received += 1
        topic = self._topics.get(event.analysis_id)
        if not topic:
            return
        outgoing = Outgoing.of_event(event)
        for subscriber in list(topic):
            subscriber.deliver(event, outgoing)

    def stop_all(self, code: int, reason: str) -> None:
        for topic in list(self._topics.values()):
            for subscriber in list(topic):
                subscriber.stop(code, reason)

    def info(self, viewer: Principal = OPEN_ACCESS) -> WebsocketInfo:
        """Counters of the instance, and the connections ``viewer`` opened (an admin: all)."""
        analyses: dict[str, int] = {}
        for aid, topic in self._topics.items():
            mine = sum(1 for s in topic if viewer.may_access(s.principal.id))
            if mine:
                analyses[str(aid)] = mine
        c = self.counters
        return WebsocketInfo(
            instance_id=self.instance_id,
            active_connections=sum(analyses.values()),
            analyses=analyses,
            messages_sent=c.messages_sent,
            slow_client_closes=c.slow_client_closes,
            heartbeat_timeouts=c.heartbeat_timeouts,
            coalesced_messages=c.coalesced_messages,
            connections_total=c.connections_total,
            refused_unknown=c.refused_unknown,
            refused_malformed=c.refused_malformed,
            refused_too_many=c.refused_too_many,
            events_received=c.events_received,
            invalid_events=c.invalid_events,
        )
