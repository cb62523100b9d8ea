"""Bad input to the build: every mistake a site can hold ends as a located diagnostic.

Malformed HTML and CSS, binary garbage under names that promise text, 50 MB
files, deep nesting, wrong, missing and unknown charsets, byte order marks,
10,000 ``@import`` rules, import cycles, broken Jinja2 and missing templates.
What must hold for each: the build either succeeds (warnings name
``file:line``) or fails with :class:`BuildError` whose diagnostics name the
template and line, leaving the previous output and manifest as they were; it
never raises anything else (the CLI would print a traceback), and it never
hangs.

A bug found here that is not fixed yet is pinned with ``xfail(strict=True)``
so that the fix flips it (see docs/reliability.md); none is open today.
"""

from __future__ import annotations

import base64
import codecs
import os
import random
import sys
import time
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import BuildError, Diagnostic
from tests.sites import write_site

pytestmark = pytest.mark.timeout(120)

PAGE_HEAD = '<!doctype html><link rel="stylesheet" href="/static/css/site.css">\n'


def build(root: Path) -> BuildResult:
    return build_site(load_config(root), jobs=1)


def build_error(root: Path) -> list[Diagnostic]:
    with pytest.raises(BuildError) as info:
        build(root)
    return info.value.diagnostics


def paths(result: BuildResult, route: str = "/") -> list[str]:
    return [asset.path for asset in result.manifest.routes[route]]


def located(diagnostic: Diagnostic, root: Path) -> bool:
    """True when the diagnostic names a file of the site and a line in it.

    Files of the site are named relative to it; the manifest as the build shows
    it (relative to the current folder).
    """
    named = (root / diagnostic.file, Path(diagnostic.file))
    return diagnostic.line >= 1 and any(path.is_file() for path in named)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site",
        {
            "pages/index.html": PAGE_HEAD + "<h1>Home</h1>\n",
            "static/css/site.css": "body { color: black }\n",
        },
    )


# --- malformed HTML and CSS ------------------------------------------------------------


def test_malformed_html_is_read_the_way_a_browser_recovers(site: Path) -> None:
    (site / "pages" / "index.html").write_text(
        "<html><head><title>a <b> in a title is text</title>\n"
        "<link rel=stylesheet href=/static/css/site.css\n"  # tag ends at the next ">"
        "><p><div></span></p></table><form><form>\n"
        '<img src="/static/img/a.png" <img src=/static/img/b.png>\n'
        '<p <script type=module src="/static/js/app.js"></script>\n'
        "<!-- unterminated comment <script src=/static/js/hidden.js></script>\n",
        encoding="utf-8",
    )
    write_site(site, {"static/img/a.png": b"png", "static/js/app.js": "export {};\n"})
    result = build(site)
    # The stylesheet and the first image survive the broken markup; the rest of the
    # page after "<!--" is a comment to a browser, so hidden.js is not fetched.
    assert paths(result)[:2] == ["/static/css/site.css", "/static/img/a.png"]
    assert "/static/js/hidden.js" not in paths(result)
    for diagnostic in result.diagnostics:
        assert located(diagnostic, site), diagnostic


def test_malformed_css_is_read_past_with_located_warnings(site: Path) -> None:
    (site / "static" / "css" / "site.css").write_text(
        '@import "a.css";\n'
        "body { color: red; background: url(img/one.png) \n"  # never closed
        "}}} ;; @media screen { p { background: url('img/two.png') } }\n"
        '@import "late.css";\n'  # after a rule: browsers ignore it
        'p { content: "unterminated\n'
        "  background: url(img/three.png)\n"
        "}\n"
        "@font-face { src: url(../fonts/f.woff2) format(woff2 }\n"
        "@unknown-rule { x: url(img/four.png) }\n",
        encoding="utf-8",
    )
    write_site(
        site,
        {
            "static/css/a.css": "a { color: blue }\n",
            "static/css/img/one.png": b"1",
            "static/css/img/two.png": b"2",
        },
    )
    result = build(site)
    assert paths(result)[:2] == ["/static/css/site.css", "/static/css/a.css"]
    assert "/static/css/late.css" not in paths(result)
    assert {"/static/css/img/one.png", "/static/css/img/two.png"} <= set(paths(result))
    assert "/static/css/img/four.png" not in paths(result)  # unknown at-rules are dropped
    problems = [(d.line, d.message) for d in result.diagnostics if d.file == "static/css/site.css"]
    # Line 4: the late @import; line 5: the unterminated string.
    assert (4, next(m for n, m in problems if n == 4)) in problems
    assert any(n == 5 and "Bad string" in m for n, m in problems), problems
    for diagnostic in result.diagnostics:
        assert located(diagnostic, site), diagnostic


