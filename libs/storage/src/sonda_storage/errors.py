"""Typed storage errors, each with a stable ``code`` the HTTP layer turns into a problem body."""

from __future__ import annotations

from sonda_events.codes import Code
from sonda_events.errors import SondaError


class StorageError(SondaError):
    """Base of object storage errors."""

    code = Code.STORAGE_ERROR


class InvalidKeyError(StorageError):
    """An object key that could leave the storage root or that Sonda never issues."""

    code = Code.INVALID_KEY


class ObjectNotFoundError(StorageError):
    """No object under that key."""

    code = Code.OBJECT_NOT_FOUND

    def __init__(self, key: str) -> None:
        super().__init__(f"no object under key {key!r}")
        self.key = key


class StorageUnavailableError(StorageError):
    """The storage backend cannot be reached or refused our credentials."""

    code = Code.STORAGE_UNAVAILABLE


class UploadTooLargeError(StorageError):
    """More bytes than the limit allows; nothing was kept."""

    code = Code.UPLOAD_TOO_LARGE

    def __init__(self, limit: int, *, received: int | None = None) -> None:
        seen = f" ({received} bytes or more)" if received is not None else ""
        super().__init__(f"the upload is larger than the limit of {limit} bytes{seen}")
        self.limit = limit


class EmptyUploadError(StorageError):
    """An upload with no bytes; nothing was kept."""

    code = Code.EMPTY_UPLOAD

    def __init__(self, key: str) -> None:
        super().__init__(f"the upload for {key!r} is empty")


class InvalidSignatureError(StorageError):
    """A signed URL whose signature does not match its key, method, expiry or limit."""

    code = Code.INVALID_SIGNATURE


class SignatureExpiredError(StorageError):
    """A signed URL used after its expiry."""

    code = Code.SIGNATURE_EXPIRED
