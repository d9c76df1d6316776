"""``GET /api/v1/analysis/compare``: engine results stored and projected as the analyzer leaves them,
read back through the results path, and every bad input answered with a problem body."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from sonda_query.compare import CompareOptions, compare_results
from sonda_query.compare.compare import side_of

from tests.query.conftest import Harness
from tests.query.factories import Stream
from tests.query.test_compare import profile, sales
from tests.query.test_endpoints import assert_problem

COMPARE = "/api/v1/analysis/compare"


@pytest.fixture(scope="module")
def results() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    table = sales(rows=3000, seed=21)
    first, second = table.iloc[::2], table.iloc[1::2]
    moved = second.copy()
    moved["peso"] = moved["peso"] * 1.4
    moved["uf"] = np.random.default_rng(2).choice(["SP", "RJ", "MG", "BA"], len(moved))
    return profile(first), profile(second), profile(pd.DataFrame(moved))


async def completed(harness: Harness, result: dict[str, Any], filename: str = "vendas.csv") -> uuid.UUID:
    stream = Stream()
    await harness.append(
        stream.requested(filename=filename), stream.started(), await harness.completed(stream, result)
    )
    return stream.analysis_id


async def test_compare_two_stored_analyses(
    harness: Harness, results: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    base = await completed(harness, results[0], "janeiro.csv")
    same = await completed(harness, results[1], "fevereiro.csv")
    moved = await completed(harness, results[2], "março.csv")
    await harness.settle()
    response = await harness.client.get(COMPARE, params={"base": str(base), "target": str(same)})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = compare_results(
        results[0],
        results[1],
        base_side=side_of(results[0], analysis_id=str(base), filename="janeiro.csv"),
        target_side=side_of(results[1], analysis_id=str(same), filename="fevereiro.csv"),
    )
    assert body == msgspec.json.decode(msgspec.json.encode(expected))
    assert body["dataset_drift"] is False and not any(c["drifted"] for c in body["columns"])
    assert (body["base"]["filename"], body["target"]["analysis_id"]) == ("janeiro.csv", str(same))

    drifted = (await harness.client.get(COMPARE, params={"base": str(base), "target": str(moved)})).json()
    assert {c["name"] for c in drifted["columns"] if c["drifted"]} == {"peso", "uf"}
    assert drifted["changes"][0].startswith(("peso drifted", "uf drifted"))
    again = await harness.client.get(COMPARE, params={"base": str(base), "target": str(moved)})
    assert again.json() == drifted


async def test_thresholds_are_options(
    harness: Harness, results: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    base, moved = await completed(harness, results[0]), await completed(harness, results[2])
    await harness.settle()
    query = {"base": str(base), "target": str(moved)}
    default = (await harness.client.get(COMPARE, params=query)).json()
    assert default["options"] == msgspec.to_builtins(CompareOptions())
    psi = (await harness.client.get(COMPARE, params=query | {"numeric_method": "psi"})).json()
    peso = next(c for c in psi["columns"] if c["name"] == "peso")
    assert (peso["metric"], peso["threshold"], peso["value"]) == ("psi", 0.1, peso["detail"]["psi"])
    lenient = (
        await harness.client.get(
            COMPARE, params=query | {"wasserstein_threshold": "5", "jensen_shannon_threshold": "0.8"}
        )
    ).json()
    assert not any(c["drifted"] for c in lenient["columns"])
    assert lenient["options"]["wasserstein_threshold"] == 5.0
    strict = (await harness.client.get(COMPARE, params=query | {"drift_share": "0.1"})).json()
    assert strict["dataset_drift"] is True and strict["drift"]["drift_share"] == 0.1
    for name, value in (
        ("wasserstein_threshold", "x"),
        ("psi_threshold", "-1"),
        ("jensen_shannon_threshold", "2"),
        ("drift_share", "nan"),
        ("numeric_method", "ks"),
        ("base_min_version", "0"),
    ):
        body = assert_problem(
            await harness.client.get(COMPARE, params=query | {name: value}), 422, "invalid_parameter"
        )
        assert name in body["detail"]


async def test_bad_input_is_a_problem_with_a_stable_code(
    harness: Harness, results: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    good = await completed(harness, results[0])
    running, failed, deleted = Stream(), Stream(), Stream()
    await harness.append(running.requested(), running.started())
    await harness.append(failed.requested(), failed.failed("parse_error", "not a table"))
    await harness.append(deleted.requested(), await harness.completed(deleted, results[1]), deleted.deleted())
    await harness.settle()

    async def ask(base: object, target: object, status: int, code: str) -> dict[str, Any]:
        response = await harness.client.get(COMPARE, params={"base": str(base), "target": str(target)})
        return assert_problem(response, status, code)

    body = await ask(good, uuid.uuid4(), 404, "analysis_not_found")
    assert body["detail"].startswith("target: ")
    body = await ask(uuid.uuid4(), good, 404, "analysis_not_found")
    assert body["detail"].startswith("base: ")
    await ask(good, running.analysis_id, 409, "analysis_not_completed")
    body = await ask(failed.analysis_id, good, 409, "analysis_failed")
    assert "not a table" in body["detail"]
    await ask(good, deleted.analysis_id, 410, "analysis_deleted")
    await ask(good, good, 422, "same_analysis")
    await ask(good, "not-a-uuid", 400, "invalid_analysis_id")
    await ask("{" + str(good) + "}", good, 400, "invalid_analysis_id")
    missing = await harness.client.get(COMPARE, params={"base": str(good)})
    assert "target" in assert_problem(missing, 422, "invalid_parameter")["detail"]
    assert_problem(await harness.client.get(COMPARE), 422, "invalid_parameter")


async def test_a_target_deleted_after_a_comparison_is_refused(
    harness: Harness, results: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    base = await completed(harness, results[0])
    stream = Stream()
    await harness.append(stream.requested(), await harness.completed(stream, results[1]))
    await harness.settle()
    query = {"base": str(base), "target": str(stream.analysis_id)}
    assert (await harness.client.get(COMPARE, params=query)).status_code == 200
    await harness.append(stream.deleted())
    await harness.settle()  # (with NATS, the deletion's event in JetStream answers even before)
    assert_problem(await harness.client.get(COMPARE, params=query), 410, "analysis_deleted")


async def test_openapi_documents_the_comparison(harness: Harness) -> None:
    schema = (await harness.client.get("/schema/openapi.json")).json()
    operation = schema["paths"][COMPARE]["get"]
    assert {"200", "400", "404", "409", "410", "422"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"]}
    assert {"base", "target", "wasserstein_threshold", "drift_share", "numeric_method"} <= names
