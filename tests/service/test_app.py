"""The shared HTTP edge: problem bodies, API keys, health, correlation ids, OpenAPI."""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient
from sonda_events.errors import ConcurrencyError
from sonda_service import ProblemError, ServiceSettings, build_app
from sonda_service.auth import ApiKeys, digest

from tests.support.servers import LOCAL


@get("/api/v1/thing/{n:int}")
async def thing(n: FromPath[int]) -> dict[str, int]:
    if n == 404:
        raise ProblemError(404, "thing_not_found", "no thing 404")
    if n == 409:
        raise ConcurrencyError("s", 1, 2)
    if n == 500:
        raise RuntimeError("secret internals")
    return {"n": n}


@post("/api/v1/echo")
async def echo(data: JSONBody[dict[str, int]]) -> dict[str, int]:
    return data


async def failing_check() -> None:
    raise ConnectionError("database down")


async def ok_check() -> str:
    return "fine"


def make(keys: str = "", checks: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    settings = ServiceSettings(sonda_api_keys=keys, sonda_max_body_kb=1)
    return build_app("test", [thing, echo], settings=settings, readiness=checks or {"x": ok_check})


async def test_errors_are_problem_bodies_with_stable_codes() -> None:
    async with AsyncTestClient(make(), base_url=LOCAL) as client:
        r = await client.get("/api/v1/thing/404")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "thing_not_found"
        r = await client.get("/api/v1/thing/409")
        assert (r.status_code, r.json()["code"]) == (409, "version_conflict")
        r = await client.get("/api/v1/thing/500")
        assert (r.status_code, r.json()["code"]) == (500, "internal_error")
        assert "secret" not in r.text
        r = await client.get("/api/v1/nowhere")
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        r = await client.post(
            "/api/v1/echo", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (400, "malformed_json")
        r = await client.post(
            "/api/v1/echo", content=b'{"a": 1', headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (400, "malformed_json")
        r = await client.post("/api/v1/echo", json={"a": "not an int"})
        assert (r.status_code, r.json()["code"]) == (422, "validation_error")
        assert r.json()["errors"][0]["key"] == "data"
        r = await client.post(
            "/api/v1/echo", content=b"[" + b"1," * 2000 + b"1]", headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")


async def test_api_keys_guard_every_route_but_health() -> None:
    async with AsyncTestClient(make(keys=f"k1,sha256:{digest('k2')}"), base_url=LOCAL) as client:
        assert (await client.get("/api/v1/thing/1")).status_code == 401
        assert (await client.get("/api/v1/thing/1")).json()["code"] == "unauthorized"
        assert (await client.get("/api/v1/thing/1", headers={"X-API-Key": "nope"})).status_code == 401
        assert (
            await client.get("/api/v1/thing/1", headers={"Authorization": "Bearer k1"})
        ).status_code == 200
        assert (await client.get("/api/v1/thing/1", headers={"X-API-Key": "k2"})).status_code == 200
        assert (await client.get("/api/v1/health/live")).status_code == 200
    async with AsyncTestClient(make(), base_url=LOCAL) as client:
        assert (await client.get("/api/v1/thing/1")).status_code == 200


def test_key_ids_never_reveal_the_key() -> None:
    keys = ApiKeys("alpha,beta")
    assert keys.identify("alpha") == f"key_{digest('alpha')[:12]}"
    assert keys.identify("gamma") is None
    assert keys.identify(None) is None
    assert not ApiKeys(" , ").enabled


async def test_readiness_reports_each_check_and_fails_with_503() -> None:
    async with AsyncTestClient(
        make(checks={"db": failing_check, "nats": ok_check}), base_url=LOCAL
    ) as client:
        r = await client.get("/api/v1/health/ready")
        assert r.status_code == 503
        body = r.json()
        assert body["checks"]["db"]["ok"] is False
        assert "database down" in body["checks"]["db"]["error"]
        assert body["checks"]["nats"]["ok"] is True
        assert (await client.get("/api/v1/health/live")).status_code == 200


async def test_correlation_id_is_echoed_or_created() -> None:
    async with AsyncTestClient(make(), base_url=LOCAL) as client:
        r = await client.get("/api/v1/thing/1", headers={"X-Correlation-Id": "abc-123"})
        assert r.headers["x-correlation-id"] == "abc-123"
        r = await client.get("/api/v1/thing/1", headers={"X-Correlation-Id": "bad id\nwith newline"})
        assert r.headers["x-correlation-id"] != "bad id\nwith newline"
        assert len(r.headers["x-correlation-id"]) == 36


async def test_openapi_schema_and_docs_redirect_and_metrics() -> None:
    async with AsyncTestClient(make(), base_url=LOCAL) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        assert "/api/v1/thing/{n}" in schema["paths"]
        assert (await client.get("/docs", follow_redirects=False)).status_code in (301, 302, 307, 308)
        await client.get("/api/v1/thing/1")
        assert "sonda_test" in (await client.get("/metrics")).text
