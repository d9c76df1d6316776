"""HMAC-signed, expiring upload URLs for local-disk storage.

The signer (``LocalDiskStorage.presign_put``) and the verifier (ingest's PUT route) share this code and
one secret, so a URL proves that Sonda issued it for exactly that key, method, expiry and size limit:
changing any of them, or using it after ``expires``, is refused.

The secret comes from ``SONDA_SIGNING_SECRET`` or is generated once and kept in the data folder, so
every process using that folder (and a restarted one) accepts the URLs the others issued.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

from sonda_storage.errors import InvalidSignatureError, SignatureExpiredError

_DIGITS = re.compile(r"[0-9]+")
SECRET_FILE = "signing.key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_BYTES = 16


class UrlSigner:
    """Signs and verifies (method, key, expires, max_bytes) with HMAC-SHA256."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the signing secret needs at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _mac(self, method: str, key: str, expires: int, max_bytes: int) -> str:
        message = f"{method.upper()}\n{key}\n{expires}\n{max_bytes}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, method: str, key: str, *, expires: int, max_bytes: int) -> str:
        return self._mac(method, key, expires, max_bytes)

    def verify(
        self,
        method: str,
        key: str,
        *,
        expires: str | None,
        max_bytes: str | None,
        signature: str | None,
        now: float | None = None,
    ) -> tuple[int, int]:
        """Check a URL's parameters as they arrived (strings); return (expires, max_bytes).

        The signature is checked before the expiry, so a URL whose ``expires`` was edited is
        reported as tampered, not as expired.

        Raises:
            InvalidSignatureError: missing, malformed or non-matching parameters.
            SignatureExpiredError: a genuine URL used too late.
        """
        if not expires or not max_bytes or not signature:
            raise InvalidSignatureError("the upload URL is missing its expires, max or sig parameter")
        # ASCII digits only: ``str.isdigit`` also accepts "²" and other Unicode digits ``int`` refuses.
        well_formed = _DIGITS.fullmatch(expires) and _DIGITS.fullmatch(max_bytes)
        if not well_formed or len(expires) > 12 or len(max_bytes) > 15:
            raise InvalidSignatureError("the upload URL has malformed expires or max parameters")
        expires_at, limit = int(expires), int(max_bytes)
        expected = self._mac(method, key, expires_at, limit)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise InvalidSignatureError("the upload URL's signature does not match")
        if (time.time() if now is None else now) > expires_at:
            raise SignatureExpiredError("the upload URL has expired; ask for a new one")
        return expires_at, limit


def load_signing_secret(data_dir: Path, configured: str | None = None) -> bytes:
    """The configured secret, else the one kept in ``data_dir`` (created on first use, mode 0600)."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    # O_EXCL: when two processes start together, exactly one creates the file and both read it.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
    for _ in range(50):  # the creator may not have written yet
        text = path.read_text().strip()
        if text:
            return text.encode()
        time.sleep(0.01)
    raise RuntimeError(f"the signing secret file {path} is empty; delete it to have a new one made")
