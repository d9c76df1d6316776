"""The page's behaviour in a real Chromium: what goes away when it should, what asks first, what fits
on a phone, and a report that leads with what matters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.conftest import write_brazilian_csv
from tests.e2e.sonda_up import SondaUp

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Warnings and notes to group, and categories that barely move a number (η near 0)."""
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "grupo": rng.choice(["a", "b", "c"], n),
            "canal": rng.choice(["loja", "site"], n),
            "valor": rng.normal(100, 10, n).round(2),
            "fixo": np.ones(n),
        }
    )
    frame.loc[rng.choice(n, 150, replace=False), "valor"] = np.nan
    return write_brazilian_csv(frame, tmp_path_factory.mktemp("page") / "misto.csv")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Browser]:
    """One Chromium for the module (a launch takes about a second of CPU)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The module's Chromium; each page a test opens has a context of its own (no cookie or
    storage shared with another test), closed after the test."""
    yield chromium
    for context in chromium.contexts:
        await context.close()


async def analysed(page: Page, sonda: SondaUp, path: Path) -> None:
    await page.goto(sonda.url + "/")
    await page.set_input_files("#file-input", str(path))
    await expect(page.locator("#report")).to_be_visible(timeout=90_000)
    await expect(page.locator(".column-card").first).to_be_visible(timeout=30_000)


async def test_the_report_leads_with_grouped_alerts_and_shows_no_stray_text(
    browser: Browser, sonda: SondaUp, mixed_csv: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 1200})
    await analysed(page, sonda, mixed_csv)
    stray = await page.evaluate(
        """() => [...document.querySelectorAll('#report-body, #report-body *')].flatMap((el) =>
              [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim() === 'null')).length"""
    )
    assert stray == 0
    groups = page.locator("#alerts details.alert-group")
    assert await groups.count() >= 2
    severities = [await groups.nth(i).get_attribute("data-severity") for i in range(await groups.count())]
    assert severities == sorted(severities, key=lambda s: SEVERITY_RANK[str(s)])
    for i, severity in enumerate(severities):
        opened = await groups.nth(i).evaluate("(d) => d.open")
        assert opened == (severity in ("critical", "warning")), severity
    for value in await page.locator("#correlation-ratio tbody td:last-child").all_inner_texts():
        assert float(value.replace(",", "")) >= 0.1
    assert mixed_csv.name in await page.title()
    bars = page.locator("#missing-per-column svg")
    await expect(bars).to_contain_text("valor")
    await expect(bars).to_contain_text("150")  # the rows made missing above


async def test_a_failed_analysis_leaves_no_old_report(
    browser: Browser, sonda: SondaUp, tmp_path: Path
) -> None:
    page = await browser.new_page()
    good = write_brazilian_csv(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), tmp_path / "bom.csv")
    await analysed(page, sonda, good)
    broken = tmp_path / "quebrado.parquet"
    broken.write_bytes(b"\x00\x01 this is not parquet")
    await page.set_input_files("#file-input", str(broken))
    await expect(page.locator("#error")).to_be_visible(timeout=90_000)
    await expect(page.locator("#report")).to_be_hidden()
    assert await page.locator(".column-card").count() == 0


async def test_delete_asks_first_then_takes_the_report_off_the_screen(
    browser: Browser, sonda: SondaUp, tmp_path: Path
) -> None:
    page = await browser.new_page()
    path = write_brazilian_csv(pd.DataFrame({"n": range(20)}), tmp_path / "apagar.csv")
    await analysed(page, sonda, path)
    analysis_id = (await page.evaluate("location.hash")).split("analysis=")[1]
    # The list is a read model: as a person would, refresh it once the report is on screen.
    await page.click("#refresh-analyses")
    item = page.locator(f"#analyses-list li[data-analysis-id='{analysis_id}']")
    await expect(item).to_be_visible(timeout=30_000)
    delete = item.locator("button.delete-analysis")
    await delete.click()
    await expect(delete).to_have_text("Confirm delete")
    await expect(page.locator("#report")).to_be_visible()  # one press deletes nothing
    # A reload of the list between the two presses (the page reloads it when an analysis
    # completes) draws the rows anew: the question stays open and the second press still
    # deletes. Started from script, as the page starts it, so the focus stays on the button.
    await page.evaluate("document.querySelector('#refresh-analyses').click()")
    await expect(page.locator("#analyses-list")).not_to_have_attribute("aria-busy", "true", timeout=30_000)
    await expect(delete).to_have_text("Confirm delete")
    await delete.click()
    await expect(item).to_have_count(0)
    await expect(page.locator("#report")).to_be_hidden()
    assert "analysis=" not in await page.evaluate("location.hash")


