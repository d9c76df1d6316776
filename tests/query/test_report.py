"""The downloadable report: one HTML file with every section, figures matching an independent
computation, hostile text escaped, personal data masked, and nothing loaded from anywhere."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine.profile import profile_file

from tests.query.conftest import Harness
from tests.query.factories import Stream
from tests.query.test_endpoints import assert_problem
from tests.support.documents import valid_cpf

REPORT = "/api/v1/analysis/report/{}"
HOSTILE = '<script>alert("x")</script> & "quoted"'


class Page(HTMLParser):
    """Tags, attributes and the text of each ``data-column`` card, read by a real HTML parser."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.cards: dict[str, list[str]] = {}
        self._card: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "article" and found.get("data-column") is not None:
            self._card, self._depth = str(found["data-column"]), 0
            self.cards[self._card] = []
        elif self._card is not None and tag == "article":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._card is not None:
            if self._depth == 0:
                self._card = None
            else:
                self._depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._card is not None:
            self.cards[self._card].append(data)


@pytest.fixture
def table(tmp_path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame(
        {
            "preco": np.round(rng.gamma(2.0, 150.0, n), 2),
            "quantidade": rng.integers(0, 50, n).astype(float),
            "cidade": rng.choice(["Recife", "Natal", "Belém", "Manaus"], n),
            "cpf": [valid_cpf(rng) for _ in range(n)],
            HOSTILE: rng.choice(["a", "b"], n),
        }
    )
    frame["total"] = (frame["preco"] * 3 + rng.normal(0, 20, n)).round(2)
    frame.loc[rng.choice(n, 37, replace=False), "quantidade"] = np.nan
    path = tmp_path / "vendas.csv"
    frame.to_csv(path, index=False)
    result: dict[str, Any] = msgspec.to_builtins(profile_file(path))
    for column in result["columns"]:
        if column["name"] == "cpf":
            column["pii"] = True  # what the analyzer sets for a CPF column
    return frame, result


async def _stored(harness: Harness, result: dict[str, Any], filename: str = "vendas.csv") -> uuid.UUID:
    s = Stream()
    await harness.append(s.requested(filename=filename), s.started(), await harness.completed(s, result))
    await harness.settle()  # written to the store directly (no bus): let the projector read it
    return s.analysis_id


def _figure(text: str) -> float:
    return float(text.replace(",", ""))


async def test_every_section_with_figures_an_independent_computation_agrees_with(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = table
    analysis_id = await _stored(harness, result)
    answer = await harness.client.get(REPORT.format(analysis_id))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    page = Page()
    page.feed(answer.text)
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"overview", "alerts", "missing", "columns", "correlations", "sample"} <= ids
    assert set(page.cards) == set(frame.columns)

    for name in ("preco", "quantidade"):
        card = [t.strip() for t in page.cards[name] if t.strip()]
        values = frame[name].dropna()
        for label, expected in (
            ("Mean", values.mean()),
            ("Minimum", values.min()),
            ("Maximum", values.max()),
            ("Median", values.median()),
            ("Standard deviation", values.std(ddof=1)),
        ):
            shown = _figure(card[card.index(label) + 1])
            assert shown == pytest.approx(expected, rel=1e-3, abs=1e-2), (name, label)
        missing = card[card.index("Missing") + 1]
        assert _figure(missing.split(" ")[0]) == frame[name].isna().sum()


async def test_no_script_and_nothing_from_another_host(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    _, result = table
    answer = await harness.client.get(REPORT.format(await _stored(harness, result)))
    page = Page()
    page.feed(answer.text)
    assert not [tag for tag, _ in page.tags if tag in {"script", "iframe", "img", "link", "object", "embed"}]
    for _, attrs in page.tags:
        for key in ("src", "href", "action"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (key, value)
    assert HOSTILE in "".join(page.text)  # shown as text, escaped
    assert "<script>" not in answer.text


async def test_personal_values_are_masked_unless_the_owner_asks(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = table
    analysis_id = await _stored(harness, result)
    masked = (await harness.client.get(REPORT.format(analysis_id))).text
    shown_rows = [row for row in result["sample"]["rows"]]
    cpf_index = result["sample"]["columns"].index("cpf")
    sampled = {row[cpf_index] for row in shown_rows}
    assert sampled
    assert not any(value in masked for value in frame["cpf"])
    assert "***.***.***-**" in masked
    revealed = (await harness.client.get(REPORT.format(analysis_id), params={"include_pii": "true"})).text
    assert all(value in revealed for value in sampled)


async def test_download_names_the_file_safely(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    _, result = table
    analysis_id = await _stored(harness, result, filename='../../vendas "março".csv')
    answer = await harness.client.get(REPORT.format(analysis_id), params={"download": "true"})
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    name = re.search(r'filename="([^"]+)"', disposition)
    assert name is not None and re.fullmatch(r"[A-Za-z0-9._-]+-sonda-report\.html", name.group(1))


async def test_problems_as_for_the_results(harness: Harness) -> None:
    assert_problem(await harness.client.get(REPORT.format(uuid.uuid4())), 404, "analysis_not_found")
    assert_problem(await harness.client.get(REPORT.format("not-an-id")), 400, "invalid_analysis_id")
    s = Stream()
    await harness.append(s.requested(), s.started())
    await harness.settle()
    assert_problem(await harness.client.get(REPORT.format(s.analysis_id)), 409, "analysis_not_completed")
    bad = await harness.client.get(REPORT.format(s.analysis_id), params={"include_pii": "maybe"})
    assert bad.status_code in (400, 422)


async def test_extreme_values_match_the_data(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = table
    answer = await harness.client.get(REPORT.format(await _stored(harness, result)))
    page = Page()
    page.feed(answer.text)
    card = [t.strip() for t in page.cards["quantidade"] if t.strip()]
    at = card.index("Smallest")
    counts = frame["quantidade"].dropna().value_counts().sort_index()
    cells = card[at + 4 : at + 4 + 4 * 5]
    smallest = [(_figure(cells[i]), _figure(cells[i + 1])) for i in range(0, len(cells), 4)]
    largest = [(_figure(cells[i + 2]), _figure(cells[i + 3])) for i in range(0, len(cells), 4)]
    assert smallest == [(float(v), float(c)) for v, c in counts.head(5).items()]
    assert largest == [(float(v), float(c)) for v, c in counts.tail(5)[::-1].items()]


async def test_last_rows_random_rows_and_scatter_plots(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = table
    answer = await harness.client.get(REPORT.format(await _stored(harness, result)))
    text = answer.text
    page = Page()
    page.feed(text)
    words = [t.strip() for t in page.text if t.strip()]
    assert {"First rows", "Last rows", "Random rows"} <= set(words)
    last = result["sample_tail"]
    assert last["row_numbers"][-1] == len(frame) - 1
    assert f"{len(frame):,}" in words[words.index("Last rows") :]
    plots = result["scatter"]
    assert [(p["x"], p["y"]) for p in plots] == [("preco", "total")]
    circles = [attrs for tag, attrs in page.tags if tag == "circle"]
    assert len(circles) == plots[0]["rows_sampled"] == min(len(frame), 400)


class Rows(HTMLParser):
    """The text of each cell of each row, in the section with ``section_id``."""

    def __init__(self, section_id: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._id = section_id
        self._inside = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._inside = dict(attrs).get("id") == self._id
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._inside = False
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _cells(html: str, section_id: str) -> list[list[str]]:
    parser = Rows(section_id)
    parser.feed(html)
    return parser.rows


@pytest.fixture
def repeated(tmp_path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Customers bought more than once: whole rows repeat, CPF and all."""
    rng = np.random.default_rng(17)
    customers = pd.DataFrame(
        {
            "cpf": [valid_cpf(rng) for _ in range(60)],
            "cidade": rng.choice(["Recife", "Natal"], 60),
            "plano": rng.choice(["mensal", "anual"], 60),
        }
    )
    frame = customers.iloc[np.minimum(rng.geometric(0.15, 500) - 1, 59)].reset_index(drop=True)
    path = tmp_path / "clientes.csv"
    frame.to_csv(path, index=False)
    result: dict[str, Any] = msgspec.to_builtins(profile_file(path))
    assert next(c for c in result["columns"] if c["name"] == "cpf")["pii"]
    return frame, result


async def test_duplicate_rows_listed_with_the_counts_pandas_gives_personal_cells_masked(
    harness: Harness, repeated: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = repeated
    analysis_id = await _stored(harness, result, filename="clientes.csv")
    masked = (await harness.client.get(REPORT.format(analysis_id))).text
    rows = _cells(masked, "duplicates")
    assert rows[0] == ["Rows", *frame.columns]
    expected = frame[frame.duplicated(keep=False)].value_counts().sort_values(ascending=False)
    assert [_figure(r[0]) for r in rows[1:]] == expected.head(10).tolist()
    assert all(r[1] == "***.***.***-**" for r in rows[1:])
    assert not any(value in masked for value in frame["cpf"])
    # The other cells are the rows' own: every listed row is one of pandas' duplicated rows.
    assert {(r[2], r[3]) for r in rows[1:]} <= {(c, p) for _, c, p in expected.index}
    assert f"{int(frame.duplicated().sum()):,} rows repeat" in masked

    revealed = (await harness.client.get(REPORT.format(analysis_id), params={"include_pii": "true"})).text
    shown = _cells(revealed, "duplicates")[1:]
    assert len(shown) == len(rows) - 1
    for count, cpf, cidade, plano in shown:  # each row, its values and its count as pandas has them
        assert _figure(count) == expected[(cpf, cidade, plano)]


async def test_no_repeated_row_says_so(harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    _, result = table
    text = (await harness.client.get(REPORT.format(await _stored(harness, result)))).text
    assert _cells(text, "duplicates") == []
    assert "No row repeats." in text


async def test_the_missing_value_matrix_is_inline_svg_of_the_sampled_rows(
    harness: Harness, table: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    frame, result = table
    text = (await harness.client.get(REPORT.format(await _stored(harness, result)))).text
    page = Page()
    page.feed(text)
    matrix = result["missing"]["matrix"]
    sampled = frame.iloc[matrix["row_numbers"]].isna()
    assert len(sampled) == min(len(frame), 400)
    bands = [a for tag, a in page.tags if tag == "rect" and a.get("class") == "present"]
    gaps = [a for tag, a in page.tags if tag == "rect" and a.get("class") == "gap"]
    assert len(bands) == len(frame.columns)
    xs = [float(str(a["x"])) for a in bands]
    line = 240 / len(sampled)
    for name, x in zip(frame.columns, xs, strict=True):
        drawn = sum(float(str(a["height"])) for a in gaps if float(str(a["x"])) == x)
        assert round(drawn / line) == int(sampled[name].sum()), name
    assert int(sampled["quantidade"].sum()) > 0
