"""The web page's static files: present, self-contained, wired, and loadable in Chromium.

The end-to-end browser test (upload through the real services) lives elsewhere; these
checks are quick and need no Sonda server.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sonda.web import INDEX_FILE, static_dir

STATIC = static_dir()
TEXT_SUFFIXES = {".html", ".js", ".css"}
# XML namespace names are identifiers, not addresses the browser fetches.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
URL = re.compile(r"""\b(?:https?|wss?)://[^\s"'`)<>]+""")


def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file())


class _Collector(HTMLParser):
    """Collects ids, data-testids, tag names by id, and src/href references."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            ident = str(a["id"])
            self.ids.append(ident)
            self.tags[ident] = tag
            self.attrs[ident] = a
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(str(a[key]))


def parse_index() -> _Collector:
    collector = _Collector()
    collector.feed((STATIC / INDEX_FILE).read_text(encoding="utf-8"))
    return collector


def test_static_dir_holds_the_page() -> None:
    assert STATIC.is_dir()
    names = {p.name for p in static_files()}
    assert {INDEX_FILE, "app.js", "styles.css"} <= names
    assert STATIC.is_absolute()


@pytest.mark.parametrize("path", static_files(), ids=lambda p: p.name)
def test_no_external_url(path: Path) -> None:
    """Nothing is fetched from another host: the machine running Sonda may have no internet."""
    text = path.read_text(encoding="utf-8")
    external = [
        url
        for url in URL.findall(text)
        if url not in NAMESPACES and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert external == []
    # Protocol-relative references and CSS imports of other hosts are external too.
    assert not re.search(r"""(?:src|href)\s*=\s*["']//""", text)
    assert not re.search(r"@import\s+url\(\s*[\"']?(?:https?:)?//", text)


def test_every_reference_of_the_page_exists() -> None:
    refs = [r for r in parse_index().refs if not r.startswith(("#", "data:", "/api/"))]
    assert refs, "index.html references its script and stylesheet"
    for ref in refs:
        assert (STATIC / ref).is_file(), ref


@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_every_module_import_resolves(path: Path) -> None:
    imports = re.findall(r"""\bfrom\s+["']([^"']+)["']""", path.read_text(encoding="utf-8"))
    for spec in imports:
        assert spec.startswith("./"), f"{path.name} imports {spec!r}: only local modules"
        assert (path.parent / spec).is_file(), f"{path.name} imports a missing {spec}"


def test_ids_the_browser_tests_drive() -> None:
    page = parse_index()
    assert len(page.ids) == len(set(page.ids)), "ids are unique"
    expected_tags = {
        "file-input": "input",
        "drop-zone": "div",
        "upload-progress": "progress",
        "analysis-progress": "progress",
        "analysis-stage": "span",
        "report": "section",
        "llm-summary": "pre",
        "copy-summary": "button",
        "analyses-list": "ul",
        "status-filter": "select",
        "error": "div",
    }
    for ident, tag in expected_tags.items():
        assert page.tags.get(ident) == tag, ident
    assert page.attrs["file-input"].get("type") == "file"
    assert page.attrs["analysis-progress"].get("max") == "100"
    # The report is drawn by the scripts; its hooks must be spelled the same there.
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in STATIC.glob("*.js"))
    for hook in (
        '"dataset-rows"',
        '"column-card"',
        '"chart ',
        '"correlation-heatmap"',
        '"alerts"',
        '"sample-rows"',
        "delete-analysis",
    ):
        assert hook in scripts, hook


def test_every_form_control_has_a_label() -> None:
    page = parse_index()
    html = (STATIC / INDEX_FILE).read_text(encoding="utf-8")
    for ident, tag in page.tags.items():
        if tag in {"input", "select", "progress"}:
            assert f'for="{ident}"' in html, ident


def test_no_markup_from_data() -> None:
    """Data reaches the page as text only, so a hostile column name cannot inject markup."""
    for path in STATIC.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.(?:inner|outer)HTML\s*[+]?=", text), path.name
        assert not re.search(r"insertAdjacentHTML\(|document\.write\(|\beval\(", text), path.name


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_server() -> Iterator[str]:
    """The static folder alone over HTTP: no API behind it."""
    handler = partial(_QuietHandler, directory=str(STATIC))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.browser
def test_page_loads_in_chromium_and_explains_a_missing_api(static_server: str) -> None:
    """All modules load without a script error, nothing leaves the origin, and the
    failing analyses list (no API here) is reported in words, not as a blank page."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    off_origin: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith((static_server, "data:")) else off_origin.append(r.url),
            )
            page.goto(static_server + "/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            page.wait_for_selector("#error:not([hidden])", timeout=30_000)
            message = page.text_content("#error-text") or ""
            assert "Listing analyses failed" in message
            assert "404" in message
            assert page.get_attribute("#upload-progress", "max") == "100"
            assert page.is_visible("#drop-zone")
            assert page.is_hidden("#report")
        finally:
            browser.close()
    assert errors == []
    assert off_origin == []


PII_RESULT = {
    "dataset": {"rows": 4, "columns": 3},
    "columns": [
        {"name": "cpf", "type": "identifier", "semantic": ["cpf"], "semantic_validity": {"cpf": 0.75},
         "pii": True, "count": 4, "missing": 0, "missing_pct": 0.0, "distinct": 3, "distinct_pct": 0.75,
         "top_values": [{"value": "529.982.247-25", "count": 2, "pct": 0.5}]},
        {"name": "doc", "type": "identifier", "semantic": ["cpf"], "pii": True, "count": 4, "missing": 0,
         "stats": {"min": 52998224725, "max": 52998224725, "mean": 52998224725},
         "histogram": {"edges": [52998224725, 52998224726], "counts": [4]}},
        {"name": "cidade", "type": "categorical", "semantic": [], "pii": False, "count": 4, "missing": 0,
         "top_values": [{"value": "Recife", "count": 4, "pct": 1.0}]},
    ],
    "sample": {"columns": ["cpf", "doc", "cidade"], "rows": [["529.982.247-25", 52998224725, "Recife"]]},
    "alerts": [],
}  # fmt: skip


@pytest.mark.browser
def test_personal_columns_are_masked_until_revealed(static_server: str) -> None:
    """The report draws pii columns as shapes (cards, charts, sample rows); the reveal control
    shows the values to their owner and masks them again."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(static_server + "/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            page.evaluate(
                """async (result) => {
                    const { renderReport } = await import("./report.js");
                    const holder = document.createElement("div");
                    holder.id = "pii-report";
                    document.body.append(holder);
                    renderReport(holder, result, { analysis_id: "a" });
                }""",
                PII_RESULT,
            )

            def text() -> str:
                return page.eval_on_selector("#pii-report", "e => e.textContent") or ""

            masked = text()
            assert "529.982.247-25" not in masked and "52998224725" not in masked and "52,998" not in masked
            assert "***.***.***-**" in masked and "Recife" in masked and "cpf 75% valid" in masked
            assert page.get_attribute("#reveal-pii", "aria-pressed") == "false"
            page.click("#reveal-pii")
            assert "529.982.247-25" in text()
            assert page.get_attribute("#reveal-pii", "aria-pressed") == "true"
            page.click("#reveal-pii")
            assert "529.982.247-25" not in text()
        finally:
            browser.close()
    assert errors == []
