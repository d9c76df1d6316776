"""``sonda projections rebuild [NAME] [--verify]`` and ``sonda projections status``.

The root CLI adds the ``projections`` group (``cli.add_command(projections)``); the async functions
below are the same operations for code that is already inside an event loop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from sonda_query.projection.names import NAMES

# The store, the read model and the settings (litestar, SQLAlchemy) load when a command runs, so
# `sonda projections --help` starts at once.
if TYPE_CHECKING:
    from sonda_query.projection.rebuild import ProgressCallback, RebuildReport
    from sonda_query.settings import QuerySettings


class ProjectionStatus(msgspec.Struct, kw_only=True):
    name: str
    position: int
    store_position: int
    lag: int
    schema_version: int
    code_schema_version: int
    generation: int
    updated_at: datetime


async def projections_status(settings: QuerySettings) -> list[ProjectionStatus]:
    """Each projection's checkpoint and how far behind the store it is."""
    from sonda_events.store import EventStore

    from sonda_query.projection.projections import ALL
    from sonda_query.readmodel.schema import ensure_schema

    store = await EventStore.open(settings.resolved_database_url())
    try:
        found = await ensure_schema(store.engine)
        head = await store.last_position()
        return [
            ProjectionStatus(
                name=p.name,
                position=found[p.name].position,
                store_position=head,
                lag=max(0, head - found[p.name].position),
                schema_version=found[p.name].schema_version,
                code_schema_version=p.schema_version,
                generation=found[p.name].generation,
                updated_at=found[p.name].updated_at,
            )
            for p in ALL
        ]
    finally:
        await store.close()


async def rebuild_projections(
    settings: QuerySettings,
    names: list[str] | None = None,
    *,
    verify: bool = False,
    swap_in: bool = True,
    progress: ProgressCallback | None = None,
    on_start: Any = None,
) -> list[RebuildReport]:
    """Rebuild the named projections (all when ``names`` is empty) in one pass over the store."""
    from sonda_events.store import EventStore

    from sonda_query.cache import RedisCache
    from sonda_query.projection.projections import ALL, by_name
    from sonda_query.projection.rebuild import rebuild_all

    selected = [by_name(name) for name in names] if names else list(ALL)
    store = await EventStore.open(settings.resolved_database_url())
    try:
        if on_start is not None:
            on_start(", ".join(p.name for p in selected))
        reports = await rebuild_all(store, selected, verify=verify, swap_in=swap_in, on_progress=progress)
    finally:
        await store.close()
    url = settings.redis_url.reveal()
    if url and swap_in:
        # Other instances key entries by generation already; this only frees the old ones now.
        cache = RedisCache.from_url(url, prefix=settings.query_cache_prefix, ttl_s=settings.query_cache_ttl_s)
        try:
            await cache.clear()
        finally:
            await cache.close()
    return reports


class _CountColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = f"{task.total:,.0f}" if task.total is not None else "?"
        return Text(f"{task.completed:,.0f}/{total} events")


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} events/s" if speed else "… events/s", style="progress.data.speed")


def _report_table(reports: list[RebuildReport]) -> Table:
    table = Table(title="Rebuilt projections")
    for column in ("projection", "events", "rows", "seconds", "events/s", "position", "swapped", "verify"):
        table.add_column(column, justify="right" if column not in ("projection", "verify") else "left")
    for report in reports:
        check = report.verification
        verdict = "-" if check is None else ("identical" if check.ok else f"{check.differences} differ")
        table.add_row(
            report.name,
            f"{report.events:,}",
            f"{report.rows:,}",
            f"{report.seconds:.2f}",
            f"{report.events_per_s:,.0f}",
            f"{report.position:,}",
            "yes" if report.swapped else "no",
            verdict,
        )
    return table


# Its own help names: click caches each help option, so run alone (as tests do) it must match the root.
@click.group("projections", context_settings={"help_option_names": ["-h", "--help"]})
def projections() -> None:
    """Rebuild and inspect the query service's read models."""