async def test_a_phone_width_never_scrolls_sideways(
    browser: Browser, sonda: SondaUp, mixed_csv: Path
) -> None:
    page = await browser.new_page(viewport={"width": 375, "height": 800})
    await analysed(page, sonda, mixed_csv)
    await expect(page.locator("#correlation-ratio, #correlation-heatmap").first).to_be_attached()
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


async def test_the_hidden_file_input_is_not_a_tab_stop(browser: Browser, sonda: SondaUp) -> None:
    page = await browser.new_page()
    await page.goto(sonda.url + "/")
    await page.locator("#drop-zone").focus()
    for _ in range(3):
        await page.keyboard.press("Shift+Tab" if _ == 0 else "Tab")
        focused = await page.evaluate("document.activeElement && document.activeElement.id")
        assert focused != "file-input"
    assert await page.locator("#file-input").get_attribute("tabindex") == "-1"


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_no_serious_accessibility_violation(
    browser: Browser, sonda: SondaUp, mixed_csv: Path, width: int
) -> None:
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await analysed(page, sonda, mixed_csv)
    await expect(page.locator("[data-testid=llm-summary]")).not_to_have_text("Loading…", timeout=30_000)
    results = await Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == []


async def test_the_history_lists_the_analysis_the_page_followed_before_the_list_has_seen_it(
    browser: Browser, sonda: SondaUp, tmp_path: Path
) -> None:
    """The list is a read model: right after the notification it may not hold the analysis yet.

    Here it never does (every list answer leaves the new file out, as a projection running behind
    would), so the only way the analysis gets into the history is the page's own: the status read
    at the notification's version.
    """
    page = await browser.new_page()
    path = write_brazilian_csv(pd.DataFrame({"n": range(30)}), tmp_path / "recem-chegado.csv")

    async def behind(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["items"] = [i for i in body["items"] if i.get("filename") != path.name]
        await route.fulfill(response=response, json=body)

    await page.route("**/api/v1/analysis/list*", behind)
    await analysed(page, sonda, path)
    analysis_id = (await page.evaluate("location.hash")).split("analysis=")[1]
    item = page.locator(f"#analyses-list li[data-analysis-id='{analysis_id}']")
    await expect(item).to_have_attribute("data-status", "completed")
    await expect(item.locator(".open-analysis")).to_have_text(path.name)
    await page.click("#refresh-analyses")  # the list still behind: the page keeps what it knows
    await expect(page.locator("#analyses-list")).not_to_have_attribute("aria-busy", "true")
    await expect(item).to_have_count(1)
    await page.select_option("#status-filter", "running")
    await expect(item).to_have_count(0)
    await page.select_option("#status-filter", "completed")
    await expect(item).to_have_count(1)


async def test_duplicate_rows_and_the_missing_matrix_of_an_uploaded_file(
    browser: Browser, sonda: SondaUp, tmp_path: Path
) -> None:
    rng = np.random.default_rng(12)
    n = 800
    frame = pd.DataFrame(
        {
            "loja": rng.choice(["centro", "norte", "sul"], n),
            "canal": rng.choice(["site", "loja"], n),
            "nota": rng.choice([1.0, 2.0, 3.0], n),
        }
    )
    frame.loc[rng.random(n) < 0.2, "nota"] = np.nan
    path = write_brazilian_csv(frame, tmp_path / "repetidas.csv")
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    await analysed(page, sonda, path)
    counts = page.locator("#duplicate-rows tbody td.count-cell")
    await expect(counts.first).to_be_visible()
    expected = frame[frame.duplicated(keep=False)].value_counts(dropna=False)
    shown = [int(c.replace(",", "")) for c in await counts.all_inner_texts()]
    assert shown == sorted(expected.tolist(), reverse=True)[:10]
    bands = page.locator("#missing-matrix rect.matrix-present")
    await expect(bands).to_have_count(len(frame.columns))
    assert await bands.nth(2).get_attribute("data-column") == "nota"
    assert int(await bands.nth(2).get_attribute("data-missing") or 0) > 0