@pytest.mark.parametrize("seed", range(12))
def test_binary_garbage_named_html_css_and_js(site: Path, seed: int) -> None:
    """Random bytes as a page (a Jinja2 template), a stylesheet and a module script."""
    rng = random.Random(seed)
    write_site(
        site,
        {
            "pages/index.html": PAGE_HEAD + '<script type="module" src="/static/js/g.js"></script>'
            '<link rel="stylesheet" href="/static/css/g.css">\n',
            "pages/garbage.html": rng.randbytes(rng.randint(1, 30_000)),
            "static/css/g.css": rng.randbytes(30_000),
            "static/js/g.js": rng.randbytes(30_000),
        },
    )
    try:
        result = build(site)
    except BuildError as exc:
        # Jinja2 met "{#", "{{" or "{%" in the noise: the page and line are named.
        [diagnostic] = exc.diagnostics
        assert diagnostic.file == "pages/garbage.html" and diagnostic.line >= 1, diagnostic
        assert not (site / "_site").exists()
        return
    # Styles come first in the manifest, then scripts (graph.py's order).
    assert paths(result)[:3] == ["/static/css/site.css", "/static/css/g.css", "/static/js/g.js"]
    assert (site / "_site" / "garbage.html").is_file()
    for diagnostic in result.diagnostics:
        assert located(diagnostic, site), diagnostic


def test_50_mb_files(site: Path) -> None:
    """A 50 MB page, a 50 MB stylesheet (an inlined font) and a 50 MB image."""
    rng = random.Random(50)
    font = base64.b64encode(rng.randbytes(37_500_000)).decode()
    write_site(
        site,
        {
            "pages/index.html": PAGE_HEAD
            + '<link rel="stylesheet" href="/static/css/big.css">'
            + "<p>"
            + "lorem ipsum dolor sit amet " * 1_900_000
            + '</p><img src="/static/img/big.png">\n',
            "static/css/big.css": "@font-face { font-family: F; src: url(data:font/woff2;base64,"
            + font
            + ') format("woff2") }\nbody { background: url(../img/bg.png) }\n',
            "static/img/big.png": rng.randbytes(50_000_000),
            "static/img/bg.png": b"png",
        },
    )
    sizes = [(site / rel).stat().st_size for rel in ("pages/index.html", "static/css/big.css")]
    assert min(sizes) > 50_000_000
    started = time.monotonic()
    result = build(site)
    seconds = time.monotonic() - started
    # The font is a data: URL (nothing to fetch); the page's image, then the sheet's.
    assert paths(result) == [
        "/static/css/site.css",
        "/static/css/big.css",
        "/static/img/big.png",
        "/static/img/bg.png",
    ]
    assert result.diagnostics == []
    out = site / "_site"
    assert (out / "static" / "img" / "big.png").stat().st_size == 50_000_000
    assert (out / "index.html").stat().st_size == sizes[0]
    print(f"50 MB page + 50 MB stylesheet + 50 MB image built in {seconds:.1f}s")


