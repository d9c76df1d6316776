"""Shared fixtures: real servers only (private NATS from the wheel, real Postgres, SQLite files)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import (
    DATABASES,
    NatsServer,
    S3Endpoint,
    fresh_postgres_database,
    running_moto,
    running_nats,
)


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """At the end, wait for the used test databases to be dropped and drop the spare one."""
    yield
    DATABASES.close()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """One private nats-server with JetStream for the session (tests use unique stream names or ids)."""
    with tempfile.TemporaryDirectory(prefix="sonda-nats-") as tmp, running_nats(Path(tmp)) as server:
        yield server


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test alone: it may stop or kill it."""
    with running_nats(tmp_path / "nats") as server:
        yield server


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new empty Postgres database for this test (SQLAlchemy URL, psycopg 3 driver)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sonda.db'}"


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs a test once against Postgres and once against SQLite: the same store code serves both."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sonda.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """One moto S3 server over HTTP for the session (tests use their own bucket names)."""
    with running_moto() as endpoint:
        yield endpoint


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (``CI`` set) a skipped test is a failure: every core test must really run there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"
