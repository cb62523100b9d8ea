"""Property-based tests: whatever the input, the scanners and the manifest loader answer.

For the HTML, CSS and JS scanners and the manifest loader, on random bytes and
on random documents built from their grammar (tags and attributes, at-rules and
blocks, import statements, YAML shaped like a manifest, and valid manifests
with random damage), these hold:

* nothing raises but what the API promises (``ManifestError`` from the loader);
* every diagnostic names the file it was given and, when the input had
  content, a line >= 1 that exists in the input;
* every same-origin reference is a wire path: ASCII, one leading ``/``, no
  ``.``/``..`` segment in any spelling, no NUL or backslash once decoded; so no
  scanned document can make the build or the runtime name a file outside the
  output;
* a manifest written by :func:`dump_manifest` loads back as the same manifest.

The example counts are set so that the file runs in a few seconds; CI runs the
same counts (``--hypothesis-seed`` reproduces a failure).
"""

from __future__ import annotations

import string
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pushgen.errors import Diagnostic, ManifestError
from pushgen.manifest import Manifest, dump_manifest, load_manifest, parse_manifest
from pushgen.model import CROSSORIGIN_VALUES, DESTINATIONS, Asset, ScanResult
from pushgen.scan.css import scan_css, scan_css_declarations
from pushgen.scan.html import scan_html
from pushgen.scan.js import scan_js

URL = "https://pushgen.invalid/docs/page.html"
FILE = "pages/docs/page.html"

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- what every result must satisfy ----------------------------------------------------


def line_count(data: bytes | str) -> int:
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    # Every line break a decoder or tokenizer may count: \n, \r, \r\n, \f, and the
    # Unicode separators a JS or YAML reader also takes as one.
    for brk in ("\r\n", "\r", "\x0c", "\x85", "\u2028", "\u2029"):
        text = text.replace(brk, "\n")
    return text.count("\n") + 1


def check_diagnostics(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], data: bytes | str, file: str
) -> None:
    # Counted on the raw input: UTF-16 decodes to fewer lines than its bytes suggest,
    # never more. One more line is "the end of the input" (a YAML error there).
    lines = line_count(data) + 1
    has_content = bool(data.strip())
    for diagnostic in diagnostics:
        assert diagnostic.file == file, diagnostic
        assert diagnostic.severity in ("error", "warning"), diagnostic
        assert diagnostic.message.strip(), diagnostic
        if has_content:
            assert diagnostic.line >= 1, diagnostic
        assert 0 <= diagnostic.line <= lines, (diagnostic, lines)
        assert diagnostic.column >= 0, diagnostic
        assert str(diagnostic).startswith(file), diagnostic


def check_references(result: ScanResult, data: bytes | str) -> None:
    lines = line_count(data)
    for ref in result.references:
        assert 1 <= ref.line <= lines, (ref, lines)
        if not ref.local:
            assert ref.path == "" and ref.origin != "https://pushgen.invalid", ref
            continue
        path = ref.path
        assert path.isascii(), ref
        assert path.startswith("/") and not path.startswith("//"), ref
        # A '\\' in a query is sent as it is (URL Standard); in a path it is a '/'.
        assert "\x00" not in path and "\\" not in path.split("?", 1)[0], ref
        # No dot segment in any spelling the URL Standard removes (%2e is a dot). An
        # escaped slash or backslash ("..%2f") is not a separator to a browser; what
        # it decodes to is url_path_to_relpath's to refuse (test_urls, test_paths).
        segments = path.split("?", 1)[0].lower().split("/")
        assert not any(seg.replace("%2e", ".") in (".", "..") for seg in segments), ref
        assert not any(c in path for c in " \t\r\n#<>"), ref
        assert ref.url == "https://pushgen.invalid" + path, ref


def check_scan(result: ScanResult, data: bytes | str, file: str) -> None:
    check_diagnostics(result.diagnostics, data, file)
    check_references(result, data)


# --- building blocks ---------------------------------------------------------------------

