"""A temporary ``sonda up`` in a throwaway folder, for ``sonda analyze --embedded``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sonda.embedded.config import sonda_argv
from sonda.embedded.nats import free_port

READY_LINE = b"Sonda is ready"
START_TIMEOUT_S = 120.0


@contextlib.asynccontextmanager
async def temporary_sonda() -> AsyncIterator[str]:
    """Start ``sonda up`` on a free port in a temporary data folder; yield its URL; stop it after."""
    with tempfile.TemporaryDirectory(prefix="sonda-analyze-") as tmp:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            *sonda_argv("up", "--port", str(port), "--data-dir", str(Path(tmp) / "data")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        assert process.stdout is not None
        seen = bytearray()
        drain: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                while READY_LINE not in seen:
                    line = await process.stdout.readline()
                    if not line:
                        raise RuntimeError(
                            f"sonda up exited before it was ready:\n{seen.decode(errors='replace')}"
                        )
                    seen += line
            # Keep reading its output so a full pipe never blocks it.
            drain = asyncio.create_task(_drain(process.stdout))
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 60)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            if drain is not None:
                drain.cancel()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
