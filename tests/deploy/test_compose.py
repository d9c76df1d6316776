"""docker-compose.yml and deploy/: what can be checked without a Docker engine.

The YAML parses into the services the deployment needs, each with a healthcheck and healthy
dependencies; every command a Sonda container runs exists in the CLI; every environment variable
given to a Sonda container is one that service's settings read; the image builds what compose uses.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from sonda_events.bus import MIN_NATS_SERVER, MIN_NATS_SERVER_TEXT
from sonda_events.bus.server import parse_version
from sonda_events.recorder import RecorderSettings
from sonda_events.settings import CommonSettings, env_vars
from sonda_service import ServiceSettings

from sonda.cli import cli
from sonda.commands.serve import serve
from sonda.gateway.routes import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def sonda_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The containers running the Sonda image (built from deploy/Dockerfile, target ``service``)."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if (svc.get("build") or {}).get("target") == "service"
    }


def settings_class(service: str) -> type[CommonSettings]:
    module = importlib.import_module(f"sonda_{service}.settings")
    found = [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, CommonSettings) and obj.__module__ == module.__name__
    ]
    assert len(found) == 1, f"sonda_{service}.settings should declare one settings class, found {found}"
    return found[0]


def known_vars(cls: type[CommonSettings]) -> set[str]:
    return set(env_vars(cls))


def test_yaml_has_every_part_of_the_deployment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"nats", "postgres", "minio", "bucket", "proxy", *SERVICES} <= set(services)
    assert set(sonda_services(compose)) == set(SERVICES)
    assert "-js" in services["nats"]["command"]
    assert any(v.startswith("nats-data:") for v in services["nats"]["volumes"])
    assert services["proxy"]["ports"] == ["${SONDA_PORT:-8000}:8000"]


def test_the_nats_image_meets_the_supported_floor(compose: dict[str, Any]) -> None:
    """The pinned image is a nats-server Sonda runs on (older ones are refused at start)."""
    image = compose["services"]["nats"]["image"]
    name, _, tag = image.partition(":")
    assert name == "nats" and tag, f"pin the nats image to a version: {image}"
    version = parse_version(tag)
    assert version is not None, f"the nats image tag {tag} names no version"
    assert version[:2] >= MIN_NATS_SERVER, f"{image} is older than nats-server {MIN_NATS_SERVER_TEXT}"
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert f"`{image}`" in readme, "deploy/README.md names the image compose runs"


def test_every_long_running_service_has_a_healthcheck_and_waits_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, svc in services.items():
        if svc.get("restart") == "no":  # the one-shot bucket creation
            continue
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in (svc.get("depends_on") or {}).items():
            expected = (
                "service_completed_successfully"
                if services[dependency].get("restart") == "no"
                else "service_healthy"
            )
            assert condition == {"condition": expected}, f"{name} -> {dependency}: {condition}"
    assert set(services["proxy"]["depends_on"]) == set(SERVICES)
    for svc in SERVICES:
        assert {"nats", "postgres"} <= set(services[svc]["depends_on"])


def test_api_keys_are_required(compose: dict[str, Any]) -> None:
    for name, svc in sonda_services(compose).items():
        keys = svc["environment"]["SONDA_API_KEYS"]
        assert keys.startswith("${SONDA_WEB_API_KEY:?"), f"{name} must refuse to start without keys"


@pytest.mark.parametrize("service", SERVICES)
def test_each_sonda_container_runs_a_command_of_the_cli(compose: dict[str, Any], service: str) -> None:
    command = sonda_services(compose)[service]["command"]
    assert command[:2] == ["serve", service]
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Run one service alone" in result.output
    ctx = serve.make_context("serve", list(command[1:]))
    assert ctx.params["service"] == service
    assert ctx.params["host"] == "0.0.0.0"


def test_a_command_the_cli_does_not_know_is_refused() -> None:
    """The check above can fail: an unknown option or service is an error, not help."""
    assert CliRunner().invoke(cli, ["serve", "ingest", "--workers", "4", "--help"]).exit_code == 2
    # --help is eager, so the service name is checked by parsing the command for real.
    assert CliRunner().invoke(cli, ["serve", "billing"]).exit_code == 2
    with pytest.raises(click.BadParameter):
        serve.make_context("serve", ["billing"])


@pytest.mark.parametrize("service", SERVICES)
def test_every_env_var_of_a_sonda_container_is_a_setting_of_that_service(
    compose: dict[str, Any], service: str
) -> None:
    env = sonda_services(compose)[service]["environment"]
    known = known_vars(settings_class(service))
    if service == "query":  # the recorder runs inside query and reads its own settings too
        known |= known_vars(RecorderSettings)
    unknown = sorted(set(env) - known)
    assert not unknown, f"{service} is given variables no setting reads: {unknown}"


def test_the_settings_classes_build_on_the_shared_ones() -> None:
    for service in SERVICES:
        cls = settings_class(service)
        assert issubclass(cls, ServiceSettings)
        assert known_vars(ServiceSettings) <= known_vars(cls)


def test_ports_in_compose_are_where_the_proxy_sends_requests(compose: dict[str, Any]) -> None:
    template = (ROOT / "deploy" / "nginx" / "default.conf.template").read_text()
    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+\w+:(\d+);", template))
    for service in SERVICES:
        assert sonda_services(compose)[service]["environment"]["PORT"] == upstreams[service]


def test_the_image_has_a_stage_per_role_and_runs_services_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, flags=re.MULTILINE)
    assert stages == ["build", "proxy", "service"]
    service_stage = text.split("AS service", 1)[1]
    user = re.search(r"^USER\s+(\S+)", service_stage, flags=re.MULTILINE)
    assert user is not None and user.group(1) not in ("root", "0")
    assert 'ENTRYPOINT ["sonda"]' in service_stage
    assert "uv sync --frozen --no-dev" in text
    for source in re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s+\S+$", text, flags=re.MULTILINE):
        if not source.startswith("/"):
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    for var in re.findall(r"\b(SONDA_[A-Z_]+)=", service_stage):
        assert var in known_vars(CommonSettings), f"{var} set in the image is not a setting"