def test_a_reference_whose_escapes_are_not_utf8_is_a_warning(site: Path) -> None:
    (site / "pages" / "index.html").write_text(
        PAGE_HEAD + '\n<img src="/static/img/%ff.png">\n', encoding="utf-8"
    )
    result = build(site)
    assert [(d.file, d.line) for d in result.diagnostics] == [("pages/index.html", 3)]


# --- deep nesting --------------------------------------------------------------------------


def test_deeply_nested_html_css_and_js(site: Path) -> None:
    depth = 50_000
    write_site(
        site,
        {
            "pages/index.html": PAGE_HEAD
            + '<script type="module" src="/static/js/deep.js"></script>'
            + '<link rel="stylesheet" href="/static/css/deep.css">\n',
            "pages/divs.html": PAGE_HEAD + "<div>" * depth + "x" + "</div>" * depth + "\n",
            "static/css/deep.css": "@media screen {" * depth
            + "a { background: url(x.png) }"
            + "}" * depth
            + "\n",
            "static/js/deep.js": "{(" * depth + ")}" * depth + '\nimport "./leaf.js";\n',
            "static/js/leaf.js": "export {};\n",
        },
    )
    result = build(site)
    assert paths(result) == [
        "/static/css/site.css",
        "/static/css/deep.css",
        "/static/js/deep.js",
        "/static/js/leaf.js",
    ]
    # Rules nested past 100 levels are not followed, and the sheet says so.
    [too_deep] = [d for d in result.diagnostics if d.file == "static/css/deep.css"]
    assert too_deep.line == 1 and "nested more than 100 deep" in too_deep.message
    # libxml2 stops at 2048 levels: the page still builds, and says where it stopped.
    stopped = [d for d in result.diagnostics if d.file == "pages/divs.html"]
    assert [d.severity for d in stopped] == ["error"] and stopped[0].line == 2
    assert paths(result, "/divs.html") == ["/static/css/site.css"]


def test_moderately_nested_jinja2_renders(site: Path) -> None:
    depth = 50
    (site / "pages" / "nested.html").write_text(
        "{% if true %}" * depth + "deep" + "{% endif %}" * depth + "\n", encoding="utf-8"
    )
    build(site)
    assert (site / "_site" / "nested.html").read_text().strip() == "deep"


def test_too_deeply_nested_jinja2_is_an_error_naming_the_page(site: Path) -> None:
    # Python itself refuses 100 nested blocks (IndentationError) and Jinja2's compiler
    # recurses per level (RecursionError): either way the page is named.
    for depth in (100, 2_000):
        (site / "pages" / "nested.html").write_text(
            "{% if true %}" * depth + "deep" + "{% endif %}" * depth + "\n", encoding="utf-8"
        )
        [diagnostic] = build_error(site)
        assert diagnostic.file == "pages/nested.html", diagnostic
        assert "IndentationError" in diagnostic.message or "RecursionError" in diagnostic.message


NEST_IF = "{% if true %}\n", "{% endif %}"
NEST_FOR = "{% for i in [1] %}\n", "{% endfor %}"


@pytest.mark.parametrize(
    ("opening", "closing", "depth", "what"),
    [
        # Past 200 levels or so Jinja2's parser runs out of stack (RecursionError).
        (*NEST_IF, 2_000, "{% if %} is nested 2000 blocks deep"),
        # 99 ifs make Python code nested past its 100 levels of indentation.
        (*NEST_IF, 100, "{% if %} is nested 100 blocks deep"),
        # 21 loops make Python code with more than 20 statically nested blocks.
        (*NEST_FOR, 21, "{% for %} is nested 21 blocks deep"),
    ],
)
def test_too_deeply_nested_jinja2_is_located(
    site: Path, opening: str, closing: str, depth: int, what: str
) -> None:
    (site / "pages" / "nested.html").write_text(
        "<p>\n" + opening * depth + "deep" + closing * depth + "\n", encoding="utf-8"
    )
    [diagnostic] = build_error(site)
    # The innermost opening tag: line 1 is the <p>, the tags take one line each.
    assert (diagnostic.file, diagnostic.line) == ("pages/nested.html", depth + 1)
    assert what in diagnostic.message, diagnostic.message
    assert "move the inner levels into a macro" in diagnostic.message


