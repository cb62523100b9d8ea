"""Each page is parsed once (issue 27): its fonts are traced where it is rendered and
scanned (pushgen/build/page_fonts.py PageFontTracer), and the Resolver takes those
verdicts instead of reading and parsing the page again; the manifest is the one the
Resolver's own tracing makes."""

from __future__ import annotations

from pathlib import Path

import pytest

import pushgen.build.fonts.trace as trace_module
import pushgen.build.pipeline as pipeline
from pushgen.build import build_site
from pushgen.build.render import Renderer
from pushgen.config import load_config
from pushgen.scan.html import html_tree
from tests.sites import write_site

_CSS = (
    "@import url(more.css) screen;\n"
    "@font-face { font-family: A; src: url(a.woff2) }\n"
    "@font-face { font-family: B; src: url(b.woff2) }\n"
    "p { font-family: A }\n"
)
_MORE = "@font-face { font-family: C; src: url(c.woff2) }\nem { font-family: C }\n"
_INLINE = (
    "<style>@font-face { font-family: D; src: url(/static/d.woff2) } h1 { font-family: D }</style>"
)


def _site(root: Path, pages: int) -> Path:
    files: dict[str, str | bytes] = {
        "templates/.keep": "",
        "static/s.css": _CSS,
        "static/more.css": _MORE,
        **{f"static/{name}.woff2": b"wOF2" + name.encode() for name in "abcd"},
    }
    for n in range(pages):
        # Pages differ in what their text uses: some set text in C, some have a face inline.
        body = "<p>Text</p>" + ("<p><em>more</em></p>" if n % 2 else "")
        head = _INLINE + "<h1>Title</h1>" if n % 3 == 0 else ""
        files[f"pages/p{n}.html"] = f'<link rel="stylesheet" href="/static/s.css">{head}{body}\n'
    return write_site(root, files)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pages font tracing parses again in this process (fonts.trace.parse_page)."""
    counted = [0]

    def counting(data: bytes | str) -> object:
        counted[0] += 1
        return html_tree(data)

    monkeypatch.setattr(trace_module, "html_tree", counting)
    return counted


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_build_parses_no_page_again_to_trace_its_fonts(
    tmp_path: Path, parses: list[int], jobs: int
) -> None:
    site = _site(tmp_path / "site", 40)
    result = build_site(load_config(site), jobs=jobs, full=True)
    assert result.traced == 40
    assert parses[0] == 0
    routes = result.manifest.routes
    assert {a.path: a.push for a in routes["/p1.html"] if a.destination == "font"} == {
        "/static/a.woff2": True,
        "/static/c.woff2": True,
        "/static/b.woff2": False,
    }
    assert {a.path for a in routes["/p0.html"] if a.push and a.destination == "font"} == {
        "/static/a.woff2",
        "/static/d.woff2",
    }


def test_build_check_renders_each_page_once(
    tmp_path: Path, parses: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # --check writes no page: the Resolver rendered each traced page a second time.
    site = _site(tmp_path / "site", 6)
    build_site(load_config(site))
    rendered: list[str] = []
    render = Renderer.render

    def counting(self: Renderer, page: object) -> object:
        rendered.append(str(page))
        return render(self, page)  # type: ignore[arg-type]

    monkeypatch.setattr(Renderer, "render", counting)
    result = build_site(load_config(site), write=False)
    assert (len(rendered), parses[0], result.traced) == (6, 0, 6)
    assert result.manifest_text == (site / "push-manifest.yaml").read_text()


@pytest.mark.parametrize("jobs", [1, 2])
def test_verdicts_traced_where_pages_render_are_the_resolvers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    site = _site(tmp_path / "site", 40)
    traced_there = build_site(load_config(site), jobs=jobs, full=True).manifest_text
    # Without a tracer where pages render, the Resolver reads each page back and traces it.
    monkeypatch.setattr(pipeline, "page_tracer", lambda *args: None)
    traced_here = build_site(load_config(site), jobs=jobs, full=True).manifest_text
    assert traced_there == traced_here
