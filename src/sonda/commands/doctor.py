"""``sonda doctor``: check the configuration and every server Sonda needs, with a fix for each failure."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sonda.commands.options import data_dir_option, database_option, nats_option, s3_options
from sonda.doctor import checks
from sonda.doctor.servers import check_database, check_nats, check_s3
from sonda.embedded.config import UpConfig

_MARKS = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[bold red]FAIL[/]"}


async def run_checks(config: UpConfig, *, port: int) -> list[checks.Check]:
    """Every check, in the order a person would fix things."""
    found = [checks.check_python(), checks.check_services_installed(), *checks.check_settings()]
    found.append(checks.check_data_dir(config))
    found.append(checks.check_nats_binary(config))
    if config.nats_url:
        found += await check_nats(config.nats_url)
    found.append(await check_database(config))
    if config.s3_endpoint:
        found.append(await check_s3(config))
    else:
        found.append(checks.Check(name="Storage", status="ok", detail=f"local disk in {config.data}"))
    found.append(checks.check_port("Port of the origin", config.host, port, required=False))
    found.append(checks.check_service_ports())
    found.append(checks.check_chromium())
    return found


def render(console: Console, found: list[checks.Check]) -> None:
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Check")
    table.add_column("")
    table.add_column("Found", overflow="fold")
    table.add_column("Fix", overflow="fold")
    for check in found:
        table.add_row(escape(check.name), _MARKS[check.status], escape(check.detail), escape(check.fix))
    console.print(table)


@click.command()
@data_dir_option
@database_option
@nats_option
@s3_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface of the one origin.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    envvar="SONDA_PORT",
    show_envvar=True,
    help="Port of the one origin.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(
    *,
    data_dir: Path,
    database_url: str | None,
    nats_url: str | None,
    s3_endpoint: str | None,
    s3_bucket: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_region: str | None,
    host: str,
    port: int,
    as_json: bool,
) -> None:
    """Check the configuration and every server Sonda needs, and say how to fix what fails.

    Checks Python, the installed services, every setting read from the environment, the data
    folder, NATS with JetStream (or the embedded nats-server), the event store and its schema,
    object storage (writes and deletes a probe object), the origin's port, and Chromium (optional,
    for the browser test). Exits with status 1 when a check fails.
    """
    config = UpConfig(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        nats_url=nats_url,
        s3_endpoint=s3_endpoint,
        s3_bucket=s3_bucket,
        s3_access_key=s3_access_key,
        s3_secret_key=s3_secret_key,
        s3_region=s3_region,
    )
    found = asyncio.run(run_checks(config, port=port))
    if as_json:
        sys.stdout.write(msgspec.json.encode(found).decode() + "\n")
    else:
        console = Console(soft_wrap=False, highlight=False)
        render(console, found)
        failed = sum(c.status == "fail" for c in found)
        warned = sum(c.status == "warn" for c in found)
        console.print(f"{len(found)} checks: {failed} failed, {warned} warnings.")
    if any(c.status == "fail" for c in found):
        sys.exit(1)
