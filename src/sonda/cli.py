"""The ``sonda`` command: run Sonda, analyse files, operate the event store."""

from __future__ import annotations

import click

from sonda.commands.doctor import doctor
from sonda.commands.events import events
from sonda.commands.serve import gateway, recorder, serve
from sonda.commands.up import up

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="sonda", prog_name="sonda")
def cli() -> None:
    """Sonda: exploratory data analysis of tabular files, for people and LLM agents.

    Start with `sonda up`, then open http://localhost:8000 (or run `sonda analyze FILE`).
    """


for command in (up, serve, gateway, recorder, events, doctor):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``sonda`` script."""
    cli()
