"""Personal data stays in: a Brazilian export with CPFs, CNPJs, phones and e-mails goes through
``sonda analyze`` and the WebSocket, and no raw value of those columns is printed, sent or logged
unless the owner asks for it with ``--include-pii``."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.flow import analyse
from tests.e2e.sonda_up import SondaUp
from tests.e2e.test_cli import sonda_cli

pytestmark = pytest.mark.slow

PERSONAL = ("cpf", "cnpj", "telefone", "email")


def _check_digit(body: str, first_weight: int) -> str:
    total = sum(int(ch) * w for ch, w in zip(body, range(first_weight, 1, -1), strict=False))
    return "0" if total % 11 < 2 else str(11 - total % 11)


def _cpf(rng: random.Random) -> str:
    body = "".join(str(rng.randrange(10)) for _ in range(9))
    body += _check_digit(body, 10)
    body += _check_digit(body, 11)
    return f"{body[:3]}.{body[3:6]}.{body[6:9]}-{body[9:]}"


def _cnpj(rng: random.Random) -> str:
    body = "".join(str(rng.randrange(10)) for _ in range(8)) + "0001"
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        rest = sum(int(ch) * w for ch, w in zip(body, weights, strict=True)) % 11
        body += "0" if rest < 2 else str(11 - rest)
    return f"{body[:2]}.{body[2:5]}.{body[5:8]}/{body[8:12]}-{body[12:]}"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    rng = random.Random(2024)
    rows = 400
    # A few customers buy more than once, so their values are also the "top values".
    customers = [
        (_cpf(rng), _cnpj(rng), f"(11) 9{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}",
         f"cliente.{i}@exemplo.com.br")
        for i in range(150)
    ]  # fmt: skip
    picked = [customers[min(int(rng.expovariate(0.05)), len(customers) - 1)] for _ in range(rows)]
    frame = pd.DataFrame(
        {
            "cpf": [c[0] for c in picked],
            "cnpj": [c[1] for c in picked],
            "telefone": [c[2] for c in picked],
            "email": [c[3] for c in picked],
            "cidade": [rng.choice(["Recife", "São Paulo", "Belém"]) for _ in range(rows)],
            "valor": [round(rng.uniform(10, 900), 2) for _ in range(rows)],
        }
    )
    # Some rows exported twice: the duplicated rows listed carry personal values too.
    frame = pd.concat([frame, frame.head(12)], ignore_index=True)
    path = tmp_path_factory.mktemp("pii") / "clientes.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")
    return frame, path


def raw_forms(frame: pd.DataFrame) -> set[str]:
    """Every personal value as written, and its bare digits (a CPF printed without its dots is
    still a CPF)."""
    forms: set[str] = set()
    for name in PERSONAL:
        for value in frame[name].astype(str):
            forms.add(value)
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 8 and name != "email":
                forms.add(digits)
    return forms


def leaked(text: str, frame: pd.DataFrame) -> list[str]:
    return sorted(v for v in raw_forms(frame) if v in text)


def test_the_report_shows_shapes_and_validity_not_values(
    sonda: SondaUp, export: tuple[pd.DataFrame, Path]
) -> None:
    frame, path = export
    done = sonda_cli("analyze", str(path), "--url", sonda.url)
    assert done.returncode == 0, done.stderr
    assert leaked(done.stdout + done.stderr, frame) == []
    assert "***.***.***-**" in done.stdout and "personal data" in done.stdout
    assert "cpf 100.0% valid" in done.stdout
    assert "Recife" in done.stdout  # other columns keep their values


def _json_without_llm_text(outcome: dict[str, Any]) -> str:
    # The LLM summary is masked by the query service's summary itself, outside this command.
    return json.dumps({k: v for k, v in outcome.items() if k != "llm_summary"}, ensure_ascii=False)


def test_json_masks_unless_the_owner_asks(sonda: SondaUp, export: tuple[pd.DataFrame, Path]) -> None:
    frame, path = export
    done = sonda_cli("analyze", str(path), "--url", sonda.url, "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert leaked(_json_without_llm_text(outcome) + done.stderr, frame) == []
    columns = {c["name"]: c for c in outcome["results"]["results"]["columns"]}
    assert {n for n, c in columns.items() if c["pii"]} == set(PERSONAL)
    top = columns["cpf"]["top_values"][0]
    assert top["value"] == "***.***.***-**" and top["count"] == frame["cpf"].value_counts().iloc[0]
    assert "stats" not in columns["cpf"] and columns["valor"]["stats"]["max"] == pytest.approx(
        frame["valor"].max()
    )
    repeated = outcome["results"]["results"]["duplicates"]
    assert len(repeated["rows"]) == 10 and all(r["count"] == 2 for r in repeated["rows"])
    assert {r["values"][0] for r in repeated["rows"]} == {"***.***.***-**"}

    owner = sonda_cli("analyze", str(path), "--url", sonda.url, "--json", "--include-pii")
    assert owner.returncode == 0, owner.stderr
    body = json.loads(owner.stdout)["results"]["results"]
    cpf = next(c for c in body["columns"] if c["name"] == "cpf")
    assert cpf["pii"] and cpf["top_values"][0]["value"] == frame["cpf"].value_counts().index[0]


def test_the_websocket_summary_and_the_logs_carry_no_personal_value(
    sonda: SondaUp, export: tuple[pd.DataFrame, Path]
) -> None:
    frame, path = export
    _, messages = asyncio.run(analyse(sonda.url, sonda.ws_url, path))
    assert messages[-1]["type"] == "analysis_completed", messages[-1]
    assert leaked(json.dumps(messages, ensure_ascii=False), frame) == []
    digests = {c["name"]: c for c in messages[-1]["summary"]["column_digests"]}
    assert {n for n, c in digests.items() if c["pii"]} == set(PERSONAL)
    pii_alerts = [a for a in messages[-1]["summary"]["alerts"] if a["type"] == "pii"]
    assert len(pii_alerts) == 1 and all(n in pii_alerts[0]["message"] for n in PERSONAL)
    assert leaked(sonda.logs(), frame) == []