def test_too_deeply_nested_layout_is_located_in_the_layout(site: Path) -> None:
    depth = 300
    write_site(
        site,
        {
            "templates/deep.html": "<p>\n" + "{% with %}\n" * depth + "{% block body %}"
            "{% endblock %}" + "{% endwith %}" * depth + "\n",
            "pages/index.html": '{% extends "deep.html" %}{% block body %}hi{% endblock %}\n',
        },
    )
    [diagnostic] = build_error(site)
    # {% block body %} is the innermost block, on the line after the last {% with %}.
    assert (diagnostic.file, diagnostic.line) == ("templates/deep.html", depth + 2)
    assert f"{{% block %}} is nested {depth + 1} blocks deep" in diagnostic.message


def test_too_deeply_nested_brackets_are_located(site: Path) -> None:
    (site / "pages" / "index.html").write_text(
        "<p>\n\n{{ " + "(" * 500 + "1" + ")" * 500 + " }}\n", encoding="utf-8"
    )
    [diagnostic] = build_error(site)
    assert (diagnostic.file, diagnostic.line) == ("pages/index.html", 3)
    assert "brackets are nested 500 deep" in diagnostic.message


# --- charsets and byte order marks ------------------------------------------------------------

TEXT_PAGE = (
    '<!doctype html><title>Caf\u00e9</title>\n<link rel="stylesheet" href="/static/css/a.css">\n'
    "<p>\u00e9t\u00e9 {{ 40 + 2 }}</p>\n"
)
RENDERED = TEXT_PAGE.replace("{{ 40 + 2 }}", "42")


@pytest.mark.parametrize(
    ("name", "data", "encoding", "warning"),
    [
        ("utf-8 BOM", codecs.BOM_UTF8 + TEXT_PAGE.encode(), "utf-8-sig", None),
        ("no charset, UTF-8", TEXT_PAGE.encode(), "utf-8", None),
        (
            "meta windows-1252",
            TEXT_PAGE.replace("<title>", '<meta charset="windows-1252"><title>').encode("cp1252"),
            "cp1252",
            None,
        ),
        (
            "meta shift_jis",
            TEXT_PAGE.replace("<title>", '<meta charset="shift_jis"><title>')
            .replace("\u00e9", "\u65e5")
            .encode("shift_jis"),
            "shift_jis",
            None,
        ),
        (
            "http-equiv",
            TEXT_PAGE.replace(
                "<title>",
                '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><title>',
            ).encode("latin-1"),
            "latin-1",
            None,
        ),
        (
            "unknown label",
            TEXT_PAGE.replace("<title>", '<meta charset="klingon"><title>').encode(),
            "utf-8",
            ("pages/index.html", 1, "unknown character encoding 'klingon'"),
        ),
        (
            "utf-16 label means utf-8",
            TEXT_PAGE.replace("<title>", '<meta charset="utf-16"><title>').encode(),
            "utf-8",
            None,
        ),
    ],
)
def test_pages_in_every_charset_are_read_and_written_in_it(
    site: Path, name: str, data: bytes, encoding: str, warning: tuple[str, int, str] | None
) -> None:
    (site / "pages" / "index.html").write_bytes(data)
    (site / "static" / "css" / "a.css").write_text("a { color: red }\n")
    result = build(site)
    assert paths(result) == ["/static/css/a.css"], name
    out = (site / "_site" / "index.html").read_bytes()
    expected = (
        RENDERED if "\u65e5" not in data.decode(encoding) else RENDERED.replace("\u00e9", "\u65e5")
    )
    assert out.decode(encoding).replace("\ufeff", "").endswith(expected.split("<title>")[1]), name
    found = [(d.file, d.line) for d in result.diagnostics]
    if warning is None:
        assert found == [], name
    else:
        assert found == [warning[:2]] and warning[2] in result.diagnostics[0].message, name


