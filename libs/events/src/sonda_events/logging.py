"""structlog configuration: JSON lines when not on a terminal, context from contextvars.

Handlers call ``bind_context(analysis_id=..., correlation_id=...)`` per request or message (after
``clear_contextvars``), so every log line of that unit of work carries them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars

# Query strings of presigned URLs carry signatures; never log them.
_REDACT_KEYS = frozenset({"upload_url", "authorization", "x-api-key", "password", "secret", "api_key"})
HIDDEN = "**********"
#: ``scheme://user:password@host``: credentials inside a URL (NATS_URL, DATABASE_URL, REDIS_URL).
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]*@")
#: Signing parameters of upload URLs (local ``sig``, S3 ``X-Amz-Signature`` and ``X-Amz-Credential``)
#: and keys passed in a query (``api_key`` of a WebSocket URL).
_SIGNED_PARAMS = re.compile(
    r"(?i)((?:^|[?&;\s\"'])(?:sig|x-amz-signature|x-amz-credential|x-amz-security-token|api_key|token)=)"
    r"[^&\s\"']+"
)


def scrub(text: str) -> str:
    """``text`` without credentials in URLs or signatures in query strings."""
    if "://" in text:
        text = _URL_CREDENTIALS.sub(f"{HIDDEN}@", text)
    if "=" in text:
        text = _SIGNED_PARAMS.sub(rf"\1{HIDDEN}", text)
    return text


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Hide values of secret-named keys, and secrets inside any text (a URL in an error message)."""
    for key, value in list(event_dict.items()):
        if key.lower() in _REDACT_KEYS:
            event_dict[key] = HIDDEN
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


def configure_logging(service: str, level: str = "info", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger for one process."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Tracebacks first, so the secrets scrubbed below include those inside exception text.
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr)
    clear_contextvars()
    bind_contextvars(service=service)


def bind_context(**values: Any) -> None:
    """Start a unit of work (a request or a message): reset the context, keep the service name."""
    service = structlog.contextvars.get_contextvars().get("service")
    clear_contextvars()
    bind_contextvars(service=service, **{k: str(v) for k, v in values.items() if v is not None})


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
