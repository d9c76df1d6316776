"""Upload pacing: a body that stalls or trickles is cut off (slow-loris protection).

The local upload route streams the body to disk, so a client that opens a PUT and then sends a
byte now and then would hold a connection, a task and a temporary file for as long as it likes.
Two bounds stop that: no chunk may take longer than ``idle_s`` to arrive, and after the first
``idle_s`` the average rate must stay above ``min_bytes_per_s``. A reverse proxy in front of Sonda
should enforce its own body timeouts as well; these hold when ingest is reached directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from sonda_ingest.errors import UploadTooSlowError


async def paced(
    chunks: AsyncIterator[bytes], *, idle_s: float, min_bytes_per_s: float
) -> AsyncIterator[bytes]:
    """Yield ``chunks``; raise ``UploadTooSlowError`` when the client stalls or trickles."""
    started = time.monotonic()
    received = 0
    while True:
        try:
            chunk = await asyncio.wait_for(anext(chunks), idle_s)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadTooSlowError(
                f"no data arrived for {idle_s:g} seconds; the upload was stopped"
            ) from None
        received += len(chunk)
        elapsed = time.monotonic() - started
        if elapsed > idle_s and received / elapsed < min_bytes_per_s:
            raise UploadTooSlowError(
                f"the upload arrived at {received / elapsed:.0f} bytes/s, below the "
                f"{min_bytes_per_s:.0f} bytes/s this service accepts; it was stopped"
            )
        yield chunk
