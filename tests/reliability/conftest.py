"""Fixtures of the fault tests: private NATS and Postgres servers, service processes, a store reader.

Every server here belongs to the reliability tests alone, so a test may stop or kill it: NATS per
test (``private_nats``), one throwaway Postgres cluster for the session with a fresh database per
test, and a cluster of its own for the test that stops Postgres.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.reliability.stack import Stack, create_database, running_cluster, stack_on
from tests.support.servers import NatsServer, PostgresCluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster only this test uses: it may stop it."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
async def stack(
    private_nats: NatsServer, pg_cluster: PostgresCluster, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with stack_on(private_nats, create_database(pg_cluster), tmp_path) as running:
        yield running
