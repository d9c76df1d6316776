"""How long an idle HTTP connection is kept open, by our servers and by the gateway's own clients.

A keep-alive connection closed by the server at the moment a client sends its next request on it
loses that request: the client reads "server disconnected without sending a response" and, for a
POST, cannot safely send it again. The race is hit whenever both sides give up after the same idle
time — uvicorn's default is 5 s, exactly httpx's default pool expiry, and nginx keeps upstream
connections 60 s. So a server here waits longer than those clients' pools, and the gateway, a
client of the services, gives up well before they do: the client closes first.
"""

from __future__ import annotations

#: A server's idle keep-alive timeout (the gateway's and each service's): above httpx's 5 s and
#: nginx's upstream 60 s; nginx's own keepalive_timeout default.
SERVER_IDLE_S = 75
#: How long the gateway keeps an idle connection to a service: below ``SERVER_IDLE_S``.
UPSTREAM_IDLE_S = 30.0
