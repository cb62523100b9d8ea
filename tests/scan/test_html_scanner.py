"""The scanner's shortcuts (pushgen.scan.html_scanner): each must agree with the tree."""

from __future__ import annotations

import pytest

from pushgen.scan.html import _parse, scan_html, scan_html_tree
from pushgen.scan.html_scanner import may_have_style_attribute

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
