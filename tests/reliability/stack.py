"""The servers and processes of one fault test: a private NATS, a Postgres database in a throwaway
cluster, local storage, and the services as ``sonda serve`` processes."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from nats.aio.client import Client as NatsClient
from sonda_events.bus import close_nats, connect_nats, provision
from sonda_events.store import EventStore
from sonda_storage import ObjectStorage, StorageSettings, storage_from_settings

from tests.reliability.services import Services, clean_env, services
from tests.support.servers import NatsServer, PostgresCluster


@contextlib.contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """A throwaway cluster in a folder the ``postgres`` user can reach (pytest's tmp is root-only)."""
    root = Path(tempfile.mkdtemp(prefix="sonda-pg-"))
    root.chmod(0o755)
    cluster = PostgresCluster(root / "data")
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def create_database(cluster: PostgresCluster) -> str:
    name = f"sonda_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Stack:
    """The servers of one fault test and the processes it runs against them."""

    nats: NatsServer
    database_url: str
    data_dir: Path
    procs: Services
    store: EventStore
    nc: NatsClient
    #: The same object storage the services use (local disk in ``data_dir``).
    storage: ObjectStorage


@contextlib.asynccontextmanager
async def stack_on(nats: NatsServer, database_url: str, root: Path) -> AsyncIterator[Stack]:
    data_dir = root / "data"
    env = clean_env(
        NATS_URL=nats.url,
        DATABASE_URL=database_url,
        SONDA_DATA_DIR=str(data_dir),
        SONDA_LOG_JSON="true",
        SONDA_LOG_LEVEL="info",
    )
    store = await EventStore.open(database_url, pool_size=3)
    nc = await connect_nats(nats.url, name="fault-test")
    await provision(nc.jetstream())
    storage = storage_from_settings(StorageSettings(), data_dir)
    await storage.start()
    try:
        with services(env, root / "logs") as procs:
            yield Stack(nats, database_url, data_dir, procs, store, nc, storage)
    finally:
        await storage.close()
        await close_nats(nc, drain=False)
        await store.close()
