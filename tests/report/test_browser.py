"""The report opened in headless Chromium: every route and chart there, each section's content,
no console error, no request leaving the file, nothing from the manifest or verify run, at
desktop and phone widths, light and dark; a screenshot written."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pytest

from pushgen.report import site_report, write_report
from tests.browser_harness import chromium
from tests.clients import REPO
from tests.report.test_content import REAL_RESULT, ROUTES
from tests.report.verify_result import HOSTILE, write_verify_result


@dataclass
class Opened:
    """A report page open in Chromium, with what it did while loading."""

    page: Any
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def texts(self, selector: str) -> list[str]:
        return [str(t).strip() for t in self.page.locator(selector).all_text_contents()]

    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def report_file(example: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-html")
    verify = write_verify_result(folder / "verify.json", hostile=True)
    path = folder / "report.html"
    write_report(path, site_report(example, verify=verify))
    return path


def _open(browser: Any, path: Path, *, width: int = 1280, scheme: str = "light") -> Opened:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    opened = Opened(page)
    page.on("request", lambda r: opened.requests.append(r.url))
    page.on("console", lambda m: opened.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: opened.errors.append(str(e)))

    def dialog(shown: Any) -> None:
        opened.dialogs.append(shown.message)
        shown.dismiss()

    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    return opened


@pytest.fixture(scope="module")
def opened(browser: Any, report_file: Path) -> Iterator[Opened]:
    result = _open(browser, report_file)
    yield result
    result.page.close()


def test_the_page_loads_nothing_but_itself_and_logs_no_error(
    opened: Opened, report_file: Path
) -> None:
    assert opened.requests == [report_file.as_uri()]
    assert opened.console == [] and opened.errors == [] and opened.dialogs == []
    assert opened.page.title() == "pushgen report: site_example"


def test_nothing_from_the_manifest_or_verify_runs(opened: Opened) -> None:
    # The hostile route and the rule /blog/<script> are shown as text, not made elements.
    assert opened.page.evaluate("document.scripts.length") == 0
    assert opened.page.evaluate("document.images.length") == 0
    assert opened.page.title().startswith("pushgen report")  # neither script set it
    assert HOSTILE in opened.texts("#verify table.findings")[0]
    assert "/blog/<script>" in opened.texts("#rules table.rules")[0]


def test_every_route_has_its_section_and_a_bar(opened: Opened) -> None:
    assert opened.texts("details.route > summary > code") == ROUTES
    assert opened.count("svg.bytes-chart g.bar") == len(ROUTES)
    bars = opened.page.eval_on_selector_all(
        "svg.bytes-chart g.bar", "gs => gs.map(g => g.dataset.route)"
    )
    assert bars == ROUTES
    assert opened.count("details.route svg.waterfall") == len(ROUTES)
    # Every pushed entry of / is a step of its waterfall, in order.
    steps = opened.page.eval_on_selector_all(
        "#route-1 svg.waterfall g.step.push text.label title", "ts => ts.map(t => t.textContent)"
    )
    assert steps[:3] == [
        "/static/css/site.css",
        "/static/css/base/reset.css",
        "/static/css/base/typography.css",
    ]
    assert len(steps) == 9


def test_the_overview_counts_charts_and_ranks_the_budget(opened: Opened) -> None:
    cards = opened.texts("#overview .card")
    assert cards[:4] == ["6routes", "44pushed entries", "26hinted only", "25listed only"]
    assert cards[-1] == "failpushgen verify"
    nearest = opened.texts("#overview table.nearest tbody tr td:first-child")
    assert nearest[:2] == ["/docs/", "/docs/install.html"]
    assert "push budget 50.0 kB" in opened.texts("svg.bytes-chart text.budget-label")


def test_each_route_shows_why_and_what_the_browser_did(opened: Opened) -> None:
    home = opened.page.locator("#route-1")
    text = str(home.text_content())
    assert (
        "via templates/base.html:9 \u2192 static/css/site.css:4 \u2192 static/css/base/typography.css:6"
        in text
    )
    assert "hint only: stylesheet for media 'print', which screens do not use" in text
    assert "never fetched" in text and "fetched twice" in text and "from the 103" in text
    browser = str(home.locator(".browser").text_content())
    assert "/static/css/extra.css" in browser  # missed, and fetched without being listed
    assert "preloaded using link preload but not used" in browser
    about = str(opened.page.locator("#route-3").text_content())
    assert "removed by rule at" in about and ":10 (match /about.html)" in about


def test_the_rules_section_names_each_rule_and_its_routes(opened: Opened) -> None:
    rows = opened.texts("#rules table.rules tbody tr")
    assert len(rows) == 3
    assert (
        "/docs/*" in rows[0] and "at most 4 pushes" in rows[0] and "/docs/install.html" in rows[0]
    )
    assert "removes /static/js/analytics.js" in rows[1]
    assert "no route" in rows[2]


def test_a_phone_width_scrolls_nothing_sideways_and_dark_mode_is_dark(
    browser: Any, report_file: Path
) -> None:
    phone = _open(browser, report_file, width=390, scheme="dark")
    try:
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
        background = phone.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)"
        assert phone.console == [] and phone.errors == []
    finally:
        phone.page.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_a_screenshot_of_the_report(opened: Opened, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    opened.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height = _png_size(data)
    assert width == 1280 and height > 3000 and len(data) > 50_000


def test_the_docs_screenshot_is_a_report(browser: Any, example: Path, tmp_path: Path) -> None:
    # docs/report.png is this page's top (the overview, verify's findings and the
    # first route), with the result `pushgen verify --json` wrote for the example
    # site; PUSHGEN_UPDATE_DOCS=1 writes it again.
    path = tmp_path / "report.html"
    write_report(path, site_report(example, verify=REAL_RESULT))
    shown = _open(browser, path)
    try:
        assert shown.console == [] and shown.requests == [path.as_uri()]
        findings = shown.texts("#verify table.findings tbody tr")
        assert len(findings) == 1 and "/about.html" in findings[0]
        assert "/static/js/analytics.js" in findings[0]
        shot = tmp_path / "top.png"
        shown.page.screenshot(path=str(shot), full_page=True, clip=_DOCS_CLIP)
        assert _png_size(shot.read_bytes()) == (_DOCS_CLIP["width"], _DOCS_CLIP["height"])
        if os.environ.get("PUSHGEN_UPDATE_DOCS") == "1":
            (REPO / "docs" / "report.png").write_bytes(shot.read_bytes())
    finally:
        shown.page.close()
    assert _png_size((REPO / "docs" / "report.png").read_bytes())[0] == _DOCS_CLIP["width"]


def test_the_docs_screenshot_of_verifys_output(browser: Any, tmp_path: Path) -> None:
    # docs/report-verify-output.png: what `pushgen verify` printed for the example site
    # (tests/report/golden/verify-site_example.txt), drawn as a terminal shows it.
    text = REAL_RESULT.with_suffix(".txt").read_text(encoding="utf-8")
    page = tmp_path / "terminal.html"
    page.write_text(
        '<!doctype html><meta charset="utf-8"><body style="margin:0;background:#0d1117">'
        '<pre style="margin:0;padding:16px 20px;color:#e6edf3;font:13px/1.5 ui-monospace,'
        f'monospace;white-space:pre-wrap">$ pushgen verify site_example\n{escape(text)}</pre>',
        encoding="utf-8",
    )
    shown = _open(browser, page, width=1100)
    try:
        shot = tmp_path / "verify.png"
        shown.page.locator("pre").screenshot(path=str(shot))
        width, height = _png_size(shot.read_bytes())
        assert width == 1100 and height > 150
        if os.environ.get("PUSHGEN_UPDATE_DOCS") == "1":
            (REPO / "docs" / "report-verify-output.png").write_bytes(shot.read_bytes())
    finally:
        shown.page.close()
    assert _png_size((REPO / "docs" / "report-verify-output.png").read_bytes())[0] == 1100


_DOCS_CLIP = {"x": 0, "y": 0, "width": 1280, "height": 2300}


def test_a_sphinx_sites_report_renders_every_route_and_chart(browser: Any, tmp_path: Path) -> None:
    # A real generator's folder, scanned as `pushgen scan` does, reported as a folder.
    pytest.importorskip("sphinx", reason="needs sphinx (pip install -e .[test])")
    pytest.importorskip("sphinx_rtd_theme", reason="needs sphinx-rtd-theme")
    from pushgen.cli import main
    from pushgen.manifest import load_manifest
    from tests.generators.builders import build_sphinx

    folder = build_sphinx(tmp_path)
    manifest = tmp_path / "sphinx.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    out = tmp_path / "report.html"
    assert main(["report", "--site", str(folder), "-m", str(manifest), "-o", str(out)]) == 0
    routes = list(load_manifest(manifest).routes)
    shown = _open(browser, out)
    try:
        assert shown.requests == [out.as_uri()] and shown.console == [] and shown.errors == []
        assert shown.texts("details.route > summary > code") == routes
        assert shown.count("svg.bytes-chart g.bar") == len(routes)
        assert shown.count("details.route svg.waterfall") == len(routes)
        sizes = shown.texts("#route-1 table.entries td.num:last-child")
        assert sizes and all(s.endswith(("B", "kB", "MB")) for s in sizes)  # from the folder
        assert "/_static/css/theme.css" in shown.texts("#route-1")[0]
    finally:
        shown.page.close()


def _luminance(rgb: str) -> float:
    # WCAG 2.2's relative luminance of a computed `rgb(r, g, b)`.
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_badges_and_text_have_enough_contrast(browser: Any, report_file: Path, scheme: str) -> None:
    # WCAG 2.2, 1.4.3: text at least 4.5:1 against what is behind it.
    shown = _open(browser, report_file, scheme=scheme)
    try:
        pairs = shown.page.eval_on_selector_all(
            ".badge, .card .what, .counts, td.num, .why li",
            """els => els.map(e => {
                let c = getComputedStyle(e), bg = c.backgroundColor, p = e;
                while (bg === 'rgba(0, 0, 0, 0)' && p.parentElement) {
                    p = p.parentElement; bg = getComputedStyle(p).backgroundColor;
                }
                return [e.className, c.color, bg];
            })""",
        )
    finally:
        shown.page.close()
    assert len(pairs) > 100
    low = set()
    for name, color, background in pairs:
        lighter, darker = sorted((_luminance(color), _luminance(background)), reverse=True)
        if (lighter + 0.05) / (darker + 0.05) < 4.5:
            low.add((name, color, background))
    assert low == set()