@pytest.mark.parametrize(
    "bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_a_utf16_page_with_a_bom_keeps_it_and_its_references(
    site: Path, bom: bytes, codec: str
) -> None:
    (site / "pages" / "index.html").write_bytes(bom + TEXT_PAGE.encode(codec))
    (site / "static" / "css" / "a.css").write_text("a { color: red }\n")
    result = build(site)
    out = (site / "_site" / "index.html").read_bytes()
    assert out.startswith(bom), out[:8]  # without it a browser reads windows-1252
    assert paths(result) == ["/static/css/a.css"]
    assert result.diagnostics == []


def test_bytes_invalid_in_the_declared_charset_are_reported(site: Path) -> None:
    page = TEXT_PAGE.replace("<title>", '<meta charset="utf-8"><title>').encode("latin-1")
    (site / "pages" / "index.html").write_bytes(page)
    (site / "static" / "css" / "a.css").write_text("a { color: red }\n")
    result = build(site)
    assert [(d.file, d.line) for d in result.diagnostics] == [("pages/index.html", 1)]
    assert [d.severity for d in result.diagnostics] == ["warning"]
    assert "not valid utf-8 were replaced with U+FFFD" in result.diagnostics[0].message


def test_bytes_invalid_in_a_layout_or_partial_are_reported_there_once(site: Path) -> None:
    # Each template is decoded once and cached, but every page that uses it is told.
    write_site(
        site,
        {
            "templates/base.html": b"<!doctype html>\n<title>caf\xe9</title>\n"
            b"{% include 'nav.html' %}{% block body %}{% endblock %}\n",
            "templates/nav.html": b"<nav>\n\n<a>\xff</a></nav>\n",
            "pages/index.html": "{% extends 'base.html' %}{% block body %}home{% endblock %}\n",
            "pages/about.html": "{% extends 'base.html' %}{% block body %}about{% endblock %}\n",
        },
    )
    result = build(site)
    assert [(d.file, d.line, d.column) for d in result.diagnostics] == [
        ("templates/base.html", 2, 11),
        ("templates/nav.html", 3, 4),
    ]
    assert all("U+FFFD" in d.message for d in result.diagnostics)


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        # WHATWG names that are not Python codec names.
        ("windows-874", "cp874", "\u0e44\u0e17\u0e22"),
        ("x-mac-cyrillic", "mac-cyrillic", "\u043c\u0438\u0440"),
        ("iso-8859-8-i", "iso8859-8", "\u05e9\u05dc\u05d5\u05dd"),
    ],
)
def test_pages_in_charsets_python_names_differently_are_written_in_them(
    site: Path, label: str, codec: str, text: str
) -> None:
    page = f'<meta charset="{label}"><p>{text} {{{{ 40 + 2 }}}}</p>\n'
    (site / "pages" / "index.html").write_bytes(page.encode(codec))
    result = build(site)
    out = (site / "_site" / "index.html").read_bytes()
    assert out == page.replace("{{ 40 + 2 }}", "42").encode(codec)
    assert result.diagnostics == []


def test_a_page_in_an_encoding_browsers_refuse_is_reported(site: Path) -> None:
    # iso-2022-kr is "replacement" in the Encoding Standard: the page reads as one U+FFFD.
    (site / "pages" / "index.html").write_bytes(b'<meta charset="iso-2022-kr">\n<p>hi</p>\n')
    result = build(site)
    assert (site / "_site" / "index.html").read_bytes() == "\ufffd".encode()
    assert [(d.file, d.line) for d in result.diagnostics] == [("pages/index.html", 1)]
    assert "browsers refuse to decode" in result.diagnostics[0].message


