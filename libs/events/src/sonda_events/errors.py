"""Typed errors of the event contract, the store and the bus.

Each error carries a stable ``code`` that HTTP layers map to a problem body and consumers write into
dead-letter records, so clients and operators can match on it instead of parsing messages.
"""

from __future__ import annotations


class SondaError(Exception):
    """Base of every error Sonda raises on purpose."""

    code: str = "sonda_error"
    #: HTTP status a gateway should answer with when this error reaches it.
    status_code: int = 500
    #: True when the same operation may succeed if tried again later.
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class EventValidationError(SondaError):
    """A message is not a valid Sonda event: which field failed and why."""

    code = "invalid_event"
    status_code = 422

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        where = f" at {field}" if field else ""
        super().__init__(f"invalid event{where}: {reason}")
        self.field = field
        self.reason = reason


class UnknownEventTypeError(EventValidationError):
    """The envelope names an event type this version of Sonda does not know."""

    code = "unknown_event_type"


class EventStoreError(SondaError):
    """Base of event store errors."""

    code = "event_store_error"
    status_code = 503


class ConcurrencyError(EventStoreError):
    """A stale expected version: another writer appended to the stream first."""

    code = "version_conflict"
    status_code = 409

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, but the stream is at {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StoreUnavailableError(EventStoreError):
    """The database cannot be reached right now."""

    code = "store_unavailable"
    retryable = True


class BusError(SondaError):
    """Base of message bus errors."""

    code = "bus_error"
    status_code = 503
    retryable = True


class BusUnavailableError(BusError):
    """NATS cannot be reached or did not acknowledge in time."""

    code = "bus_unavailable"


class StreamVersionConflictError(BusError):
    """JetStream refused a publish whose expected last subject sequence was stale."""

    code = "stream_version_conflict"
    status_code = 409
    retryable = False


class ProvisioningDriftError(BusError):
    """An existing stream or consumer's config differs from the one Sonda declares."""

    code = "provisioning_drift"
    retryable = False


class NatsUnsupportedError(BusError):
    """The nats-server is older than the floor Sonda needs (see ``sonda_events.bus.server``).

    Not retryable: the same server answers the same way until it is upgraded.
    """

    code = "nats_unsupported"
    retryable = False
