"""The supervisor with real child processes: a child that dies is restarted with backoff; stop is in order."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sonda.embedded.supervisor import ProcessSpec, Supervisor, tail


def spec(name: str, code: str, log: Path, **kwargs: object) -> ProcessSpec:
    return ProcessSpec(name=name, argv=[sys.executable, "-c", code], env={}, log_path=log, **kwargs)  # type: ignore[arg-type]


async def test_a_child_that_dies_is_restarted_and_reported(tmp_path: Path) -> None:
    reports: list[tuple[str, str]] = []
    supervisor = Supervisor(lambda level, text: reports.append((level, text)))
    log = tmp_path / "logs" / "crashy.log"
    child = await supervisor.start(
        spec("crashy", "print('about to fail', flush=True); raise SystemExit(3)", log, backoff=(0.05, 0.1))
    )
    for _ in range(200):
        if child.restarts >= 2:
            break
        await asyncio.sleep(0.05)
    await supervisor.stop(["crashy"])
    assert child.restarts >= 2
    assert any("crashy exited with code 3; restarting in 0.05s" in text for _, text in reports)
    assert any("about to fail" in text for _, text in reports), "the report shows the end of the log"
    assert log.read_text().count("starting crashy") >= child.restarts
    assert tail(log, 1) == ["about to fail"]


def returncode(process: asyncio.subprocess.Process) -> int | None:
    """Read it through a call: it changes while the test awaits (mypy would narrow an attribute)."""
    return process.returncode


async def test_stop_terminates_then_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    supervisor = Supervisor(lambda level, text: None)
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
        "time.sleep(60)"
    )
    polite = "import time; print('ready', flush=True); time.sleep(60)"
    log_dir = tmp_path / "logs"
    stub = await supervisor.start(spec("stubborn", stubborn, log_dir / "stubborn.log", stop_timeout=0.5))
    nice = await supervisor.start(spec("polite", polite, log_dir / "polite.log"))
    for _ in range(100):
        if all("ready" in (log_dir / f"{n}.log").read_text() for n in ("stubborn", "polite")):
            break
        await asyncio.sleep(0.05)
    assert stub.process is not None and nice.process is not None
    stub_process, nice_process = stub.process, nice.process
    await supervisor.stop(["polite"])
    assert returncode(nice_process) == -15 and returncode(stub_process) is None
    await supervisor.stop(["stubborn"])
    assert returncode(stub_process) == -9
    assert supervisor.children == {}
