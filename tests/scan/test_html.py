"""Golden tests for pushgen.scan.html: a rendered page in, located references out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pushgen.model import ScanResult
from pushgen.scan.html import scan_html, scan_html_tree
from pushgen.urls import document_url, resolve
from tests.golden import Row, check_golden, rows

PAGE = document_url("/docs/index.html")
GOLDEN = Path(__file__).parent / "golden" / "html"


def scan(html: str) -> list[Row]:
    return rows(scan_html(html.encode(), PAGE, filename="index.html"))


ANON = {"crossorigin": "anonymous"}
MODULE = {"crossorigin": "anonymous", "module": True}


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # --- <base href> ---------------------------------------------------------------------
        pytest.param(
            '<base href="/assets/"><img src="a.png">',
            [("/assets/a.png", "image", "image", 1, {})],
            id="base-relative",
        ),
        pytest.param(
            '<img src="a.png"><base href="/late/">',
            [("/late/a.png", "image", "image", 1, {})],
            id="base-applies-to-earlier-elements",
        ),
        pytest.param(
            '<base target=_top><base href="/one/"><base href="/two/"><img src="a.png">',
            [("/one/a.png", "image", "image", 1, {})],
            id="first-base-with-href",
        ),
        pytest.param(
            '<base href="https://cdn.example.com/v1/"><img src="a.png">',
            [("https://cdn.example.com/v1/a.png", "image", "image", 1, {})],
            id="base-other-origin",
        ),
        pytest.param(
            '<template><base href="/t/"></template><img src="a.png">',
            [("/docs/a.png", "image", "image", 1, {})],
            id="base-in-template-ignored",
        ),
        # --- <link> --------------------------------------------------------------------------
        pytest.param(
            '<link rel=stylesheet href="site.css" media="screen and (min-width: 1px)">',
            [
                (
                    "/docs/site.css",
                    "style",
                    "stylesheet",
                    1,
                    {"media": "screen and (min-width: 1px)"},
                )
            ],
            id="stylesheet-media",
        ),
        pytest.param(
            '<link rel="StyleSheet" href="/a.css" crossorigin>'
            '<link rel=" stylesheet\tpreload " as=style href="/b.css">',
            [
                ("/a.css", "style", "stylesheet", 1, ANON),
                ("/b.css", "style", "stylesheet", 1, {}),
                ("/b.css", "style", "preload", 1, {}),
            ],
            id="rel-is-a-case-insensitive-token-list",
        ),
        pytest.param(
            '<link rel="alternate stylesheet" title=x href="alt.css">'
            '<link rel=stylesheet href="off.css" disabled>'
            '<link rel=stylesheet type="text/less" href="x.less">'
            "<link rel=stylesheet>"
            '<link rel=stylesheet href="">',
            [],
            id="stylesheets-not-fetched",
        ),
        pytest.param(
            '<link rel=preload href="/f.woff2" as=font type="font/woff2" crossorigin>'
            '<link rel=preload href="/a.js" as=SCRIPT>'
            '<link rel=preload href="/hero.jpg" as=image media="(min-width: 40em)">'
            '<link rel=preload href="/d.json" as=fetch crossorigin=use-credentials>',
            [
                ("/f.woff2", "font", "preload", 1, {"type": "font/woff2", **ANON}),
                ("/a.js", "script", "preload", 1, {}),
                ("/hero.jpg", "image", "preload", 1, {"media": "(min-width: 40em)"}),
                ("/d.json", "fetch", "preload", 1, {"crossorigin": "use-credentials"}),
            ],
            id="preload",
        ),
        pytest.param(
            '<link rel=preload as=image href="/h.jpg" imagesrcset="/h.jpg 1x, /h2.jpg 2x">',
            [
                ("/h.jpg", "image", "preload", 1, {}),
                ("/h2.jpg", "image", "srcset", 1, {}),
            ],
            id="preload-imagesrcset",
        ),
        pytest.param(
            '<link rel=modulepreload href="/m.js">'
            '<link rel=modulepreload href="/n.js" crossorigin="use-credentials">',
            [
                ("/m.js", "script", "modulepreload", 1, MODULE),
                (
                    "/n.js",
                    "script",
                    "modulepreload",
                    1,
                    {**MODULE, "crossorigin": "use-credentials"},
                ),
            ],
            id="modulepreload",
        ),
        pytest.param(
            '<link rel=icon href="/favicon.svg" type="image/svg+xml">'
            '<link rel="shortcut icon" href="/favicon.ico">'
            '<link rel=apple-touch-icon href="/apple.png">'
            '<link rel=mask-icon href="/mask.svg"><link rel=manifest href="/app.webmanifest">',
            [
                ("/favicon.svg", "image", "icon", 1, {"type": "image/svg+xml"}),
                ("/favicon.ico", "image", "icon", 1, {}),
                ("/apple.png", "image", "icon", 1, {}),
            ],
            id="icons",
        ),
        # --- <script> ------------------------------------------------------------------------
        pytest.param(
            '<script src="a.js"></script><script defer src="b.js"></script>'
            '<script async src="c.js" crossorigin="anonymous"></script>'
            '<script type="text/javascript" src="d.js"></script>'
            '<script language="JavaScript" src="e.js"></script>'
            '<script type="" src="f.js"></script>',
            [
                ("/docs/a.js", "script", "script", 1, {}),
                ("/docs/b.js", "script", "script", 1, {}),
                ("/docs/c.js", "script", "script", 1, ANON),
                ("/docs/d.js", "script", "script", 1, {}),
                ("/docs/e.js", "script", "script", 1, {}),
                ("/docs/f.js", "script", "script", 1, {}),
            ],
            id="classic-scripts",
        ),
        pytest.param(
            '<script type=module src="app.js"></script>'
            '<script type=" MODULE " src="creds.js" crossorigin=use-credentials></script>'
            '<script type=module src="nm.js" nomodule></script>',
            [
                ("/docs/app.js", "script", "script", 1, MODULE),
                (
                    "/docs/creds.js",
                    "script",
                    "script",
                    1,
                    {**MODULE, "crossorigin": "use-credentials"},
                ),
                ("/docs/nm.js", "script", "script", 1, MODULE),
            ],
            id="module-scripts",
        ),
        pytest.param(
            '<script nomodule src="legacy.js"></script>'
            '<script type="text/template" src="t.js"></script>'
            '<script type="application/json" src="j.js"></script>'
            '<script type="importmap">{"imports": {"a": "/a.js"}}</script>'
            '<script type="speculationrules">{"prefetch": []}</script>'
            '<script language="vbscript" src="v.js"></script>'
            '<script>document.write("<img src=w.png>")</script>'
            '<script>import x from "./decl.js"; export { x }</script>',
            [],
            id="scripts-not-fetched",
        ),
        pytest.param(
            # What an inline classic script fetches through a literal URL is recorded
            # (kind "fetch"; the build lists it, a policy can hint it); a classic script
            # has no import declarations.
            '<script>\nimport("./x.js"); fetch("/api.json");\n'
            'jQuery(function() { Search.loadIndex("searchindex.js"); });</script>',
            [
                ("/docs/x.js", "script", "fetch", 2, MODULE),
                ("/api.json", "fetch", "fetch", 2, {"crossorigin": "anonymous"}),
                ("/docs/searchindex.js", "script", "fetch", 3, {}),
            ],
            id="inline-classic-script-fetches",
        ),
        pytest.param(
            '<p>\n<script type="module">\nimport { a } from "./a.js";\n'
            'import("./lazy.js");\n// import "./c.js"\nexport * from "/b.js";\n</script>',
            [
                ("/docs/a.js", "script", "module", 3, MODULE),
                # import() runs when the script does: listed as a script fetch, as in a
                # module file.
                ("/docs/lazy.js", "script", "fetch", 4, MODULE),
                ("/b.js", "script", "module", 6, MODULE),
            ],
            id="inline-module-static-imports",
        ),
        # --- images --------------------------------------------------------------------------
        pytest.param(
            '<img src="a.png" srcset="a-1.png 1x, a-2.png 2x" sizes="50vw">',
            [
                ("/docs/a.png", "image", "srcset", 1, {}),
                ("/docs/a-1.png", "image", "srcset", 1, {}),
                ("/docs/a-2.png", "image", "srcset", 1, {}),
            ],
            id="img-src-srcset",
        ),
        pytest.param(
            '<img srcset="/i,1.png 100w,/i,2.png 200w , /x.png,, /y.png">',
            [
                ("/i,1.png", "image", "srcset", 1, {}),
                ("/i,2.png", "image", "srcset", 1, {}),
                ("/x.png", "image", "srcset", 1, {}),
                ("/y.png", "image", "srcset", 1, {}),
            ],
            id="srcset-commas-in-urls",
        ),
        pytest.param(
            '<img src="a.png" srcset="a.png 1x, data:image/png;base64,AA== 2x, #f 3x">',
            [("/docs/a.png", "image", "srcset", 1, {})],
            id="srcset-duplicates-data-fragments",
        ),
        pytest.param(
            '<picture><source srcset="p.avif" type="image/avif">'
            '<source srcset="p-wide.webp 2x" media="(min-width: 60em)" type=image/webp>'
            '<img src="p.jpg"></picture>',
            [
                ("/docs/p.avif", "image", "srcset", 1, {"type": "image/avif"}),
                (
                    "/docs/p-wide.webp",
                    "image",
                    "srcset",
                    1,
                    {"type": "image/webp", "media": "(min-width: 60em)"},
                ),
                ("/docs/p.jpg", "image", "image", 1, {}),
            ],
            id="picture",
        ),
        pytest.param(
            '<video poster="poster.jpg" src="v.mp4"><source src="v.webm" srcset="no.png">'
            '<track src="t.vtt"></video><audio><source src="a.mp3"></audio>',
            [("/docs/poster.jpg", "image", "image", 1, {})],
            id="video-poster-not-media",
        ),
        pytest.param(
            '<input type="IMAGE" src="go.png"><input type=text src="no.png"><input src="no2.png">',
            [("/docs/go.png", "image", "image", 1, {})],
            id="input-image",
        ),
        # --- CSS in the page -----------------------------------------------------------------
        pytest.param(
            '<style>\n@import "print.css" print;\nbody { background: url(bg.png) }\n</style>',
            [
                ("/docs/print.css", "style", "import", 2, {"media": "print"}),
                ("/docs/bg.png", "image", "url", 3, {}),
            ],
            id="style-element",
        ),
        pytest.param(
            '<style media="print">\n.a { background: url(p.png) }</style>'
            '<style type="text/x-scss">.b { background: url(no.png) }</style>',
            [("/docs/p.png", "image", "url", 2, {"media": "print"})],
            id="style-media-and-type",
        ),
        pytest.param(
            '<div>\n<p style="color: red">x</p>\n<section style="background: url(\'hero.jpg\')">'
            '<span style="mask: url(#m)"></span></section>',
            [("/docs/hero.jpg", "image", "url", 3, {})],
            id="style-attribute",
        ),
        # --- what a browser never fetches --------------------------------------------------
        pytest.param(
            '<!-- <img src="c.png"> --><!--[if IE]><link rel=stylesheet href="ie.css"><![endif]-->',
            [],
            id="comments",
        ),
        pytest.param(
            '<template><img src="t.png"><link rel=stylesheet href="t.css">'
            '<div style="background: url(t2.png)"></div></template>',
            [],
            id="template-contents",
        ),
        pytest.param(
            '<head><noscript><link rel=stylesheet href="ns.css"></noscript></head>'
            '<body><noscript><img src="ns.png"></noscript>',
            [],
            id="noscript",
        ),
        pytest.param(
            '<textarea><img src="a.png"></textarea><title><img src="b.png"></title>'
            '<xmp><img src="c.png"></xmp><iframe><img src="d.png"></iframe>',
            [],
            id="raw-text-elements",
        ),
        pytest.param(
            '<img src="data:image/gif;base64,R0lGOD"><img src="#top"><img src="">'
            '<img src="blob:https://x/y"><img src="javascript:void(0)"><img>',
            [],
            id="non-fetch-urls",
        ),
        pytest.param(
            '<img src="//cdn.example.com/a.png"><img src="http://img.example.com/b.png">',
            [
                ("https://cdn.example.com/a.png", "image", "image", 1, {}),
                ("http://img.example.com/b.png", "image", "image", 1, {}),
            ],
            id="other-origins",
        ),
    ],
)
def test_scan_html(html: str, expected: list[Row]) -> None:
    assert scan(html) == expected


def test_other_origins_are_not_local() -> None:
    [ref] = scan_html('<img src="https://cdn.example.com/a.png">', PAGE).references
    assert (ref.local, ref.origin, ref.path) == (False, "https://cdn.example.com", "")


@pytest.mark.parametrize(
    ("html", "line", "words"),
    [
        pytest.param("<p>\n<link rel=preload href=/x as=frame>", 2, "as='frame'", id="preload-as"),
        pytest.param("<link rel=preload href=/x>", 1, "without an as", id="preload-without-as"),
        pytest.param("\n\n<link rel=preload href=/f.woff2 as=font>", 3, "crossorigin", id="font"),
        pytest.param('<img srcset="a.png 1x 2x, b.png 0w">', 1, "'a.png 1x 2x'", id="srcset"),
        pytest.param('<base href="javascript:x">', 1, "<base href=", id="base"),
        pytest.param("<style>\n\n.a { b: url(a b) }</style>", 3, "bad URL", id="css-in-style"),
        pytest.param(
            '<script type=module>\nimport "lit";</script>', 2, "bare module", id="inline-bare"
        ),
    ],
)
def test_diagnostics(html: str, line: int, words: str) -> None:
    result = scan_html(html, PAGE, filename="index.html")
    problem = result.diagnostics[0]
    assert (problem.file, problem.line) == ("index.html", line)
    assert words in problem.message


def test_invalid_preload_is_skipped() -> None:
    assert scan("<link rel=preload href=/x as=frame><link rel=preload href=/y>") == []


def test_lines_are_where_start_tags_end() -> None:
    html = '<!doctype html>\n<html>\n<head>\n<link rel=stylesheet\n  href="a.css">\n'
    html += "</head>\n<body>\n\n<img src=x.png>\n<script\n type=module\n>import './m.js'</script>"
    assert [(r[0], r[3]) for r in scan(html)] == [
        ("/docs/a.css", 5),
        ("/docs/x.png", 9),
        ("/docs/m.js", 12),
    ]


# --- decoding -----------------------------------------------------------------------------


def test_meta_charset_decides_the_encoding() -> None:
    html = '<meta charset="iso-8859-1"><img src="caf\xe9.png">'.encode("latin-1")
    result = scan_html(html, PAGE)
    assert result.encoding == "windows-1252"
    assert [r.path for r in result.references] == ["/docs/caf%C3%A9.png"]


def test_bom_decides_the_encoding() -> None:
    html = "\ufeff<meta charset=latin1><img src='ü.png'>".encode("utf-16-le")
    result = scan_html(html, PAGE)
    assert result.encoding == "utf-16le"
    assert [r.path for r in result.references] == ["/docs/%C3%BC.png"]


def test_utf8_bom_and_default() -> None:
    assert scan_html(b"\xef\xbb\xbf<img src=a.png>", PAGE).encoding == "utf-8"
    assert scan_html(b"<img src=a.png>", PAGE).encoding == "utf-8"
    assert scan_html("<img src=a.png>", PAGE).encoding is None


def test_garbage_bytes_are_reported_not_raised() -> None:
    result = scan_html(b"<p>\n\xff\xfe\x00\x80<img src=a.png>\x00<img src=b.png>", PAGE)
    assert [r.path for r in result.references] == ["/docs/a.png", "/docs/b.png"]
    assert [d.line for d in result.diagnostics] == [2]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"\x00",
        b"<",
        b"<!--",
        b"</",
        b"<?xml version='1.0' encoding='latin1'?>",
        "<p>\ud800 lone surrogate",
        b"\xfe\xff",
        b"\xff\xfe\x00",
    ],
)
def test_degenerate_input(data: bytes | str) -> None:
    result = scan_html(data, PAGE)
    assert result.references == ()


def test_too_deep_document_is_reported() -> None:
    html = "<img src=a.png>" + "<div>" * 3000 + "<img src=deep.png>"
    result = scan_html(html, PAGE, filename="deep.html")
    assert [r.path for r in result.references] == ["/docs/a.png"]
    assert [d.severity for d in result.diagnostics] == ["error"]


def test_big_inline_data_does_not_truncate_the_page() -> None:
    html = '<img src="data:image/png;base64,' + "A" * (11 * 1024 * 1024) + '"><img src="b.png">'
    assert [r.path for r in scan_html(html, PAGE).references] == ["/docs/b.png"]


def test_scan_html_tree() -> None:
    root = etree.fromstring(
        b"<img src=a.png><template><img src=b.png></template>", etree.HTMLParser()
    )
    result = scan_html_tree(root, PAGE)
    assert [r.path for r in result.references] == ["/docs/a.png"]
    assert len(list(root.iter("img"))) == 2  # the tree is left alone


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.html")))
def test_golden(name: str) -> None:
    result = scan_html((GOLDEN / f"{name}.html").read_bytes(), PAGE, filename=f"{name}.html")
    check_golden(result, rows(result), GOLDEN / f"{name}.json")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert isinstance(scan_html(data, PAGE), ScanResult)


# Pieces of random pages: tags, attributes, comments, URLs, inline code.
HTML_PIECES = [
    "<", ">", "/", "=", '"', "'", " ", "\n", "<!--", "-->", "img", "src", "srcset", "link",
    "rel=stylesheet", "href", "script", "type=module", "style", "template", "noscript", "base",
    "a.png", ",", " 2x", "url(", ")", "import './a.js'", "picture", "source",
    "<meta charset=latin1>", "\xe9", "\x00"
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(HTML_PIECES), max_size=80))
def test_html_like_text_never_raises(parts: list[str]) -> None:
    html = "".join(parts)
    assert isinstance(scan_html(html, PAGE), ScanResult)
    assert isinstance(scan_html(html.encode("utf-8"), PAGE), ScanResult)


# References whose resolution depends on more than the base's folder (empty, query-
# or fragment-first, hidden behind a stripped control character) and some that do not.
_REFS = ["", "?v=2", "#top", " ?v=3", "\t?v=4", "a.css", "../b.css", "/c.css", "\\d.css", "./"]


@pytest.mark.parametrize(
    "base", ["", '<base href="/x/y/page.html?q=/z#f">', '<base href="https://cdn.example/a/b">']
)
def test_cached_resolution_matches_the_page_url(base: str) -> None:
    """The scanner caches a reference's resolution per folder of its base URL: two
    pages of one folder (with queries whose "/" is no path separator) get what
    resolving against each page's own URL gives."""
    for page in ("/docs/one.html?a=/b", "/docs/two.html", "/docs/"):
        url = document_url(page)
        html = base + "".join(f'<link rel="stylesheet" href="{ref}">' for ref in _REFS)
        found = [ref.url for ref in scan_html(html.encode(), url).references]
        base_url = url
        if base:
            href = etree.HTML(base).find(".//base").get("href")
            base_url = resolve(href, url).url  # type: ignore[union-attr]
        expected = [r.url for ref in _REFS if (r := resolve(ref, base_url)) is not None]
        assert found == expected


def test_a_links_diagnostic_names_each_page() -> None:
    """The same <link> on two pages: each page's scan reports it under its own file
    (what a layout's links add is shared between pages, their diagnostics are not)."""
    html = b'<link rel="preload" href="/a.css">\n<link rel="stylesheet" href="/s.css">'
    for name in ("one.html", "two.html"):
        result = scan_html(html, document_url(f"/docs/{name}"), filename=name)
        assert [(d.file, d.line) for d in result.diagnostics] == [(name, 1)]
        assert [ref.path for ref in result.references] == ["/s.css"]
