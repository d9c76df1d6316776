"""Upload keys bound to the principal they were issued to, so another key cannot analyse the upload.

An upload key stays ``uploads/<uuid>/<name>`` (every service parses it), but the uuid is not random
throughout: its first 8 bytes are random, its last 8 are a digest of the principal's id and those
first 8. Ingest checks the digest when a start names the key, so nothing has to be stored per
upload. No secret is needed: the caller cannot choose the key's bytes (they come from the owner's
upload) nor the principal the digest is checked against (it comes from the caller's API key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from sonda_service import Principal
from sonda_storage import ObjectNotFoundError, parse_upload_key

_NONCE_BYTES = 8


def _tag(owner: str, nonce: bytes) -> bytes:
    return hashlib.sha256(b"sonda-upload\n" + owner.encode() + b"\n" + nonce).digest()[: 16 - _NONCE_BYTES]


def owned_upload_id(owner: Principal) -> uuid.UUID:
    """A fresh upload id that names ``owner`` (as a digest: the key shows nothing of the owner)."""
    nonce = os.urandom(_NONCE_BYTES)
    return uuid.UUID(bytes=nonce + _tag(owner.id, nonce))


def check_upload_owner(file_key: str, caller: Principal) -> None:
    """Refuse a start on an upload another principal was given; admins may analyse any upload.

    Raises:
        InvalidKeyError: not an upload key Sonda issues.
        ObjectNotFoundError: the upload belongs to someone else (answered like a missing one).
    """
    upload_id, _ = parse_upload_key(file_key)
    if caller.admin:
        return
    raw = upload_id.bytes
    if not hmac.compare_digest(raw[_NONCE_BYTES:], _tag(caller.id, raw[:_NONCE_BYTES])):
        raise ObjectNotFoundError(file_key)
