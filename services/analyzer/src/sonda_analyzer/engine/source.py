"""Where the bytes come from: format detection, compression, and a byte-counting reader.

The format is decided by the caller's option, then by magic bytes, then by the file name, then by
a look at the content, in that order, so a misnamed file is still read correctly.
"""

from __future__ import annotations

import gzip
import io
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Literal, TypeAlias, cast

import msgspec
import pyarrow as pa

from sonda_analyzer.engine.errors import (
    EmptyFileError,
    FileNotFoundProfileError,
    ParseError,
    UnsupportedFormatError,
)
from sonda_analyzer.engine.options import FormatName

Compression = Literal["gzip", "zip"]

_EXTENSIONS: dict[str, FormatName] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_FOREIGN_MAGIC = {
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or other OLE document; save it as .xlsx or CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"BZh": "a bzip2 archive; compress with gzip or zip instead",
    b"7z\xbc\xaf": "a 7-Zip archive; compress with gzip or zip instead",
    b"SQLite format 3": "a SQLite database",
}
HEAD_BYTES = 1 << 20


#: What pyarrow readers accept: its own native files or a binary file object.
Readable: TypeAlias = "pa.NativeFile | IO[bytes]"


class ContentLimitExceeded(Exception):
    """A compressed file holds more than its header promised (a gzip size field is only a hint):
    exact mode stops reading and the profile starts again in streaming mode."""


class CountingReader(io.RawIOBase):
    """A read-only stream that counts the bytes taken from the file beneath (for progress).

    It can also hold a reader back: pyarrow's streaming readers fetch dozens of blocks ahead on
    a background thread (hundreds of megabytes with large blocks), which would break a memory
    budget. With :meth:`limit_ahead`, a read waits while more than ``window`` bytes are delivered
    but not yet consumed (:meth:`consumed` is called as each chunk is processed).
    """

    def __init__(self, inner: IO[bytes], raw: IO[bytes], limit: int | None = None) -> None:
        self._inner = inner
        self._raw = raw
        self._limit = limit
        self._delivered = 0
        self._consumed = 0
        self._window: int | None = None
        self._turn = threading.Condition()

    def readable(self) -> bool:
        return True

    @property
    def limit(self) -> int | None:
        return self._limit

    def limit_ahead(self, window: int) -> None:
        self._window = window

    def consumed(self, total: int) -> None:
        """The consumer has processed the first ``total`` bytes of content."""
        with self._turn:
            self._consumed = max(self._consumed, total)
            self._turn.notify_all()

    def _wait_for_room(self) -> None:
        if self._window is None:
            return
        with self._turn:
            # The timeout keeps a reader from waiting forever if the consumer stopped counting.
            self._turn.wait_for(
                lambda: self._window is None or self._delivered - self._consumed <= self._window,
                10.0,
            )

    def _count(self, n: int) -> None:
        self._delivered += n
        if self._limit is not None and self._delivered > self._limit:
            raise ContentLimitExceeded(f"more than {self._limit} bytes of content")

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._wait_for_room()
        n: int = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        self._count(n)
        return n

    def read(self, size: int = -1) -> bytes:
        self._wait_for_room()
        data = self._inner.read(size)
        self._count(len(data))
        return data

    def position(self) -> int:
        """Bytes consumed from the file on disk (compressed bytes for an archive)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        with self._turn:  # a reader thread waiting for room must not wait on a closed stream
            self._window = None
            self._turn.notify_all()
        self._inner.close()
        if self._raw is not self._inner:
            self._raw.close()
        super().close()


@dataclass(frozen=True, slots=True)
class Source:
    """A file to profile, with what was detected about its container and format."""

    path: Path
    file_size: int
    format: FormatName
    compression: Compression | None = None
    member: str | None = None
    #: Size of the decompressed content when the container says it (zip), else the file size.
    content_size: int = 0

    def open(self, limit: int | None = None) -> CountingReader:
        """A fresh stream of the (decompressed) content; past ``limit`` bytes of a compressed
        file it raises :class:`ContentLimitExceeded`."""
        raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by CountingReader
        if self.compression == "gzip":
            inner = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
            return CountingReader(inner, raw, limit)
        if self.compression == "zip":
            archive = zipfile.ZipFile(raw)
            assert self.member is not None
            return CountingReader(archive.open(self.member), raw, limit)
        return CountingReader(raw, raw)

    def open_fast(self, limit: int | None = None) -> tuple[Readable, Callable[[], int]]:
        """The content as the fastest stream for pyarrow (its own file reader when the file is
        not compressed) and a function giving the bytes consumed so far, for progress."""
        if self.compression is None:
            native = pa.OSFile(str(self.path), "rb")
            return native, native.tell
        counting = self.open(limit)
        return counting, counting.position

    def head(self, size: int = HEAD_BYTES) -> bytes:
        with self.open() as stream:
            return _read_up_to(stream, size)


def _read_up_to(stream: IO[bytes] | CountingReader, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def detect_source(path: Path, forced: FormatName | None = None) -> Source:
    """Inspect ``path`` and say how to read it.

    Raises:
        FileNotFoundProfileError, EmptyFileError, UnsupportedFormatError, ParseError.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileNotFoundProfileError("the uploaded file was not found") from None
    if not path.is_file():
        raise FileNotFoundProfileError("the uploaded file is not a regular file")
    if size == 0:
        raise EmptyFileError("the file is empty (0 bytes)")
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic.startswith(b"PAR1"):
        return Source(path, size, forced or "parquet", content_size=size)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        return _zip_source(path, size, forced)
    if magic.startswith(b"\x1f\x8b"):
        inner_name = path.name[:-3] if path.name.lower().endswith(".gz") else path.stem
        source = Source(path, size, "csv", compression="gzip", content_size=size)
        try:
            head = source.head(HEAD_BYTES)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ParseError(f"the gzip file is damaged: {exc}") from None
        fmt = forced or _format_of(inner_name, head)
        return Source(path, size, fmt, compression="gzip", content_size=_gzip_size(path, size))
    _reject_foreign(magic)
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return Source(path, size, forced or _format_of(path.name, head), content_size=size)


