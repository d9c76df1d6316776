"""API keys: stored as SHA-256 digests, compared in constant time, on HTTP and WebSocket.

Keys come from ``SONDA_API_KEYS`` as plain keys or ``sha256:<hex>`` digests (so a deployment never
has to keep the keys themselves). A request presents one as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``; a WebSocket as ``?api_key=<key>`` or the subprotocol ``bearer.<key>`` (browsers
cannot set headers on a WebSocket). Health, metrics and schema endpoints stay open.

Who calls is a ``Principal``: the key's id (``key_`` + 12 hex digits of its digest), and whether the
key is also in ``SONDA_ADMIN_API_KEYS``. Analyses and uploads belong to the principal that created
them; ``Principal.may_access`` is the one rule of who may see or change what. With no key configured at all, every caller
is the one anonymous principal, which may do everything, as before keys existed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

OPEN_PATH_PREFIXES = ("/api/v1/health", "/schema", "/docs", "/metrics")
ANONYMOUS = "anonymous"
#: Route handler option: the route authenticates its callers itself (e.g. by a signed URL).
PUBLIC_OPT = "sonda_public"
_PRINCIPAL = "sonda_principal"


class Principal(msgspec.Struct, frozen=True):
    """Who makes a request: an API key's id, or ``anonymous``; ``admin`` may see everything."""

    id: str
    admin: bool = False

    def may_access(self, owner: str) -> bool:
        """Whether this principal may see and change what ``owner`` created (admins: everything).

        Everything else answers as if the object did not exist (404), so no key learns which ids
        another key holds.
        """
        return self.admin or owner == self.id


#: Every caller when authentication is off: one principal, allowed everything (as before keys).
OPEN_ACCESS = Principal(ANONYMOUS, admin=True)
#: A caller no key identified on a route that lets it in (a signed upload URL): owns nothing.
NOBODY = Principal(ANONYMOUS, admin=False)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _digests(configured: str) -> tuple[str, ...]:
    items = (part.strip() for part in configured.split(","))
    return tuple(
        item.removeprefix("sha256:") if item.startswith("sha256:") else digest(item) for item in items if item
    )


class ApiKeys:
    """The accepted keys, by digest; no key at all means authentication is off.

    ``admin`` keys (``SONDA_ADMIN_API_KEYS``) are accepted too and may see every principal's
    analyses and run maintenance.
    """

    def __init__(self, configured: str, admin: str = "") -> None:
        admins = _digests(admin)
        self._digests = tuple((known, False) for known in _digests(configured)) + tuple(
            (known, True) for known in admins
        )

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def principal(self, presented: str | None) -> Principal | None:
        """The principal of a valid key (an admin if any admin entry matches), else None."""
        if not presented:
            return None
        candidate = digest(presented)
        match, admin = None, False
        for known, is_admin in self._digests:  # no early exit: time does not depend on which matched
            if hmac.compare_digest(candidate, known):
                match, admin = known, admin or is_admin
        return Principal(f"key_{match[:12]}", admin=admin) if match else None

    def identify(self, presented: str | None) -> str | None:
        """The key's id (first 12 hex digits of its digest) when it is valid, else None."""
        found = self.principal(presented)
        return found.id if found else None


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if key := connection.headers.get("x-api-key"):
        return key.strip()
    if str(connection.scope["type"]) == "websocket":
        if key := connection.query_params.get("api_key"):
            return str(key)
        for raw in connection.headers.get("sec-websocket-protocol", "").split(","):
            proto = raw.strip()
            if proto.startswith("bearer."):
                return proto[7:]
    return None


def requester(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who is calling: the key id set by the guard, or ``anonymous`` when auth is off."""
    return principal_of(connection).id


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard found (one that owns nothing when no guard ran)."""
    found = connection.scope.get("state", {}).get(_PRINCIPAL)
    return found if isinstance(found, Principal) else NOBODY


def api_key_guard(keys: ApiKeys) -> Any:
    """A Litestar guard refusing requests without a valid key (when keys are configured)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        state = connection.scope.setdefault("state", {})
        if not keys.enabled:
            state[_PRINCIPAL] = OPEN_ACCESS
            return
        if connection.scope["path"].startswith(OPEN_PATH_PREFIXES):
            return
        # A route that proves its caller otherwise (ingest's signed upload URL: a browser PUTs
        # there without our key) opts out with ``opt={PUBLIC_OPT: True}``.
        if handler.opt.get(PUBLIC_OPT):
            return
        principal = keys.principal(presented_key(connection))
        if principal is None:
            raise NotAuthorizedException("a valid API key is required (Authorization: Bearer <key>)")
        state[_PRINCIPAL] = principal

    return guard