def _settings(data_dir: Path | None) -> QuerySettings:
    """The query settings from the environment, with ``--data-dir`` applied; refuses a folder that
    holds no Sonda, rather than creating an empty store there and reporting it up to date."""
    from sonda_events.settings import load_settings

    from sonda_query.settings import QuerySettings

    settings = load_settings(QuerySettings)
    if data_dir is not None:
        settings = load_settings(QuerySettings, sonda_data_dir=str(data_dir))
    store_file = settings.sonda_data_dir / "sonda.db"
    if not settings.database.database_url and not store_file.is_file():
        raise click.UsageError(
            f"no Sonda in {settings.sonda_data_dir} (no event store {store_file.name} there): pass the "
            "folder of a `sonda up` with --data-dir, or the store's URL in DATABASE_URL"
        )
    return settings


_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SONDA_DATA_DIR",
    show_envvar=True,
    help="Folder of the `sonda up` whose SQLite event store to read [default: .sonda]; ignored with DATABASE_URL.",
)


@projections.command("rebuild")
@click.argument("name", required=False, type=click.Choice(NAMES))
@_data_dir_option
@click.option("--verify", is_flag=True, help="Compare the rebuilt rows with the live ones before the swap.")
@click.option("--dry-run", is_flag=True, help="Build (and verify) but keep the live tables.")
def rebuild_command(name: str | None, data_dir: Path | None, verify: bool, dry_run: bool) -> None:
    """Rebuild NAME (default: every projection) from the event store, then swap it in."""
    from sonda_query.projection.locks import RebuildInProgressError

    console = Console(stderr=True)
    settings = _settings(data_dir)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _CountColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}
        current: list[str] = []

        def on_start(projection: str) -> None:
            current[:] = [projection]
            tasks[projection] = bar.add_task(projection, total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(tasks[current[0]], completed=done, total=total)

        try:
            reports = asyncio.run(
                rebuild_projections(
                    settings,
                    [name] if name else None,
                    verify=verify,
                    swap_in=not dry_run,
                    progress=on_progress,
                    on_start=on_start,
                )
            )
        except RebuildInProgressError as exc:
            raise click.ClickException(exc.message) from exc
    out = Console()
    out.print(_report_table(reports))
    for report in reports:
        check = report.verification
        if check is not None:
            verdict = (
                f"{check.identical:,} rows identical" if check.ok else f"{check.differences:,} rows differ"
            )
            out.print(f"{report.name}: {verdict} (live {check.rows_live:,}, rebuilt {check.rows_rebuilt:,})")
    failed = [r for r in reports if r.verification is not None and not r.verification.ok]
    for report in failed:
        assert report.verification is not None
        for diff in report.verification.examples:
            console.print(f"[red]{report.name}[/]: {diff.analysis_id} {diff.kind} {', '.join(diff.fields)}")
    if failed:
        raise SystemExit(1)


@projections.command("status")
@_data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status_command(data_dir: Path | None, as_json: bool) -> None:
    """Each projection's position, the store's newest position, and the lag between them."""
    rows = asyncio.run(projections_status(_settings(data_dir)))
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
        return
    table = Table(title="Projections")
    for column in ("projection", "position", "store", "lag", "schema", "generation", "updated"):
        table.add_column(column)
    for row in rows:
        schema = str(row.schema_version)
        if row.schema_version != row.code_schema_version:
            schema += f" (code {row.code_schema_version}: rebuild)"
        table.add_row(
            row.name,
            f"{row.position:,}",
            f"{row.store_position:,}",
            f"{row.lag:,}",
            schema,
            str(row.generation),
            row.updated_at.isoformat(timespec="seconds"),
        )
    Console().print(table)


__all__ = ["ProjectionStatus", "projections", "projections_status", "rebuild_projections"]
