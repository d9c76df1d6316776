"""The doctor's checks that talk to servers: NATS + JetStream, the event store, S3 storage."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sonda_events.store import migrate

from sonda.doctor.checks import Check, database_target, sqlite_path
from sonda.embedded.config import UpConfig

TIMEOUT_S = 5.0


async def check_nats(url: str) -> list[Check]:
    import nats
    from nats.js.errors import NotFoundError
    from sonda_events.bus import MIN_NATS_SERVER_TEXT, redact_url, server_support
    from sonda_events.subjects import STREAM_NAME

    shown = redact_url(url)

    async def quiet(_: Exception) -> None:
        return None

    try:
        nc = await nats.connect(
            url,
            connect_timeout=TIMEOUT_S,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
    except Exception as exc:
        return [
            Check(
                name="NATS",
                status="fail",
                detail=f"{shown}: {exc or type(exc).__name__}",
                fix="Start NATS (`nats-server -js`) or correct --nats / NATS_URL.",
            )
        ]
    try:
        support = server_support(nc, url)
        if support.supported:
            checks = [
                Check(
                    name="NATS",
                    status="ok",
                    detail=f"{shown} (nats-server {support.version}, supported: needs {support.needs})",
                )
            ]
        else:
            checks = [
                Check(
                    name="NATS",
                    status="fail",
                    detail=support.error().message,
                    fix=f"Upgrade that nats-server to {MIN_NATS_SERVER_TEXT} or newer, or point --nats / "
                    "NATS_URL at one that is.",
                )
            ]
        js = nc.jetstream()
        try:
            info = await asyncio.wait_for(js.account_info(), TIMEOUT_S)
        except Exception as exc:
            checks.append(
                Check(
                    name="JetStream",
                    status="fail",
                    detail=f"not available: {exc or type(exc).__name__}",
                    fix="Start nats-server with -js (JetStream) and a store folder (-sd).",
                )
            )
            return checks
        checks.append(Check(name="JetStream", status="ok", detail=f"{info.streams} streams"))
        try:
            stream = await js.stream_info(STREAM_NAME)
            checks.append(
                Check(name=f"Stream {STREAM_NAME}", status="ok", detail=f"{stream.state.messages} messages")
            )
        except NotFoundError:
            checks.append(
                Check(
                    name=f"Stream {STREAM_NAME}",
                    status="warn",
                    detail="not created yet",
                    fix="Nothing to do: the services create it at their first start.",
                )
            )
        return checks
    finally:
        await nc.close()


def _head_revision() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


async def check_database(config: UpConfig) -> Check:
    from sonda_events.store.dialects import create_engine

    url, embedded = database_target(config)
    shown = url.rsplit("@", maxsplit=1)[-1]
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return Check(
            name="Event store",
            status="ok",
            detail=f"SQLite {path} (created with its schema at the first `sonda up`)",
        )
    engine = create_engine(url, echo=False, pool_size=1)
    try:
        current = await asyncio.wait_for(migrate.current_revision(engine), TIMEOUT_S)
    except Exception as exc:
        return Check(
            name="Event store",
            status="fail",
            detail=f"{shown}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            fix="Start the database or correct --postgres / DATABASE_URL."
            if not embedded
            else "Check that the data folder is readable.",
        )
    finally:
        await engine.dispose()
    head = _head_revision()
    if current != head:
        return Check(
            name="Event store",
            status="warn",
            detail=f"{shown}: schema at {current or 'nothing'}, latest is {head}",
            fix="Nothing to do by hand: `sonda up` and the services migrate at start.",
        )
    return Check(name="Event store", status="ok", detail=f"{shown}: reachable, schema at {head}")


async def check_s3(config: UpConfig) -> Check:
    import aioboto3

    name = "Storage (S3)"
    session: Any = aioboto3.Session()
    key = f".sonda-doctor/{uuid.uuid4().hex}"
    try:
        async with session.client(
            "s3",
            endpoint_url=config.s3_endpoint,
            aws_access_key_id=config.s3_access_key,
            aws_secret_access_key=config.s3_secret_key,
            region_name=config.s3_region or "auto",
        ) as s3:
            await asyncio.wait_for(s3.put_object(Bucket=config.s3_bucket, Key=key, Body=b"ok"), TIMEOUT_S)
            await s3.delete_object(Bucket=config.s3_bucket, Key=key)
    except Exception as exc:
        return Check(
            name=name,
            status="fail",
            detail=f"{config.s3_endpoint} bucket {config.s3_bucket}: {exc or type(exc).__name__}",
            fix="Check CLOUDFLARE_R2_ENDPOINT_URL, the bucket name and the access keys (write access).",
        )
    return Check(name=name, status="ok", detail=f"{config.s3_endpoint} bucket {config.s3_bucket} writable")


async def check_running_sonda(host: str, port: int) -> Check | None:
    """When the origin's port is taken by a Sonda, that Sonda's own health; None when it is not one.

    A doctor run beside `sonda up` should check the running services, not tell the person to stop
    them: the port is busy because Sonda is working.
    """
    import httpx

    origin = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.get(f"{origin}/api/v1/health")
        body = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    checks = body.get("checks") if isinstance(body, dict) else None
    if not isinstance(checks, dict) or "status" not in body:
        return None
    failing = sorted(name for name, result in checks.items() if not (result or {}).get("ok"))
    if not failing:
        return Check(
            name="Running Sonda",
            status="ok",
            detail=f"{origin} answers: {', '.join(sorted(checks))} ok",
        )
    return Check(
        name="Running Sonda",
        status="fail",
        detail=f"{origin} answers {answer.status_code}: failing {', '.join(failing)}",
        fix=f"See {origin}/api/v1/health and the logs folder of that `sonda up`.",
    )
