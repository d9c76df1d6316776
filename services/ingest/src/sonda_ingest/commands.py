"""The analysis commands: start and delete. Checks first, then one event; nothing else is written.

Every check that can refuse a request runs before the publish, so a refused request leaves no trace
on the bus or in storage. Every command acts for a principal (the caller's API key) and touches only
what that principal owns: another key's upload or analysis answers as a missing one.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import cast

from sonda_events.bus import AnalysisWriter, Publisher
from sonda_events.contract import (
    ANALYSIS_TYPES,
    AnalysisDeleted,
    AnalysisRequested,
    AnalysisType,
    DeletedData,
    RequestedData,
    new_event,
)
from sonda_events.errors import StreamVersionConflictError
from sonda_events.logging import get_logger
from sonda_service import Principal
from sonda_storage import (
    EmptyUploadError,
    ObjectNotFoundError,
    ObjectStorage,
    UploadTooLargeError,
    parse_upload_key,
)

from sonda_ingest.errors import AnalysisNotFoundError, IdempotencyKeyReusedError, UnknownAnalysisTypeError
from sonda_ingest.history import AnalysisHistory
from sonda_ingest.identity import analysis_id_for, check_idempotency_key, requested_event_id
from sonda_ingest.options import validate_options
from sonda_ingest.ownership import check_upload_owner
from sonda_ingest.quota import ActiveAnalyses
from sonda_ingest.schemas import StartRequest

log = get_logger(__name__)

PRODUCER = "ingest"
#: Tries of a delete that lost a race with another writer of the same analysis.
DELETE_ATTEMPTS = 5


@dataclass(frozen=True)
class Started:
    event: AnalysisRequested
    #: True when an Idempotency-Key matched an earlier start: nothing was published.
    replayed: bool


@dataclass(frozen=True)
class Deleted:
    analysis_id: uuid.UUID
    version: int
    already_deleted: bool


class AnalysisCommands:
    def __init__(
        self,
        *,
        storage: ObjectStorage,
        publisher: Publisher,
        history: AnalysisHistory,
        max_upload_bytes: int,
        publish_deadline: float,
        quota: ActiveAnalyses | None = None,
    ) -> None:
        self.storage = storage
        self.publisher = publisher
        self.history = history
        self.max_upload_bytes = max_upload_bytes
        self.publish_deadline = publish_deadline
        self.quota = quota or ActiveAnalyses(history, 0)

    async def start(
        self,
        request: StartRequest,
        *,
        principal: Principal,
        correlation_id: str,
        idempotency_key: str | None = None,
    ) -> Started:
        """Check the request and the uploaded object, then publish ``AnalysisRequested`` (version 1).

        Raises:
            InvalidKeyError, UnknownAnalysisTypeError, InvalidOptionsError, InvalidIdempotencyKeyError,
            ObjectNotFoundError (also: another principal's upload), EmptyUploadError,
            UploadTooLargeError: the request is refused.
            IdempotencyKeyReusedError: the key was used before for a different request.
            BusUnavailableError: NATS did not acknowledge before the deadline (503).
        """
        _, filename = parse_upload_key(request.file_key)
        check_upload_owner(request.file_key, principal)
        requested_by = principal.id
        if request.analysis_type not in ANALYSIS_TYPES:
            known = ", ".join(ANALYSIS_TYPES)
            raise UnknownAnalysisTypeError(
                f"unknown analysis_type {request.analysis_type[:64]!r}; known: {known}"
            )
        options = validate_options(request.options)
        key = check_idempotency_key(idempotency_key)
        analysis_id = analysis_id_for(requested_by, key)
        if key is not None and (earlier := await self.history.requested(analysis_id)) is not None:
            return self._replay(earlier, request, options)

        info = await self.storage.head(request.file_key)
        if info is None:
            raise ObjectNotFoundError(request.file_key)
        if info.size == 0:
            raise EmptyUploadError(request.file_key)
        if info.size > self.max_upload_bytes:
            raise UploadTooLargeError(self.max_upload_bytes, received=info.size)

        # One key's starts are checked and published one at a time, so two parallel requests
        # cannot both take the last free slot.
        async with self.quota.slot(requested_by) as active:
            event = new_event(
                AnalysisRequested,
                analysis_id=analysis_id,
                version=1,
                data=RequestedData(
                    file_key=request.file_key,
                    analysis_type=cast(AnalysisType, request.analysis_type),
                    options=options,
                    requested_by=requested_by,
                    filename=filename,
                    file_size=info.size,
                ),
                producer=PRODUCER,
                correlation_id=correlation_id,
                event_id=requested_event_id(analysis_id),
            )
            try:
                # Expected last sequence 0: only the first event of a new analysis can be published.
                await self.publisher.publish(event, expected_last_seq=0, deadline=self.publish_deadline)
            except StreamVersionConflictError:
                # Two retries with the same Idempotency-Key raced, and the other one won.
                earlier = await self.history.requested(analysis_id) if key is not None else None
                if earlier is None:
                    raise
                return self._replay(earlier, request, options)
            active.add(analysis_id)
            log.info(
                "analysis_requested", analysis_id=str(analysis_id), file_key=request.file_key, size=info.size
            )
            return Started(event=event, replayed=False)

    @staticmethod
    def _replay(earlier: AnalysisRequested, request: StartRequest, options: dict[str, object]) -> Started:
        same = (
            earlier.data.file_key == request.file_key
            and earlier.data.analysis_type == request.analysis_type
            and earlier.data.options == options
        )
        if not same:
            raise IdempotencyKeyReusedError(
                f"this Idempotency-Key already started analysis {earlier.analysis_id} with a different request"
            )
        log.info("analysis_start_replayed", analysis_id=str(earlier.analysis_id))
        return Started(event=earlier, replayed=True)

    async def delete(self, analysis_id: uuid.UUID, *, principal: Principal, reason: str = "") -> Deleted:
        """Soft-delete: publish ``AnalysisDeleted`` after the analysis' newest event.

        Deleting a deleted analysis changes nothing. Objects stay (the retention clean-up removes them).

        Raises:
            AnalysisNotFoundError: no analysis has this id, or another principal owns it.
            StreamVersionConflictError: other writers kept appending through every attempt.
        """
        for attempt in range(1, DELETE_ATTEMPTS + 1):
            read = await self.history.read_as(analysis_id, principal)
            if read is None:
                raise AnalysisNotFoundError(f"no analysis with id {analysis_id}")
            if read.state.deleted:
                return Deleted(analysis_id, read.state.version, already_deleted=True)
            writer = AnalysisWriter.after(self.publisher, read, producer=PRODUCER, reader=self.history.reader)
            try:
                event = await writer.emit(
                    AnalysisDeleted,
                    DeletedData(reason=reason[:4096], deleted_by=principal.id),
                    deadline=self.publish_deadline,
                )
            except StreamVersionConflictError:
                if attempt == DELETE_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)  # the analyzer is mid-progress: look again
                continue
            log.info("analysis_deleted", analysis_id=str(analysis_id), version=event.version)
            return Deleted(analysis_id, event.version, already_deleted=False)
        raise AssertionError("unreachable")  # pragma: no cover
