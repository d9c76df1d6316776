"""Signed local upload URLs: any change to key, method, expiry or limit is refused; secrets persist."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from sonda_storage import (
    InvalidSignatureError,
    SignatureExpiredError,
    UrlSigner,
    load_signing_secret,
)

KEY = "uploads/0b1c9a3e-0000-4000-8000-000000000000/data.csv"


def test_a_genuine_url_verifies(signer: UrlSigner) -> None:
    expires = int(time.time()) + 60
    sig = signer.sign("PUT", KEY, expires=expires, max_bytes=1000)
    assert signer.verify("PUT", KEY, expires=str(expires), max_bytes="1000", signature=sig) == (expires, 1000)


@pytest.mark.parametrize(
    ("method", "key", "expires_delta", "max_bytes", "tamper_sig"),
    [
        ("PUT", KEY.replace("data", "other"), 0, "1000", False),
        ("POST", KEY, 0, "1000", False),
        ("PUT", KEY, 3600, "1000", False),
        ("PUT", KEY, 0, "1000000", False),
        ("PUT", KEY, 0, "1000", True),
    ],
)
def test_tampering_is_refused(
    signer: UrlSigner, method: str, key: str, expires_delta: int, max_bytes: str, tamper_sig: bool
) -> None:
    expires = int(time.time()) + 60
    sig = signer.sign("PUT", KEY, expires=expires, max_bytes=1000)
    if tamper_sig:
        sig = sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")
    with pytest.raises(InvalidSignatureError) as info:
        signer.verify(method, key, expires=str(expires + expires_delta), max_bytes=max_bytes, signature=sig)
    assert info.value.code == "invalid_signature"


@pytest.mark.parametrize(
    ("expires", "max_bytes", "sig"),
    [
        (None, "1", "x"),
        ("1", None, "x"),
        ("1", "1", None),
        ("-1", "1", "x"),
        ("1e9", "1", "x"),
        ("9" * 40, "1", "x"),
    ],
)
def test_missing_or_malformed_parameters(
    signer: UrlSigner, expires: str | None, max_bytes: str | None, sig: str | None
) -> None:
    with pytest.raises(InvalidSignatureError):
        signer.verify("PUT", KEY, expires=expires, max_bytes=max_bytes, signature=sig)


def test_an_expired_url_is_refused_as_expired(signer: UrlSigner) -> None:
    expires = int(time.time()) - 1
    sig = signer.sign("PUT", KEY, expires=expires, max_bytes=10)
    with pytest.raises(SignatureExpiredError) as info:
        signer.verify("PUT", KEY, expires=str(expires), max_bytes="10", signature=sig)
    assert info.value.code == "signature_expired"


def test_a_url_from_another_secret_is_refused(signer: UrlSigner) -> None:
    other = UrlSigner(b"another secret, also long enough")
    expires = int(time.time()) + 60
    sig = other.sign("PUT", KEY, expires=expires, max_bytes=10)
    with pytest.raises(InvalidSignatureError):
        signer.verify("PUT", KEY, expires=str(expires), max_bytes="10", signature=sig)


def test_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_signing_secret(tmp_path)
    second = load_signing_secret(tmp_path)
    assert first == second
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "signing.key").st_mode)
    assert mode == 0o600
    assert load_signing_secret(tmp_path, "configured secret wins") == b"configured secret wins"


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        UrlSigner(b"short")
