"""Typed settings from the environment and log redaction."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
import structlog
import uvicorn.config
from msgspec import Meta
from sonda_events.logging import bind_context, configure_logging, get_logger, scrub
from sonda_events.settings import CommonSettings, Secret, SettingsError, env_vars, load_settings
from sonda_service.settings import ServiceSettings


def test_settings_are_read_and_converted_from_env() -> None:
    settings = load_settings(
        ServiceSettings,
        {"DATABASE_POOL_SIZE": "7", "DATABASE_ECHO": "true", "PORT": "8123", "SONDA_DATA_DIR": "/tmp/x"},
    )
    assert settings.database.database_pool_size == 7
    assert settings.database.database_echo is True
    assert settings.port == 8123
    assert settings.sonda_data_dir == Path("/tmp/x")
    assert settings.resolved_database_url() == "sqlite+aiosqlite:////tmp/x/sonda.db"


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE"), ({"PORT": "70000"}, "PORT")],
)
def test_a_bad_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(ServiceSettings, env)
    assert str(info.value).startswith(variable)


class _Inner(msgspec.Struct, kw_only=True):
    inner_limit: Annotated[int, Meta(ge=1)] = 1
    inner_token: Secret | None = None


class _Outer(msgspec.Struct, kw_only=True):
    outer_name: str = "x"
    inner: _Inner = msgspec.field(default_factory=_Inner)


class _Composed(msgspec.Struct, kw_only=True):
    top_url: str = ""
    outer: _Outer = msgspec.field(default_factory=_Outer)


def test_sections_are_read_from_the_same_flat_environment_at_any_depth() -> None:
    env = {"INNER_LIMIT": "5", "INNER_TOKEN": "t0ken", "OUTER_NAME": "y", "TOP_URL": "nats://h:1"}
    settings = load_settings(_Composed, env)
    assert settings.top_url == "nats://h:1"
    assert settings.outer.outer_name == "y"
    assert settings.outer.inner == _Inner(inner_limit=5, inner_token=Secret("t0ken"))
    assert load_settings(_Composed, env, inner_limit=9).outer.inner.inner_limit == 9
    assert load_settings(_Composed, {}).outer == _Outer()
    assert env_vars(_Outer) == ["OUTER_NAME", "INNER_LIMIT", "INNER_TOKEN"]
    assert "INNER" not in env_vars(_Composed)  # a section is no variable of its own


@pytest.mark.parametrize(
    ("value", "reason"), [("0", "Expected `int` >= 1"), ("many", "Expected `int`, got `str`")]
)
def test_a_bad_value_in_a_section_names_the_variable(value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_Composed, {"INNER_LIMIT": value})
    assert str(info.value) == f"INNER_LIMIT: {reason}"


def test_secrets_never_print() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert secret.reveal() == "hunter2"


def test_json_logs_carry_context_and_redact_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", json=True)
    bind_context(analysis_id="a1", correlation_id="c1")
    get_logger().info("hello", upload_url="https://x/?X-Amz-Signature=abc", authorization="Bearer k")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["analysis_id"] == "a1"
    assert line["correlation_id"] == "c1"
    assert line["service"] == "test"
    assert "abc" not in json.dumps(line)
    assert line["authorization"] == "**********"
    structlog.reset_defaults()


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Yields a function returning the JSON lines written since its last call; undoes the logging
    configuration afterwards. Tests configure in their body: a fixture's stderr is not the test's."""

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]

    yield lines
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if type(handler).__module__ == "sonda_events.logging":
            root.removeHandler(handler)
    structlog.reset_defaults()


def test_stdlib_records_come_out_as_the_same_json_lines_redacted(json_logs: Any) -> None:
    configure_logging("test", json=True)
    # as under ``sonda serve`` (an earlier test's uvicorn may have set its own ``log_level``)
    logging.getLogger("uvicorn.error").setLevel(logging.NOTSET)
    logging.getLogger("nats.aio.client").warning("connecting to nats://u:secret@h:4222")
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', ("127.0.0.1", 50000), "/api/v1/analysis/websocket/x?api_key=abc"
    )
    try:
        raise ConnectionError("cannot reach postgresql://sonda:pw-in-traceback@db/sonda")
    except ConnectionError:
        logging.getLogger("sqlalchemy.pool").exception("pool failed")
    nats_line, uvicorn_line, error_line = json_logs()
    assert nats_line["event"] == "connecting to nats://**********@h:4222"
    assert nats_line["logger"] == "nats.aio.client"
    assert nats_line["level"] == "warning"
    assert nats_line["service"] == "test"
    assert uvicorn_line["logger"] == "uvicorn.error"
    assert uvicorn_line["level"] == "info"  # uvicorn's lines at the service's level, as before
    assert uvicorn_line["event"].endswith('/x?api_key=**********" [accepted]')
    assert "pw-in-traceback" not in error_line["exception"]
    assert "ConnectionError" in error_line["exception"]


def test_library_info_lines_stay_quiet_below_warning(json_logs: Any) -> None:
    configure_logging("test", json=True)
    logging.getLogger("sqlalchemy.engine").info("SELECT 1")
    logging.getLogger("aiosqlite").debug("executing")
    assert json_logs() == []


def test_nats_connection_lines_never_print_credentials(json_logs: Any) -> None:
    configure_logging("test", json=True)
    log = get_logger("sonda_events.bus.connection")
    log.warning("nats_disconnected", url="nats://sonda:nats-pw@127.0.0.1:4222")
    log.info("nats_reconnected", url="nats://s3cr3t-token@h1:4222,nats://u:p@ss@h2:4222")
    text = json.dumps(json_logs())
    for secret in ("nats-pw", "s3cr3t-token", "p@ss", "sonda:"):
        assert secret not in text
    assert "h1:4222" in text and "127.0.0.1:4222" in text


def test_uvicorns_own_handlers_are_replaced_and_a_silenced_access_log_stays_silent(json_logs: Any) -> None:
    # What ``uvicorn --factory ...`` does before the app (and its configure_logging) is loaded.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    configure_logging("test", json=True)
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/x?sig=abc", "1.1", 200)
    (line,) = json_logs()
    assert line["logger"] == "uvicorn.access"
    assert line["event"] == '127.0.0.1:1 - "GET /x?sig=********** HTTP/1.1" 200'
    # ``access_log=False``: uvicorn leaves the logger without handler and propagation
    access.handlers.clear()
    access.propagate = False
    configure_logging("test", json=True)
    access.info("not shown")
    assert json_logs() == []
    access.propagate = True


def test_configuring_again_replaces_the_handler(json_logs: Any) -> None:
    configure_logging("test", json=True)
    configure_logging("again", json=True)
    logging.getLogger("nats").warning("once")
    (line,) = json_logs()
    assert line["service"] == "again"


def test_common_settings_default_to_embedded_sqlite() -> None:
    assert load_settings(CommonSettings, {}).resolved_database_url().startswith("sqlite+aiosqlite:///")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        # websockets logs handshake headers at debug level through uvicorn's logger
        (
            "< sec-websocket-protocol: sonda.v1, bearer.k-123",
            "< sec-websocket-protocol: sonda.v1, bearer.**********",
        ),
        ("> Authorization: Bearer k-123", "> Authorization: Bearer **********"),
        ("x-api-key: k-123", "x-api-key: **********"),
        ("a valid API key is required (Authorization: Bearer <key>)", None),
    ],
)
def test_keys_in_logged_headers_are_hidden(line: str, shown: str | None) -> None:
    assert scrub(line) == (shown if shown is not None else line)
