"""Every environment variable is declared once, by one settings class; services compose sections."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterator

import msgspec
import pytest
from sonda_analyzer.settings import AnalyzerSettings
from sonda_events.settings import (
    CommonSettings,
    DatabaseSettings,
    Secret,
    SettingsError,
    env_vars,
    is_section,
    load_settings,
)
from sonda_ingest.settings import IngestSettings
from sonda_query.settings import QuerySettings
from sonda_storage import StorageSettings

from sonda.gateway.routes import SERVICES

WithStorage = type[IngestSettings] | type[AnalyzerSettings] | type[QuerySettings]
WITH_STORAGE: tuple[WithStorage, ...] = (IngestSettings, AnalyzerSettings, QuerySettings)


def qualname(cls: type) -> str:
    return cls.__qualname__


def every_settings_class() -> set[type[msgspec.Struct]]:
    """``CommonSettings``, its subclasses in every service and library, and their sections."""
    for module in [f"sonda_{service}.settings" for service in SERVICES] + ["sonda_events.recorder.main"]:
        importlib.import_module(module)
    found: set[type[msgspec.Struct]] = set()

    def walk(cls: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
        yield cls
        for sub in cls.__subclasses__():
            yield from walk(sub)
        for field in msgspec.structs.fields(cls):
            if is_section(field.type):
                yield from walk(field.type)

    found.update(walk(CommonSettings))
    return found


def declared(cls: type[msgspec.Struct]) -> set[str]:
    """The variables ``cls`` itself declares: not inherited (a new default is no new declaration), no sections."""
    inherited = {
        name
        for base in cls.__mro__[1:]
        if issubclass(base, msgspec.Struct)
        for name in base.__struct_fields__
    }
    return {
        field.name.upper()
        for field in msgspec.structs.fields(cls)
        if field.name not in inherited and not is_section(field.type)
    }


def test_every_variable_is_declared_by_exactly_one_settings_class() -> None:
    owners: dict[str, list[str]] = {}
    for cls in every_settings_class():
        for var in declared(cls):
            owners.setdefault(var, []).append(cls.__qualname__)
    repeated = {var: sorted(names) for var, names in owners.items() if len(names) > 1}
    assert not repeated, f"declared more than once: {repeated}"
    for section in (StorageSettings, DatabaseSettings):
        for var in env_vars(section):
            assert owners[var] == [section.__qualname__]


@pytest.mark.parametrize("cls", sorted(every_settings_class(), key=repr), ids=qualname)
def test_loading_a_settings_class_reads_each_variable_once(cls: type[msgspec.Struct]) -> None:
    twice = [var for var, count in Counter(env_vars(cls)).items() if count > 1]
    assert not twice


def test_every_process_reads_the_database_section_from_the_same_flat_environment() -> None:
    assert {f.name: f.type for f in msgspec.structs.fields(CommonSettings)}["database"] is DatabaseSettings
    for cls in every_settings_class():
        if issubclass(cls, CommonSettings):
            env = {
                "DATABASE_URL": "sqlite+aiosqlite:///x.db",
                "DATABASE_POOL_SIZE": "3",
                "DATABASE_ECHO": "1",
            }
            settings = load_settings(cls, env)
            assert settings.database == DatabaseSettings(
                database_url="sqlite+aiosqlite:///x.db", database_echo=True, database_pool_size=3
            )
            assert settings.resolved_database_url() == "sqlite+aiosqlite:///x.db"
            with pytest.raises(SettingsError) as info:
                load_settings(cls, {"DATABASE_POOL_SIZE": "500"})
            assert str(info.value) == "DATABASE_POOL_SIZE: Expected `int` <= 200"


@pytest.mark.parametrize("cls", WITH_STORAGE, ids=qualname)
def test_services_with_object_storage_compose_the_storage_section(cls: WithStorage) -> None:
    assert {f.name: f.type for f in msgspec.structs.fields(cls)}["storage"] is StorageSettings
    assert set(env_vars(StorageSettings)) <= set(env_vars(cls))


@pytest.mark.parametrize("cls", WITH_STORAGE, ids=qualname)
def test_the_storage_section_is_read_from_the_same_flat_environment(cls: WithStorage) -> None:
    env = {
        "PORT": "9100",
        "CLOUDFLARE_R2_ACCESS_KEY_ID": "id",
        "CLOUDFLARE_R2_SECRET_ACCESS_KEY": "s3cr3t-value",
        "CLOUDFLARE_R2_BUCKET_NAME": "sonda-data",
        "CLOUDFLARE_R2_REGION": "us-east-1",
        "SONDA_S3_ADDRESSING_STYLE": "virtual",
        "SONDA_S3_CREATE_BUCKET": "false",
    }
    settings = load_settings(cls, env)
    assert settings.port == 9100
    storage = settings.storage
    assert storage.cloudflare_r2_bucket_name == "sonda-data"
    assert storage.cloudflare_r2_region == "us-east-1"
    assert storage.sonda_s3_addressing_style == "virtual"
    assert storage.sonda_s3_create_bucket is False
    assert storage.cloudflare_r2_secret_access_key == Secret("s3cr3t-value")
    assert "s3cr3t-value" not in repr(settings)
    assert load_settings(cls, {}).storage == StorageSettings()
    # An override is keyed by the variable's field name, whichever section declares it.
    assert load_settings(cls, env, sonda_s3_create_bucket=True).storage.sonda_s3_create_bucket is True


@pytest.mark.parametrize("cls", WITH_STORAGE, ids=qualname)
@pytest.mark.parametrize(
    ("var", "value", "reason"),
    [
        ("SONDA_S3_ADDRESSING_STYLE", "sideways", "Invalid enum value 'sideways'"),
        ("SONDA_S3_CREATE_BUCKET", "maybe", "Expected `bool`, got `str`"),
    ],
)
def test_a_bad_storage_value_names_its_variable(cls: WithStorage, var: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(cls, {var: value})
    assert str(info.value) == f"{var}: {reason}"
