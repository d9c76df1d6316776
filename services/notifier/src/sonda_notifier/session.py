"""One WebSocket connection: catch-up without gaps, live events, heartbeat and slow-client handling.

Catch-up. The session joins the hub *before* it reads the history, so every live event dispatched
after that moment is buffered, and every event dispatched before it was already stored in JetStream
and is in the history. History and buffer together cover everything; merging them by version, and
sending only version ``last + 1``, gives each event exactly once and in order. A live event that
skips ahead (a hole the buffer cannot explain) triggers one more history read from ``last``; if even
that cannot fill the hole (an event lost everywhere, or a foreign publisher skipping versions), the
session moves on with a warning rather than stalling the client forever.

What a client is sent first:
- with ``?since=N``: every event after version N (N above the current version is treated as current);
- without it: the current state, i.e. the history with each run of status events collapsed to its
  last (``analysis_status`` for the latest progress, then ``analysis_completed``/``analysis_error``
  and ``analysis_deleted`` if they happened), then every later event. ``since=0`` asks for the whole
  history; a client that connects before the first event is served as ``since=0`` (it has seen the
  state "nothing", so every event is news to it).

An id with nothing in JetStream or the store gets ``sonda_ws_unknown_grace`` seconds for a first event
(ingest publishes before it answers 202, so this only covers clock-tight races) and is then closed
with 4404. So is an analysis another principal owns (its ``AnalysisRequested``'s ``requested_by``):
checked once its first events are known and before anything is sent, it answers exactly like an
unknown one.

Liveness. Dead clients are found by WebSocket protocol pings (RFC 6455), which browsers and client
libraries answer by themselves: uvicorn sends one every ``sonda_ws_ping_interval`` and drops a client
whose pong is ``sonda_ws_pong_timeout`` late with close 1011 (``sonda serve notifier`` passes these
settings as uvicorn's ``ws_ping_interval`` and ``ws_ping_timeout``). The session only has to keep
reading, or uvicorn would stop reading the socket and never see the pongs. Every ``ping_interval``
the session also queues ``{"type": "ping"}``, so a client can tell a live server from a silent one;
answering it is optional: a client that never sends anything stays as long as its pongs arrive.

Slow clients. Messages wait in a bounded ``Outbox``; one sender task per connection writes them, so
nothing waits on a slow socket but its own sender. A full queue coalesces status messages; a queue
still full, or one send blocked for ``send_timeout``, closes the connection with 4008 "slow client".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from litestar.connection import WebSocket
from litestar.exceptions import WebSocketDisconnect
from sonda_events.contract import AnalysisRequested, AnyEvent
from sonda_events.errors import SondaError
from sonda_events.lifecycle import AnalysisState, evolve
from sonda_events.logging import get_logger
from sonda_service import Principal

from sonda_notifier.history import History, HistoryUnavailableError
from sonda_notifier.hub import Hub
from sonda_notifier.messages import PING, CloseCode, ConnectionEstablished, Outgoing, current_state, encode
from sonda_notifier.outbox import Outbox
from sonda_notifier.settings import NotifierSettings

log = get_logger(__name__)


class Session:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        analysis_id: uuid.UUID,
        since: int | None,
        *,
        principal: Principal,
        hub: Hub,
        history: History,
        settings: NotifierSettings,
    ) -> None:
        self.analysis_id = analysis_id
        self.principal = principal
        self._socket = socket
        self._since = since
        self._hub = hub
        self._history = history
        self._settings = settings
        self._outbox = Outbox(settings.sonda_ws_queue_size)
        self._coalesced_seen = 0
        #: Version of the newest event queued for this client.
        self._last = 0
        #: The analysis as the lifecycle folds it: a live event it refuses is never forwarded.
        self._state = AnalysisState(analysis_id=analysis_id)
        #: While True, live events wait in ``_pending`` (catch-up or gap fill in progress).
        self._syncing = True
        self._pending: list[AnyEvent] = []
        self._arrived = asyncio.Event()
        self._stop: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._resync_task: asyncio.Task[None] | None = None
        self._send_started: float | None = None

    # -- called by the hub (never awaits) ---------------------------------------------------------

    def deliver(self, event: AnyEvent, outgoing: Outgoing) -> None:
        if self._syncing:
            self._pending.append(event)
            self._arrived.set()
        else:
            self._accept(event, outgoing)

    def stop(self, code: int, reason: str) -> None:
        """Ask the session to close with ``code``; the first reason wins."""
        if self._stop.done():
            return
        if code == CloseCode.SLOW_CLIENT:
            self._hub.counters.slow_client_closes += 1
        elif code == CloseCode.UNKNOWN_ANALYSIS:
            self._hub.counters.refused_unknown += 1
        self._stop.set_result((code, reason))

    # -- ordering ----------------------------------------------------------------------------------

    def _accept(self, event: AnyEvent, outgoing: Outgoing | None = None) -> None:
        if event.version <= self._last:
            return  # already sent (history and live overlap)
        if event.version > self._last + 1:
            self._pending.append(event)
            self._start_resync()
            return
        if not self._allowed(event):
            return
        self._enqueue(outgoing or Outgoing.of_event(event))
        self._last = event.version

    def _allowed(self, event: AnyEvent) -> bool:
        """Fold ``event`` into the session's state; False (and nothing sent) when the lifecycle
        refuses it: the store refuses it too, so no client may be told of it."""
        try:
            self._state = evolve(self._state, event)
        except SondaError as exc:
            log.info(
                "event_not_forwarded", event_id=str(event.event_id), code=exc.code, reason=exc.message[:200]
            )
            return False
        return True

    def _merge(self, history: list[AnyEvent]) -> None:
        """Queue history and buffered live events after ``_last``, in version order; end syncing."""
        merged = {event.version: event for event in self._pending}
        merged.update((event.version, event) for event in history)
        self._pending = []
        self._syncing = False
        for version in sorted(merged):
            if version <= self._last:
                continue
            if version > self._last + 1:
                log.warning("version_gap_skipped", after=self._last, next=version)
            if not self._allowed(merged[version]):
                continue
            self._enqueue(Outgoing.of_event(merged[version]))
            self._last = version

    def _start_resync(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        self._resync_task = asyncio.create_task(self._resync())

    async def _resync(self) -> None:
        # Events delivered before the read began were in JetStream already: the read folds them in
        # stream order, as the lifecycle does (an event that came before its predecessor is no
        # successor of it), so only what arrives meanwhile is merged from the buffer.
        covered = len(self._pending)
        try:
            state, history = await self._history.read(self.analysis_id, after_version=self._last)
        except HistoryUnavailableError:
            # Skipping the hole would lose events for good; the client resumes with ``since``.
            self.stop(CloseCode.TRY_AGAIN_LATER, "history unavailable, reconnect with since")
            return
        except Exception as exc:  # never leave the session buffering forever
            log.error("resync_failed", error=str(exc)[:300], error_type=type(exc).__name__)
            self.stop(CloseCode.INTERNAL_ERROR, "internal error")
            return
        del self._pending[:covered]
        self._state = state if state.version > self._state.version else self._state
        self._merge(history)

    def _enqueue(self, outgoing: Outgoing) -> None:
        if not self._outbox.put(outgoing):
            self.stop(CloseCode.SLOW_CLIENT, "slow client")
        if self._outbox.coalesced != self._coalesced_seen:
            self._hub.counters.coalesced_messages += self._outbox.coalesced - self._coalesced_seen
            self._coalesced_seen = self._outbox.coalesced

    # -- the connection's tasks -------------------------------------------------------------------

    async def _catch_up(self) -> bool:
        deadline = time.monotonic() + self._settings.sonda_ws_unknown_grace
        since = self._since
        while True:
            covered = len(self._pending)  # in JetStream before the read: the read has them
            try:
                state, history = await self._history.read(self.analysis_id)
            except HistoryUnavailableError:
                self.stop(CloseCode.TRY_AGAIN_LATER, "history unavailable, reconnect later")
                return False
            if history or len(self._pending) > covered:
                break
            # Connected before the first event: the state then was "nothing", so every event is news.
            since = 0 if since is None else since
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop(CloseCode.UNKNOWN_ANALYSIS, "unknown analysis")
                return False
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.25))
        if not self._may_watch(history + self._pending):
            self.stop(CloseCode.UNKNOWN_ANALYSIS, "unknown analysis")
            return False
        del self._pending[:covered]
        self._state = state
        current = max((e.version for e in history + self._pending), default=0)
        if since is not None and since > current:
            log.info("since_ahead_of_analysis", since=since, current=current)
            since = current
        established = ConnectionEstablished(
            analysis_id=str(self.analysis_id),
            position=current,
            since=self._since,
            instance_id=self._hub.instance_id,
            ping_interval=self._settings.sonda_ws_ping_interval,
        )
        self._enqueue(Outgoing(encode(established)))
        if since is None:
            for event in current_state(history):
                self._enqueue(Outgoing.of_event(event))
            self._last = history[-1].version if history else 0
            self._merge([])
        else:
            self._last = since
            self._merge(history)
        return True

    def _may_watch(self, events: list[AnyEvent]) -> bool:
        """Whether the principal may see the analysis: its request names the owner; without one
        (only a foreign publisher's events) it belongs to nobody but admins."""
        request = next((e for e in events if isinstance(e, AnalysisRequested) and e.version == 1), None)
        if request is None:
            return self.principal.admin
        return self.principal.may_access(request.data.requested_by)

    async def _watch(self) -> None:
        """Catch up, then queue the ping message on schedule and close clients that stop reading.

        The ping message needs no answer: dead clients are uvicorn's protocol pings' business.
        """
        if not await self._catch_up():
            return
        settings = self._settings
        interval = settings.sonda_ws_ping_interval
        tick = max(0.02, min(interval, settings.sonda_ws_send_timeout) / 4)
        next_ping = time.monotonic() + interval
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if self._send_started is not None and now - self._send_started > settings.sonda_ws_send_timeout:
                self.stop(CloseCode.SLOW_CLIENT, "slow client")
                return
            if now >= next_ping:
                self._enqueue(PING)
                next_ping = now + interval

    async def _send_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            self._send_started = time.monotonic()
            await self._socket.send_text(item.text)
            self._send_started = None
            self._hub.counters.messages_sent += 1

    async def _receive_loop(self) -> None:
        """Read (and ignore) what the client sends until it leaves.

        uvicorn pauses reading the socket while a received message waits for the app, protocol
        pongs included, so a session that stopped reading would have its client dropped as dead.
        """
        while True:
            message = await self._socket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def run(self) -> None:
        """Serve the (accepted) connection until the client leaves or the session stops it."""
        self._hub.join(self)
        receiver = asyncio.create_task(self._receive_loop())
        tasks = {receiver, asyncio.create_task(self._send_loop()), asyncio.create_task(self._watch())}
        try:
            waiting: set[asyncio.Future[Any]] = {*tasks, self._stop}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._hub.leave(self)
            if self._resync_task is not None:
                tasks.add(self._resync_task)
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        if receiver in done or self._socket.connection_state == "disconnect":
            return  # the client left: nothing to close
        if self._stop.done():
            code, reason = self._stop.result()
        else:
            failure = next((r for r in results if isinstance(r, Exception)), None)
            if failure is None or isinstance(failure, WebSocketDisconnect | OSError):
                return  # the sender found the client gone (uvicorn raises an OSError subclass)
            log.error("session_failed", error=str(failure)[:300], error_type=type(failure).__name__)
            code, reason = CloseCode.INTERNAL_ERROR, "internal error"
        log.info("session_closed", code=code, reason=reason)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._socket.close(code, reason), self._settings.sonda_ws_close_timeout)
