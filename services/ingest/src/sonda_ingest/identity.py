"""Deterministic ids, so a retried command is the same command everywhere downstream.

With an ``Idempotency-Key`` the analysis id is ``uuid5(requester, key)``: the retry of a start gets
the same analysis id, hence the same ``AnalysisRequested`` event id, so JetStream's duplicate window
(``Nats-Msg-Id``), the per-analysis expected sequence and the store's unique event id all make it
one analysis, with no idempotency table to keep. The requester is part of the name, so two API keys
using the same Idempotency-Key get different analyses.
"""

from __future__ import annotations

import re
import uuid

from sonda_ingest.errors import InvalidIdempotencyKeyError

#: Fixed namespace of Sonda's name-based ids (never change it: ids already issued depend on it).
NAMESPACE = uuid.UUID("5f0c8d0e-2b7a-5c3e-9a41-0d5a0e5d0a11")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def check_idempotency_key(value: str | None) -> str | None:
    """1–255 printable ASCII characters without spaces (a UUID is the usual choice)."""
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidIdempotencyKeyError("Idempotency-Key must be 1–255 printable ASCII characters")
    return value


def analysis_id_for(requested_by: str, idempotency_key: str | None) -> uuid.UUID:
    """A fresh id, or the one this requester's Idempotency-Key always maps to."""
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(NAMESPACE, f"analysis\n{requested_by}\n{idempotency_key}")


def requested_event_id(analysis_id: uuid.UUID) -> uuid.UUID:
    """The id of an analysis' ``AnalysisRequested`` event: one per analysis, whoever publishes it."""
    return uuid.uuid5(NAMESPACE, f"requested\n{analysis_id}")
