"""The page's elements by tag for selector matching (pushgen.build.fonts.selectors.PageIndex)."""

from __future__ import annotations

import pytest

from pushgen.build.fonts.selectors import PageIndex
from pushgen.scan.html import html_tree

_PAGE = b"""<!doctype html><html><head><title>t</title></head><body>
<h1>One</h1><p>a <em>b</em> <code>c</code></p><!-- <p>not one</p> -->
<ul><li><p>in a list <em>d</em></p></li><li>e</li></ul><svg><text>f</text></svg>
<h1>Two</h1><p>g</p></body></html>"""


def _by_walk(root: object, tag: str) -> list[str]:
    return [f"{e.tag}:{e.sourceline}:{e.text}" for e in root.iter(tag)]  # type: ignore[attr-defined]


def test_one_walk_finds_each_tags_elements_in_document_order() -> None:
    root = html_tree(_PAGE)
    tags = ["p", "em", "h1", "code", "li", "text", "table"]
    index = PageIndex(root)
    index.fetch_tags(tags)
    for tag in tags:
        found = [f"{e.tag}:{e.sourceline}:{e.text}" for e in index.get("tag", tag)]
        assert found == _by_walk(root, tag), tag
    assert [e.text for e in index.get("tag", "p")] == ["a ", "in a list ", "g"]
    assert index.get("tag", "table") == []
    # Fetched once: the same lists, not a second walk's.
    assert index.get("tag", "em") is index.get("tag", "em")


def test_tags_already_found_are_kept_and_few_tags_walk_alone() -> None:
    root = html_tree(_PAGE)
    index = PageIndex(root)
    first = index.get("tag", "p")
    index.fetch_tags(["p", "em", "h1", "li"])
    assert index.get("tag", "p") is first
    assert [e.text for e in index.get("tag", "h1")] == ["One", "Two"]
    alone = PageIndex(root)
    alone.fetch_tags(["em"])  # one tag: left to get()'s own walk
    assert [e.text for e in alone.get("tag", "em")] == ["b", "d"]


# Pages with an <html> start tag where the parser does not put the document element.
_PAGES = [
    b"<!doctype html><html class=a><body><p>text</p></body></html>",
    b"<html><body><html class=x><p>a</html></body></html>",
    b"<p>x<svg><html></html></svg>",
    b"<template><html></html></template>",
    b"<table><html></table>",
    b"<noscript><html><p>a</noscript>",
    b"<math><html>",
    b"<p>a</p><html><body><html><html>",
    b"<frameset><html>",
    b"<!-- x --><html><head><html></head>",
    b"<select><html>",
    b"<textarea><html></textarea>",
    b"<object><html></object>",
    b"<title><html></title>",
    b"<a:html><HTML><HTML>",
    b"text only",
]


@pytest.mark.parametrize("page", _PAGES)
def test_the_html_elements_of_a_page_are_its_root(page: bytes) -> None:
    root = html_tree(page)
    assert root is not None
    assert PageIndex(root).get("tag", "html") == list(root.iter("html")) == [root]


def test_a_subtree_is_walked_for_its_html_elements() -> None:
    root = html_tree(b"<body><div><p>a</p></div></body>")
    assert root is not None
    div = root.find(".//div")
    assert PageIndex(div).get("tag", "html") == []
    assert PageIndex(div).get("tag", "p") == [div[0]]