def _gzip_size(path: Path, size: int) -> int:
    """Decompressed size from the gzip trailer (stored modulo 2**32, so unwrap it)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 4))
        stored = int.from_bytes(fh.read(4), "little")
    # Incompressible data grows a little (headers, stored blocks), so only a clearly smaller
    # figure means the counter wrapped.
    while stored + 1024 + size // 100 < size:
        stored += 1 << 32
    return stored


def _zip_source(path: Path, size: int, forced: FormatName | None) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                return Source(path, size, forced or "xlsx", content_size=size)
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and not PurePosixPath(info.filename).name.startswith(".")
            ]
            if not members:
                raise EmptyFileError("the zip archive holds no file")
            if len(members) > 1:
                listed = ", ".join(m.filename for m in members[:5])
                raise UnsupportedFormatError(
                    f"the zip archive holds {len(members)} files ({listed}); upload one file at a time"
                )
            member = members[0]
            if member.file_size == 0:
                raise EmptyFileError(f"the file {member.filename!r} inside the zip archive is empty")
            with archive.open(member) as stream:
                head = _read_up_to(stream, HEAD_BYTES)
    except zipfile.BadZipFile as exc:
        raise ParseError(f"the zip archive is damaged: {exc}") from None
    except NotImplementedError as exc:  # e.g. an unsupported compression method inside the zip
        raise UnsupportedFormatError(f"the zip archive uses an unsupported feature: {exc}") from None
    fmt = forced or _format_of(PurePosixPath(member.filename).name, head)
    return Source(path, size, fmt, compression="zip", member=member.filename, content_size=member.file_size)


def _reject_foreign(magic: bytes) -> None:
    for prefix, what in _FOREIGN_MAGIC.items():
        if magic.startswith(prefix):
            raise UnsupportedFormatError(f"the file is {what}, not a table Sonda can read")


def _looks_like_lines(text: bytes) -> bool:
    """JSON Lines: several lines, the first one a whole JSON object (not a wrapper object)."""
    lines = [line for line in text.splitlines()[:3] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(msgspec.json.decode(lines[0]), dict)
    except msgspec.DecodeError:
        return False


def _format_of(name: str, head: bytes) -> FormatName:
    _reject_foreign(head[:16])
    if head.startswith(b"PAR1"):
        return "parquet"
    suffix = PurePosixPath(name.lower()).suffix
    by_name = _EXTENSIONS.get(suffix)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise EmptyFileError("the file holds only blank space")
    if by_name == "jsonl":
        return "jsonl"
    if by_name == "json":
        return "json" if stripped[:1] == b"[" or not _looks_like_lines(stripped) else "jsonl"
    if by_name is not None:
        return by_name
    if stripped[:1] == b"[":
        return "json"
    if stripped[:1] == b"{":
        return "jsonl"
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFormatError("the file is binary, not a table Sonda can read")
    return "csv"