@pytest.mark.parametrize(
    ("name", "data", "warning_line"),
    [
        ("utf-8 BOM", codecs.BOM_UTF8 + b'@import "b.css";\n', None),
        ("utf-16le BOM", codecs.BOM_UTF16_LE + '@import "b.css";\n'.encode("utf-16-le"), None),
        ("utf-16be BOM", codecs.BOM_UTF16_BE + '@import "b.css";\n'.encode("utf-16-be"), None),
        (
            "@charset latin-1",
            '@charset "iso-8859-1";\n/* caf\u00e9 */ @import "b.css";\n'.encode("latin-1"),
            None,
        ),
        ("@charset unknown", b'@charset "klingon";\n@import "b.css";\n', 1),
        ("invalid UTF-8", b'/* caf\xe9 */\n@import "b.css";\n', 1),
    ],
)
def test_stylesheets_in_every_charset(
    site: Path, name: str, data: bytes, warning_line: int | None
) -> None:
    write_site(site, {"static/css/site.css": data, "static/css/b.css": "b { color: red }\n"})
    result = build(site)
    assert paths(result) == ["/static/css/site.css", "/static/css/b.css"], name
    found = [(d.file, d.line) for d in result.diagnostics]
    assert found == ([] if warning_line is None else [("static/css/site.css", warning_line)]), name


def test_module_scripts_with_a_bom_or_invalid_utf8(site: Path) -> None:
    write_site(
        site,
        {
            "pages/index.html": PAGE_HEAD
            + '<script type="module" src="/static/js/a.js"></script>\n',
            "static/js/a.js": codecs.BOM_UTF8 + b'import "./b.js";\n',
            "static/js/b.js": b'// caf\xe9\n\nimport "./c.js";\n',
            "static/js/c.js": b"export {};\n",
        },
    )
    result = build(site)
    assert paths(result) == [
        "/static/css/site.css",
        "/static/js/a.js",
        "/static/js/b.js",
        "/static/js/c.js",
    ]
    assert [(d.file, d.line) for d in result.diagnostics] == [("static/js/b.js", 1)]


# --- many imports and cycles ------------------------------------------------------------------


def test_10000_imports_each_listed_once_in_order(site: Path) -> None:
    count = 10_000
    files: dict[str, str | bytes] = {
        "static/css/site.css": "".join(f'@import "m/{i}.css";\n' for i in range(count))
        + '@import "m/0.css";\n'  # again: fetched once
        + '@import "site.css";\n',  # itself: a cycle
    }
    for i in range(count):
        # Each one imports a shared sheet (fetched once) and the sheet that imports it.
        files[f"static/css/m/{i}.css"] = (
            f'@import "../shared.css";\n@import "../site.css";\np{i} {{ color: red }}\n'
        )
    files["static/css/shared.css"] = "html { color: black }\n"
    write_site(site, files)
    started = time.monotonic()
    result = build(site)
    seconds = time.monotonic() - started
    listed = paths(result)
    assert listed == [
        "/static/css/site.css",
        "/static/css/m/0.css",
        "/static/css/shared.css",
        *(f"/static/css/m/{i}.css" for i in range(1, count)),
    ]
    cycles = [d for d in result.diagnostics if "cycle" in d.message]
    assert len(cycles) >= count  # every m/i.css -> site.css closes one
    for diagnostic in result.diagnostics:
        assert located(diagnostic, site), diagnostic
    print(f"10,000 @imports (each also in a cycle) built in {seconds:.1f}s")


def test_import_cycles_terminate_with_located_warnings(site: Path) -> None:
    write_site(
        site,
        {
            "pages/index.html": PAGE_HEAD
            + '<script type="module" src="/static/js/a.js"></script>\n',
            "static/css/site.css": '@import "b.css";\nbody { color: red }\n',
            "static/css/b.css": '\n@import "site.css";\n@import "b.css";\n',
            "static/js/a.js": 'import "./b.js";\nimport "./a.js";\n',
            "static/js/b.js": 'import "./c.js";\nexport * from "./a.js";\n',
            "static/js/c.js": 'import "./b.js";\nimport("./a.js");\n',
        },
    )
    result = build(site)
    assert paths(result) == [
        "/static/css/site.css",
        "/static/css/b.css",
        "/static/js/a.js",
        "/static/js/b.js",
        "/static/js/c.js",
    ]
    cycles = sorted((d.file, d.line) for d in result.diagnostics if "cycle" in d.message)
    assert cycles == [("static/css/b.css", 2), ("static/css/b.css", 3)]


