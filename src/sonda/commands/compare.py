"""``sonda compare A B``: two analyses of a running Sonda, or two files profiled here."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec

from sonda.commands.options import api_key_option, url_option

if TYPE_CHECKING:  # the client (httpx) loads when the command runs, not for --help
    from sonda.client.api import SondaClient

_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Exit status when ``--fail-on-drift`` is given and the dataset drifted (2 is click's usage error).
DRIFT_EXIT = 3


def _options(**given: Any) -> dict[str, str]:
    """The thresholds given on the command line, as the endpoint's query parameters."""
    return {name: str(value) for name, value in given.items() if value is not None}


def _profile(path: Path) -> dict[str, Any]:
    from sonda_analyzer.engine import ProfileError, profile_file

    try:
        result: dict[str, Any] = msgspec.to_builtins(profile_file(path))
    except ProfileError as exc:
        raise click.ClickException(f"cannot profile {path}: {exc}") from exc
    return result


async def _stored(client: SondaClient, analysis_id: str) -> dict[str, Any]:
    body = await client.results(analysis_id)
    result: dict[str, Any] = body.get("results") or {}
    return result


def _source(given: str) -> str | Path:
    """An analysis id as it is, or an existing file."""
    if _ID.fullmatch(given):
        return given
    path = Path(given)
    if not path.is_file():
        raise click.BadParameter(f"{given!r} is neither an analysis id nor a file", param_hint="A/B")
    return path


async def _compare(
    url: str, api_key: str | None, a: str | Path, b: str | Path, options: dict[str, str]
) -> dict[str, Any]:
    """Two ids: the server compares. A file on either side: profiled here, compared here."""
    from sonda_query.compare import compare_results
    from sonda_query.compare.compare import side_of

    from sonda.client.api import SondaClient

    if isinstance(a, str) and isinstance(b, str):
        async with SondaClient(url, api_key=api_key) as client:
            return await client.compare(a, b, options)
    sides: list[tuple[dict[str, Any], str | None, str | None]] = []
    for given in (a, b):
        if isinstance(given, str):
            async with SondaClient(url, api_key=api_key) as client:
                sides.append((await _stored(client, given), given, None))
        else:
            sides.append((await asyncio.to_thread(_profile, given), None, given.name))
    (base, base_id, base_name), (target, target_id, target_name) = sides
    comparison = compare_results(
        base,
        target,
        _compare_options(options),
        base_side=side_of(base, analysis_id=base_id, filename=base_name),
        target_side=side_of(target, analysis_id=target_id, filename=target_name),
    )
    result: dict[str, Any] = msgspec.to_builtins(comparison)
    return result


def _compare_options(options: dict[str, str]) -> Any:
    from sonda_query import params
    from sonda_query.errors import InvalidParameterError

    try:
        return params.compare_options(
            numeric_method_value=options.get("numeric_method"),
            wasserstein_threshold=options.get("wasserstein_threshold"),
            psi_threshold=options.get("psi_threshold"),
            jensen_shannon_threshold=options.get("jensen_shannon_threshold"),
            missing_threshold=options.get("missing_threshold"),
            drift_share=options.get("drift_share"),
        )
    except InvalidParameterError as exc:
        raise click.BadParameter(exc.message) from exc


@click.command()
@click.argument("a")
@click.argument("b")
@url_option
@api_key_option
@click.option(
    "--psi", "numeric_method", flag_value="psi", help="Decide numeric columns by PSI instead of Wasserstein."
)
@click.option(
    "--wasserstein-threshold", type=float, help="Normed Wasserstein distance that drifts [default: 0.1]."
)
@click.option("--psi-threshold", type=float, help="Population stability index that drifts [default: 0.1].")
@click.option("--js-threshold", type=float, help="Jensen–Shannon distance that drifts [default: 0.1].")
@click.option(
    "--missing-threshold", type=float, help="Change of the missing share that drifts [default: 0.1]."
)
@click.option("--drift-share", type=float, help="Share of drifted columns for dataset drift [default: 0.5].")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison document as JSON.")
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help=f"Exit with status {DRIFT_EXIT} when the dataset drifted (for pipelines).",
)
def compare(
    *,
    a: str,
    b: str,
    url: str,
    api_key: str | None,
    numeric_method: str | None,
    wasserstein_threshold: float | None,
    psi_threshold: float | None,
    js_threshold: float | None,
    missing_threshold: float | None,
    drift_share: float | None,
    as_json: bool,
    fail_on_drift: bool,
) -> None:
    """Compare A (the base) with B (the target): schema changes first, then drifted columns.

    A and B are analysis ids of a running Sonda (compared there, from the stored profiles) or files
    (profiled here with the same engine, nothing uploaded); an id and a file can be mixed. Metrics
    and defaults: docs/compare.md.
    """
    options = _options(
        numeric_method=numeric_method,
        wasserstein_threshold=wasserstein_threshold,
        psi_threshold=psi_threshold,
        jensen_shannon_threshold=js_threshold,
        missing_threshold=missing_threshold,
        drift_share=drift_share,
    )
    import httpx
    from rich.console import Console

    from sonda.client.api import SondaApiError
    from sonda.client.compare_report import render_comparison

    _compare_options(options)  # a bad threshold is refused before anything is read
    sources = _source(a), _source(b)
    try:
        comparison = asyncio.run(_compare(url, api_key, *sources, options))
    except SondaApiError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, httpx.TransportError) as exc:
        raise click.ClickException(f"cannot reach Sonda at {url}: {exc}; start it with `sonda up`") from exc
    if as_json:
        sys.stdout.write(msgspec.json.encode(comparison).decode() + "\n")
    else:
        Console(highlight=False).print(render_comparison(comparison))
    if fail_on_drift and comparison.get("dataset_drift"):
        sys.exit(DRIFT_EXIT)
