"""A routes block read by its lines (routes_block.py) takes only what the loader takes.

The compiled form and ``pushgen merge`` read a block whose checksum holds by its
lines instead of as YAML; a route key the loader refuses (not a path, a control
character) must send them to the YAML, which says where it is wrong, never into a
compiled manifest or a merged one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pushgen.errors import ManifestError
from pushgen.manifest import Manifest, dump_manifest, parse_manifest
from pushgen.manifest.compiled import compiled_path, read_manifest, write_compiled
from pushgen.manifest.routes_block import read_routes_block
from pushgen.model import Asset

STYLE = Asset("/static/css/site.css", "style")


@pytest.mark.parametrize(
    ("route", "said"),
    [
        ("1abc", "route '1abc' must be a URL path starting with '/'"),
        ("/a\x01b", "holds a control character (U+0001)"),
    ],
)
def test_a_route_the_loader_refuses_is_not_compiled(tmp_path: Path, route: str, said: str) -> None:
    # The writer writes any route it is given (quoted), and signs the block.
    text = dump_manifest(Manifest(routes={"/": (STYLE,), route: (STYLE,)}))
    path = tmp_path / "push-manifest.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_routes_block(text, str(path)) is None
    assert not write_compiled(path, text).current
    assert not compiled_path(path).exists()
    with pytest.raises(ManifestError) as raised:
        read_manifest(path)
    [error] = raised.value.diagnostics
    assert said in error.message
    assert error.line == len(text.splitlines()) - 1  # the key line of the last route


def test_the_writers_keys_are_read_as_their_routes(tmp_path: Path) -> None:
    routes = {
        r: (STYLE,) for r in ("/", "/a b/", "/café/", "/search?q=1", "/yes", "/e6", "/x#y", '/"q"/')
    }
    text = dump_manifest(Manifest(routes=routes))
    block = read_routes_block(text, "m.yaml")
    assert block is not None
    assert block.keys == sorted(routes)
    assert block.keys == list(parse_manifest(text, "m.yaml").routes)


def test_entries_that_differ_by_their_path_are_read_as_the_loader_reads_them() -> None:
    # Lines grouped by what follows the path: one of each parsed as YAML, the
    # others given their own path; quoted paths parsed as YAML themselves.
    shapes = [
        Asset("/img/p.png", "image", push=False, hint=False),
        Asset("/css/s.css", "style", media="print", push=False),
        Asset("/f/a.woff2", "font", type="font/woff2", crossorigin="anonymous"),
        Asset("/js/m.js", "script", module=True, integrity="sha384-" + "A" * 64),
    ]
    odd = [Asset("/a%20b/c.png", "image"), Asset("/q.css?v=1", "style")]
    routes = {
        f"/p/{i}/": tuple(replace(a, path=a.path.replace(".", f"-{i}.", 1)) for a in shapes)
        + tuple(odd)
        for i in range(40)
    }
    text = dump_manifest(Manifest(routes=routes))
    block = read_routes_block(text, "m.yaml")
    assert block is not None
    by_lines = {
        key: tuple(block.assets[j] for j in block.refs[block.starts[i] : block.starts[i + 1]])
        for i, key in enumerate(block.keys)
    }
    assert by_lines == dict(parse_manifest(text, "m.yaml").routes) == routes


@pytest.mark.parametrize("path", ["/img/../secret.png", "/img/%2e%2e/x.png"])
def test_an_entry_path_the_loader_refuses_sends_the_block_to_the_loader(
    tmp_path: Path, path: str
) -> None:
    good = Asset("/img/a.png", "image", push=False)
    routes = {"/": (good,), "/x/": (Asset(path, "image", push=False),)}
    text = dump_manifest(Manifest(routes=routes))
    assert read_routes_block(text, "m.yaml") is None
    with pytest.raises(ManifestError) as raised:
        parse_manifest(text, "m.yaml")
    assert "leaves the site root" in raised.value.diagnostics[0].message


def test_compiling_the_routes_a_build_holds_keeps_no_list_of_the_text_lines() -> None:
    # Issue 27 (100,000 pages): the build's manifest text is compared and blanked
    # in place; a list of its lines (writer._split, cached) held ~300 MB at the peak.
    from pushgen.manifest.compiled import compile_manifest
    from pushgen.manifest.writer import _split

    routes = {f"/p{i}/": (STYLE, Asset(f"/img/{i}.png", "image")) for i in range(50)}
    text = dump_manifest(Manifest(routes=routes))
    _split.cache_clear()
    compiled = compile_manifest(text, "m.yaml", routes=routes)
    assert _split.cache_info().misses == 0
    assert compiled == compile_manifest(text, "m.yaml")  # read back by its lines: the same


_PIECES = (
    "routes:\n",
    "routes: {}  # written\n",
    "  /a:\n",
    "  /b: []\n",
    "    - {path: /x}\n",
    "# a comment\n",
    "  # indented comment\n",
    "\n",
    "  \n",
    "\t\n",
    "rules:\n",
    "version: 1\n",
    "routesx: 1\n",
)


def test_text_span_finds_the_lines_a_split_finds() -> None:
    # Every text of up to 4 of these lines (28,561), and some with other line breaks
    # or no last "\n" (text_span leaves those to the split).
    import itertools

    from pushgen.manifest.routes_block import blank_routes, text_span
    from pushgen.manifest.writer import _split

    texts = ["".join(p) for n in range(5) for p in itertools.product(_PIECES, repeat=n)]
    texts += ["routes:\n  /a:\r\n", "routes:\n  /a:", "a: 1\x85routes:\n  /a:\n"]
    found = 0
    for text in texts:
        span, split = text_span(text), _split(text)
        if span is None:
            assert split.span is None or not text.endswith("\n") or "\r" in text or "\x85" in text
            continue
        found += 1
        assert split.span is not None and (span.start, span.end) == (
            split.span.start,
            split.span.end,
        )
        assert text[span.start_at : span.body_at] == split.lines[span.start]
        assert text[span.body_at : span.end_at] == split.body
        assert text[span.end_at :] == "".join(split.lines[span.end :])
        lines = split.lines
        start, end = split.span.start, split.span.end
        blanked = lines[:start] + ["routes:\n"] + ["\n"] * (end - start - 1) + lines[end:]
        assert blank_routes(text) == "".join(blanked)
    assert found > 10000


def test_the_compiled_tables_of_a_build_hold_four_bytes_an_entry_line() -> None:
    # Issue 27: an int object of 28 bytes per entry line in a list was 50 MB of a
    # 100,000-page build's peak; the block built for the compiled form holds arrays.
    from pushgen.manifest.compiled import _written_block

    routes = {f"/p{i}/": (STYLE, Asset(f"/img/{i}.png", "image")) for i in range(300)}
    block = _written_block(dump_manifest(Manifest(routes=routes)), routes)
    assert block is not None and len(block.entry_lines) == 600
    for table in (block.lines, block.refs, block.starts, block.entry_lines, block.entry_columns):
        assert memoryview(table).itemsize == 4  # type: ignore[arg-type]