# URL-ish text with every character that has bitten URL code: dots, slashes both ways,
# percent escapes (valid, invalid, encoded dots and slashes), NUL, spaces, quotes,
# non-ASCII, schemes.
_URL_PIECES = [
    "..", ".", "/", "\\", "%2e", "%2E%2e", "%2f", "%5c", "%00", "%", "%zz", "%ff", "a", "b.css",
    "x.js", "f.woff2", "img.png", "?", "#", "q=1", " ", "\t", "\n", "\x00", "caf\u00e9", "\u65e5", "'", '"', "(", ")", ",", "1x", "2x", "100w", "data:", "javascript:", "http:",
    "https://pushgen.invalid", "//cdn.example", "https://other.example:8443", "blob:", "~", ";",
]  # fmt: skip
# Escaped lone surrogates have their own test below
# (test_an_escaped_lone_surrogate_is_not_a_crash).
url_text = st.lists(st.sampled_from(_URL_PIECES), max_size=8).map("".join) | st.text(max_size=20)
names = st.sampled_from(["a", "x", "body", "F", "main", "nav", "-webkit-x", "\u00e9l\u00e9ment"])


def _quote(value: str, quote: str) -> str:
    return quote + value.replace(quote, "") + quote


# --- HTML --------------------------------------------------------------------------------

_TAGS = ["link", "script", "img", "source", "video", "input", "style", "base", "template",
         "noscript", "picture", "meta", "div", "p", "svg", "iframe", "object", "html", "head",
         "body", "table", "math", "select", "textarea", "title", "plaintext"]  # fmt: skip
_ATTRS = ["href", "src", "srcset", "rel", "as", "type", "media", "crossorigin", "style",
          "nomodule", "poster", "charset", "content", "http-equiv", "sizes", "imagesrcset",
          "integrity", "async", "defer", "blocking", "fetchpriority", "id"]  # fmt: skip
_ATTR_VALUES = ["stylesheet", "preload", "modulepreload", "icon", "module", "text/javascript",
                "style", "script", "font", "image", "fetch", "anonymous", "use-credentials",
                "print", "screen and (min-width: 1px)", "utf-8", "iso-8859-1", "utf-16",
                "x-user-defined", "bogus", "text/html; charset=windows-1252",
                "background: url(a.png)", "font/woff2", "importmap", ""]  # fmt: skip


@st.composite
def html_attribute(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_ATTRS))
    value = draw(st.sampled_from(_ATTR_VALUES) | url_text)
    form = draw(st.sampled_from(["quoted", "single", "bare", "none"]))
    if form == "none":
        return name
    if form == "bare":
        return name + "=" + value.replace(" ", "")
    return name + "=" + _quote(value, '"' if form == "quoted" else "'")


@st.composite
def html_node(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["element", "element", "text", "comment", "garbage"]))
    if kind == "text":
        return draw(st.text(max_size=15))
    if kind == "comment":
        return "<!--" + draw(st.text(max_size=10)) + draw(st.sampled_from(["-->", "", "--!>"]))
    if kind == "garbage":
        return draw(
            st.sampled_from(
                ["<", "</", "<!", "<?x", "&", "&#0;", "&#x110000;", "]]>", "\x00", "<![CDATA["]
            )
        )
    tag = draw(st.sampled_from(_TAGS))
    attrs = " ".join(draw(st.lists(html_attribute(), max_size=4)))
    if tag == "style":
        body = draw(css_text())
    elif tag == "script":
        body = draw(js_text())
    elif depth < 4:
        body = "".join(draw(st.lists(html_node(depth + 1), max_size=3)))
    else:
        body = ""
    close = draw(st.sampled_from([f"</{tag}>", "", f"</{tag.upper()}>", "</x>"]))
    return f"<{tag} {attrs}>{body}{close}"


@st.composite
def html_document(draw: st.DrawFn) -> str:
    head = draw(
        st.sampled_from(["", "<!doctype html>", "\ufeff<!DOCTYPE html>", "<?xml version='1.0'?>"])
    )
    return head + "".join(draw(st.lists(html_node(), max_size=8)))


_ENCODINGS = ["utf-8", "utf-16-le", "utf-16-be", "latin-1", "cp1252", "shift_jis", "utf-8-sig"]


