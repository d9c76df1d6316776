"""The report's missing-values section, drawn by the page's own module in Chromium from a result
the engine computed, checked against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import encode_result, profile_dataframe

from tests.web.test_static_page import CHROMIUM, CHROMIUM_ARGS, static_server

__all__ = ["static_server"]  # the fixture, imported for this module's tests

pytestmark = pytest.mark.browser


def gappy() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3_000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    together = rng.random(n) < 0.2
    frame.loc[together, "a"] = np.nan
    frame.loc[together & (rng.random(n) < 0.8), "b"] = np.nan
    frame.loc[rng.random(n) < 0.05, "c"] = None
    return frame


def test_the_report_shows_which_values_go_missing_together(static_server: str) -> None:
    from playwright.sync_api import sync_playwright

    frame = gappy()
    result = encode_result(profile_dataframe(frame)).decode()
    isna = frame.isna()
    expected = isna[isna.any(axis=1)].value_counts()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(static_server + "/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            page.evaluate(
                """async (text) => {
                    const { renderReport } = await import("./report.js");
                    const holder = document.createElement("div");
                    holder.id = "missing-test";
                    document.body.append(holder);
                    renderReport(holder, JSON.parse(text), {});
                }""",
                result,
            )
            shown = page.get_attribute("#missing-test #rows-with-missing", "data-value")
            cells = page.eval_on_selector_all(
                "#missing-test #missing-patterns tbody tr",
                "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
            )
            pairs = page.eval_on_selector_all(
                "#missing-test #nullity-correlation tbody tr",
                "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
            )
        finally:
            browser.close()
    assert errors == []
    assert shown == str(int(isna.any(axis=1).sum()))
    counts = {
        ", ".join(c for c, on in zip(isna.columns, key, strict=True) if on): f"{int(n):,}"
        for key, n in expected.items()
    }
    assert {row[0]: row[1] for row in cells} == counts
    strongest = isna.astype(float).corr().loc["a", "b"]
    assert pairs[0][:2] == ["a", "b"] and float(pairs[0][2]) == pytest.approx(strongest, abs=1e-3)
