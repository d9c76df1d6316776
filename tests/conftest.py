"""Shared fixtures: real servers only (private NATS from the wheel, real Postgres, SQLite files)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.support.servers import (
    DATABASES,
    NatsServer,
    S3Endpoint,
    fresh_postgres_database,
    running_moto,
    running_nats,
)

#: How long a browser assertion waits for the page to get there: a hang guard, not a latency
#: limit (Playwright's default of 5 s failed on a machine whose other core was kept busy).
expect.set_options(timeout=30_000)


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


#: Marks of tests that take seconds (servers to start, a fault to sit out, a browser to drive).
LONG_RUNNING = ("slow", "fault", "browser")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding a long-running test go first, each module kept whole and in its own order.

    The processes of ``pytest -n`` take whole modules, in this order, as they become free
    (``--dist loadscope``): the long modules start early and the many short ones fill in at the
    end, so both processes finish at about the same time instead of one waiting for a long module
    started last. Running after pytest's own reordering keeps its order within each module.
    """
    first_seen: dict[str, int] = {}
    long_running: set[str] = set()
    for index, item in enumerate(items):
        module = item.nodeid.split("::", 1)[0]
        first_seen.setdefault(module, index)
        if any(item.get_closest_marker(name) for name in LONG_RUNNING):
            long_running.add(module)

    def key(item: pytest.Item) -> tuple[bool, int]:
        module = item.nodeid.split("::", 1)[0]
        return module not in long_running, first_seen[module]

    items.sort(key=key)
