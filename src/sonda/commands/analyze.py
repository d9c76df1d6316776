"""``sonda analyze FILE``: the whole flow against a running Sonda (or a temporary one), then a report."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec

from sonda.commands.options import api_key_option, url_option

if TYPE_CHECKING:  # the client, httpx and rich are imported when the command runs, not for --help
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from sonda.client.api import SondaClient


class Outcome(msgspec.Struct, kw_only=True):
    """What ``--json`` prints: the analysis, its results and its LLM summary."""

    analysis_id: str
    status: str
    error: dict[str, Any] | None = None
    results: dict[str, Any] | None = None
    llm_summary: dict[str, Any] | None = None


def _progress(console: Console) -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}", style="dim"),
        console=console,
        transient=False,
    )


async def run_flow(
    client: SondaClient,
    path: Path,
    progress: Progress,
    on_status: Callable[[str], None],
    *,
    with_report: bool = False,
    include_pii: bool = False,
) -> tuple[Outcome, bytes | None]:
    """Upload, start, follow the WebSocket to the end, then read the results and the LLM summary.

    Values of personal columns (``columns[].pii``) are masked unless ``include_pii``: the owner of
    the data asks for them explicitly, so a screen or a pasted report does not carry them by default.
    """
    import anyio

    from sonda.client.redact import redact_response

    size = (await anyio.Path(path).stat()).st_size
    upload: TaskID = progress.add_task("Uploading", total=max(size, 1), detail=f"{size / 1e6:.1f} MB")
    file_key = await client.upload(path, lambda n: progress.advance(upload, n))
    progress.update(upload, completed=max(size, 1))
    started = await client.start(file_key)
    analysis_id = str(started["analysis_id"])
    on_status(f"Analysis {analysis_id}")
    analysing: TaskID = progress.add_task("Analysing", total=100, detail="")

    def on_message(message: dict[str, Any]) -> None:
        if "progress" in message and message["progress"] is not None:
            stage = str(message.get("stage") or message.get("type", ""))
            progress.update(
                analysing, completed=float(message["progress"]), description=f"Analysing: {stage}"
            )

    last = await client.follow(analysis_id, on_message)
    if last.get("type") != "analysis_completed":
        return Outcome(analysis_id=analysis_id, status="failed", error=last), None
    progress.update(analysing, completed=100, description="Analysing: done")
    version = last.get("version") if isinstance(last.get("version"), int) else None
    results = await client.results(analysis_id, version)
    summary = await client.llm_summary(analysis_id, version, include_pii=include_pii)
    report = await client.report(analysis_id, version, include_pii=include_pii) if with_report else None
    if not include_pii:
        results = redact_response(results)
    return Outcome(analysis_id=analysis_id, status="completed", results=results, llm_summary=summary), report


async def _analyze(
    url: str | None,
    path: Path,
    api_key: str | None,
    console: Console,
    *,
    with_report: bool,
    include_pii: bool,
) -> tuple[Outcome, bytes | None]:
    from sonda.client.api import SondaClient
    from sonda.client.embedded import temporary_sonda

    async def against(base: str) -> tuple[Outcome, bytes | None]:
        async with SondaClient(base, api_key=api_key) as client:
            with _progress(console) as progress:
                return await run_flow(
                    client,
                    path,
                    progress,
                    lambda text: console.print(text, style="dim"),
                    with_report=with_report,
                    include_pii=include_pii,
                )

    if url is not None:
        return await against(url)
    console.print("Starting a temporary Sonda …", style="dim")
    async with temporary_sonda() as base:
        return await against(base)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@url_option
@api_key_option
@click.option(
    "--embedded",
    is_flag=True,
    help="Start a temporary Sonda in a temporary folder for this one file (no server needed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results and the LLM summary as JSON.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also save the self-contained HTML report (opens offline) to this file.",
)
@click.option(
    "--include-pii",
    is_flag=True,
    help="Show the values of personal-data columns (CPF, CNPJ, phone, e-mail, ...); masked by default.",
)
def analyze(
    *,
    file: Path,
    url: str,
    api_key: str | None,
    embedded: bool,
    as_json: bool,
    html_path: Path | None,
    include_pii: bool,
) -> None:
    """Analyse FILE (CSV, TSV, JSON, JSON Lines, Parquet, Excel) and print a report.

    Runs the same flow as the web page: upload, start, live progress over the WebSocket, then
    the results and the LLM summary. Progress goes to stderr, so `--json > out.json` keeps only
    the JSON. Exits with status 2 when the analysis fails.
    """
    import httpx
    from rich.console import Console

    from sonda.client.api import SondaApiError
    from sonda.client.report import print_report

    err = Console(stderr=True, highlight=False)
    try:
        outcome, report = asyncio.run(
            _analyze(
                None if embedded else url,
                file,
                api_key,
                err,
                with_report=html_path is not None,
                include_pii=include_pii,
            )
        )
    except SondaApiError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, httpx.TransportError) as exc:
        where = "the temporary Sonda" if embedded else url
        raise click.ClickException(f"cannot reach Sonda at {where}: {exc}; start it with `sonda up`") from exc
    if as_json:
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
    elif outcome.results is not None:
        print_report(Console(highlight=False), outcome.results, outcome.llm_summary)
    if html_path is not None and report is not None:
        html_path.write_bytes(report)
        err.print(f"Report saved to {html_path}", style="dim")
    if outcome.error is not None:
        err.print(f"[bold red]The analysis failed:[/] {outcome.error.get('error_message') or outcome.error}")
        sys.exit(2)
