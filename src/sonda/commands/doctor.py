"""``sonda doctor``: check the configuration and every server Sonda needs, with a fix for each failure."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import msgspec

from sonda.commands.options import data_dir_option, database_option, nats_option, s3_options
from sonda.embedded.config import UpConfig


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
    # The checks (NATS client, event store, boto) load when the command runs, not for --help.
    from rich.console import Console

    from sonda.doctor.report import render, run_checks

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
