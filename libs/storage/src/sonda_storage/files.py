"""A temporary file that becomes an object by an atomic rename, hashing what is written."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from sonda_storage.models import PutResult


class TempObject:
    """Written from one thread at a time; ``commit`` fsyncs and renames, ``abort`` removes it."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path = path
        self._handle = handle
        self._digest = hashlib.sha256()
        self.size = 0

    @classmethod
    def create(cls, folder: Path) -> TempObject:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="obj-", suffix=".part")
        # A buffered file object: its internal lock makes a close wait for a write in another thread.
        return cls(Path(name), os.fdopen(fd, "wb"))

    def write(self, data: bytes) -> None:
        self._digest.update(data)  # hashlib releases the GIL on large buffers
        self._handle.write(data)
        self.size += len(data)

    def commit(self, dest: Path, key: str) -> PutResult:
        """Make the bytes durable, then move them to ``dest`` in one rename."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, dest)
        stat = dest.stat()
        return PutResult(
            key=key,
            size=self.size,
            sha256=self._digest.hexdigest(),
            etag=f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
        )

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
