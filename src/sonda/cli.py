"""The ``sonda`` command: run Sonda, analyse files, operate the event store.

Subcommands are imported only when used, so ``sonda serve ingest`` (one per service process) does
not pay for the imports of ``doctor`` or ``analyze``.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: name -> ("module:attribute", one-line help) of each subcommand, in the order ``--help`` lists
#: them. The help lines are copies of each command's own first line (a test keeps them equal), so
#: that ``sonda --help`` imports no subcommand at all.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": (
        "sonda.commands.up:up",
        "Run Sonda on this machine: open http://localhost:8000 and analyse a file.",
    ),
    "analyze": (
        "sonda.commands.analyze:analyze",
        "Analyse FILE (CSV, TSV, JSON, JSON Lines, Parquet, Excel) and print a report.",
    ),
    "compare": (
        "sonda.commands.compare:compare",
        "Compare A (the base) with B (the target): schema changes first, then drifted columns.",
    ),
    "events": ("sonda.commands.events:events", "Watch the events flowing through NATS."),
    "projections": ("sonda_query.cli:projections", "Rebuild and inspect the query service's read models."),
    "doctor": (
        "sonda.commands.doctor:doctor",
        "Check the configuration and every server Sonda needs, and say how to fix what fails.",
    ),
    "serve": ("sonda.commands.serve:serve", "Run one service alone (ingest, analyzer, notifier or query)."),
    "gateway": (
        "sonda.commands.serve:gateway",
        "Serve the web page and route the API to the services, on one origin.",
    ),
    "recorder": (
        "sonda.commands.serve:recorder",
        "Run the recorder alone: store every event from NATS in the event store.",
    ),
}


def _installed(module_name: str) -> bool:
    """Whether the package of a subcommand is installed, without importing it."""
    return importlib.util.find_spec(module_name.split(".", maxsplit=1)[0]) is not None


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and listed without importing them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (target, _) in COMMANDS.items() if _installed(target)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute = entry[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):  # an optional package is not installed
                return None
            raise
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="sonda", prog_name="sonda")
def cli() -> None:
    """Sonda: exploratory data analysis of tabular files, for people and LLM agents.

    Start with `sonda up`, then open http://localhost:8000 (or run `sonda analyze FILE`).
    """


def main() -> None:
    """Entry point of the ``sonda`` script."""
    cli()
