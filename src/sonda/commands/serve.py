"""``sonda serve``, ``sonda gateway`` and ``sonda recorder``: one process each, as ``sonda up`` runs them."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sys

import click

from sonda.gateway.keepalive import SERVER_IDLE_S
from sonda.gateway.routes import DEFAULT_PORTS, SERVICES

#: Largest request line plus headers accepted; browsers send a few KiB, proxies cap at 8–64 KiB.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
#: uvicorn's exit status when the server could not start.
_STARTUP_FAILURE = 3

#: ``--fd``: the listening socket handed over by ``sonda up``, which chose and bound the port.
fd_option = click.option(
    "--fd",
    type=click.IntRange(0),
    default=None,
    help="Serve on the listening socket inherited as this file descriptor, not on a socket of its own.",
)


def _run_uvicorn(
    app: object,
    *,
    host: str,
    port: int,
    factory: bool,
    forwarded_allow_ips: str | None,
    ws_ping_interval: float = 20.0,
    ws_ping_timeout: float = 20.0,
    fd: int | None = None,
) -> None:
    """uvicorn on ``host:port``, or on the listening socket ``fd`` (its family read from it)."""
    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        factory=factory,
        host=host,
        port=port,
        # The sans-I/O websockets protocol: the legacy one is deprecated in websockets >= 14.
        ws="websockets-sansio",
        # h11, not httptools: uvicorn's httptools protocol buffers request headers without any
        # bound (a 16 MB header is accepted), so each connection could hold as much memory as a
        # client cares to send. h11 refuses a request head larger than this (400).
        http="h11",
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        lifespan="on",
        # Longer than any client's idle expiry, so a client never sends on a connection being closed.
        timeout_keep_alive=SERVER_IDLE_S,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        # Our WebSocket messages are a few hundred bytes: per-message deflate cost the notifier
        # ~29% more CPU per message and ~46 MB per 1,000 clients for little saved bandwidth
        # (bench/notifier.py --deflate both).
        ws_per_message_deflate=False,
        # Dead WebSocket peers are found by protocol pings, which every client answers by itself;
        # one whose pong is ws_ping_timeout late is closed (1011).
        ws_ping_interval=ws_ping_interval,
        ws_ping_timeout=ws_ping_timeout,
        # Open WebSockets would otherwise hold a shutdown forever.
        timeout_graceful_shutdown=10,
        access_log=False,
        # No handlers of uvicorn's own: its records reach the root handler of ``configure_logging``
        # (JSON, API keys in WebSocket query strings redacted), as every other log line.
        log_config=None,
    )
    sockets = None
    if fd is not None:
        inherited = socket.socket(fileno=fd)
        inherited.set_inheritable(False)  # this process's own children (a profiling process) get none
        sockets = [inherited]
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    if not server.started:
        sys.exit(_STARTUP_FAILURE)


def _configure_logging(process: str) -> None:
    """Logging of a process with no service settings of its own (the services configure theirs)."""
    from sonda_events.logging import configure_logging
    from sonda_events.settings import CommonSettings, SettingsError, load_settings

    try:
        common = load_settings(CommonSettings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(process, common.sonda_log_level, common.sonda_log_json)


@click.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    envvar="PORT",
    show_envvar=True,
    help="Port to listen on [default: ingest 8001, analyzer 8002, notifier 8003, query 8004].",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Proxies whose X-Forwarded-* headers are trusted (comma-separated, or '*') [default: 127.0.0.1].",
)
@fd_option
def serve(service: str, host: str, port: int | None, forwarded_allow_ips: str | None, fd: int | None) -> None:
    """Run one service alone (ingest, analyzer, notifier or query).

    The service reads its settings from environment variables (DATABASE_URL, NATS_URL,
    CLOUDFLARE_R2_*, SONDA_*) and stops gracefully on SIGTERM or Ctrl-C.
    """
    module = f"sonda_{service}.app"
    if importlib.util.find_spec(f"sonda_{service}") is None or importlib.util.find_spec(module) is None:
        raise click.ClickException(f"the {service} service is not installed (no module {module})")
    chosen = DEFAULT_PORTS[service] if port is None else port  # type: ignore[index]
    ping_interval, ping_timeout = _notifier_keepalive() if service == "notifier" else (20.0, 20.0)
    # The service's settings read HOST and PORT too; keep them equal to where uvicorn listens.
    os.environ["HOST"] = host
    os.environ["PORT"] = str(chosen)
    _run_uvicorn(
        f"{module}:create_app",
        host=host,
        port=chosen,
        factory=True,
        forwarded_allow_ips=forwarded_allow_ips,
        ws_ping_interval=ping_interval,
        ws_ping_timeout=ping_timeout,
        fd=fd,
    )


def _notifier_keepalive() -> tuple[float, float]:
    """The notifier's protocol ping interval and timeout (``SONDA_WS_PING_INTERVAL``, ``SONDA_WS_PONG_TIMEOUT``)."""
    from sonda_events.settings import SettingsError
    from sonda_notifier.settings import load

    try:
        settings = load()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings.sonda_ws_ping_interval, settings.sonda_ws_pong_timeout


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on."
)
@click.option(
    "--ingest",
    "ingest_url",
    metavar="URL",
    envvar="SONDA_INGEST_URL",
    show_envvar=True,
    help="Where ingest listens.",
)
@click.option(
    "--analyzer",
    "analyzer_url",
    metavar="URL",
    envvar="SONDA_ANALYZER_URL",
    show_envvar=True,
    help="Where analyzer listens.",
)
@click.option(
    "--notifier",
    "notifier_url",
    metavar="URL",
    envvar="SONDA_NOTIFIER_URL",
    show_envvar=True,
    help="Where notifier listens.",
)
@click.option(
    "--query",
    "query_url",
    metavar="URL",
    envvar="SONDA_QUERY_URL",
    show_envvar=True,
    help="Where query listens.",
)
@fd_option
def gateway(
    *,
    host: str,
    port: int,
    fd: int | None,
    ingest_url: str | None,
    analyzer_url: str | None,
    notifier_url: str | None,
    query_url: str | None,
) -> None:
    """Serve the web page and route the API to the services, on one origin.

    Each service URL defaults to http://127.0.0.1 on that service's default port. Request bodies
    and WebSockets are streamed through, never buffered. WebSocket clients get protocol pings as the
    notifier sends them (SONDA_WS_PING_INTERVAL, SONDA_WS_PONG_TIMEOUT).
    """
    from sonda_events.settings import SettingsError, load_settings

    from sonda.gateway.app import Gateway, GatewaySettings

    _configure_logging("gateway")
    try:
        # The URLs as given here; SONDA_WS_PING_INTERVAL and SONDA_WS_PONG_TIMEOUT from the environment.
        settings = load_settings(
            GatewaySettings,
            sonda_ingest_url=ingest_url or None,
            sonda_analyzer_url=analyzer_url or None,
            sonda_notifier_url=notifier_url or None,
            sonda_query_url=query_url or None,
        )
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    _run_uvicorn(
        Gateway(settings.upstreams()),
        host=host,
        port=port,
        factory=False,
        forwarded_allow_ips=None,
        ws_ping_interval=settings.sonda_ws_ping_interval,
        ws_ping_timeout=settings.sonda_ws_pong_timeout,
        fd=fd,
    )


@click.command()
def recorder() -> None:
    """Run the recorder alone: store every event from NATS in the event store.

    The query service runs a recorder inside by default; run more for throughput or isolation
    (they share one durable consumer). Reads DATABASE_URL, NATS_URL and RECORDER_BATCH_SIZE.
    """
    from sonda_events.recorder import main

    main()
