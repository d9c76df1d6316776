"""The checks ``sonda doctor`` runs, in the order a person would fix things, and their table."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sonda.doctor import checks
from sonda.doctor.servers import check_database, check_nats, check_running_sonda, check_s3
from sonda.embedded.config import UpConfig
from sonda.embedded.nats import port_is_free

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
    if port_is_free(port, config.host):
        found.append(checks.check_port("Port of the origin", config.host, port, required=False))
    else:
        running = await check_running_sonda(config.host, port)
        found.append(running or checks.check_port("Port of the origin", config.host, port, required=False))
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
