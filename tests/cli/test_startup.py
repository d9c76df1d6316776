"""CLI commands start at once: ``--help`` loads no service, client or engine, and commands that read
local state refuse a folder that holds no Sonda instead of guessing."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sonda.cli import COMMANDS, cli

#: Packages whose import costs seconds (or pulls a server client): none of them is needed to print help.
HEAVY = {
    "pandas",
    "pyarrow",
    "numpy",
    "polars",
    "duckdb",
    "nats",
    "litestar",
    "sqlalchemy",
    "psycopg",
    "httpx",
    "aiohttp",
    "aioboto3",
    "botocore",
    "uvicorn",
    "structlog",
    "sonda_analyzer",
    "sonda_service",
}

_PROBE = """
import json, sys
from sonda.cli import cli
try:
    cli(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def _modules_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Usage:" in done.stdout, done.stdout + done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        *[(name, "--help") for name in COMMANDS],
        ("events", "tail", "--help"),
        ("projections", "status", "--help"),
        ("projections", "rebuild", "--help"),
    ],
    ids=" ".join,
)
def test_help_loads_nothing_heavy(args: tuple[str, ...]) -> None:
    assert _modules_after(*args) & HEAVY == set()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own_first_line(name: str) -> None:
    module_name, attribute = COMMANDS[name][0].split(":")
    command: click.Command = getattr(importlib.import_module(module_name), attribute)
    assert COMMANDS[name][1] == command.get_short_help_str(limit=1000)


def test_events_tail_refuses_a_folder_without_sonda(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["events", "tail", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "no Sonda in" in result.output and "--nats" in result.output


@pytest.mark.parametrize("command", ["status", "rebuild"])
def test_projections_refuse_a_folder_without_sonda_and_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["projections", command, "--data-dir", str(empty)])
    assert result.exit_code == 2, result.output
    assert "no Sonda in" in result.output
    assert list(empty.iterdir()) == []
