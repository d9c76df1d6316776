"""The schema export: a Frictionless resource from which pandas re-reads the file Sonda profiled.

The file is profiled by the real engine, its result served by the real query app; the test then
reads the file again with pandas using nothing but the schema's answer and compares the values
with the figures in Sonda's result.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import encode_result, profile_file

from tests.query.conftest import Harness
from tests.query.factories import Stream
from tests.query.test_endpoints import assert_problem

SCHEMA = "/api/v1/analysis/schema/{}"


def brl(cents: int) -> str:
    whole, frac = divmod(abs(cents), 100)
    return ("-R$ " if cents < 0 else "R$ ") + f"{whole:,}".replace(",", ".") + f",{frac:02d}"


def export(path: Path, n: int = 2_000) -> None:
    """A Brazilian sales export: cp1252, ";", decimal comma, dates, amounts, yes/no, gaps."""
    rng = np.random.default_rng(21)
    day, month = rng.integers(1, 29, n), rng.integers(1, 13, n)
    cities = rng.choice(["São Paulo", "Maceió", "Goiânia", "NA", ""], n)
    frame = pd.DataFrame({
        "data_venda": [f"{d:02d}/{m:02d}/2023" for d, m in zip(day, month, strict=True)],
        "hora": [f"{d:02d}.{m:02d}.2024 {h:02d}:{mi:02d}:00" for d, m, h, mi in
                 zip(day, month, rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)],
        "valor": [brl(int(c)) for c in rng.integers(-20_000, 9_000_000, n)],
        "desconto": [f"{v / 10:.1f}".replace(".", ",") + "%" for v in rng.integers(0, 400, n)],
        "estorno": [f"({c / 100:.2f})".replace(".", ",") if c % 3 else f"{c / 100:.2f}".replace(".", ",")
                    for c in rng.integers(0, 99_999, n)],
        "peso": [f"{v:.3f}".replace(".", ",") for v in rng.normal(70, 12, n)],
        "estoque": [f"{v:,}".replace(",", ".") for v in rng.integers(1_000, 900_000, n)],
        "itens": [str(v) for v in rng.integers(0, 40, n)],
        "pago": rng.choice(["S", "N"], n),
        "ativo": rng.choice(["Sim", "Não", "nao", "SIM"], n),
        "cliente_novo": rng.choice(["sim", "não"], n),
        "cidade": cities,
        "iso": [f"2022-{m:02d}-{d:02d}" for d, m in zip(day, month, strict=True)],
    })  # fmt: skip
    text = ";".join(frame.columns) + "\r\n"
    text += "".join(";".join(row) + "\r\n" for row in frame.itertuples(index=False))
    path.write_bytes(text.encode("cp1252"))


def _number(values: pd.Series, field: dict[str, Any]) -> pd.Series:
    """Frictionless number reading, plus Sonda's note that "()" marks a negative."""
    group, decimal = field.get("groupChar"), field.get("decimalChar", ".")
    parens = "()" in field.get("sonda", {}).get("stripped", [])

    def one(text: Any) -> float:
        if not isinstance(text, str):
            return np.nan
        negative = "-" in text or (parens and text.strip().startswith("("))
        digits = re.sub(rf"[^0-9{re.escape(decimal)}{re.escape(group or '')}]", "", text)
        if group:
            digits = digits.replace(group, "")
        value = float(digits.replace(decimal, "."))
        return -value if negative else value

    return values.map(one).astype("float64")


def read_with_schema(path: Path, body: dict[str, Any]) -> pd.DataFrame:
    dialect, fields = body["dialect"], body["schema"]["fields"]
    frame = pd.read_csv(
        path,
        sep=dialect["delimiter"],
        quotechar=dialect["quoteChar"],
        encoding=body["encoding"],
        header=0 if dialect["header"] else None,
        names=[f["name"] for f in fields],
        dtype=str,
        keep_default_na=False,
        na_values=body["schema"]["missingValues"],
    )
    for field in fields:
        name, kind, fmt = field["name"], field["type"], field.get("format", "default")
        column = frame[name]
        if kind == "number":
            frame[name] = _number(column, field)
        elif kind == "integer":
            frame[name] = pd.to_numeric(column).astype("Int64")
        elif kind in ("date", "datetime"):
            pattern = {"default": "%Y-%m-%d" if kind == "date" else "ISO8601", "any": "mixed"}.get(fmt, fmt)
            frame[name] = pd.to_datetime(column, format=pattern)
        elif kind == "boolean":
            truth = dict.fromkeys(field["trueValues"], True) | dict.fromkeys(field["falseValues"], False)
            assert column.dropna().isin(list(truth)).all(), name
            frame[name] = column.map(truth).astype("boolean")
    return frame


