"""Subject naming: ``eda.analysis.<analysis_id>.<event>``.

One helper builds and parses subjects so no service formats them by hand; the analysis id is always a
canonical UUID, so a hostile id can never add subject tokens (``.``, ``*``, ``>``).
"""

from __future__ import annotations

import re
import uuid

STREAM_NAME = "EDA"
SUBJECT_PREFIX = "eda.analysis"
ALL_SUBJECTS = f"{SUBJECT_PREFIX}.>"
DEAD_LETTER_SUBJECT_PREFIX = "eda.deadletter"

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def event_token(event_type: str) -> str:
    """``AnalysisRequested`` -> ``requested``; ``SomethingElse`` -> ``something_else``."""
    name = event_type.removeprefix("Analysis")
    return _CAMEL.sub("_", name).lower()


def subject_for(analysis_id: uuid.UUID, event_type: str) -> str:
    """Subject an event of ``event_type`` for ``analysis_id`` is published on."""
    return f"{SUBJECT_PREFIX}.{analysis_id}.{event_token(event_type)}"


def analysis_subjects(analysis_id: uuid.UUID) -> str:
    """Wildcard matching every event of one analysis."""
    return f"{SUBJECT_PREFIX}.{analysis_id}.*"


def type_subjects(event_type: str) -> str:
    """Wildcard matching one event type of every analysis."""
    return f"{SUBJECT_PREFIX}.*.{event_token(event_type)}"


def parse_subject(subject: str) -> tuple[uuid.UUID, str] | None:
    """Return (analysis_id, token) for a well-formed subject, else None."""
    parts = subject.split(".")
    if len(parts) != 4 or ".".join(parts[:2]) != SUBJECT_PREFIX:
        return None
    try:
        return uuid.UUID(parts[2]), parts[3]
    except ValueError:
        return None