def test_a_long_module_chain(site: Path) -> None:
    count = 3_000
    files: dict[str, str | bytes] = {
        "pages/index.html": PAGE_HEAD + '<script type="module" src="/static/js/0.js"></script>\n'
    }
    for i in range(count):
        files[f"static/js/{i}.js"] = (
            f'import "./{i + 1}.js";\n' if i + 1 < count else "export {};\n"
        )
    write_site(site, files)
    result = build(site)
    assert paths(result) == ["/static/css/site.css", *(f"/static/js/{i}.js" for i in range(count))]


def test_a_long_import_chain(site: Path) -> None:
    count = 3_000
    files: dict[str, str | bytes] = {"static/css/site.css": '@import "c/0.css";\n'}
    for i in range(count):
        files[f"static/css/c/{i}.css"] = (
            f'@import "{i + 1}.css";\n' if i + 1 < count else "p { color: red }\n"
        )
    write_site(site, files)
    result = build(site)
    # Followed to graph.MAX_IMPORT_DEPTH levels, then a located warning: no crash.
    assert len(paths(result)) == 64 + 1
    assert any("@import nesting deeper than 64" in d.message for d in result.warnings)


# --- Jinja2: broken syntax and missing templates --------------------------------------------------


@pytest.mark.parametrize(
    ("files", "file", "line", "message"),
    [
        (
            {"pages/index.html": "a\nb\n{% if x %}\nnever closed\n"},
            "pages/index.html",
            3,
            "Unexpected end of template",
        ),
        (
            {"pages/index.html": "a\n{% frobnicate %}\n"},
            "pages/index.html",
            2,
            "unknown tag 'frobnicate'",
        ),
        ({"pages/index.html": "a\n\n{{ 1 + }}\n"}, "pages/index.html", 3, "unexpected"),
        ({"pages/index.html": "a\n{{ x\n"}, "pages/index.html", 2, "unexpected end of template"),
        ({"pages/index.html": "{# never closed\n"}, "pages/index.html", 1, "comment"),
        (
            {
                "pages/index.html": '{% extends "base.html" %}\n',
                "templates/base.html": "<html>\n<body>\n{% block b %}\n{% endblok %}\n",
            },
            "templates/base.html",
            4,
            "unknown tag 'endblok'",
        ),
        (
            {
                "pages/index.html": '{% import "m.html" as m %}\n{{ m.f() }}\n',
                "templates/m.html": "{% macro f() %}\n{{ 1 // 0 }}\n{% endmacro %}\n",
            },
            "templates/m.html",
            2,
            "ZeroDivisionError",
        ),
        (
            {"pages/index.html": "x\n{{ site.nope.deeper }}\n"},
            "pages/index.html",
            2,
            "UndefinedError",
        ),
        (
            {
                "pages/index.html": '{% include "loop.html" %}\n',
                "templates/loop.html": 'x\n{% include "loop.html" %}\n',
            },
            "templates/loop.html",
            2,
            "RecursionError",
        ),
        (
            {
                "pages/index.html": '{% extends "a.html" %}\n',
                "templates/a.html": '{% extends "b.html" %}\n',
                "templates/b.html": '{% extends "a.html" %}\n',
            },
            "templates/b.html",
            1,
            "RecursionError",
        ),
    ],
    ids=[
        "unclosed-block",
        "unknown-tag",
        "bad-expression",
        "unclosed-print",
        "unclosed-comment",
        "error-in-parent",
        "error-in-macro",
        "undefined",
        "recursive-include",
        "recursive-extends",
    ],
)
def test_broken_jinja2_names_the_template_and_line(
    site: Path, files: dict[str, str | bytes], file: str, line: int, message: str
) -> None:
    build(site)
    before = (
        (site / "push-manifest.yaml").read_bytes(),
        (site / "_site" / "index.html").read_bytes(),
    )
    write_site(site, files)
    [diagnostic] = build_error(site)
    assert (diagnostic.file, diagnostic.line, diagnostic.severity) == (file, line, "error")
    assert message.lower() in diagnostic.message.lower()
    after = (site / "push-manifest.yaml").read_bytes(), (site / "_site" / "index.html").read_bytes()
    assert after == before
    assert not list(site.glob("._site.staging-*"))


