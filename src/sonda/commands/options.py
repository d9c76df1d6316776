"""Options several commands share, declared once so their names, env vars and help read the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://localhost:8000"


def data_dir_option(f: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".sonda"),
        show_default=True,
        envvar="SONDA_DATA_DIR",
        show_envvar=True,
        help="Folder for the embedded NATS, the SQLite store, local objects and logs.",
    )(f)


def nats_option(f: F) -> F:
    return click.option(
        "--nats",
        "nats_url",
        metavar="URL",
        envvar="NATS_URL",
        show_envvar=True,
        help="NATS server with JetStream (nats://host:4222).",
    )(f)


def database_option(f: F) -> F:
    return click.option(
        "--postgres",
        "--database-url",
        "database_url",
        metavar="URL",
        envvar="DATABASE_URL",
        show_envvar=True,
        help="Event store database (postgresql://user@host/db); default: SQLite in the data folder.",
    )(f)


def url_option(f: F) -> F:
    return click.option(
        "--url",
        default=DEFAULT_URL,
        show_default=True,
        envvar="SONDA_URL",
        show_envvar=True,
        help="Where a running Sonda answers (its one origin).",
    )(f)


def api_key_option(f: F) -> F:
    return click.option(
        "--api-key",
        envvar="SONDA_API_KEY",
        show_envvar=True,
        help="API key, when the services have SONDA_API_KEYS set.",
    )(f)


def s3_options(f: F) -> F:
    """``--s3`` and its bucket, keys and region: the object store instead of local disk."""
    for option in reversed(
        [
            click.option(
                "--s3",
                "s3_endpoint",
                metavar="ENDPOINT",
                envvar="CLOUDFLARE_R2_ENDPOINT_URL",
                show_envvar=True,
                help="S3-compatible endpoint (R2, MinIO, AWS); default: local disk in the data folder.",
            ),
            click.option(
                "--s3-bucket",
                metavar="NAME",
                envvar="CLOUDFLARE_R2_BUCKET_NAME",
                show_envvar=True,
                help="Bucket for uploads and results.",
            ),
            click.option(
                "--s3-access-key",
                metavar="KEY",
                envvar="CLOUDFLARE_R2_ACCESS_KEY_ID",
                show_envvar=True,
                help="Access key id of the S3 store.",
            ),
            click.option(
                "--s3-secret-key",
                metavar="SECRET",
                envvar="CLOUDFLARE_R2_SECRET_ACCESS_KEY",
                show_envvar=True,
                help="Secret access key of the S3 store.",
            ),
            click.option(
                "--s3-region",
                metavar="REGION",
                envvar="CLOUDFLARE_R2_REGION",
                show_envvar=True,
                help="Region to sign S3 requests for [default: auto, as R2 wants; us-east-1 for MinIO and moto].",
            ),
        ]
    ):
        f = option(f)
    return f
