"""Golden tests for pushgen.scan.css: a stylesheet in, located references and diagnostics out."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.model import ScanResult
from pushgen.scan.css import scan_css, scan_css_declarations
from pushgen.urls import document_url
from tests.golden import Row, check_golden, rows

if TYPE_CHECKING:
    from _typeshed import TraceFunction

SHEET = document_url("/static/css/site.css")
GOLDEN = Path(__file__).parent / "golden" / "css"

FONT = {"crossorigin": "anonymous"}


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        # --- @import ---------------------------------------------------------------------
        pytest.param(
            '@import url(a.css);\n@import "b.css";\n@import url("/c.css");',
            [
                ("/static/css/a.css", "style", "import", 1, {}),
                ("/static/css/b.css", "style", "import", 2, {}),
                ("/c.css", "style", "import", 3, {}),
            ],
            id="import-forms",
        ),
        pytest.param(
            "@import url(a.css) screen and (min-width: 600px), print;",
            [
                (
                    "/static/css/a.css",
                    "style",
                    "import",
                    1,
                    {"media": "screen and (min-width: 600px), print"},
                )
            ],
            id="import-media",
        ),
        pytest.param(
            "@import url(a.css) layer(base) supports(display: grid) screen;\n"
            "@import 'b.css' layer;",
            [
                ("/static/css/a.css", "style", "import", 1, {"media": "screen"}),
                ("/static/css/b.css", "style", "import", 2, {}),
            ],
            id="import-layer-supports-not-in-media",
        ),
        pytest.param(
            '@charset "utf-8";\n@layer a, b;\n@import "ok.css";',
            [("/static/css/ok.css", "style", "import", 3, {})],
            id="import-after-charset-and-layer-statement",
        ),
        pytest.param(
            "a { color: red }\n@import 'late.css';",
            [],
            id="import-after-style-rule-ignored",
        ),
        pytest.param(
            "@media print { }\n@import 'late.css';",
            [],
            id="import-after-media-ignored",
        ),
        pytest.param(
            "@layer x { }\n@import 'late.css';",
            [],
            id="import-after-layer-block-ignored",
        ),
        pytest.param(
            "@import url(https://fonts.example.com/css?family=X);",
            [("https://fonts.example.com/css?family=X", "style", "import", 1, {})],
            id="import-other-origin",
        ),
        pytest.param("@import url(data:text/css,a{});", [], id="import-data-url"),
        # --- url() in declarations -----------------------------------------------------------
        pytest.param(
            "body { background: url(bg.png) }\n.a { background-image: url('../img/a.png') }",
            [
                ("/static/css/bg.png", "image", "url", 1, {}),
                ("/static/img/a.png", "image", "url", 2, {}),
            ],
            id="url-forms",
        ),
        pytest.param(
            "@media screen {\n @supports (display: grid) {\n  @layer l {\n   @container (width > 1px) {\n"
            "    .a { background: url(deep.png) } } } } }",
            [("/static/css/deep.png", "image", "url", 5, {})],
            id="url-in-nested-at-rules",
        ),
        pytest.param(
            ".a {\n  & .b { background: url(nested.png) }\n"
            "  @media (width > 1px) { background: url(nested-media.png) }\n"
            "  .c { .d { background: url(deeper.png) } }\n}",
            [
                ("/static/css/nested.png", "image", "url", 2, {}),
                ("/static/css/nested-media.png", "image", "url", 3, {}),
                ("/static/css/deeper.png", "image", "url", 4, {}),
            ],
            id="url-in-css-nesting",
        ),
        pytest.param(
            ".a { background: image-set('a.avif' type('image/avif') 1x, url(a.png) 2x,"
            " -webkit-image-set('b.png' 1x)) }",
            [
                ("/static/css/a.avif", "image", "url", 1, {"type": "image/avif"}),
                ("/static/css/a.png", "image", "url", 1, {}),
                ("/static/css/b.png", "image", "url", 1, {}),
            ],
            id="image-set",
        ),
        pytest.param(
            ".a { background: linear-gradient(red, blue), url(x.png), var(--y, url(y.png)) }",
            [
                ("/static/css/x.png", "image", "url", 1, {}),
                ("/static/css/y.png", "image", "url", 1, {}),
            ],
            id="url-in-lists-and-functions",
        ),
        pytest.param(
            ".a { filter: url(#blur); mask: url(data:image/svg+xml,x); b: url() }",
            [],
            id="fragment-data-and-empty-dropped",
        ),
        pytest.param(
            ".a { content: 'url(x.png)' }\n/* .b { background: url(comment.png) } */",
            [],
            id="strings-and-comments-are-not-urls",
        ),
        pytest.param(
            "@keyframes k { from { background: url(kf.png) } }\n"
            "@page { background: url(page.png) }",
            [
                ("/static/css/kf.png", "image", "url", 1, {}),
                ("/static/css/page.png", "image", "url", 2, {}),
            ],
            id="keyframes-and-page",
        ),
        pytest.param(
            "@namespace svg url(http://www.w3.org/2000/svg);\n@unknown { a { b: url(u.png) } }",
            [],
            id="namespace-and-unknown-at-rules-fetch-nothing",
        ),
        # --- @font-face ----------------------------------------------------------------------
        pytest.param(
            "@font-face { font-family: X; src: url(x.eot);\n"
            " src: url(x.eot?#iefix) format('embedded-opentype'), local('X'),\n"
            " url(x.woff2) format('woff2'), url(x.woff) format('woff'); }",
            [("/static/css/x.woff2", "font", "font", 3, {"type": "font/woff2", **FONT})],
            id="font-face-first-supported-of-last-src",
        ),
        pytest.param(
            "@font-face { src: local(X), url(x.svg#x), url(x.ttf), url(x.woff2) }",
            [("/static/css/x.ttf", "font", "font", 1, {"type": "font/ttf", **FONT})],
            id="font-face-by-extension",
        ),
        pytest.param(
            "@font-face { src: url(x.woff2) tech(incremental), url(x.woff) format(woff) }",
            [("/static/css/x.woff", "font", "font", 1, {"type": "font/woff", **FONT})],
            id="font-face-unsupported-tech-skipped",
        ),
        pytest.param(
            "@font-face { src: url('/f/x') format('woff2-variations') }",
            [("/f/x", "font", "font", 1, {"type": "font/woff2", **FONT})],
            id="font-face-variations-format",
        ),
        pytest.param(
            "@font-face { src: url(x.eot) format('embedded-opentype'), local(X) }",
            [],
            id="font-face-nothing-supported",
        ),
        pytest.param(
            "@media screen { @font-face { src: url(m.woff2) } }",
            [("/static/css/m.woff2", "font", "font", 1, {"type": "font/woff2", **FONT})],
            id="font-face-in-media",
        ),
    ],
)
def test_scan_css(css: str, expected: list[Row]) -> None:
    assert rows(scan_css(css, SHEET, filename="site.css")) == expected


@pytest.mark.parametrize(
    ("css", "line", "column", "words"),
    [
        pytest.param("a {}\n@import 'x.css';", 2, 1, "after other rules", id="late-import"),
        pytest.param("a { b: url(a b) }", 1, 8, "bad URL", id="bad-url"),
        pytest.param("a { b: c }\n.x url(a.png)", 2, 4, "EOF", id="eof-before-block"),
        pytest.param(
            "a { color: red; *background: url(ie.png) }", 1, 41, "1 unparsable", id="star-hack-url"
        ),
        pytest.param("@import;", 1, 1, "without a URL", id="import-without-url"),
        pytest.param("@media x { @import 'a.css'; }", 1, 12, "inside", id="nested-import"),
    ],
)
def test_scan_css_diagnostics(css: str, line: int, column: int, words: str) -> None:
    result = scan_css(css, SHEET, filename="site.css")
    [problem] = result.diagnostics
    assert (problem.file, problem.line, problem.column) == ("site.css", line, column)
    assert words in problem.message


@pytest.mark.parametrize(
    "css",
    [
        pytest.param(".a { *zoom: 1; _height: 1px; *display: inline; color: red }", id="star"),
        pytest.param(
            ".a { filter: progid:DXImageTransform.Microsoft.gradient("
            "startColorstr='#80000000', endColorstr='#80000000'); }",
            id="progid",
        ),
        pytest.param("@media screen { .d { *zoom: 1 } }", id="star-last-in-block"),
        pytest.param("a { b: c }\n.x", id="eof-before-block"),
    ],
)
def test_hacks_a_browser_drops_harmlessly_are_not_reported(css: str) -> None:
    # Old IE hacks fill real themes; browsers drop them and fetch nothing less
    # (issue 12, item 6: 26 lines of "CSS parse error" in every explain).
    assert scan_css(css, SHEET, filename="site.css").diagnostics == ()
    assert scan_css_declarations(css.partition("{")[2].rpartition("}")[0], SHEET) == (
        scan_css_declarations("", SHEET)
    )


def test_drops_that_lose_a_fetch_are_reported_once_per_file_with_a_count() -> None:
    css = "\n".join(
        [".a { *zoom: 1 }"] * 26
        + [".b { *background: url(ie.png); background: url(x.png) }", ".c { b: url(a b) }"]
    )
    result = scan_css(css, SHEET, filename="site.css")
    assert rows(result) == [("/static/css/x.png", "image", "url", 27, {})]
    [problem] = result.diagnostics
    assert (problem.line, problem.column) == (27, 30)
    assert "browsers ignore 2 unparsable rule(s) or declaration(s) naming a URL" in problem.message
    assert "(lines 27, 28)" in problem.message


def test_scan_css_bytes_sets_encoding() -> None:
    result = scan_css(b'@charset "iso-8859-1";\na { b: url("caf\xe9.png") }', SHEET)
    assert result.encoding == "windows-1252"
    assert rows(result) == [("/static/css/caf%C3%A9.png", "image", "url", 2, {})]


def test_scan_css_text_has_no_encoding() -> None:
    assert scan_css("a{}", SHEET).encoding is None


def test_inline_css_lines_are_offset_and_first_line_columns_unknown() -> None:
    base = document_url("/docs/index.html")
    result = scan_css("a { b: url(x.png) }\nc { d: url(y.png) }", base, line_offset=9, inline=True)
    assert [(r.path, r.line, r.column) for r in result.references] == [
        ("/docs/x.png", 10, 0),
        ("/docs/y.png", 11, 8),
    ]


def test_declarations_of_a_style_attribute() -> None:
    base = document_url("/docs/index.html")
    result = scan_css_declarations(
        "color: red; background: url(hero.jpg), image-set('h.avif' 1x)", base, line_offset=4
    )
    assert rows(result) == [
        ("/docs/hero.jpg", "image", "url", 5, {}),
        ("/docs/h.avif", "image", "url", 5, {}),
    ]
    assert scan_css_declarations("@import 'x.css'; a { b: url(c) }", base).references == ()


def _import_sheet(n: int) -> str:
    # Names of one width, so that every @import is the same number of characters.
    return "".join(f'@import url("/c{i:05}.css") screen;\n' for i in range(n)) + "a{}"


def _python_steps(text: str) -> int:
    """How many lines of Python (pushgen's and tinycss2's) scanning ``text`` runs.

    A count, not a time: the same on a busy machine as on an idle one.
    """
    steps = 0

    def count(frame: FrameType, event: str, arg: object) -> TraceFunction:
        nonlocal steps
        steps += 1
        return count

    before = sys.gettrace()  # a coverage tool's or debugger's, put back after
    sys.settrace(count)
    try:
        result = scan_css(text, SHEET)
    finally:
        sys.settrace(before)
    assert len(result.references) == text.count("@import")
    return steps


def test_ten_thousand_imports_scan_in_linear_time() -> None:
    # Linear work is a + b*n steps: scanning 4,000 imports past 2,000 costs twice what
    # 2,000 past 1,000 does. Work that grows with the imports already found (a
    # duplicate check walking the list, a line number counted from the top) adds a
    # term in n*n and breaks that. What runs inside C (a str method) is not counted:
    # the seconds themselves are bench/scan_bench.py's to show.
    one, two, four = (_python_steps(_import_sheet(n)) for n in (1_000, 2_000, 4_000))
    assert four - two <= 2.05 * (two - one), (one, two, four)
    # And 10,000 in one sheet are all found.
    assert len(scan_css(_import_sheet(10_000), SHEET).references) == 10_000


def test_deep_nesting_does_not_raise() -> None:
    result = scan_css("a{" * 300 + "}" * 300 + "b { c: " + "(" * 5000 + "url(x.png)", SHEET)
    assert any("nested" in d.message for d in result.diagnostics)
    assert [r.path for r in result.references] == ["/static/css/x.png"]


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.css")))
def test_golden(name: str) -> None:
    source = GOLDEN / f"{name}.css"
    result = scan_css(source.read_bytes(), SHEET, filename=f"{name}.css")
    check_golden(result, rows(result), GOLDEN / f"{name}.json")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=1024))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert isinstance(scan_css(data, SHEET), ScanResult)


# Pieces of random stylesheets: rules, blocks, functions, strings, comments.
CSS_PIECES = [
    "@import", "@media", "@font-face", "@layer", "{", "}", "(", ")", ";", ":", ",", "url(",
    "url(x.png)", "'a.css'", '"', "src", "format('woff2')", "image-set(", "a", " ", "\n", "/*",
    "*/", "\\", "&", "screen", "local(x)"
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(CSS_PIECES), max_size=60))
def test_css_like_text_never_raises(parts: list[str]) -> None:
    css = "".join(parts)
    assert isinstance(scan_css(css, SHEET), ScanResult)
    assert isinstance(scan_css_declarations(css, SHEET), ScanResult)
