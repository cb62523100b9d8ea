"""URL resolution as a browser does it, and the mapping of URL paths to output files."""

from __future__ import annotations

import ada_url
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushgen.links import link_value
from pushgen.model import Asset
from pushgen.urls import LOCAL_ORIGIN, document_url, resolve, url_path_to_relpath, wire_path

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
        # As the URL Standard serialises them, which is what Chromium requests
        # (tests/scenarios/test_chromium_urls.py): issue 12, item 2.
        ("a[1].css", "/docs/a[1].css"),
        ("b|c.js", "/docs/b%7Cc.js"),  # Chromium's departure from the Standard
        ("b.js?q|r", "/docs/b.js?q|r"),
        ("it's.css?x='1'", "/docs/it's.css?x=%271%27"),
        ("x.js?a\\b", "/docs/x.js?a\\b"),
        ("x.css?", "/docs/x.css?"),
        ("x.css?#f", "/docs/x.css?"),
        ("a^b.css?^", "/docs/a%5Eb.css?^"),
        ("https://pushgen.invalid:0443/q.js", "/q.js"),
        ("https://user:pw@pushgen.invalid/q.js", "/q.js"),
        ("HTTPS://PUSHGEN.INVALID/Q.js", "/Q.js"),
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
        ("//B\u00fccher.example/a.css", "https://xn--bcher-kva.example"),
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


@given(st.text(alphabet="/.-_~aZ09%?#[]|'\\ \u00e9", min_size=1, max_size=24))
def test_resolved_paths_are_adas(ref: str) -> None:
    # pushgen's own layer adds nothing to the URL Standard's serialisation of a
    # same-origin reference: the path is ada's pathname and query.
    resolved = resolve(ref, PAGE)
    if ref.strip() == "" or ref.strip().startswith("#"):
        assert resolved is None  # the document itself
        return
    try:
        url = ada_url.URL(ref, PAGE)
    except ValueError:  # "//": no host
        assert resolved is None
        return
    assert resolved is not None
    if url.origin != LOCAL_ORIGIN:  # "//0" is host 0.0.0.0
        assert not resolved.local and resolved.origin == url.origin
        return
    assert resolved.local and resolved.url == LOCAL_ORIGIN + resolved.path
    # An empty query ("x?") is the one thing ada's parts leave out of the path; a '|'
    # in the path is the one character Chromium encodes and the Standard does not.
    pathname = url.pathname.replace("|", "%7C")
    assert resolved.path in (pathname + url.search, pathname + "?")


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        ("/static/a[1].css", "/static/a[1].css"),
        ("/static/b|c.js", "/static/b%7Cc.js"),
        ("/static/b%7Cc.js?q|r", "/static/b%7Cc.js?q|r"),
        ("/static/it's.css?x='1'", "/static/it's.css?x=%271%27"),
        ("/static/x.css?", "/static/x.css?"),
        ("/static/x.js?a\\b", "/static/x.js?a\\b"),
        ("/static/caf\u00e9.png", "/static/caf%C3%A9.png"),
        ("/static/caf%C3%A9.png", "/static/caf%C3%A9.png"),
        ("/static/a#b.css", "/static/a%23b.css"),
        ("/static/a b<c>.css", "/static/a%20b%3Cc%3E.css"),
    ],
)
def test_wire_paths_are_what_a_browser_requests(path: str, wire: str) -> None:
    assert wire_path(path) == wire


@given(st.text(min_size=0, max_size=24))
def test_wire_paths_are_safe_in_a_link_header(tail: str) -> None:
    wire = wire_path("/" + tail)
    assert wire.isascii() and wire.startswith("/")
    assert not any(c in wire for c in '<>" \t\r\n\x7f') and wire.isprintable()
    # Idempotent: a manifest path already in wire form is sent as it is.
    assert wire_path(wire) == wire


@given(st.text(alphabet="/.-_~aZ09", min_size=1, max_size=24))
def test_the_wire_fast_path_is_adas(tail: str) -> None:
    path = "/" + tail
    url = ada_url.URL(LOCAL_ORIGIN + path)
    if url.origin == LOCAL_ORIGIN:
        assert wire_path(path) == url.pathname + url.search


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/static/a[1].css", "/static/a[1].css"),
        ("/static/b|c.css", "/static/b%7Cc.css"),
        ("/static/it's.css?x='1'", "/static/it's.css?x=%271%27"),
        ("/static/x.css?", "/static/x.css?"),
        ("/static/caf\u00e9.css", "/static/caf%C3%A9.css"),
    ],
)
def test_link_values_name_what_chromium_requests(path: str, target: str) -> None:
    value = link_value(Asset(path=path, destination="style"))
    assert value == f"<{target}>; rel=preload; as=style"
    value.encode("ascii")  # safe header bytes (RFC 9110 §5.5): visible ASCII
