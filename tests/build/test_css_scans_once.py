"""Each stylesheet is scanned once per build (issue 27): the Resolver following a
page's ``@import`` tree and the font tracer where the page is rendered both read
it, and on one core both run in one process (pushgen/scan/css.py file_scans).
The scans are kept by content and only for the build: an edited sheet is scanned
again by the next build, in the same process, under the same name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import pushgen.build.graph as graph
import pushgen.build.page_fonts as page_fonts
import pushgen.scan.css as css
from pushgen.build import build_site
from pushgen.config import load_config
from tests.sites import write_site

_SHEET = (
    "@import url(more.css);\n"
    "@font-face { font-family: A; src: url(a.woff2) }\n"
    "p { font-family: A }\n"
)
_MORE = "@font-face { font-family: C; src: url(c.woff2) }\nem { font-family: C }\n"


def _site(root: Path, pages: int) -> Path:
    files: dict[str, str | bytes] = {
        "templates/.keep": "",
        "static/s.css": _SHEET,
        "static/more.css": _MORE,
        **{f"static/{name}.woff2": b"wOF2" + name.encode() for name in "abc"},
    }
    for n in range(pages):
        files[f"pages/p{n}.html"] = (
            f'<link rel="stylesheet" href="/static/s.css"><p>Text {n}</p><p><em>more</em></p>\n'
        )
    return write_site(root, files)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts, by file name, the stylesheet files this process scans (scan_css with a
    file name; a page's inline ``<style>`` has none)."""
    counted: Counter[str] = Counter()
    real = css.scan_css

    def counting(data: bytes | str, url: str, **kwargs: Any) -> Any:
        if kwargs.get("filename") and not kwargs.get("inline"):
            counted[kwargs["filename"]] += 1
        return real(data, url, **kwargs)

    # Wherever a stylesheet file is scanned from (main 733d6ed called scan_css from
    # graph.py and page_fonts.py too).
    for module in (css, graph, page_fonts):
        if hasattr(module, "scan_css"):
            monkeypatch.setattr(module, "scan_css", counting)
    return counted


def _fonts(result: Any, route: str) -> dict[str, bool]:
    assets = result.manifest.routes[route]
    return {a.path: a.push for a in assets if a.destination == "font"}


def test_a_one_process_build_scans_each_stylesheet_once(
    tmp_path: Path, scans: Counter[str]
) -> None:
    site = _site(tmp_path / "site", 12)
    result = build_site(load_config(site), jobs=1, full=True)
    assert result.traced == 12
    assert dict(scans) == {"static/s.css": 1, "static/more.css": 1}
    assert _fonts(result, "/p0.html") == {"/static/a.woff2": True, "/static/c.woff2": True}


def test_an_edited_sheet_is_scanned_again_by_the_next_build(
    tmp_path: Path, scans: Counter[str]
) -> None:
    site = _site(tmp_path / "site", 4)
    build_site(load_config(site), jobs=1, full=True)
    # The same name, other bytes: the page's text no longer uses C, and a new face D
    # is used instead.
    (site / "static/more.css").write_text(
        "@font-face { font-family: C; src: url(c.woff2) }\n"
        "@font-face { font-family: D; src: url(b.woff2) }\nem { font-family: D }\n"
    )
    scans.clear()
    result = build_site(load_config(site), jobs=1, full=True)
    assert dict(scans) == {"static/s.css": 1, "static/more.css": 1}
    assert _fonts(result, "/p0.html") == {
        "/static/a.woff2": True,
        "/static/b.woff2": True,
        "/static/c.woff2": False,
    }


def test_nothing_is_kept_past_a_build(tmp_path: Path, scans: Counter[str]) -> None:
    site = _site(tmp_path / "site", 2)
    build_site(load_config(site), jobs=1, full=True)
    scans.clear()
    data = _MORE.encode()
    first = css.scan_css_file(data, "/static/more.css", "static/more.css")
    assert css.scan_css_file(data, "/static/more.css", "static/more.css") == first
    # Outside a build, each call scans: a long-running process keeps no sheets.
    assert scans["static/more.css"] == 2
    with css.file_scans():
        css.scan_css_file(data, "/static/more.css", "static/more.css")
        css.scan_css_file(data, "/static/more.css", "static/more.css")
    assert scans["static/more.css"] == 3
