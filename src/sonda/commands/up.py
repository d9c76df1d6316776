"""``sonda up``: the whole of Sonda on one machine, behind one origin."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sonda.commands.options import data_dir_option, database_option, nats_option, s3_options
from sonda.embedded.config import UpConfig, available_services
from sonda.gateway.routes import SERVICES

if TYPE_CHECKING:  # the stack (NATS client, event store) and rich load when `up` runs, not for --help
    from rich.console import Console

    from sonda.embedded.stack import Stack

_STYLES = {"info": "dim", "warning": "yellow", "error": "bold red"}


def _service_ports(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    try:
        ports = [int(p) for p in text.split(",")]
    except ValueError:
        raise click.BadParameter("four comma-separated port numbers", param_hint="--service-ports") from None
    if len(ports) != len(SERVICES):
        raise click.BadParameter(f"one port for each of {', '.join(SERVICES)}", param_hint="--service-ports")
    return dict(zip(SERVICES, ports, strict=True))


def _banner(console: Console, stack: Stack) -> None:
    from sonda_events.bus.server import redact_url

    config = stack.config
    store = (
        "SQLite " + str(config.data / "sonda.db") if not config.database_url else "database from --postgres"
    )
    storage = (
        f"S3 {config.s3_endpoint} bucket {config.s3_bucket}"
        if config.s3_endpoint
        else f"local disk in {config.data}"
    )
    nats = (
        f"{stack.nats_url} (embedded, JetStream in {config.nats_dir})"
        if not config.nats_url
        else redact_url(stack.nats_url)  # the banner is a screen: never a password on it
    )
    missing = [s for s in SERVICES if s not in stack.service_urls]
    console.print()
    console.print(f"[bold green]Sonda is ready:[/] open [bold]{config.public_url()}[/]")
    console.print(f"  NATS      {nats}")
    console.print(f"  Store     {store}")
    console.print(f"  Storage   {storage}")
    console.print(f"  Services  {', '.join(f'{s} {u}' for s, u in stack.service_urls.items())}")
    if missing:
        console.print(f"  [yellow]Not installed: {', '.join(missing)}[/]")
    console.print(f"  Logs      {config.logs_dir}")
    console.print("Press Ctrl-C to stop.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface of the one origin.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    envvar="SONDA_PORT",
    show_envvar=True,
    help="Port of the one origin (web page, API and WebSocket).",
)
@data_dir_option
@database_option
@nats_option
@click.option(
    "--nats-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port of the embedded NATS [default: last run's when free, else any free port].",
)
@s3_options
@click.option(
    "--service-ports",
    metavar="PORTS",
    help="Internal ports of ingest,analyzer,notifier,query (e.g. 8001,8002,8003,8004) [default: free ports].",
)
def up(
    *,
    host: str,
    port: int,
    data_dir: Path,
    database_url: str | None,
    nats_url: str | None,
    nats_port: int,
    s3_endpoint: str | None,
    s3_bucket: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_region: str | None,
    service_ports: str | None,
) -> None:
    """Run Sonda on this machine: open http://localhost:8000 and analyse a file.

    With no options everything is embedded: a NATS server with JetStream, a SQLite event store
    and local-disk storage, all in the data folder, so a second `sonda up` finds the same
    analyses. --postgres, --nats and --s3 (or their env vars) use real servers instead. The four
    services run as separate processes (restarted if one dies) behind one origin. Ctrl-C stops
    everything cleanly.
    """
    from rich.console import Console
    from rich.markup import escape
    from sonda_events.logging import configure_logging
    from sonda_events.settings import SettingsError

    from sonda.embedded.stack import UpError, run_stack

    if s3_endpoint and not s3_bucket:
        raise click.BadParameter("--s3 needs --s3-bucket too", param_hint="--s3-bucket")
    config = UpConfig(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        nats_url=nats_url,
        nats_port=nats_port,
        s3_endpoint=s3_endpoint,
        s3_bucket=s3_bucket,
        s3_access_key=s3_access_key,
        s3_secret_key=s3_secret_key,
        s3_region=s3_region,
        service_ports=_service_ports(service_ports),
    )
    console = Console(soft_wrap=True, highlight=False)

    def report(level: str, text: str) -> None:
        console.print(f"[{_STYLES.get(level, 'dim')}]{escape(text)}[/]")

    if not available_services():
        report("warning", "no service is installed; only NATS, the store and the page will run")
    configure_logging("sonda-up", "warning")
    console.print(f"Starting Sonda in {config.data} …")
    try:
        asyncio.run(run_stack(config, report, on_ready=lambda stack: _banner(console, stack)))
    except (UpError, SettingsError, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from exc
    console.print("Sonda stopped.")
