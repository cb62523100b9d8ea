"""The scan's shortcuts (pushgen.scan.html_scanner, html_values): each must agree with what it skips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.scan.html import _parse, scan_html, scan_html_tree
from pushgen.scan.html_scanner import may_have_style_attribute
from pushgen.scan.html_values import _srcset_descriptors, _tokenize_descriptors, srcset_candidates

# Pages whose bytes name a style attribute in some way the parser reads (or not).
_STYLED = [
    b'<p style="background:url(a.png)">',
    b'<p STYLE="background:url(a.png)">',
    b'<p sTyLe\n=\n"background:url(a.png)">',
    b'<p style\x0c="background:url(a.png)">',
    b"<p style =background:url(a.png)>",
    b"<p/style=background:url(a.png)>",
    b'<p a="b"style="background:url(a.png)">',
    b'<p style\x00="background:url(a.png)">',
    b'<p st&#121;le="background:url(a.png)">',
    b'<p \xc5\xbftyle="background:url(a.png)">',
    b'<link rel="stylesheet" href="a.css"><p>style = in the text</p>',
    b'<link rel="stylesheet" href="a.css">',
]


@pytest.mark.parametrize("page", _STYLED)
def test_no_style_attribute_is_missed(page: bytes) -> None:
    root = _parse(page, "page.html", [])
    assert root is not None
    in_tree = bool(root.xpath("//@style"))
    if in_tree:
        assert may_have_style_attribute(page)
    # Whether the tree was searched or not, the scan finds the same.
    url = "https://example.com/page.html"
    assert scan_html(page, url).references == scan_html_tree(root, url).references


def test_a_page_without_style_attributes_skips_the_search() -> None:
    assert not may_have_style_attribute(b'<link rel="stylesheet" href="a.css"><style>p{}</style>')
    assert may_have_style_attribute(b'<p STYLE = "x">')


def test_an_uppercase_style_attribute_is_scanned() -> None:
    page = b'<!doctype html><body><div STYLE="background: url(/bg.png)"></div></body>'
    found = scan_html(page, "https://example.com/a/page.html").references
    assert [ref.url for ref in found] == ["https://example.com/bg.png"]


# Kept references (PageScanner._kept): pages that share an element's attributes
# and line must still get what their own base and placement make of it.


def _scripts(page: str, url: str) -> list[tuple[str, str, str]]:
    found = scan_html(page.encode(), url).references
    return [(ref.url, ref.placement, ref.timing) for ref in found if ref.kind == "script"]


def test_a_kept_script_resolves_against_each_pages_base() -> None:
    # The same <script src> at the same line; a <base> (same line count) moves it.
    plain = '<html><head><meta name="x">\n<script src="app.js"></script></head></html>'
    based = '<html><head><base href="/v2/">\n<script src="app.js"></script></head></html>'
    url = "https://example.com/a/page.html"
    for _ in range(2):  # the second round is answered from what was kept
        assert _scripts(plain, url) == [("https://example.com/a/app.js", "head", "")]
        assert _scripts(based, url) == [("https://example.com/v2/app.js", "head", "")]
        assert _scripts(plain, "https://example.com/b/x.html") == [
            ("https://example.com/b/app.js", "head", "")
        ]


def test_a_kept_query_only_script_resolves_against_each_pages_url() -> None:
    # "?v=1" keeps the base's path: pages of one folder resolve it apart.
    page = '<html><head><script src="?v=1"></script></head></html>'
    for _ in range(2):
        for name in ("one", "two"):
            url = f"https://example.com/a/{name}.html"
            assert _scripts(page, url) == [(f"{url}?v=1", "head", "")]


def test_a_kept_script_keeps_its_placement() -> None:
    head = '<html><head><script async src="/s.js"></script></head><body></body></html>'
    body = '<html><head></head><body><script async src="/s.js"></script></body></html>'
    url = "https://example.com/page.html"
    for _ in range(2):
        assert _scripts(head, url) == [("https://example.com/s.js", "head", "async")]
        assert _scripts(body, url) == [("https://example.com/s.js", "body", "async")]


def test_a_link_and_a_script_with_the_same_attributes_are_kept_apart() -> None:
    url = "https://example.com/page.html"
    as_script = '<html><head><script src="/x.js"></script></head></html>'
    as_link = '<html><head><link src="/x.js"></head></html>'
    for _ in range(2):
        assert len(scan_html(as_script.encode(), url).references) == 1
        assert scan_html(as_link.encode(), url).references == ()


# The srcset parser's shortcut (pushgen.scan.html_values): without a parenthesis,
# the descriptors are split at whitespace up to the next comma; the character-at-a-
# time tokenizer must find the same.
_SRCSET_PIECES = st.sampled_from(
    [
        "a.png",
        "b",
        " ",
        "\t",
        "\n",
        "\x0c",
        "\r",
        "\x0b",
        "\u00a0",
        ",",
        ",,",
        "1x",
        "2x",
        "100w",
        "50h",
        "0w",
        "1.5x",
        "x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SRCSET_PIECES, max_size=12), st.integers(min_value=0, max_value=20))
def test_the_descriptor_shortcut_agrees_with_the_tokenizer(pieces: list[str], pos: int) -> None:
    value = "".join(pieces)
    pos = min(pos, len(value))
    fast, slow = _srcset_descriptors(value, pos), _tokenize_descriptors(value, pos)
    assert (fast.descriptors, fast.end) == (slow.descriptors, slow.end)


def test_a_srcset_is_read_with_the_shortcut_and_without() -> None:
    plain = srcset_candidates("a.png 1x,b.png\t2x , c.png,, d.png 100w 50h,e.png 1x 2x")
    assert [(c.url, c.descriptors) for c in plain.candidates] == [
        ("a.png", ("1x",)),
        ("b.png", ("2x",)),
        ("c.png", ()),
        ("d.png", ("100w", "50h")),
    ]
    assert plain.dropped == ("e.png 1x 2x",)
    grouped = srcset_candidates("a.png 1x, b.png f(1, 2)")
    assert [c.url for c in grouped.candidates] == ["a.png"]
    assert grouped.dropped == ("b.png f(1, 2)",)
