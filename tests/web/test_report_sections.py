"""The page's duplicate rows, missing-value matrix and print stylesheet, drawn by the page's own
modules in Chromium from results the engine computed, checked against pandas on the same data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, sync_playwright
from sonda_analyzer.engine import encode_result, profile_dataframe

from tests.support.documents import valid_cpf
from tests.web.test_static_page import CHROMIUM, CHROMIUM_ARGS, static_server

__all__ = ["static_server"]  # the fixture, imported for this module's tests

pytestmark = pytest.mark.browser


def customers() -> pd.DataFrame:
    """Customers who bought more than once (whole rows repeat, CPF and all), with gaps."""
    rng = np.random.default_rng(23)
    people = pd.DataFrame(
        {
            "cpf": [valid_cpf(rng) for _ in range(80)],
            "cidade": rng.choice(["Recife", "Natal", "Belém"], 80),
            "plano": rng.choice(np.array(["mensal", "anual", None], dtype=object), 80),
            "nota": rng.choice([1.0, 2.0, np.nan], 80),
        }
    )
    return people.iloc[np.minimum(rng.geometric(0.1, 900) - 1, 79)].reset_index(drop=True)


@pytest.fixture
def page(static_server: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            opened = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            opened.on("pageerror", lambda e: errors.append(str(e)))
            opened.goto(static_server + "/")
            opened.wait_for_selector("body[data-ready=true]", timeout=30_000)
            yield opened
            assert errors == []
        finally:
            browser.close()


def show(page: Page, result: dict[str, Any] | str) -> None:
    """Draw a result where the page draws its reports, as when an analysis completes."""
    page.evaluate(
        """async (result) => {
            const { renderReport } = await import("./report.js");
            const data = typeof result === "string" ? JSON.parse(result) : result;
            renderReport(document.getElementById("report-body"), data, { analysis_id: "a", filename: "f.csv" });
            document.getElementById("report").hidden = false;
        }""",
        result,
    )


def test_duplicate_rows_with_their_counts_personal_cells_masked(page: Page) -> None:
    frame = customers()
    result = profile_dataframe(frame)
    assert next(c for c in result.columns if c.name == "cpf").pii
    show(page, encode_result(result).decode())
    expected = frame[frame.duplicated(keep=False)].value_counts(dropna=False)
    rows = page.eval_on_selector_all(
        "#duplicate-rows tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [int(r[0].replace(",", "")) for r in rows] == sorted(expected.tolist(), reverse=True)[:10]
    assert all(r[1] == "***.***.***-**" for r in rows)
    text = page.text_content("#report-body") or ""
    assert not any(cpf in text for cpf in frame["cpf"])
    page.click("#reveal-pii")
    shown = page.eval_on_selector_all(
        "#duplicate-rows tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.classList.contains('null-cell') ? null : c.textContent))",
    )
    lookup = {
        tuple(None if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)) for v in key): int(n)
        for key, n in expected.items()
    }
    for count, *values in shown:  # each listed row is a duplicated row pandas counts as often
        assert lookup[tuple(values)] == int(count.replace(",", ""))


def test_no_repeated_row_is_said(page: Page) -> None:
    show(page, encode_result(profile_dataframe(pd.DataFrame({"n": range(50)}))).decode())
    assert page.text_content("#duplicate-rows-none") == "No row repeats."


def test_the_missing_value_matrix_draws_the_sampled_rows_gaps(page: Page) -> None:
    rng = np.random.default_rng(4)
    n = 5_000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["x", "y"], n), "c": rng.normal(size=n)})
    frame.loc[rng.random(n) < 0.3, "a"] = np.nan
    frame.loc[rng.random(n) < 0.05, "b"] = None
    result = profile_dataframe(frame)
    assert result.missing is not None and result.missing.matrix is not None
    sampled = frame.iloc[result.missing.matrix.row_numbers].isna()
    show(page, encode_result(result).decode())
    bands = page.eval_on_selector_all(
        "#missing-matrix rect.matrix-present",
        "rs => rs.map(r => [r.dataset.column, Number(r.dataset.missing)])",
    )
    assert bands == [[name, int(sampled[name].sum())] for name in frame.columns]
    heights = page.eval_on_selector_all(
        "#missing-matrix rect.matrix-gap",
        "rs => rs.map(r => [Number(r.getAttribute('x')), Number(r.getAttribute('height'))])",
    )
    line = 240 / len(sampled)
    first = next(x for x, _ in heights)
    assert round(sum(hgt for x, hgt in heights if x == first) / line) == int(sampled["a"].sum())
    assert page.is_visible("#missing-matrix")


def alerting_result() -> str:
    """A result with warnings (open) and notes (folded), so printing has something to unfold."""
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "grupo": rng.choice(["a", "b", "c"], n),
            "valor": rng.normal(100, 10, n).round(2),
            "quantidade": rng.integers(1, 10, n),
            "fixo": np.ones(n),
        }
    )
    frame.loc[rng.choice(n, 150, replace=False), "valor"] = np.nan
    return encode_result(profile_dataframe(frame)).decode()


def test_printing_hides_the_controls_and_opens_what_is_folded(page: Page) -> None:
    show(page, alerting_result())
    folded = "#alerts details.alert-group[data-severity=info] li"
    more = ".column-card details.column-more dl"
    assert page.locator("details.alert-group[data-severity=info]").count() == 1
    assert not page.is_visible(folded) and not page.locator(more).first.is_visible()
    controls = [".upload-panel", ".history", "#refresh-analyses", "#copy-summary", "#correlation-method",
                "#sample-kind", "[data-testid=download-report]"]  # fmt: skip
    assert [c for c in controls if not page.locator(c).first.is_visible()] == []

    page.emulate_media(media="print")
    assert [c for c in controls if page.locator(c).first.is_visible()] == []
    assert page.locator(folded).first.is_visible() and page.locator(more).first.is_visible()
    assert page.is_visible("#dataset-overview") and page.is_visible("#duplicates-title")
    kept_whole = page.eval_on_selector(".column-card", "e => getComputedStyle(e).breakInside")
    assert kept_whole == "avoid"
    background = page.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(255, 255, 255)"

    page.emulate_media(media="screen")
    assert not page.is_visible(folded)  # back on screen, folded as it was