@SETTINGS
@given(st.binary(max_size=600))
@example(b"\xff\xfe<\x00")  # a UTF-16 BOM and half a character
@example(b"\xef\xbb\xbf")
@example(b"<meta charset=utf-16><link rel=stylesheet href=a.css>")
def test_html_scanner_on_random_bytes(data: bytes) -> None:
    check_scan(scan_html(data, URL, filename=FILE), data, FILE)


@SETTINGS
@given(html_document(), st.sampled_from(_ENCODINGS))
def test_html_scanner_on_random_documents(document: str, encoding: str) -> None:
    check_scan(scan_html(document, URL, filename=FILE), document, FILE)
    data = document.encode(encoding, errors="replace")
    check_scan(scan_html(data, URL, filename=FILE), data, FILE)


@pytest.mark.parametrize("depth", [1_000, 20_000])
def test_html_scanner_on_deep_nesting(depth: int) -> None:
    """Deep nesting is read, or the point where libxml2 gave up is an error diagnostic."""
    document = "<div>" * depth + '<link rel=stylesheet href="/deep.css">' + "</div>" * depth
    result = scan_html(document.encode(), URL, filename=FILE)
    check_scan(result, document, FILE)
    if depth <= 2048:  # libxml2's HTML parser stops at 2048 levels, huge_tree or not
        assert [r.path for r in result.references] == ["/deep.css"]
    else:
        [stopped] = result.diagnostics
        assert stopped.severity == "error" and stopped.line == 1 and stopped.column > 0
        assert "references after this point are missing" in stopped.message


# --- CSS ---------------------------------------------------------------------------------


@st.composite
def css_value(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["url", "url-quoted", "string", "image-set", "word", "function", "garbage"])
    )
    ref = draw(url_text)
    if kind == "url":
        return f"url({ref})"
    if kind == "url-quoted":
        return "url(" + _quote(ref, draw(st.sampled_from(['"', "'"]))) + ")"
    if kind == "string":
        return _quote(ref, '"')
    if kind == "image-set":
        return "image-set(" + _quote(ref, '"') + f" 1x, url({ref}) 2x)"
    if kind == "function":
        return f"{draw(st.sampled_from(['src', 'format', 'local', 'var', 'calc', 'tech']))}({ref})"
    if kind == "garbage":
        return draw(
            st.sampled_from(
                [
                    "{",
                    "}",
                    "(",
                    ")",
                    ";",
                    "!important",
                    "\\",
                    "/*",
                    "*/",
                    "@",
                    "<!--",
                    "-->",
                    '"',
                    "'",
                    "\x00",
                ]
            )
        )
    return draw(names)


