"""The analysis lifecycle: the one place its rules live (see ``rules``), its state as a pure fold
(``state.evolve``), and the one reader of an analysis' stream (``reader``)."""

from sonda_events.lifecycle.reader import AnalysisStreamReader, StreamHead, StreamRead
from sonda_events.lifecycle.rules import (
    STATUS_AFTER,
    TERMINAL_STATUSES,
    TERMINAL_TYPES,
    EventNotAllowedError,
    Phase,
    PublicStatus,
    Status,
    check,
    is_own_result,
    is_purge,
    own_result_key,
    phase_after,
)
from sonda_events.lifecycle.state import AnalysisState, VersionGapError, evolve, fold

__all__ = [
    "STATUS_AFTER",
    "TERMINAL_STATUSES",
    "TERMINAL_TYPES",
    "AnalysisState",
    "AnalysisStreamReader",
    "EventNotAllowedError",
    "Phase",
    "PublicStatus",
    "Status",
    "StreamHead",
    "StreamRead",
    "VersionGapError",
    "check",
    "evolve",
    "fold",
    "is_own_result",
    "is_purge",
    "own_result_key",
    "phase_after",
]
