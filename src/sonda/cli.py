"""The ``sonda`` command: run Sonda, analyse files, operate the event store.

Subcommands are imported only when used, so ``sonda serve ingest`` (one per service process) does
not pay for the imports of ``doctor`` or ``analyze``.
"""

from __future__ import annotations

import importlib

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: name -> "module:attribute" of each subcommand, in the order ``--help`` lists them.
COMMANDS = {
    "up": "sonda.commands.up:up",
    "analyze": "sonda.commands.analyze:analyze",
    "compare": "sonda.commands.compare:compare",
    "events": "sonda.commands.events:events",
    "projections": "sonda_query.cli:projections",
    "doctor": "sonda.commands.doctor:doctor",
    "serve": "sonda.commands.serve:serve",
    "gateway": "sonda.commands.serve:gateway",
    "recorder": "sonda.commands.serve:recorder",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self.get_command(ctx, name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):  # an optional package is not installed
                return None
            raise
        command: click.Command = getattr(module, attribute)
        return command


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="sonda", prog_name="sonda")
def cli() -> None:
    """Sonda: exploratory data analysis of tabular files, for people and LLM agents.

    Start with `sonda up`, then open http://localhost:8000 (or run `sonda analyze FILE`).
    """


def main() -> None:
    """Entry point of the ``sonda`` script."""
    cli()
