"""A real Chromium uploads a CSV through the page served by ``sonda up`` and reads the report.

Uses the system's Chromium (``apt-get install -y chromium``), never a downloaded browser build. The
screenshot is written only on request, ``SONDA_SCREENSHOT_DIR=docs scripts/test tests/e2e/test_browser.py``
(that is how the README's docs/screenshot.png is made); otherwise it is taken and checked in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.conftest import write_brazilian_csv
from tests.e2e.sonda_up import SondaUp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Where to write the screenshot, on request only: a test run leaves the checkout as it found it.
SCREENSHOT_DIR = os.environ.get("SONDA_SCREENSHOT_DIR")


@pytest.fixture
def messy_sales(sales: pd.DataFrame) -> pd.DataFrame:
    """The sales file as exports arrive: some gaps (together in two columns) and a few repeated rows,
    so the report's missing-values and duplicate-rows sections have something to show."""
    rng = np.random.default_rng(11)
    frame = sales.copy()
    frame["cidade"] = frame["cidade"].mask(rng.random(len(frame)) < 0.04)
    gaps = rng.random(len(frame)) < 0.06
    frame["quantidade"] = frame["quantidade"].astype("Int64").mask(gaps)
    frame["total"] = frame["total"].mask(gaps)
    return pd.concat([frame, frame.iloc[[3, 3, 3, 17, 17, 42]]], ignore_index=True)


async def test_upload_through_the_page(sonda: SondaUp, messy_sales: pd.DataFrame, tmp_path: Path) -> None:
    sales = messy_sales
    sales_csv = write_brazilian_csv(sales, tmp_path / "vendas.csv")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1500})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(sonda.url + "/")
            await page.set_input_files("#file-input", str(sales_csv))

            await expect(page.locator("#upload-progress")).to_have_attribute("value", "100", timeout=30_000)
            await expect(page.locator("#analysis-progress")).to_have_attribute("value", "100", timeout=90_000)

            report = page.locator("#report")
            await expect(report).to_be_visible(timeout=30_000)
            rows = page.locator("[data-testid=dataset-rows]")
            await expect(rows).to_have_attribute("data-value", str(len(sales)), timeout=30_000)
            await expect(page.locator(".column-card")).to_have_count(sales.shape[1])
            chart = page.locator(".column-card[data-column=preco] svg.chart")
            await expect(chart).to_be_visible()
            assert await page.locator("svg.chart").count() >= 2
            await expect(page.locator("[data-testid=llm-summary]")).to_contain_text("cidade", timeout=30_000)
            await page.click("#refresh-analyses")
            await expect(page.locator("#analyses-list li").first).to_be_visible(timeout=15_000)
            assert not errors, errors
            assert sales_csv.name in await page.title()
            # total = preco x quantidade: a related pair, drawn from a random sample of rows.
            await expect(page.locator(".scatter-plot[data-y=total]").first).to_be_visible()
            await page.select_option("#sample-kind", "last")
            last_row = page.locator("#sample-rows tbody tr").last.locator("td.row-number")
            await expect(last_row).to_have_text(f"{len(sales):,}")
            await page.select_option("#sample-kind", "random")
            await expect(page.locator("#sample-rows tbody tr")).to_have_count(10)

            # The downloadable report opens with the network off and asks nothing of any host.
            href = await page.locator("[data-testid=download-report]").get_attribute("href")
            assert href is not None and await page.locator("[data-testid=download-json]").count() == 1
            answer = await page.request.get(sonda.url + href)
            assert answer.ok and "attachment" in answer.headers["content-disposition"]
            offline = await browser.new_context(offline=True)
            asked: list[str] = []
            offline.on("request", lambda request: asked.append(request.url))
            kept = await offline.new_page()
            await kept.set_content(await answer.text(), wait_until="load")
            await expect(kept.locator("article.column")).to_have_count(sales.shape[1])
            await expect(kept.locator("#overview")).to_contain_text(f"{len(sales):,}")
            assert asked == []
            await offline.close()

            # The new sections, from the frame itself: the repeated rows and the columns with gaps.
            repeats = sales[sales.duplicated(keep=False)].value_counts(dropna=False)
            duplicated = page.locator("#duplicate-rows tbody tr")
            await expect(duplicated).to_have_count(len(repeats))
            counts = [
                int(v)
                for v in await duplicated.locator("td.count-cell").evaluate_all(
                    "cells => cells.map((c) => c.dataset.count)"
                )
            ]
            assert counts == sorted(repeats.tolist(), reverse=True)
            bars = page.locator("#missing-per-column")
            for name in sales.columns[sales.isna().any()]:
                await expect(bars).to_contain_text(name)

            shot = await page.screenshot(full_page=SCREENSHOT_DIR is not None)
            if SCREENSHOT_DIR:
                target = Path(SCREENSHOT_DIR).resolve() / "screenshot.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(shot)
        finally:
            await browser.close()
    assert len(shot) > 10_000  # a rendered report, not a blank page
