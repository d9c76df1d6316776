"""Every command answers ``--help`` with a first line that says what it does, and options explained."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sonda.cli import COMMANDS, cli


def all_commands() -> list[tuple[str, ...]]:
    """Every command path: ``("up",)``, ``("events", "tail")``, ..."""
    ctx = click.Context(cli)
    paths: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            paths.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return paths


def test_the_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
    assert "sonda up" in result.output


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_each_command_explains_itself_and_its_options(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert (
        f"Usage: cli {' '.join(path)}" in result.output or f"Usage: sonda {' '.join(path)}" in result.output
    )
    command: click.Command = cli
    ctx = click.Context(cli)
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None
        command = found
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line.endswith(".") and first_line[0].isupper(), f"{path}: {first_line!r}"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"
    assert CliRunner().invoke(cli, [*path, "-h"]).exit_code == 0


def test_python_dash_m_sonda_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sonda", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("sonda, version ")


def test_bad_options_of_up_are_refused_before_anything_starts() -> None:
    runner = CliRunner()
    no_bucket = runner.invoke(cli, ["up", "--s3", "http://127.0.0.1:9"])
    assert no_bucket.exit_code == 2 and "--s3-bucket" in no_bucket.output
    ports = runner.invoke(cli, ["up", "--service-ports", "8001,8002"])
    assert ports.exit_code == 2 and "--service-ports" in ports.output


def test_up_says_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner(env={"NATS_URL": None, "DATABASE_URL": None}).invoke(
            cli, ["up", "--port", str(port), "--data-dir", str(tmp_path / "data")]
        )
    assert result.exit_code == 1
    assert f"port {port} is in use" in result.output and "--port" in result.output
    assert not (tmp_path / "data" / "nats").exists(), "nothing was started"
