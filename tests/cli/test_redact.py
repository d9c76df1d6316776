"""The CLI's copy of a result keeps personal values off the terminal, in the duplicated rows too."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import numpy as np
import pandas as pd
from sonda_analyzer.engine import profile_dataframe

from sonda.client.redact import redact_result
from tests.support.documents import valid_cpf


def test_duplicated_rows_show_personal_cells_as_shapes() -> None:
    rng = np.random.default_rng(3)
    people = pd.DataFrame(
        {"cpf": [valid_cpf(rng) for _ in range(30)], "cidade": rng.choice(["Recife", "Natal"], 30)}
    )
    frame = people.iloc[rng.integers(0, 30, 200)].reset_index(drop=True)
    result: dict[str, Any] = msgspec.to_builtins(profile_dataframe(frame))
    assert next(c for c in result["columns"] if c["name"] == "cpf")["pii"]
    assert result["duplicates"]["rows"]

    shown = redact_result(result)
    text = json.dumps(shown, ensure_ascii=False)
    assert not any(cpf in text for cpf in frame["cpf"])
    listed = shown["duplicates"]["rows"]
    assert [r["count"] for r in listed] == [r["count"] for r in result["duplicates"]["rows"]]
    assert all(r["values"][0] == "***.***.***-**" for r in listed)
    assert [r["values"][1] for r in listed] == [r["values"][1] for r in result["duplicates"]["rows"]]
    assert result["duplicates"]["rows"][0]["values"][0] in set(frame["cpf"])  # the result itself is kept
