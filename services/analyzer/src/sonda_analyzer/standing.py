"""Where an analysis stands in the JetStream window, read before a worker touches it.

The newest message of an analysis is not enough: another system may publish the same request twice
(a retry without ``Nats-Msg-Id``), and that duplicate ``AnalysisRequested`` (version 1) can be the
newest message while the analysis is long finished or in the hands of another worker. So the worker
reads which event types the analysis has (one ``STREAM.INFO`` with a subject filter) and the newest
message of each (direct gets; at most six): finished or not, the highest version, the stream's last
sequence for the optimistic-concurrency check, and which request message came first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sonda_events import codec
from sonda_events.errors import EventValidationError
from sonda_events.subjects import STREAM_NAME, analysis_subjects, event_token, parse_subject, subject_for

FINISHING_TOKENS = frozenset(
    event_token(t) for t in ("AnalysisCompleted", "AnalysisFailed", "AnalysisDeleted")
)
_REQUESTED = event_token("AnalysisRequested")


@dataclass(frozen=True)
class Standing:
    #: Messages per event token (``requested``, ``started``, ...) in the stream's window.
    counts: dict[str, int]
    #: Highest event version seen (0 when nothing is left in the window).
    version: int
    #: Stream sequence of the analysis' newest message (0 when none).
    last_seq: int

    @property
    def finished_by(self) -> str | None:
        """The token of an event that ended the analysis (``completed``, ``failed``, ``deleted``)."""
        return next((t for t in sorted(FINISHING_TOKENS) if self.counts.get(t)), None)

    @property
    def requests(self) -> int:
        return self.counts.get(_REQUESTED, 0)


async def read_standing(js: JetStreamContext, analysis_id: uuid.UUID) -> Standing:
    info = await js.stream_info(STREAM_NAME, subjects_filter=analysis_subjects(analysis_id))
    counts: dict[str, int] = {}
    version = last_seq = 0
    for subject, count in (info.state.subjects or {}).items():
        parsed = parse_subject(subject)
        if parsed is None or not count:
            continue
        counts[parsed[1]] = count
        try:
            raw = await js.get_last_msg(STREAM_NAME, subject, direct=True)
        except NotFoundError:  # aged out between the two reads
            continue
        last_seq = max(last_seq, raw.seq or 0)
        try:
            version = max(version, codec.decode(raw.data or b"").version)
        except EventValidationError:
            continue  # a foreign message on our subject carries no version we could trust
    return Standing(counts=counts, version=version, last_seq=last_seq)


async def first_request_seq(js: JetStreamContext, analysis_id: uuid.UUID) -> int | None:
    """Stream sequence of the analysis' first ``AnalysisRequested`` still in the window."""
    subject = subject_for(analysis_id, "AnalysisRequested")
    try:
        raw = await js.get_msg(STREAM_NAME, seq=1, subject=subject, next=True, direct=True)
    except NotFoundError:
        return None
    return raw.seq
