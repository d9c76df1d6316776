"""Typed errors of the event contract, the store and the bus.

Each error carries a stable ``code`` from the catalog (``sonda_events.codes``) that HTTP layers map to
a problem body and consumers write into dead-letter records, so clients and operators can match on it
instead of parsing messages. Its ``retryable`` comes with the code.
"""

from __future__ import annotations

from typing import Any

from sonda_events.codes import CATALOG, Code


class SondaError(Exception):
    """Base of every error Sonda raises on purpose."""

    code: str = Code.SONDA_ERROR
    #: True when the same operation may succeed if tried again later (the catalog's, for the code).
    retryable: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = CATALOG.get(cls.code)
        if known is not None and "retryable" not in cls.__dict__:
            cls.retryable = known

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
            known = CATALOG.get(code)
            if known is not None:
                self.retryable = known


class EventValidationError(SondaError):
    """A message is not a valid Sonda event: which field failed and why."""

    code = Code.INVALID_EVENT

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        where = f" at {field}" if field else ""
        super().__init__(f"invalid event{where}: {reason}")
        self.field = field
        self.reason = reason


class UnknownEventTypeError(EventValidationError):
    """The envelope names an event type this version of Sonda does not know."""

    code = Code.UNKNOWN_EVENT_TYPE


class InvalidAnalysisIdError(SondaError):
    """An analysis id that is not a UUID in its canonical form (``sonda_events.ids``)."""

    code = Code.INVALID_ANALYSIS_ID


class EventStoreError(SondaError):
    """Base of event store errors."""

    code = Code.EVENT_STORE_ERROR


class ConcurrencyError(EventStoreError):
    """A stale expected version: another writer appended to the stream first."""

    code = Code.VERSION_CONFLICT

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, but the stream is at {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StoreUnavailableError(EventStoreError):
    """The database cannot be reached right now."""

    code = Code.STORE_UNAVAILABLE


class BusError(SondaError):
    """Base of message bus errors."""

    code = Code.BUS_ERROR


class BusUnavailableError(BusError):
    """NATS cannot be reached or did not acknowledge in time."""

    code = Code.BUS_UNAVAILABLE


class StreamVersionConflictError(BusError):
    """JetStream refused a publish whose expected last subject sequence was stale."""

    code = Code.STREAM_VERSION_CONFLICT


class ProvisioningDriftError(BusError):
    """An existing stream or consumer's config differs from the one Sonda declares."""

    code = Code.PROVISIONING_DRIFT


class NatsUnsupportedError(BusError):
    """The nats-server is older than the floor Sonda needs (see ``sonda_events.bus.server``).

    Not retryable: the same server answers the same way until it is upgraded.
    """

    code = "nats_unsupported"
    retryable = False
