"""Object keys: the one place that says which keys exist and how a filename becomes part of one.

Keys are a strict allow-list (ASCII letters, digits, ``.``, ``_``, ``-``; segments separated by ``/``;
no segment starting with a dot), so no key can name a parent folder, an absolute path, a drive, a
hidden file or a control character on any backend. Sonda issues two kinds of keys:

- ``uploads/<uuid>/<sanitised filename>`` for uploads (the uuid is fresh per upload URL);
- ``results/<analysis_id>.json`` for the full result object of an analysis (claim check).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from pathlib import PurePosixPath

from sonda_events.lifecycle import own_result_key

from sonda_storage.errors import InvalidKeyError

MAX_KEY_LENGTH = 1024
MAX_FILENAME_LENGTH = 128
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
_KEY = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})*$")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UPLOAD_KEY = re.compile(
    rf"^uploads/(?P<id>{_UUID})/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_FILENAME_LENGTH - 1}}})$"
)
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_REPEATS = re.compile(r"([._-])[._-]+")
DEFAULT_FILENAME = "upload"


def validate_key(key: object) -> str:
    """Return ``key`` if it is a safe object key, else raise ``InvalidKeyError``.

    Rejects ``..``, ``.``, absolute paths, backslashes, NUL and other control characters, empty
    segments, leading dots, whitespace and anything outside the allow-list.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("an object key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"an object key has at most {MAX_KEY_LENGTH} characters")
    if not _KEY.fullmatch(key):
        raise InvalidKeyError(f"{_shown(key)} is not a valid object key")
    return key


def sanitise_filename(filename: str) -> str:
    """A safe key segment for a user's filename: ASCII only, no path, no leading dot, bounded length.

    ``"../../Relatório Março.CSV"`` becomes ``"Relatorio_Marco.CSV"``; a name with nothing usable
    becomes ``"upload"`` (keeping its extension when it has one).
    """
    base = re.split(r"[/\\]", filename)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = _UNSAFE_RUN.sub("_", ascii_name).rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix)[:16]
    stem = _REPEATS.sub(r"\1", stem).strip("._-")
    room = MAX_FILENAME_LENGTH - (len(suffix) + 1 if suffix else 0)
    stem = stem[:room].rstrip("._-") or DEFAULT_FILENAME
    return f"{stem}.{suffix}" if suffix else stem


def new_upload_key(filename: str, upload_id: uuid.UUID | None = None) -> str:
    """A fresh key for an upload of ``filename``."""
    return f"uploads/{upload_id or uuid.uuid4()}/{sanitise_filename(filename)}"


def parse_upload_key(key: object) -> tuple[uuid.UUID, str]:
    """(upload id, filename) of a key Sonda issued for an upload; ``InvalidKeyError`` otherwise."""
    validate_key(key)
    assert isinstance(key, str)
    match = _UPLOAD_KEY.fullmatch(key)
    if match is None:
        raise InvalidKeyError(f"{_shown(key)} is not an upload key issued by Sonda (uploads/<uuid>/<name>)")
    return uuid.UUID(match["id"]), match["name"]


def result_key(analysis_id: uuid.UUID) -> str:
    """Where the full result of an analysis is written (the lifecycle accepts no other)."""
    return own_result_key(analysis_id)


def key_parts(key: str) -> tuple[str, ...]:
    """The segments of a validated key (for building local paths)."""
    return PurePosixPath(validate_key(key)).parts


def _shown(key: str) -> str:
    # Keys come from clients: show a bounded, escaped form in messages and logs.
    return repr(key[:100] + ("…" if len(key) > 100 else ""))
