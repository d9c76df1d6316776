"""Typed storage errors, each with a stable ``code`` the HTTP layer turns into a problem body."""

from __future__ import annotations

from sonda_events.errors import SondaError


class StorageError(SondaError):
    """Base of object storage errors."""

    code = "storage_error"
    status_code = 500


class InvalidKeyError(StorageError):
    """An object key that could leave the storage root or that Sonda never issues."""

    code = "invalid_key"
    status_code = 400


class ObjectNotFoundError(StorageError):
    """No object under that key."""

    code = "object_not_found"
    status_code = 404

    def __init__(self, key: str) -> None:
        super().__init__(f"no object under key {key!r}")
        self.key = key


class StorageUnavailableError(StorageError):
    """The storage backend cannot be reached or refused our credentials."""

    code = "storage_unavailable"
    status_code = 503
    retryable = True


class UploadTooLargeError(StorageError):
    """More bytes than the limit allows; nothing was kept."""

    code = "upload_too_large"
    status_code = 413

    def __init__(self, limit: int, *, received: int | None = None) -> None:
        seen = f" ({received} bytes or more)" if received is not None else ""
        super().__init__(f"the upload is larger than the limit of {limit} bytes{seen}")
        self.limit = limit


class EmptyUploadError(StorageError):
    """An upload with no bytes; nothing was kept."""

    code = "empty_upload"
    status_code = 400

    def __init__(self, key: str) -> None:
        super().__init__(f"the upload for {key!r} is empty")


class InvalidSignatureError(StorageError):
    """A signed URL whose signature does not match its key, method, expiry or limit."""

    code = "invalid_signature"
    status_code = 403


class SignatureExpiredError(StorageError):
    """A signed URL used after its expiry."""

    code = "signature_expired"
    status_code = 403