@pytest.mark.parametrize(
    ("files", "file", "line", "missing"),
    [
        ({"pages/index.html": '{% extends "gone.html" %}\n'}, "pages/index.html", 1, "gone.html"),
        (
            {
                "pages/index.html": '{% extends "base.html" %}\n',
                "templates/base.html": "<html>\n<body>\n{% include 'partials/nope.html' %}\n",
            },
            "templates/base.html",
            3,
            "partials/nope.html",
        ),
        (
            {"pages/index.html": 'x\n{% from "macros.html" import f %}\n'},
            "pages/index.html",
            2,
            "macros.html",
        ),
        (
            {"pages/index.html": 'x\n\n{% import "lib/m.html" as m %}\n'},
            "pages/index.html",
            3,
            "lib/m.html",
        ),
    ],
    ids=["extends", "include-in-parent", "from-import", "import"],
)
def test_missing_templates_name_the_template_and_line(
    site: Path, files: dict[str, str | bytes], file: str, line: int, missing: str
) -> None:
    write_site(site, files)
    [diagnostic] = build_error(site)
    assert (diagnostic.file, diagnostic.line) == (file, line)
    # A layout's error names the pages it stops.
    stops = "" if file == "pages/index.html" else " (in 1 page: pages/index.html)"
    assert diagnostic.message == f"template not found: {missing}{stops}"


def test_the_cli_prints_located_errors_and_no_traceback(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(site, {"pages/about.html": "ok\n{% include 'partials/nope.html' %}\n"})
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    assert "pages/about.html:2: error: template not found: partials/nope.html" in err
    assert "Traceback" not in err
    assert "previous output left as it was" in err
    assert not os.path.exists(site / "_site")


@pytest.mark.parametrize(
    ("files", "file", "line"),
    [
        (
            {
                "pages/index.html": '{% extends "a.html" %}\n',
                "templates/a.html": '{% extends "b.html" %}\n',
                "templates/b.html": '\n{% extends "c.html" %}\n',
                "templates/c.html": '\n\n{% extends "a.html" %}\n',
            },
            "templates/c.html",
            3,
        ),
        (
            {
                "pages/index.html": '{% include "a.html" %}\n',
                "templates/a.html": 'x\n{% include "b.html" %}\n',
                "templates/b.html": 'y\n\n{% include "a.html" %}\n',
            },
            "templates/b.html",
            3,
        ),
    ],
    ids=["extends-3", "include-2"],
)
def test_a_template_cycle_is_located_where_it_closes_at_any_recursion_limit(
    site: Path, files: dict[str, str | bytes], file: str, line: int
) -> None:
    # Where the stack runs out is an accident of the recursion limit and of how the
    # Python version counts frames (3.12 changed it); where the cycle closes is not.
    write_site(site, files)
    limit = sys.getrecursionlimit()
    found = set()
    try:
        for new_limit in range(800, 1200, 37):
            sys.setrecursionlimit(new_limit)
            [diagnostic] = build_error(site)
            found.add((diagnostic.file, diagnostic.line, diagnostic.severity))
    finally:
        sys.setrecursionlimit(limit)
    assert found == {(file, line, "error")}
    assert "break the cycle" in diagnostic.message
