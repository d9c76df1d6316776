"""Choosing a backend from settings: S3/R2 when the ``CLOUDFLARE_R2_*`` variables are set, else local disk.

``StorageSettings`` is the one declaration of the storage variables; a service composes it as a
section (``storage: StorageSettings``), which ``load_settings`` reads from the same environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec
from sonda_events.settings import Secret, SettingsError

from sonda_storage.base import ObjectStorage
from sonda_storage.local import LocalDiskStorage
from sonda_storage.signing import UrlSigner, load_signing_secret

AddressingStyle = Literal["path", "virtual", "auto"]
#: Folder under the data folder holding local objects.
LOCAL_OBJECTS_DIR = "objects"


class StorageSettings(msgspec.Struct, kw_only=True):
    """Object storage settings (all optional: unset means local disk under the data folder)."""

    #: S3/R2 access key id.
    cloudflare_r2_access_key_id: str = ""
    #: S3/R2 secret access key.
    cloudflare_r2_secret_access_key: Secret | None = None
    #: S3/R2 endpoint (``https://<account>.r2.cloudflarestorage.com``; empty for AWS S3).
    cloudflare_r2_endpoint_url: str = ""
    #: Bucket holding uploads and results.
    cloudflare_r2_bucket_name: str = ""
    #: Region to sign for (R2 wants ``auto``).
    cloudflare_r2_region: str = "auto"
    #: ``path`` works with R2, MinIO and S3; ``virtual`` for S3 setups that need it.
    sonda_s3_addressing_style: AddressingStyle = "path"
    #: Create the bucket at start when it is missing (needs the permission to).
    sonda_s3_create_bucket: bool = True
    #: Secret for local upload URLs; generated once and kept in the data folder when unset.
    sonda_signing_secret: Secret | None = None


def s3_configured(settings: StorageSettings) -> bool:
    """True when any S3/R2 variable is set; raises if some but not all required ones are."""
    required = {
        "CLOUDFLARE_R2_ACCESS_KEY_ID": bool(settings.cloudflare_r2_access_key_id),
        "CLOUDFLARE_R2_SECRET_ACCESS_KEY": bool(settings.cloudflare_r2_secret_access_key),
        "CLOUDFLARE_R2_BUCKET_NAME": bool(settings.cloudflare_r2_bucket_name),
    }
    if not any(required.values()) and not settings.cloudflare_r2_endpoint_url:
        return False
    missing = [name for name, present in required.items() if not present]
    if missing:
        raise SettingsError(
            f"{', '.join(missing)}: needed for S3/R2 storage (or unset every CLOUDFLARE_R2_*)"
        )
    return True


def storage_from_settings(settings: StorageSettings, data_dir: Path) -> ObjectStorage:
    """The configured backend, not yet started (call ``await storage.start()``).

    ``data_dir`` (``SONDA_DATA_DIR``) holds the local objects and the generated signing secret.
    """
    if s3_configured(settings):
        from sonda_storage.s3 import S3Storage  # only S3 deployments pay for importing aioboto3

        secret = settings.cloudflare_r2_secret_access_key
        return S3Storage(
            bucket=settings.cloudflare_r2_bucket_name,
            endpoint_url=settings.cloudflare_r2_endpoint_url or None,
            access_key_id=settings.cloudflare_r2_access_key_id,
            secret_access_key=secret.reveal() if secret else "",
            region=settings.cloudflare_r2_region,
            addressing_style=settings.sonda_s3_addressing_style,
            create_bucket=settings.sonda_s3_create_bucket,
        )
    configured = settings.sonda_signing_secret.reveal() if settings.sonda_signing_secret else None
    signer = UrlSigner(load_signing_secret(data_dir, configured))
    return LocalDiskStorage(data_dir / LOCAL_OBJECTS_DIR, signer)
