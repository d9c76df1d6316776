"""The event store fixture of the store tests, for the rules the store applies."""

from tests.events.store.conftest import store

__all__ = ["store"]
