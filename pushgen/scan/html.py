"""What a rendered page makes the browser fetch, read from its HTML as a browser reads it.

One lxml parse per page, then one pass over the elements that can fetch something
(filtered by tag in C), in document order. What is found, with its Reference fields:

=========================================  ===========  ==============  ===================
element                                    destination  kind            also kept
=========================================  ===========  ==============  ===================
``<link rel=stylesheet href>``             style        stylesheet      media, crossorigin,
                                                                        integrity
``<link rel=preload href as>``             the ``as``   preload         type, media,
                                                                        crossorigin,
                                                                        integrity
``<link rel=modulepreload href>``          script       modulepreload   module, crossorigin,
                                                                        integrity
``<link rel=icon|apple-touch-icon href>``  image        icon            type, media
``<script src>``                           script       script          crossorigin, placement,
                                                                        timing, integrity
``<script type=module src>``               script       script          module, crossorigin,
                                                                        placement, timing,
                                                                        integrity
imports of ``<script type=module>``        script       module          (see scan.js)
``<img src srcset>``, ``<picture>``        image        image           type, media;
                                                                        the likely LCP
                                                                        image:
                                                                        fetchpriority,
                                                                        imagesrcset,
                                                                        imagesizes
``<source srcset>``, ``<video poster>``,
``<input type=image src>``
``<style>``, ``style=""``                  (see scan.css: import, url, font)
=========================================  ===========  ==============  ===================

Rules from the HTML Living Standard: the first ``<base href>`` is the base URL of every
other reference; ``<template>`` contents are inert; with scripting on, ``<noscript>`` is
raw text; a ``nomodule`` classic script is not run by a browser that runs modules; a
script whose type is neither JavaScript nor ``module`` is not fetched. Every srcset
candidate is listed, in order (the build picks). Other origins come back with
``local=False``; ``data:``/``blob:``/fragment-only URLs never appear. ``integrity`` is
kept as the browser reads it (:func:`pushgen.model.integrity_metadata`): the hashes
of a known algorithm, in one line, so that a hint can carry the same metadata.

``line`` is lxml's ``sourceline``: the line on which the element's start tag ends (where
inline CSS and JS begin), capped at 65535 by libxml2. ``column`` is 0 (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..errors import Diagnostic
from ..model import HtmlLimits, Reference, ScanResult
from .decode import decode_html
from .html_scanner import PageScanner
from .html_values import Element
from .limits import page_too_large, too_many_attributes

__all__ = [
    "HTML_LIMITS",
    "HtmlDocument",
    "html_parser",
    "html_tree",
    "scan_html",
    "scan_html_document",
    "scan_html_tree",
]

_Element = Element

# The bounds a page is scanned within unless the caller gives others.
HTML_LIMITS = HtmlLimits()


def scan_html(
    data: bytes | str, url: str, *, filename: str = "", limits: HtmlLimits = HTML_LIMITS
) -> ScanResult:
    """Find what a page makes the browser fetch.

    ``data`` is the rendered page: bytes are decoded as a browser opening the file would
    (:func:`pushgen.scan.decode.decode_html`, and ``ScanResult.encoding`` says which encoding
    was used); text is used as is. ``url`` is the page's absolute URL (see
    :func:`pushgen.urls.document_url`); ``filename`` names it in diagnostics.
    Malformed HTML is read the way the parser recovers from it; nothing raises.
    A page beyond ``limits`` (:mod:`pushgen.scan.limits`) is not parsed: the result
    has no references, an error says where, and ``extra["left_out"]`` is set (a
    source leaves the page out of the manifest).
    """
    return scan_html_document(data, url, filename=filename, limits=limits).scan


@dataclass(frozen=True, slots=True)
class HtmlDocument:
    """A page's scan, and the tree lxml parsed (None when it read nothing or the page
    was left out)."""

    scan: ScanResult
    tree: _Element | None


@dataclass(frozen=True, slots=True)
class _Utf8:
    """A page as UTF-8 bytes for lxml, the encoding bytes were decoded with (None for
    text), and what decoding found."""

    raw: bytes
    encoding: str | None
    diagnostics: list[Diagnostic]


def scan_html_document(
    data: bytes | str, url: str, *, filename: str = "", limits: HtmlLimits = HTML_LIMITS
) -> HtmlDocument:
    """:func:`scan_html`, and the tree lxml parsed (None when it read nothing), for a
    caller that reads the page further (font tracing: pushgen/build/fonts/).
    The scan does not change the tree."""
    # The bounds are checked before libxml2 sees the page, whose parse time grows
    # with the square of an element's attributes (issue 22).
    too_large = isinstance(data, bytes) and page_too_large(len(data), limits, filename)
    if too_large:
        return HtmlDocument(
            ScanResult((), (too_large,), extra={"left_out": too_large.message}), None
        )
    page = _utf8(data, filename)
    raw, encoding, diagnostics = page.raw, page.encoding, page.diagnostics
    problem = page_too_large(len(raw), limits, filename) or too_many_attributes(
        raw, limits, filename
    )
    if problem is not None:
        left_out = {"left_out": problem.message}
        return HtmlDocument(ScanResult((), (*diagnostics, problem), encoding, extra=left_out), None)
    root = _parse(raw, filename, diagnostics)
    references: list[Reference] = []
    if root is not None:
        scanner = PageScanner(root, url, filename, diagnostics, raw=raw)
        scanner.run()
        references = scanner.references
    return HtmlDocument(ScanResult(tuple(references), tuple(diagnostics), encoding), root)


def html_tree(data: bytes | str, *, filename: str = "") -> _Element | None:
    """The page as the scanner reads it: lxml's tree (None when it read nothing).

    Bytes are decoded as a browser opening the file would
    (:func:`pushgen.scan.decode.decode_html`); font tracing parses pages the same way.
    What went wrong on the way is the scan's to report.
    """
    page = _utf8(data, filename)
    return _parse(page.raw, filename, page.diagnostics)


def _utf8(data: bytes | str, filename: str) -> _Utf8:
    """The page as UTF-8 bytes for lxml (see :class:`_Utf8`)."""
    diagnostics: list[Diagnostic] = []
    encoding = None
    if isinstance(data, bytes):
        decoded = decode_html(data, filename=filename)
        encoding = decoded.encoding
        diagnostics.extend(decoded.diagnostics)
        if decoded.encoding == "utf-8" and not decoded.diagnostics:
            # Valid UTF-8 already: hand lxml the bytes without a re-encoding round trip.
            raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        else:
            raw = decoded.text.encode("utf-8")
    else:
        # Lone surrogates cannot be encoded; they would be U+FFFD in a browser anyway.
        raw = data.encode("utf-8", errors="replace")
    return _Utf8(raw, encoding, diagnostics)


def scan_html_tree(root: _Element, url: str, *, filename: str = "") -> ScanResult:
    """Like :func:`scan_html`, for a document lxml has already parsed (``root`` element)."""
    diagnostics: list[Diagnostic] = []
    scanner = PageScanner(root, url, filename, diagnostics)
    scanner.run()
    return ScanResult(tuple(scanner.references), tuple(diagnostics))


def html_parser() -> Any:
    """A new lxml parser that reads UTF-8 pages as the scanner does (see html_tree).

    A parser per call: lxml parsers must not be shared between threads, and making one
    costs about a microsecond. huge_tree lifts libxml2's 10 MB limit on one text node or
    attribute (a big inline data: image) and its nesting limit of 256, which would
    otherwise silently drop the rest of the page; HTML has no entity expansion to guard.
    """
    return etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        recover=True,
        huge_tree=True,
        collect_ids=False,
        default_doctype=False,
    )


def _parse(raw: bytes, filename: str, diagnostics: list[Diagnostic]) -> _Element | None:
    parser = html_parser()
    try:
        root = etree.fromstring(raw, parser)
    except (etree.LxmlError, ValueError) as exc:  # only for input lxml cannot read at all
        diagnostics.append(Diagnostic(filename, 0, 0, f"cannot parse HTML: {exc}", "error"))
        return None
    for error in parser.error_log.filter_from_level(etree.ErrorLevels.FATAL):
        # Recoverable errors are ordinary HTML; a fatal one means the rest was not read.
        diagnostics.append(
            Diagnostic(
                filename,
                error.line,
                error.column,
                f"the HTML parser stopped early, references after this point are missing:"
                f" {error.message}",
                "error",
            )
        )
    return root
