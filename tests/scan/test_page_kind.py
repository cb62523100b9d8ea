"""scan/page_kind.py: an .html file with no document markup and template markup is not a page."""

from __future__ import annotations

import pytest

from pushgen.scan.page_kind import NotAPage, not_a_page

# sphinx-book-theme 1.4's _static/sbt-webpack-macros.html, as the theme ships it.
SBT_MACROS = b"""<!--
  All these macros are auto-generated and must **NOT** be edited by hand.
  See the webpack.config.js file, to learn more about how this is generated.
-->
{% macro head_pre_bootstrap() %}
  <link href="{{ pathto('_static/styles/sphinx-book-theme.css', 1) }}" rel="stylesheet">
{% endmacro %}
"""


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (SBT_MACROS, 5),
        (b"<ul>\n{{ nav }}\n</ul>", 2),
        (b"<p><%= title %></p>", 1),
        (b"<div>\n\n{# a comment #}</div>", 3),
    ],
)
def test_a_template_is_not_a_page(data: bytes, line: int) -> None:
    assert not_a_page(data) == NotAPage(template_line=line)
    assert f"template markup at line {line}" in NotAPage(line).reason


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><code>{{ version }}</code>",  # documentation that shows markup
        b"<!DOCTYPE html>\n<title>x</title>",
        b"<html>{% raw %}</html>",
        b"<head><title>{{ x }}</title></head>",
        b"<BODY>{{ x }}",
        b"<link rel=stylesheet href=a.css>",  # a bare fragment: a browser renders it
        b"<header>plain</header>",
        "<!doctype html>{{ x }}".encode("utf-16"),  # the tags are not ASCII bytes
    ],
)
def test_a_document_or_a_bare_fragment_is_a_page(data: bytes) -> None:
    assert not_a_page(data) is None


def test_header_is_not_head() -> None:
    assert not_a_page(b"<header>{{ title }}</header>") == NotAPage(template_line=1)


def test_document_markup_inside_a_comment_does_not_count() -> None:
    # pydata-sphinx-theme 0.16's _static/webpack-macros.html, shortened.
    macros = b"<!--\n  AUTO-GENERATED\n-->\n{% macro body_post() %}\n  <!-- after <body> -->\n{% endmacro %}"
    assert not_a_page(macros) == NotAPage(template_line=4)
    assert not_a_page(b"<!-- x --><html>{{ x }}") is None
    assert not_a_page(b"<!-- <body> {{ x }}") == NotAPage(template_line=1)
