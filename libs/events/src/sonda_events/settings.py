"""Typed settings read from environment variables.

A settings class is a msgspec Struct; each field is read from the env var of the same name in upper
case (``database_url`` <- ``DATABASE_URL``), converted to the field's type, and validated once at
start. A bad value stops the start with a message naming the variable. Secrets are wrapped in
``Secret`` so they never show up in a repr or a log line.

A field whose type is itself a settings Struct is a section (``storage: StorageSettings``): it is
read from the same flat environment, so each variable is declared once, by the section that owns it,
and a process composes the sections it needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from sonda_events.codes import Code
from sonda_events.errors import SondaError


class SettingsError(SondaError):
    """A setting has a value Sonda cannot use."""

    code = Code.INVALID_SETTINGS


class Secret:
    """A string that prints as ``**********``; call ``reveal()`` where the value is really needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _dec_hook(tp: type, value: Any) -> Any:
    if tp is Secret and isinstance(value, str):
        return Secret(value)
    if tp is Path and isinstance(value, str):
        return Path(value).expanduser()
    raise NotImplementedError(f"cannot read a {tp!r} from the environment")


def default_data_dir() -> Path:
    return Path(os.environ.get("SONDA_DATA_DIR", ".sonda")).expanduser()


class DatabaseSettings(msgspec.Struct, kw_only=True):
    """The database of the event store and read models (a section of ``CommonSettings``)."""

    #: SQLAlchemy URL of the event store and read models (postgresql+psycopg://… or sqlite+aiosqlite://…).
    database_url: str = ""
    #: Log every SQL statement.
    database_echo: bool = False
    #: Connections kept per process (Postgres only).
    database_pool_size: Annotated[int, Meta(ge=1, le=200)] = 10


class CommonSettings(msgspec.Struct, kw_only=True):
    """Settings every Sonda process shares."""

    #: Event store and read models.
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    #: NATS server with JetStream.
    nats_url: str = "nats://127.0.0.1:4222"
    #: Folder for local data: SQLite store, local objects, embedded NATS.
    sonda_data_dir: Path = msgspec.field(default_factory=default_data_dir)
    #: debug, info, warning or error.
    sonda_log_level: str = "info"
    #: JSON logs (default when stderr is not a terminal).
    sonda_log_json: bool | None = None

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data folder."""
        if self.database.database_url:
            return self.database.database_url
        return f"sqlite+aiosqlite:///{(self.sonda_data_dir / 'sonda.db').resolve()}"


S = TypeVar("S", bound=msgspec.Struct)


def load_settings(cls: type[S], env: Mapping[str, str] | None = None, **overrides: Any) -> S:
    """Read ``cls`` and its sections from the environment (or ``env``), then apply ``overrides``.

    Overrides are keyed by field name, as the environment is, whichever section declares the field
    (``sonda_s3_create_bucket=False``); a section may also be given whole (``storage=...``).

    Raises:
        SettingsError: naming the variable and why its value is refused.
    """
    source = os.environ if env is None else env
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return msgspec.convert(_raw_values(cls, source, given), cls, strict=False, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        text = str(exc)
        # The path is the field's, through its sections (``$.storage.sonda_s3_addressing_style``);
        # the last name is the variable's.
        field = text.rsplit("`$.", 1)[-1].rstrip("`").rsplit(".", 1)[-1] if "`$." in text else ""
        var = field.upper() if field else "a setting"
        raise SettingsError(f"{var}: {text.split(' - at ', maxsplit=1)[0]}") from exc


def is_section(tp: object) -> bool:
    """True for a field type that is a settings section (a Struct read from the same environment)."""
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def env_vars(cls: type[msgspec.Struct]) -> list[str]:
    """The variables ``load_settings(cls)`` reads, its sections' included, in declaration order."""
    names: list[str] = []
    for field in msgspec.structs.fields(cls):
        names += env_vars(field.type) if is_section(field.type) else [field.name.upper()]
    return names


def _raw_values(
    cls: type[msgspec.Struct], source: Mapping[str, str], given: Mapping[str, Any]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        if field.name in given:
            values[field.name] = given[field.name]
        elif is_section(field.type):
            values[field.name] = _raw_values(field.type, source, given)
        else:
            raw = source.get(field.name.upper())
            if raw is not None and raw != "":
                values[field.name] = raw
    return values
