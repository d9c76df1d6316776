"""One catalog of error codes: every ``SondaError`` of every package takes its code from it, with the
catalog's retryability, and the HTTP edge has a status for each code."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sonda_events.codes import CATALOG
from sonda_events.errors import SondaError
from sonda_service.problems import HTTP_STATUS

PACKAGES = (
    "sonda_events",
    "sonda_storage",
    "sonda_service",
    "sonda_ingest",
    "sonda_query",
    "sonda_analyzer",
    "sonda_notifier",
    "sonda",
)
#: Codes several classes use because they mean the same thing, each class named.
SHARED = {
    "analysis_not_found": {"sonda_ingest.errors.AnalysisNotFoundError", "sonda_query.errors.AnalysisNotFoundError"},
    "invalid_options": {"sonda_ingest.errors.InvalidOptionsError", "sonda_analyzer.engine.errors.InvalidOptionsError"},
    "store_unavailable": {"sonda_events.errors.StoreUnavailableError", "sonda_ingest.errors.StoreNotConfiguredError"},
    # the worker's check before profiling, and the engine's own
    "file_not_found": {"sonda_analyzer.errors.SourceMissingError", "sonda_analyzer.engine.errors.FileNotFoundProfileError"},
    "file_too_large": {"sonda_analyzer.errors.SourceTooLargeError", "sonda_analyzer.engine.errors.FileTooLargeError"},
    "out_of_memory": {"sonda_analyzer.errors.MemoryLimitError", "sonda_analyzer.engine.errors.OutOfMemoryError"},
}  # fmt: skip


def _import_all() -> None:
    for top in PACKAGES:
        package = importlib.import_module(top)
        for module in pkgutil.walk_packages(package.__path__, f"{top}."):
            # ``__main__`` runs a service; alembic's env.py only runs inside alembic
            if not module.name.endswith(("__main__", ".migrations.env")):
                importlib.import_module(module.name)


def _subclasses(cls: type[SondaError]) -> Iterator[type[SondaError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.fixture(scope="module")
def errors() -> list[type[SondaError]]:
    _import_all()
    return [SondaError, *{cls for cls in _subclasses(SondaError) if cls.__module__.startswith(PACKAGES)}]


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_every_error_class_takes_its_code_and_retryability_from_the_catalog(
    errors: list[type[SondaError]],
) -> None:
    assert len(errors) > 40  # the walk found the services' errors too
    for cls in errors:
        assert cls.code in CATALOG, f"{_name(cls)}: code {cls.code!r} is not in sonda_events.codes"
        assert cls.retryable is CATALOG[cls.code], f"{_name(cls)}: retryable differs from the catalog"


def test_a_code_is_shared_only_by_classes_that_mean_the_same(errors: list[type[SondaError]]) -> None:
    users: dict[str, set[str]] = defaultdict(set)
    for cls in errors:
        if "code" in vars(cls):
            users[cls.code].add(_name(cls))
    shared = {code: names for code, names in users.items() if len(names) > 1}
    assert shared == SHARED


def test_every_code_has_one_http_status(errors: list[type[SondaError]]) -> None:
    assert set(HTTP_STATUS) == set(CATALOG)
    assert all(400 <= status <= 599 for status in HTTP_STATUS.values())
    for cls in errors:
        # a ``status_code`` left on a class must not contradict the table
        declared = vars(cls).get("status_code")
        assert declared in (None, HTTP_STATUS[cls.code]), f"{_name(cls)}: status_code {declared}"


def test_an_error_built_with_a_code_takes_that_codes_retryability() -> None:
    assert SondaError("x", code="storage_unavailable").retryable is True
    assert SondaError("x", code="analysis_not_found").retryable is False
    assert SondaError("x", code="from_elsewhere").code == "from_elsewhere"
