"""A real Chromium picks two analyses in the history and sees them side by side.

Two CSVs are analysed through the CLI against the session's ``sonda up``; the page then compares
them: the schema changes come first, then one card per drifted column with both histograms on one
axis, or both sides' shares of the frequent values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.sonda_up import SondaUp
from tests.e2e.test_cli import sonda_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def analyse(sonda: SondaUp, frame: pd.DataFrame, path: Path) -> str:
    frame.to_csv(path, index=False)
    done = sonda_cli("analyze", str(path), "--url", sonda.url, "--json")
    assert done.returncode == 0, done.stderr
    analysis_id: str = json.loads(done.stdout)["analysis_id"]
    return analysis_id


async def test_two_analyses_side_by_side(sonda: SondaUp, sales: pd.DataFrame, tmp_path: Path) -> None:
    moved = sales.drop(columns=["total"]).copy()
    moved["preco"] = moved["preco"] * 1.5
    moved["cidade"] = np.random.default_rng(3).choice(["Natal", "Recife"], len(moved))
    base = analyse(sonda, sales, tmp_path / "janeiro.csv")
    target = analyse(sonda, moved, tmp_path / "fevereiro.csv")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1500})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(sonda.url + "/")
            button = page.locator("#compare-selected")
            await expect(button).to_be_disabled()
            for analysis_id in (base, target):  # the first picked is the base
                await page.locator(f".compare-pick[data-analysis-id='{analysis_id}']").check(timeout=30_000)
            await expect(button).to_be_enabled()
            await button.click()

            comparison = page.locator("#comparison")
            await expect(comparison).to_be_visible(timeout=30_000)
            await expect(comparison.locator("#schema-changes li[data-change=removed]")).to_contain_text(
                "total"
            )
            await expect(page.locator("[data-testid=comparison-verdict]")).to_have_attribute(
                "data-drift", "true"
            )
            cards = comparison.locator(".drift-card")
            await expect(cards).to_have_count(2)  # preco and cidade: 2 of 4 shared columns
            text = await comparison.inner_text()
            assert text.index("Schema changes") < text.index("Drifted columns")
            price = comparison.locator(".drift-card[data-column=preco] svg.chart-overlay")
            await expect(price).to_be_visible()
            assert await price.locator("rect.bar-base").count() > 0
            assert await price.locator("rect.bar-target").count() > 0
            city = comparison.locator(".drift-card[data-column=cidade] svg.chart-paired")
            await expect(city).to_contain_text("Natal")
            assert not errors, errors
        finally:
            await browser.close()