@st.composite
def css_rule(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(
        st.sampled_from(["import", "font-face", "style", "media", "charset", "at-other", "garbage"])
    )
    if kind == "import":
        target = draw(css_value())
        tail = draw(
            st.sampled_from(
                [
                    "",
                    " screen",
                    " layer",
                    " layer(x)",
                    " supports(display: grid) print",
                    " (min-width",
                ]
            )
        )
        return f"@import {target}{tail}{draw(st.sampled_from([';', '', ';;']))}"
    if kind == "charset":
        return f'@charset "{draw(st.sampled_from(["utf-8", "utf-16", "bogus", "iso-8859-1"]))}";'
    if kind == "font-face":
        sources = ", ".join(draw(st.lists(css_value(), min_size=1, max_size=3)))
        return f"@font-face {{ font-family: F; src: {sources} }}"
    declarations = "; ".join(
        f"{draw(names)}: {' '.join(draw(st.lists(css_value(), max_size=3)))}"
        for _ in range(draw(st.integers(0, 3)))
    )
    nested = "".join(draw(st.lists(css_rule(depth + 1), max_size=2))) if depth < 4 else ""
    if kind == "media":
        return f"@media {draw(st.sampled_from(['screen', 'print', '(x', 'not all']))} {{ {nested} a {{ {declarations} }} }}"
    if kind == "at-other":
        return f"@{draw(st.sampled_from(['supports', 'layer', 'container', 'page', 'keyframes', 'namespace', 'x-unknown']))} {draw(names)} {{ {declarations} {nested} }}"
    if kind == "garbage":
        return draw(css_value())
    return f"{draw(names)} {{ {declarations} {nested} }}"


def css_text() -> st.SearchStrategy[str]:
    return st.lists(css_rule(), max_size=6).map("\n".join)


@SETTINGS
@given(st.binary(max_size=600))
@example(b'@charset "utf-16";\n@import "a.css";')
@example(b"\xfe\xff\x00@")
def test_css_scanner_on_random_bytes(data: bytes) -> None:
    check_scan(scan_css(data, URL, filename="s.css"), data, "s.css")


@SETTINGS
@given(css_text(), st.sampled_from(_ENCODINGS), st.integers(0, 40))
def test_css_scanner_on_random_stylesheets(sheet: str, encoding: str, offset: int) -> None:
    check_scan(scan_css(sheet, URL, filename="s.css"), sheet, "s.css")
    data = sheet.encode(encoding, errors="replace")
    check_scan(scan_css(data, URL, filename="s.css"), data, "s.css")
    # Embedded at a line offset (a <style> element), every line moves by the offset.
    embedded = scan_css(sheet, URL, filename="p.html", line_offset=offset, inline=True)
    check_scan(embedded, "\n" * offset + sheet, "p.html")
    declarations = scan_css_declarations(sheet, URL, filename="p.html", line_offset=offset)
    check_scan(declarations, "\n" * offset + sheet, "p.html")


def test_css_scanner_on_deep_nesting() -> None:
    depth = 5_000
    sheet = "@media screen {" * depth + "a { background: url(deep.png) }" + "}" * depth
    result = scan_css(sheet.encode(), URL, filename="s.css")
    check_scan(result, sheet, "s.css")


# --- JS ----------------------------------------------------------------------------------


@st.composite
def js_statement(draw: st.DrawFn) -> str:
    spec = _quote(
        draw(url_text | st.sampled_from(["./a.js", "../b.js", "/c.js", "lodash", "./d.json"])),
        draw(st.sampled_from(['"', "'"])),
    )
    kind = draw(
        st.sampled_from(
            [
                "import",
                "import-from",
                "export-from",
                "dynamic",
                "meta",
                "string",
                "template",
                "regex",
                "comment",
                "garbage",
                "block",
            ]
        )
    )
    if kind == "import":
        return f"import {spec};"
    if kind == "import-from":
        clause = draw(
            st.sampled_from(["x", "{ a, b as c }", "* as ns", "x, { y }", "{}", "{ default as d }"])
        )
        attributes = draw(
            st.sampled_from(
                [
                    "",
                    ' with { type: "json" }',
                    ' with { type: "css" }',
                    " assert { type: 'json' }",
                    " with {",
                ]
            )
        )
        return f"import {clause} from {spec}{attributes};"
    if kind == "export-from":
        return f"export {draw(st.sampled_from(['*', '{ a }', '* as b']))} from {spec};"
    if kind == "dynamic":
        return f"import({spec}).then(m => m);"
    if kind == "meta":
        return "const u = import.meta.url;"
    if kind == "string":
        return f"const s = {spec};"
    if kind == "template":
        return f"const t = `${{ {spec} }} import {spec} ${{`nested ${{1}}`}}`;"
    if kind == "regex":
        body = draw(st.sampled_from(["import", "[/]", "\\/", "a", "(?:x)+", "\\u{1F600}"]))
        return "const r = /" + body + "/g.test(x) / 2;"
    if kind == "comment":
        return draw(
            st.sampled_from(
                [
                    f"// import {spec}",
                    f"/* import {spec} */",
                    "/* unterminated",
                    "<!-- html comment",
                    "--> x",
                ]
            )
        )
    if kind == "block":
        return "if (x) { " + " ".join(draw(st.lists(js_statement(), max_size=2))) + " }"
    return draw(
        st.sampled_from(
            ["{", "}", "(", ")", "`", "'", '"', "/", "\\u0069mport", "\u2028", "#!", "\x00"]
        )
    )


def js_text() -> st.SearchStrategy[str]:
    return st.lists(js_statement(), max_size=8).map("\n".join)


@SETTINGS
@given(st.binary(max_size=600))
def test_js_scanner_on_random_bytes(data: bytes) -> None:
    check_scan(scan_js(data, URL, filename="m.js"), data, "m.js")


@SETTINGS
@given(js_text(), st.integers(0, 40))
@example('import "/.//"', 0)  # resolves to "//" (URL Standard): reported, not a path
def test_js_scanner_on_random_modules(module: str, offset: int) -> None:
    check_scan(scan_js(module, URL, filename="m.js"), module, "m.js")
    check_scan(scan_js(module.encode("utf-8", "replace"), URL, filename="m.js"), module, "m.js")
    inline = scan_js(module, URL, filename="p.html", line_offset=offset, inline=True)
    check_scan(inline, "\n" * offset + module, "p.html")


# --- the manifest loader -------------------------------------------------------------------

VALID = """\
# a comment
version: 1
rules:
  - match: /blog/<slug>
    add: [{path: /static/css/blog.css, as: style}]
    set: [{path: /static/img/*, push: false}]
    remove: [/static/js/analytics.js]
    policy: {push: [style, font], max_pushes: 4, max_bytes: 100000}
routes:
  /:
    - {path: /static/css/site.css, as: style}
    - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}
    - {path: /static/js/app.js, as: script, module: true}
    - {path: /static/img/hero.png, as: image, push: false, hint: false}
  /docs/:
    - {path: "/static/img/caf%C3%A9.svg", as: image, media: "(min-width: 40em)"}
"""

_YAML_PIECES = [
    "version: 1\n", "routes:\n", "rules:\n", "  /:\n", "  /docs/:\n", "    - ", "  - ",
    "{path: /a.css, as: style}", "{path: /../x, as: style}", "{path: /a.js, as: scirpt}",
    "{path: a.css, as: style}", "{pth: /a.css}", "match: /x/*\n", "add: [", "]", "{", "}",
    "[", ",", ": ", ":", "\n", "  ", "\t", "- ", "? ", "&a ", "*a", "!!python/object:os.system ",
    "!!binary ", "'", '"', "#", "|\n", ">\n", "%YAML 1.1\n", "---\n", "...\n", "~", "null",
    "true", "yes", "0x10", "1e3", "\x00", "\x07", "\ufeff", "\x85", "\u2028", "caf\u00e9",
    "push: maybe", "hint: false", "module: true", "policy: {max_pushes: -1}", "version: 2\n",
]  # fmt: skip


def check_manifest_text(text: str) -> Manifest | None:
    try:
        manifest = parse_manifest(text, "m.yaml")
    except ManifestError as exc:
        assert exc.diagnostics, text
        check_diagnostics(exc.diagnostics, text, "m.yaml")
        assert all(d.severity == "error" for d in exc.diagnostics)
        return None
    for assets in manifest.routes.values():
        for asset in assets:
            assert asset.path.isascii() and asset.destination in DESTINATIONS
            decoded = unquote(asset.path.split("?", 1)[0])
            assert not any(seg in (".", "..") for seg in decoded.split("/")), asset
    return manifest


@SETTINGS
@given(st.binary(max_size=400))
@example(b"\x07")  # a control character: PyYAML's reader error, which has no problem_mark
def test_manifest_loader_on_random_text(data: bytes) -> None:
    check_manifest_text(data.decode("utf-8", errors="replace"))


@SETTINGS
@given(st.lists(st.sampled_from(_YAML_PIECES), max_size=30).map("".join))
def test_manifest_loader_on_yaml_shaped_text(text: str) -> None:
    check_manifest_text(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(
                [
                    "delete-char",
                    "insert",
                    "drop-line",
                    "dup-line",
                    "swap",
                    "indent",
                    "replace-value",
                ]
            )
        )
        line = lines[index]
        if action == "delete-char" and line:
            at = draw(st.integers(0, len(line) - 1))
            lines[index] = line[:at] + line[at + 1 :]
        elif action == "insert":
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(st.sampled_from(_YAML_PIECES)) + line[at:]
        elif action == "drop-line":
            del lines[index]
        elif action == "dup-line":
            lines.insert(index, line)
        elif action == "swap" and index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], line
        elif action == "indent":
            lines[index] = draw(st.sampled_from(["", " ", "    ", "\t"])) + line.lstrip()
        elif action == "replace-value":
            replacement = draw(
                url_text | st.sampled_from(["style", "font", "true", "1", "[]", "{}"])
            )
            lines[index] = line.replace("/static/", replacement, 1).replace("style", replacement, 1)
        text = "\n".join(lines)
    return text


