"""Object storage behind one interface: local disk (the embedded default) or S3/R2/MinIO.

``S3Storage`` is imported on first use: aioboto3 takes about a second to import, which a process
on local disk never needs to pay.
"""

from typing import TYPE_CHECKING, Any

from sonda_storage.base import CHUNK_SIZE, ObjectStorage
from sonda_storage.config import StorageSettings, s3_configured, storage_from_settings
from sonda_storage.errors import (
    EmptyUploadError,
    InvalidKeyError,
    InvalidSignatureError,
    ObjectNotFoundError,
    SignatureExpiredError,
    StorageError,
    StorageUnavailableError,
    UploadTooLargeError,
)
from sonda_storage.keys import (
    new_upload_key,
    parse_upload_key,
    result_key,
    sanitise_filename,
    validate_key,
)
from sonda_storage.local import LOCAL_UPLOAD_PREFIX, LocalDiskStorage
from sonda_storage.models import ObjectInfo, PresignedUpload, PutResult
from sonda_storage.signing import UrlSigner, load_signing_secret

if TYPE_CHECKING:
    from sonda_storage.s3 import S3Storage


def __getattr__(name: str) -> Any:
    if name == "S3Storage":
        from sonda_storage.s3 import S3Storage

        return S3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHUNK_SIZE",
    "LOCAL_UPLOAD_PREFIX",
    "EmptyUploadError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "LocalDiskStorage",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectStorage",
    "PresignedUpload",
    "PutResult",
    "S3Storage",
    "SignatureExpiredError",
    "StorageError",
    "StorageSettings",
    "StorageUnavailableError",
    "UploadTooLargeError",
    "UrlSigner",
    "load_signing_secret",
    "new_upload_key",
    "parse_upload_key",
    "result_key",
    "s3_configured",
    "sanitise_filename",
    "storage_from_settings",
    "validate_key",
]
