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
from sonda_events.contract import AnyEvent
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


def own_event(data: bytes | None, analysis_id: uuid.UUID, token: str) -> AnyEvent | None:
    """The message as an event of this analysis filed under its own subject, else None.

    Other systems publish on our subjects too: garbage, or a valid event of another analysis.
    Such a message must not finish, version or own an analysis it does not belong to.
    """
    try:
        event = codec.decode(data or b"")
    except EventValidationError:
        return None
    if event.analysis_id != analysis_id or event_token(event.type) != token:
        return None
    return event


async def read_standing(js: JetStreamContext, analysis_id: uuid.UUID) -> Standing:
    info = await js.stream_info(STREAM_NAME, subjects_filter=analysis_subjects(analysis_id))
    counts: dict[str, int] = {}
    version = last_seq = 0
    for subject, count in (info.state.subjects or {}).items():
        parsed = parse_subject(subject)
        if parsed is None or not count:
            continue
        token = parsed[1]
        try:
            raw = await js.get_last_msg(STREAM_NAME, subject, direct=True)
        except NotFoundError:  # aged out between the two reads
            continue
        last_seq = max(last_seq, raw.seq or 0)
        event = own_event(raw.data, analysis_id, token)
        if event is None and token in FINISHING_TOKENS:
            continue  # a foreign message on ".completed" finishes nothing
        counts[token] = count
        if event is not None:
            version = max(version, event.version)
    return Standing(counts=counts, version=version, last_seq=last_seq)


#: Messages on an analysis' request subject looked at before giving up on finding a valid one.
MAX_REQUEST_SCAN = 50


async def first_request_seq(js: JetStreamContext, analysis_id: uuid.UUID) -> int | None:
    """Stream sequence of the analysis' first valid ``AnalysisRequested`` still in the window.

    Foreign messages before it (a malformed request another system then published again, fixed)
    are passed over: otherwise the fixed request would look like a duplicate and never run.
    """
    subject = subject_for(analysis_id, "AnalysisRequested")
    seq = 1
    for _ in range(MAX_REQUEST_SCAN):
        try:
            raw = await js.get_msg(STREAM_NAME, seq=seq, subject=subject, next=True, direct=True)
        except NotFoundError:
            return None
        if raw.seq is None:
            return None
        if own_event(raw.data, analysis_id, _REQUESTED) is not None:
            return raw.seq
        seq = raw.seq + 1
    return None
