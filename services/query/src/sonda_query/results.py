"""Full result objects from object storage (claim check), checked against the event's checksum."""

from __future__ import annotations

import hashlib

from sonda_storage import InvalidKeyError, ObjectNotFoundError, ObjectStorage

from sonda_query.errors import ResultUnavailableError
from sonda_query.readmodel.rows import ResultRow


class ResultObjects:
    def __init__(self, storage: ObjectStorage) -> None:
        self._storage = storage

    async def read(self, ref: ResultRow) -> bytes:
        """The result's JSON bytes, exactly as the analyzer wrote them.

        Raises:
            ResultUnavailableError: the object is gone, or its size or SHA-256 differ from the
                reference in ``AnalysisCompleted`` (a partial or replaced object is never served).
            StorageUnavailableError: the storage cannot be reached (503, retry later).
        """
        chunks: list[bytes] = []
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in self._storage.read(ref.result_key):
                digest.update(chunk)
                chunks.append(chunk)
                size += len(chunk)
                if size > ref.result_size:
                    break
        except ObjectNotFoundError:
            raise ResultUnavailableError(f"the result object {ref.result_key} is missing") from None
        except InvalidKeyError:  # an event from another system may name any key
            raise ResultUnavailableError("the result reference is not a valid object key") from None
        if size != ref.result_size or digest.hexdigest() != ref.result_sha256:
            raise ResultUnavailableError(
                f"the result object {ref.result_key} does not match its checksum (size {size}, "
                f"expected {ref.result_size})"
            )
        return b"".join(chunks)
