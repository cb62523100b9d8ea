"""URL resolution as a browser does it, and the mapping of URL paths to output files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushgen.urls import document_url, resolve, url_path_to_relpath

PAGE = document_url("/docs/page.html")


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        ("a.css", "/docs/a.css"),
        ("../a.css", "/a.css"),
        ("/x/../../b.css?v=1#frag", "/b.css?v=1"),
        ("../../../../etc/passwd", "/etc/passwd"),  # never above the root
        ("%2e%2e/%2E%2E/z.js", "/z.js"),  # percent-encoded dot segments are dot segments
        ("..\\c.css", "/c.css"),  # backslash is a slash in http(s) URLs
        (" a b.css ", "/docs/a%20b.css"),
        ("caf\u00e9.png", "/docs/caf%C3%A9.png"),
        ("img.png?a=b c", "/docs/img.png?a=b%20c"),
        ("a\n.css", "/docs/a.css"),  # tabs and newlines are removed
        ("https://pushgen.invalid:443/q.js", "/q.js"),
        ("./", "/docs/"),
    ],
)
def test_local_references_resolve_to_wire_paths(ref: str, path: str) -> None:
    resolved = resolve(ref, PAGE)
    assert resolved is not None and resolved.local
    assert resolved.path == path


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "   ",
        "#top",
        "data:image/png;base64,AAAA",
        "blob:x",
        "javascript:void(0)",
        "mailto:a@b",
        "ftp://h/x",
    ],
)
def test_references_a_browser_does_not_fetch_are_dropped(ref: str) -> None:
    assert resolve(ref, PAGE) is None


@pytest.mark.parametrize(
    ("ref", "origin"),
    [
        ("//cdn.example/a.js", "https://cdn.example"),
        ("http://pushgen.invalid/a.js", "http://pushgen.invalid"),
        ("https://Fonts.Example:8443/f", "https://fonts.example:8443"),
    ],
)
def test_other_origins_are_not_local(ref: str, origin: str) -> None:
    resolved = resolve(ref, PAGE)
    assert resolved is not None and not resolved.local
    assert resolved.origin == origin and resolved.path == ""


@pytest.mark.parametrize(
    ("path", "base", "relpath"),
    [
        ("/static/a.css", "/", "static/a.css"),
        ("/static/a%20b.css?v=2", "/", "static/a b.css"),
        ("/blog/static/a.css", "/blog/", "static/a.css"),
        ("/blog", "/blog/", ""),
        ("/other/a.css", "/blog/", None),
        ("/static/%2e%2e/secret", "/", None),
        ("/static/..%2fsecret", "/", None),
        ("/static/a%00.css", "/", None),
        ("/static/a%5c..%5csecret", "/", None),
    ],
)
def test_url_paths_map_to_files_inside_the_output_only(
    path: str, base: str, relpath: str | None
) -> None:
    assert url_path_to_relpath(path, base) == relpath


@given(st.text(alphabet="/.-_~aZ09%?", min_size=1, max_size=24))
def test_plain_paths_resolve_as_the_full_algorithm_does(ref: str) -> None:
    # A leading space is stripped by the full algorithm but keeps the reference
    # off the fast path for plain absolute paths: both must agree.
    base = "https://pushgen.invalid/docs/page.html"
    assert resolve(ref, base) == resolve(" " + ref, base)
