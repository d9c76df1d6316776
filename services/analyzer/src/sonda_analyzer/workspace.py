"""Folders an analysis works in (the downloaded file, the result being written), and their cleanup.

A folder is removed when its analysis ends; a worker killed mid-analysis cannot do that, and the
file it leaves is as large as the upload. Folders carry the pid of the process that made them, so
the next start removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from sonda_events.logging import get_logger

log = get_logger(__name__)

PREFIX = "sonda-analysis-"
_OWNED = re.compile(rf"^{PREFIX}(?P<pid>\d+)-")


def make_folder(parent: Path | None) -> Path:
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def folder_bytes(folder: Path) -> int:
    """Bytes in the files of ``folder`` (a download in progress)."""
    total = 0
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
    return total


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_orphans(parent: Path | None) -> int:
    """Remove analysis folders left by processes that no longer run; returns how many."""
    root = parent or Path(tempfile.gettempdir())
    removed = 0
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            match = _OWNED.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match["pid"])):
                remove_folder(entry)
                removed += 1
    if removed:
        log.info("orphan_work_folders_removed", count=removed, folder=str(root))
    return removed
