"""Sonda's notifier: live analysis events over WebSockets, with resume, heartbeat and fan-out.

``WS /api/v1/analysis/websocket/{analysis_id}[?since=<position>]`` and
``GET /api/v1/analysis/websocket-info``. How it is put together:

- ``feed``: each instance's own ordered JetStream consumer (deliver NEW) on every analysis subject;
  instances share nothing, so any number of them serve their own clients behind a balancer.
- ``hub``: connections by analysis; each live event is encoded once and handed to every connection
  of its analysis without awaiting; the counters behind websocket-info.
- ``session``: one connection. Joins the hub before reading the history, so history and live events
  overlap instead of leaving a gap, then sends each version exactly once and in order. Without
  ``since`` a client gets the current state (latest status, then terminal/deleted events), with
  ``since=N`` every event after N. Heartbeat (``{"type": "ping"}``, no answer needed; dead clients
  are dropped by uvicorn's protocol pings), slow clients (bounded ``outbox``: status coalesced, then
  4008), refusals (4400, 4404, 1013).
- ``history``: past events by batched JetStream direct gets; the event store for what aged out.
- ``messages``: the client messages (seed names plus ``position``) and the close codes.
"""