@SETTINGS
@given(mutated())
def test_manifest_loader_on_damaged_valid_manifests(text: str) -> None:
    check_manifest_text(text)


def test_the_valid_manifest_is_valid() -> None:
    """The seed of the mutations loads, so a mutation that breaks nothing stays valid."""
    manifest = check_manifest_text(VALID)
    assert manifest is not None and set(manifest.routes) == {"/", "/docs/"}


@SETTINGS
@given(st.binary(max_size=300))
def test_load_manifest_reads_any_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.getbasetemp() / "bytes-manifest.yaml"
    path.write_bytes(data)
    try:
        load_manifest(path)
    except ManifestError as exc:
        check_diagnostics(exc.diagnostics, data, str(path))


_SAFE_SEGMENT = st.text(string.ascii_letters + string.digits + "-_~", min_size=1, max_size=8)
asset_paths = st.lists(_SAFE_SEGMENT, min_size=1, max_size=4).map(
    lambda s: "/" + "/".join(s)
) | st.builds(
    lambda s: "/static/" + "".join(f"%{b:02X}" for b in s.encode()),
    # Escaped, a "/" or "\\" would be a separator once decoded, and "." a dot segment.
    st.text(min_size=1, max_size=4).filter(
        lambda s: s not in (".", "..") and not any(c in s for c in "\x00/\\")
    ),
)
assets = st.builds(
    Asset,
    path=asset_paths,
    destination=st.sampled_from(sorted(DESTINATIONS)),
    type=st.none() | st.sampled_from(["font/woff2", "image/png", "text/css"]),
    crossorigin=st.none() | st.sampled_from(sorted(CROSSORIGIN_VALUES)),
    media=st.none() | st.sampled_from(["print", "(min-width: 40em)", "screen and (x: 'y')"]),
    module=st.booleans(),
    push=st.booleans(),
    hint=st.booleans(),
)


