"""End-to-end fixtures: one real ``sonda up`` for the session, and datasets made here with pandas."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from tests.e2e.sonda_up import SondaUp


def sales_frame(rows: int = 2_000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "pedido": np.arange(1, rows + 1),
            "cidade": rng.choice(["Recife", "São Paulo", "Belém", "Porto Alegre"], rows),
            "preco": rng.normal(120, 30, rows).round(2),
            "quantidade": rng.integers(1, 12, rows),
        }
    )
    frame["total"] = (frame["preco"] * frame["quantidade"]).round(2)
    return frame


def write_brazilian_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``;``-separated, decimal commas, Latin-1: the file the product was made for."""
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    return path


@contextlib.contextmanager
def running_sonda(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[SondaUp]:
    sonda = (SondaUp(data_dir) if env is None else SondaUp(data_dir, env=env)).start(*args)
    try:
        yield sonda
    finally:
        children = list(sonda.children().values()) if sonda.proc and sonda.proc.poll() is None else []
        sonda.stop(signal.SIGINT)
        for child in children:  # never leave a server behind, whatever the test did
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


@pytest.fixture(scope="session")
def sonda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SondaUp]:
    """One ``sonda up`` (all four services, embedded NATS, SQLite, local disk) shared by the e2e tests."""
    with running_sonda(tmp_path_factory.mktemp("sonda-up") / "data") as running:
        running.wait_healthy()
        yield running


@pytest.fixture(scope="session")
def sales() -> pd.DataFrame:
    return sales_frame()


@pytest.fixture(scope="session")
def sales_csv(sales: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_brazilian_csv(sales, tmp_path_factory.mktemp("data") / "vendas.csv")
