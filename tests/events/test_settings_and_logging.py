"""Typed settings from the environment and log redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog
from sonda_events.logging import bind_context, configure_logging, get_logger
from sonda_events.settings import CommonSettings, Secret, SettingsError, load_settings
from sonda_service.settings import ServiceSettings


def test_settings_are_read_and_converted_from_env() -> None:
    settings = load_settings(
        ServiceSettings,
        {"DATABASE_POOL_SIZE": "7", "DATABASE_ECHO": "true", "PORT": "8123", "SONDA_DATA_DIR": "/tmp/x"},
    )
    assert settings.database_pool_size == 7
    assert settings.database_echo is True
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


def test_common_settings_default_to_embedded_sqlite() -> None:
    assert load_settings(CommonSettings, {}).resolved_database_url().startswith("sqlite+aiosqlite:///")