async def test_pandas_rereads_the_file_from_the_schema_alone(harness: Harness, tmp_path: Path) -> None:
    path = tmp_path / "vendas.csv"
    export(path)
    result = profile_file(path)
    s = Stream()
    await harness.append(
        s.requested(filename="Vendas 2023.csv"),
        s.started(),
        await harness.completed(s, msgspec.json.decode(encode_result(result))),
    )
    await harness.settle()
    response = await harness.client.get(SCHEMA.format(s.analysis_id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile"] == "tabular-data-resource" and body["name"] == "vendas-2023"
    assert (body["format"], body["mediatype"]) == ("csv", "text/csv")
    assert body["encoding"] == result.dataset.encoding and body["encoding"] in ("cp1252", "latin-1")
    assert body["dialect"]["delimiter"] == ";"
    fields = {f["name"]: f for f in body["schema"]["fields"]}
    assert fields["data_venda"] == {"name": "data_venda", "type": "date", "format": "%d/%m/%Y"}
    assert fields["valor"]["decimalChar"] == "," and fields["valor"]["groupChar"] == "."
    assert fields["valor"]["bareNumber"] is False
    assert "NA" in body["schema"]["missingValues"]

    frame = read_with_schema(path, body)
    assert list(frame.columns) == [c.name for c in result.columns]
    for col in result.columns:
        values = frame[col.name]
        assert int(values.notna().sum()) == col.count, col.name
        if col.stats is not None:
            numbers = values.dropna().astype("float64")
            assert numbers.mean() == pytest.approx(col.stats.mean, rel=1e-12), col.name
            assert (numbers.min(), numbers.max()) == (col.stats.min, col.stats.max), col.name
        elif col.datetime is not None:
            assert pd.Timestamp(col.datetime.min) == values.min(), col.name
            assert pd.Timestamp(col.datetime.max) == values.max(), col.name
        elif col.boolean is not None:
            assert (int(values.sum()), int((~values.dropna()).sum())) == (col.boolean.true, col.boolean.false)
        else:
            counts, tops = values.value_counts(), col.top_values or []
            assert tops and {v.value: v.count for v in tops} == {v.value: int(counts[v.value]) for v in tops}
    kinds = {c.name: c.type for c in result.columns}
    assert kinds["valor"] == "numeric" and kinds["ativo"] == "boolean" and kinds["hora"] == "datetime"


async def test_schema_answers_like_the_results(harness: Harness) -> None:
    running, failed, deleted, broken = Stream(), Stream(), Stream(), Stream()
    await harness.append(running.requested(), running.started())
    await harness.append(failed.requested(), failed.failed("timeout", "took too long"))
    await harness.append(deleted.requested(), await harness.completed(deleted), deleted.deleted())
    await harness.append(broken.requested(), await harness.completed(broken, {"not": "a profile"}))
    await harness.settle()
    get = harness.client.get
    assert_problem(await get(SCHEMA.format(running.analysis_id)), 409, "analysis_not_completed")
    assert_problem(await get(SCHEMA.format(failed.analysis_id)), 409, "analysis_failed")
    assert_problem(await get(SCHEMA.format(deleted.analysis_id)), 410, "analysis_deleted")
    assert_problem(await get(SCHEMA.format(broken.analysis_id)), 502, "result_unavailable")
    assert_problem(await get(SCHEMA.format(uuid.uuid4())), 404, "analysis_not_found")
    assert_problem(await get(SCHEMA.format("not-a-uuid")), 400, "invalid_analysis_id")
