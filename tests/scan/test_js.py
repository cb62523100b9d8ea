"""Golden tests for pushgen.scan.js: a module in, its static imports out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.model import ScanResult
from pushgen.scan.js import scan_js
from pushgen.urls import document_url
from tests.golden import check_golden

MODULE = document_url("/static/js/app.js")
GOLDEN = Path(__file__).parent / "golden" / "js"

Row = tuple[str, str, int, int]


def rows(result: ScanResult) -> list[Row]:
    """(path or URL, destination, line, column) per reference, checking the fixed fields."""
    out: list[Row] = []
    for ref in result.references:
        assert (ref.kind, ref.module, ref.crossorigin) == ("module", True, "anonymous")
        out.append((ref.path if ref.local else ref.url, ref.destination, ref.line, ref.column))
    return out


def paths(js: str) -> list[str]:
    return [row[0] for row in rows(scan_js(js, MODULE))]


@pytest.mark.parametrize(
    ("js", "expected"),
    [
        pytest.param('import x from "./a.js";', ["/static/js/a.js"], id="default"),
        pytest.param("import {a, b as c} from './a.js'", ["/static/js/a.js"], id="named"),
        pytest.param('import * as ns from "../lib/a.js"', ["/static/lib/a.js"], id="namespace"),
        pytest.param('import "/side-effect.js"', ["/side-effect.js"], id="bare-import"),
        pytest.param('import x, {y} from "./a.js"', ["/static/js/a.js"], id="default-and-named"),
        pytest.param('import x, * as y from "./a.js"', ["/static/js/a.js"], id="default-and-ns"),
        pytest.param('import {} from "./a.js"', ["/static/js/a.js"], id="empty-named"),
        pytest.param(
            'import {"string name" as s, default as d} from "./a.js"',
            ["/static/js/a.js"],
            id="string-and-default-names",
        ),
        pytest.param('export * from "./a.js"', ["/static/js/a.js"], id="export-star"),
        pytest.param('export * as ns from "./a.js"', ["/static/js/a.js"], id="export-star-as"),
        pytest.param('export {a, b as c} from "./a.js"', ["/static/js/a.js"], id="export-named"),
        pytest.param("export {a, b}; export default 1;", [], id="local-exports"),
        pytest.param(
            "import\n  {\n a,\n b\n }\n from\n './a.js'\n;", ["/static/js/a.js"], id="multiline"
        ),
        pytest.param(
            'import a from"./a.js";import b from"./b.js"',
            ["/static/js/a.js", "/static/js/b.js"],
            id="minified",
        ),
        pytest.param(
            'import x from "https://cdn.example.com/x.js"',
            ["https://cdn.example.com/x.js"],
            id="other-origin",
        ),
        pytest.param(r'import "./\u0061.js"', ["/static/js/a.js"], id="escaped-specifier"),
        # --- not static imports ---------------------------------------------------------
        pytest.param('import("./lazy.js"); await import("./b.js")', [], id="dynamic-import"),
        pytest.param("const u = import.meta.url; import.meta.resolve('./x.js')", [], id="meta"),
        pytest.param('// import "./a.js"\n/* import "./b.js" */', [], id="comments"),
        pytest.param(
            "const s = 'import a from \"./a.js\"'; const t = \"export * from './b.js'\";",
            [],
            id="strings",
        ),
        pytest.param(
            'const t = `import "./a.js" ${ `import "./b.js"` } export * from "./c.js"`;',
            [],
            id="template-literals",
        ),
        pytest.param(
            'const r = /import "\\.\\/a.js"/g; const s = /[/]import "x"/;', [], id="regex"
        ),
        pytest.param('if (ok) /import "\\.\\/a.js"/.test(s)', [], id="regex-after-if-condition"),
        pytest.param(
            'x = a / 2; import "./after-division.js"',
            ["/static/js/after-division.js"],
            id="division-is-not-regex",
        ),
        pytest.param(
            'x = (a) / 2 / (b); import "./a.js"', ["/static/js/a.js"], id="division-after-paren"
        ),
        pytest.param(
            'x = {a: 1} / 2; import "./a.js"', ["/static/js/a.js"], id="division-after-object"
        ),
        pytest.param(
            'x = `${ {a: "}"} }`; import "./a.js"', ["/static/js/a.js"], id="template-nesting"
        ),
        pytest.param(
            'x = y++ / 2; z = "/"; import "./a.js"', ["/static/js/a.js"], id="postfix-division"
        ),
        pytest.param(
            'obj.import("./a.js"); o = {import: "./b.js"}', [], id="property-named-import"
        ),
        pytest.param('o?.import; export.x; a.export("./x.js")', [], id="member-access"),
        pytest.param('import defer * as ns from "./a.js"', [], id="import-defer-proposal"),
        pytest.param('import source m from "./a.wasm"', [], id="import-source-proposal"),
        pytest.param('import defer from "./a.js"', ["/static/js/a.js"], id="binding-named-defer"),
        pytest.param('import a from "data:text/javascript,1"', [], id="data-url"),
        pytest.param('#!/usr/bin/env node\nimport "./a.js"', ["/static/js/a.js"], id="hashbang"),
    ],
)
def test_scan_js(js: str, expected: list[str]) -> None:
    assert paths(js) == expected


@pytest.mark.parametrize(
    ("js", "destination"),
    [
        ('import data from "./d.json" with { type: "json" };', "json"),
        ("import sheet from './s.css' with {type: 'css'}", "style"),
        ('export {default} from "./d.json" with { "type": "json" }', "json"),
        ('import x from "./x.js" with {}', "script"),
    ],
)
def test_import_attributes(js: str, destination: str) -> None:
    [(_, found, _, _)] = rows(scan_js(js, MODULE))
    assert found == destination


@pytest.mark.parametrize(
    ("js", "words"),
    [
        pytest.param('import _ from "lodash"', "bare module specifier 'lodash'", id="bare"),
        pytest.param('import "lit/decorators.js"', "bare module specifier", id="bare-path"),
        pytest.param('import w from "./w.wasm" with {type: "wasm"}', "type 'wasm'", id="type"),
        pytest.param('import j from "./j.json" with {kind: "x"}', "attribute 'kind'", id="key"),
    ],
)
def test_unresolvable_imports_are_diagnosed_and_skipped(js: str, words: str) -> None:
    result = scan_js(js, MODULE, filename="app.js")
    assert result.references == ()
    [problem] = result.diagnostics
    assert words in problem.message
    assert (problem.file, problem.line, problem.column) == ("app.js", 1, js.index('"') + 1)


def test_import_assertions_fail_the_module_as_in_chromium() -> None:
    # Chromium rejects `assert { ... }` with a SyntaxError and fetches none of the
    # module's imports (tests/scenarios/test_chromium_urls.py): neither does pushgen.
    js = 'import "./a.js";\nimport d from "./d.json" assert { type: "json" };'
    result = scan_js(js, MODULE, filename="app.js")
    assert result.references == ()
    [problem] = result.diagnostics
    assert (problem.file, problem.line, problem.column) == (
        "app.js",
        2,
        js.split("\n")[1].index("assert") + 1,
    )
    assert "'assert { ... }' are a SyntaxError" in problem.message
    assert "write 'with { ... }'" in problem.message


@pytest.mark.parametrize("specifier", ["/.//", "/.//x.js", "../..//x.js", "/%2e//x.js"])
def test_an_empty_segment_after_the_root_is_diagnosed_and_skipped(specifier: str) -> None:
    # The URL Standard (and Chromium) resolve these to a path starting with "//",
    # which no file has and which a Link target would read as a host.
    js = f'import "{specifier}"'
    result = scan_js(js, MODULE, filename="app.js")
    assert result.references == ()
    [problem] = result.diagnostics
    assert (problem.file, problem.line, problem.column) == ("app.js", 1, js.index('"') + 1)
    assert "a path no file of the site has" in problem.message


def test_lines_columns_and_offset() -> None:
    js = 'let a = 1;\n\n  import "./a.js";\nexport * from "./b.js"'
    assert rows(scan_js(js, MODULE)) == [
        ("/static/js/a.js", "script", 3, 10),
        ("/static/js/b.js", "script", 4, 15),
    ]
    inline = scan_js('import "./a.js";\nimport "./b.js"', MODULE, line_offset=10, inline=True)
    assert [(r.line, r.column) for r in inline.references] == [(11, 0), (12, 8)]


def test_crossorigin_is_inherited() -> None:
    result = scan_js('import "./a.js"', MODULE, crossorigin="use-credentials")
    assert result.references[0].crossorigin == "use-credentials"


def test_bytes_are_utf8() -> None:
    result = scan_js(b'\xef\xbb\xbfimport "./caf\xc3\xa9.js"', MODULE)
    assert result.encoding == "utf-8"
    assert rows(result) == [("/static/js/caf%C3%A9.js", "script", 1, 8)]


def test_unterminated_constructs_are_reported() -> None:
    result = scan_js('import "./a.js"\n`never closed ${x}', MODULE, filename="app.js")
    assert [r.path for r in result.references] == ["/static/js/a.js"]
    assert [(d.line, d.message) for d in result.diagnostics] == [
        (2, "unterminated template literal")
    ]
    result = scan_js('import "./a.js"\n/* never closed', MODULE)
    assert [d.message for d in result.diagnostics] == ["unterminated comment"]


def test_big_bundle_is_scanned() -> None:
    chunk = "function f(a, b) { return a / b > /x[/]y/g.lastIndex ? `${a}` : 'q'; }\n"
    js = 'import "./first.js";\n' + chunk * 2000 + 'import "./last.js";\nimport("./lazy.js")'
    assert paths(js) == ["/static/js/first.js", "/static/js/last.js"]


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.js")))
def test_golden(name: str) -> None:
    result = scan_js((GOLDEN / f"{name}.js").read_bytes(), MODULE, filename=f"{name}.js")
    check_golden(result, rows(result), GOLDEN / f"{name}.json")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=1024))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert isinstance(scan_js(data, MODULE), ScanResult)


# Pieces of random modules: declarations, brackets, strings, regexes, templates.
JS_PIECES = [
    "import", "export", "from", "as", "*", "{", "}", "(", ")", "[", "]", "/", "`", "${",
    '"./a.js"', "'", '"', "\\", "with", "type", ":", ",", ";", "\n", " ", "//", "/*", "*/",
    "if", "return", "x", "1", "++", ".", "defer", "source"
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(JS_PIECES), max_size=60))
def test_js_like_text_never_raises(parts: list[str]) -> None:
    result = scan_js("".join(parts), MODULE)
    assert isinstance(result, ScanResult)
    assert all(ref.module for ref in result.references)