@SETTINGS
@given(
    st.dictionaries(
        asset_paths.map(lambda p: p if p.endswith("/") else p + "/"),
        st.lists(assets, max_size=5, unique_by=lambda a: a.path),
        max_size=5,
    )
)
def test_a_written_manifest_loads_back_equal(routes: dict[str, list[Asset]]) -> None:
    manifest = Manifest(routes={route: tuple(entries) for route, entries in routes.items()})
    loaded = parse_manifest(dump_manifest(manifest), "m.yaml")
    assert loaded.routes == manifest.routes


# --- bugs these properties found, now fixed: each stays as a regression test ------------


def test_a_control_character_in_a_manifest_is_located() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest("version: 1\nroutes:\n  /: [\x07]\n", "m.yaml")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (3, 7)


@pytest.mark.parametrize(
    ("scan", "data"),
    [
        (scan_js, b'import "./\\ud800.js";\n'),  # a JS string escape for a lone surrogate
        (scan_css, b'@import "\\d800.css";\n'),  # CSS Syntax: a surrogate escape is U+FFFD
        (scan_html, b'<script type=module>import "./\\udc00.js";</script>'),
    ],
    ids=["js", "css", "html"],
)
def test_an_escaped_lone_surrogate_is_not_a_crash(scan: object, data: bytes) -> None:
    result = scan(data, URL, filename="f")  # type: ignore[operator]
    check_scan(result, data, "f")
    # The URL Standard's UTF-8 percent-encode turns a lone surrogate into U+FFFD.
    [reference] = result.references
    assert reference.path.rsplit("/", 1)[-1].startswith("%EF%BF%BD")
