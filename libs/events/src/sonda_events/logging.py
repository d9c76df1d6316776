"""structlog configuration: JSON lines when not on a terminal, context from contextvars.

Handlers call ``bind_context(analysis_id=..., correlation_id=...)`` per request or message (after
``clear_contextvars``), so every log line of that unit of work carries them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars

# Query strings of presigned URLs carry signatures; never log them.
_REDACT_KEYS = frozenset({"upload_url", "authorization", "x-api-key", "password", "secret", "api_key"})
HIDDEN = "**********"
#: ``scheme://user:password@host`` or ``scheme://token@host``: credentials inside a URL (NATS_URL,
#: DATABASE_URL, REDIS_URL); up to the last ``@`` of the authority, as URL parsers read it.
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s\"']+@")
#: Signing parameters of upload URLs (local ``sig``, S3 ``X-Amz-Signature`` and ``X-Amz-Credential``)
#: and keys passed in a query (``api_key`` of a WebSocket URL).
_SIGNED_PARAMS = re.compile(
    r"(?i)((?:^|[?&;\s\"'])(?:sig|x-amz-signature|x-amz-credential|x-amz-security-token|api_key|token)=)"
    r"[^&\s\"']+"
)

#: Keys in headers a library may log at debug level: the WebSocket subprotocol ``bearer.<key>``,
#: ``Authorization: Bearer <key>`` and ``X-API-Key: <key>``.
_HEADER_KEYS = re.compile(r"(?i)(\bbearer\.|\bauthorization:\s*bearer\s+|\bx-api-key:\s*)[^\s,\"'<>]+")


def scrub(text: str) -> str:
    """``text`` without credentials in URLs, signatures in query strings or keys in headers."""
    if "://" in text:
        text = _URL_CREDENTIALS.sub(f"{HIDDEN}@", text)
    if "=" in text:
        text = _SIGNED_PARAMS.sub(rf"\1{HIDDEN}", text)
    if "earer" in text or "api-key" in text.lower():
        text = _HEADER_KEYS.sub(rf"\1{HIDDEN}", text)
    return text


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Hide values of secret-named keys, and secrets inside any text (a URL in an error message)."""
    for key, value in list(event_dict.items()):
        if key.lower() in _REDACT_KEYS:
            event_dict[key] = HIDDEN
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record (a test's capture, a pipe)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


#: Loggers of libraries that install their own handlers (uvicorn's default LOGGING_CONFIG).
_TAKEN_OVER = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def configure_logging(service: str, level: str = "info", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger for one process.

    Records of stdlib loggers (uvicorn, nats, sqlalchemy, ...) go through the same processors as
    structlog's own, redaction included, and come out as the same lines. Safe to call again (a
    test building several apps): the root handler installed last time is replaced.
    """
    use_json = (not sys.stderr.isatty()) if json is None else json
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Tracebacks first, so the secrets scrubbed below include those inside exception text.
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, _redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # The formatted message is the event, so ``_redact`` scrubs it (a URL in a warning).
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared, _redact],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries' own records (nats, sqlalchemy, aiosqlite) from warnings up; uvicorn's at our level.
    root.setLevel(max(numeric, logging.WARNING))
    for name in _TAKEN_OVER:
        logger = logging.getLogger(name)
        # uvicorn's default config gives these their own plain handlers and stops propagation;
        # a logger it silenced (no handler, no propagation: ``access_log=False``) stays silent.
        if logger.handlers:
            logger.handlers.clear()
            logger.propagate = True
    logging.getLogger("uvicorn").setLevel(numeric)
    clear_contextvars()
    bind_contextvars(service=service)


def bind_context(**values: Any) -> None:
    """Start a unit of work (a request or a message): reset the context, keep the service name."""
    service = structlog.contextvars.get_contextvars().get("service")
    clear_contextvars()
    bind_contextvars(service=service, **{k: str(v) for k, v in values.items() if v is not None})


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
