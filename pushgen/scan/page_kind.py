"""Whether an ``.html`` file of a built folder is a document a browser is sent to.

A generator's output holds ``.html`` files that are not pages: sphinx-book-theme
and pydata-sphinx-theme ship their Jinja macro files as
``_static/webpack-macros.html``, other themes ship fragments that a script inserts
into a page. A browser never navigates to them, so they are not routes: their
hints would be wrong and every reference in their template markup is a warning.

A file is not a page when it has neither a doctype nor an ``<html>``, ``<head>``
or ``<body>`` tag (every generator writes a doctype) and holds template markup
(``{% macro``, ``{{ x }}``, ``<% %>``), which no browser renders: a template copied
as it is. A bare fragment without template markup stays a page: the HTML
Standard lets a page leave out all four, a browser renders one it is sent to,
and hand-written test pages often do; ``pushgen scan --exclude`` names the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NotAPage", "not_a_page"]

# The doctype, or a start tag of html/head/body (a tag name ends at whitespace,
# '/' or '>': HTML Standard, 13.2.5.8 tag name state). `<header>` is not `<head>`.
_DOCUMENT_MARKUP = re.compile(rb"<(?:!doctype|html|head|body)(?=[\s/>])", re.IGNORECASE)
# Jinja/Django/Liquid (`{% ... %}`, `{{ ... }}`, `{# ... #}`) and ERB/EJS (`<% ... %>`)
# markup, which no browser renders: left by a template copied as it is.
_TEMPLATE_MARKUP = re.compile(rb"\{%-?\s*\w|\{\{-?\s*[\w.(]|\{#|<%[=-]?\s*\w")


@dataclass(frozen=True, slots=True)
class NotAPage:
    """Why a file is not a page: no document markup, and the line its template markup starts on."""

    template_line: int

    @property
    def reason(self) -> str:
        """The reason in words, for a listing or a test."""
        return f"no doctype, <html>, <head> or <body>; template markup at line {self.template_line}"


def not_a_page(data: bytes) -> NotAPage | None:
    """None when ``data`` is a document a browser is sent to, else why it is not (see the module docs).

    The search stops at the first doctype or tag, which a page has in its first
    bytes: a page costs next to nothing; only a fragment is read to its end.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (BOM): the tags are not ASCII bytes
        data = data.decode("utf-16", "replace").encode("utf-8")
    if _has_document_markup(data):
        return None
    template = _TEMPLATE_MARKUP.search(data)
    if template is None:
        return None
    return NotAPage(template_line=data.count(b"\n", 0, template.start()) + 1)


def _has_document_markup(data: bytes) -> bool:
    """Whether a doctype or an html/head/body tag stands outside a comment.

    pydata-sphinx-theme's macro file says "Scripts loaded after <body>" in a comment.
    """
    pos = 0
    while (found := _DOCUMENT_MARKUP.search(data, pos)) is not None:
        opened = data.rfind(b"<!--", 0, found.start())
        if opened < 0 or data.find(b"-->", opened + 4, found.start()) >= 0:
            return True
        closed = data.find(b"-->", found.end())
        if closed < 0:
            return False  # the rest is one comment
        pos = closed + 3
    return False
