"""The profiling process: ``python -m sonda_analyzer.child <parent pid>``.

It imports the engine once (pandas and pyarrow take about a second), says ``Ready``, then profiles
one ``Job`` per line of stdin until stdin closes. Protocol messages go to a private duplicate of
the original stdout; file descriptor 1 itself is pointed at stderr, so a stray ``print`` in a library
can never corrupt the protocol. The process dies with its parent (Linux ``PR_SET_PDEATHSIG``), so a
worker killed with SIGKILL leaves no orphan profiling on.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sonda_events.codes import Code, retryable

from sonda_analyzer.native_env import set_native_options
from sonda_analyzer.protocol import Done, Failure, Job, Progress, Ready, encoder, job_decoder

if TYPE_CHECKING:  # the engine loads pyarrow, which must wait for the allocator's options
    from sonda_analyzer.engine.allocator import ReturningAllocator

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class Channel:
    """Writes protocol messages; an engine thread and the heartbeat thread never write at once."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def send(self, message: Ready | Progress | Done | Failure) -> None:
        self._out.write(encoder.encode(message) + b"\n")
        self._out.flush()


def public_message(message: str, path: str) -> str:
    """The engine's message without the worker's folder: libraries quote the path they opened
    (``Could not open Parquet input source '/tmp/sonda-analysis-…/x.parquet'``), and clients
    must not learn the server's file layout; the file's own name stays."""
    return message.replace(str(Path(path).parent) + os.sep, "")


def run_job(job: Job, channel: Channel, allocator: ReturningAllocator | None = None) -> None:
    """Profile one file; every outcome ends in exactly one ``Done`` or ``Failure`` message."""
    from sonda_analyzer.engine import ProfileError, ProgressUpdate, encode_result, profile_file
    from sonda_analyzer.summary import summarize

    def on_progress(update: ProgressUpdate) -> None:
        channel.send(
            Progress(
                progress=update.progress,
                stage=update.stage,
                message=update.message,
                rows_done=update.rows_done,
                bytes_done=update.bytes_done,
            )
        )

    started = time.perf_counter()
    try:
        result = profile_file(
            Path(job.path), job.options, on_progress=on_progress, budget_mb=job.budget_mb, allocator=allocator
        )
        Path(job.result_path).write_bytes(encode_result(result))
        done = Done(
            summary=summarize(result),
            schema_version=result.schema_version,
            duration_s=round(time.perf_counter() - started, 3),
        )
    except ProfileError as exc:
        channel.send(
            Failure(code=exc.code, message=public_message(exc.message, job.path), retryable=exc.retryable)
        )
        return
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        message = (
            f"the profiler failed unexpectedly ({type(exc).__name__}); the error is in the analyzer's log"
        )
        channel.send(Failure(code=Code.ENGINE_ERROR, message=message, retryable=retryable(Code.ENGINE_ERROR)))
        return
    finally:
        gc.collect()
    channel.send(done)


def main() -> None:
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    _die_with_parent(parent)
    # Ctrl-C in a terminal reaches the whole process group: only the worker decides when to stop us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    channel = Channel(out)
    set_native_options()  # read when pyarrow and numpy load
    import sonda_analyzer.engine  # noqa: F401  (warm up: pyarrow, numpy)
    from sonda_analyzer.engine.allocator import use_returning_allocator

    allocator = use_returning_allocator()

    channel.send(Ready(pid=os.getpid()))
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            run_job(job_decoder.decode(line), channel, allocator)
        except BrokenPipeError:  # the worker is gone
            os._exit(1)


if __name__ == "__main__":
    main()
