"""What a rendered page makes the browser fetch, read from its HTML as a browser reads it.

One lxml parse per page, then one pass over the elements that can fetch something
(filtered by tag in C), in document order. What is found, with its Reference fields:

=========================================  ===========  ==============  ===================
element                                    destination  kind            also kept
=========================================  ===========  ==============  ===================
``<link rel=stylesheet href>``             style        stylesheet      media, crossorigin
``<link rel=preload href as>``             the ``as``   preload         type, media,
                                                                        crossorigin
``<link rel=modulepreload href>``          script       modulepreload   module, crossorigin
``<link rel=icon|apple-touch-icon href>``  image        icon            type, media
``<script src>``                           script       script          crossorigin, placement,
                                                                        timing
``<script type=module src>``               script       script          module, crossorigin,
                                                                        placement, timing
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
``local=False``; ``data:``/``blob:``/fragment-only URLs never appear.

``line`` is lxml's ``sourceline``: the line on which the element's start tag ends (where
inline CSS and JS begin), capped at 65535 by libxml2. ``column`` is 0 (unknown).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from lxml import etree

from ..errors import Diagnostic
from ..model import (
    PRELOAD_DESTINATIONS,
    HtmlLimits,
    Reference,
    ReferenceKind,
    ScanResult,
    ScriptPlacement,
    ScriptTiming,
)
from ..urls import resolve, unservable, wire_path
from .css import scan_css, scan_css_declarations
from .decode import decode_html
from .js import scan_js
from .limits import page_too_large, too_many_attributes

__all__ = [
    "HTML_LIMITS",
    "html_parser",
    "parse_html",
    "scan_html",
    "scan_html_document",
    "scan_html_tree",
]

# lxml has no type hints; an element is whatever lxml hands back.
_Element = Any

# The same few URLs recur on every page of a site (stylesheets, scripts, icons), and
# resolving one is most of the per-reference cost. Resolved values are immutable.
_resolve = lru_cache(maxsize=16384)(resolve)

# The bounds a page is scanned within unless the caller gives others.
HTML_LIMITS = HtmlLimits()

# Elements that can make a fetch, and those whose contents never do.
_SKIPPED = ("template", "noscript")
_TAGS = ("link", "script", "img", "source", "video", "input", "style", *_SKIPPED)

_ASCII_WS = "\t\n\x0c\r "
_WS_TO_SPACE = str.maketrans(_ASCII_WS, " " * len(_ASCII_WS))
_ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed"})
# HTML Standard: "a JavaScript MIME type essence match".
_JS_TYPES = frozenset(
    {
        "application/ecmascript", "application/javascript", "application/x-ecmascript",
        "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
        "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
        "text/x-javascript",
    }
)  # fmt: skip
# HTML Standard, "parse a srcset attribute": descriptor grammar.
_INTEGER = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


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
    return scan_html_document(data, url, filename=filename, limits=limits)[0]


def scan_html_document(
    data: bytes | str, url: str, *, filename: str = "", limits: HtmlLimits = HTML_LIMITS
) -> tuple[ScanResult, _Element | None]:
    """:func:`scan_html`, and the tree lxml parsed (None when it read nothing), for a
    caller that reads the page further (font tracing: pushgen/build/fonts.py).
    The scan does not change the tree."""
    # The bounds are checked before libxml2 sees the page, whose parse time grows
    # with the square of an element's attributes (issue 22).
    too_large = isinstance(data, bytes) and page_too_large(len(data), limits, filename)
    if too_large:
        return ScanResult((), (too_large,), extra={"left_out": too_large.message}), None
    raw, encoding, diagnostics = _utf8(data, filename)
    problem = page_too_large(len(raw), limits, filename) or too_many_attributes(
        raw, limits, filename
    )
    if problem is not None:
        left_out = {"left_out": problem.message}
        return ScanResult((), (*diagnostics, problem), encoding, extra=left_out), None
    root = _parse(raw, filename, diagnostics)
    references: list[Reference] = []
    if root is not None:
        scanner = _Scanner(root, url, filename, diagnostics)
        scanner.run()
        references = scanner.references
    return ScanResult(tuple(references), tuple(diagnostics), encoding), root


def parse_html(
    data: bytes | str, *, filename: str = ""
) -> tuple[_Element | None, str | None, tuple[Diagnostic, ...]]:
    """The page as the scanner reads it: lxml's tree (None when it read nothing), the
    encoding bytes were decoded with (None for text), and what went wrong on the way.

    Bytes are decoded as a browser opening the file would
    (:func:`pushgen.scan.decode.decode_html`); font tracing parses pages the same way.
    """
    raw, encoding, diagnostics = _utf8(data, filename)
    root = _parse(raw, filename, diagnostics)
    return root, encoding, tuple(diagnostics)


def _utf8(data: bytes | str, filename: str) -> tuple[bytes, str | None, list[Diagnostic]]:
    """The page as UTF-8 bytes for lxml, the encoding bytes were decoded with (None
    for text), and what decoding found."""
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
    return raw, encoding, diagnostics


def scan_html_tree(root: _Element, url: str, *, filename: str = "") -> ScanResult:
    """Like :func:`scan_html`, for a document lxml has already parsed (``root`` element)."""
    diagnostics: list[Diagnostic] = []
    scanner = _Scanner(root, url, filename, diagnostics)
    scanner.run()
    return ScanResult(tuple(scanner.references), tuple(diagnostics))


def html_parser() -> Any:
    """A new lxml parser that reads UTF-8 pages as the scanner does (see parse_html).

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


def _split_tokens(value: str | None) -> set[str]:
    """An ASCII-case-insensitive set of space-separated tokens (``rel``)."""
    if not value:
        return set()
    return set(value.lower().translate(_WS_TO_SPACE).split(" ")) - {""}


def _cors(value: str | None) -> str | None:
    """A CORS settings attribute's state: missing, "anonymous" (also empty and invalid
    values) or "use-credentials" (HTML Standard, section 2.5.4)."""
    if value is None:
        return None
    if value.strip(_ASCII_WS).lower() == "use-credentials":
        return "use-credentials"
    return "anonymous"


def _text_attr(value: str | None) -> str | None:
    """An attribute kept as written, stripped; empty means absent."""
    if value is None:
        return None
    value = value.strip(_ASCII_WS)
    return value or None


def _line(element: _Element) -> int:
    # libxml2 counts lines in 16 bits: past line 65535 it says 65535.
    line: int | None = element.sourceline
    return line or 0


def _parse_srcset(value: str) -> tuple[list[str], list[str]]:
    """The candidate URLs of a ``srcset``, in order, and the candidates dropped as invalid."""
    candidates, dropped = _srcset_candidates(value)
    return [url for url, _ in candidates], dropped


def _srcset_candidates(value: str) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The candidates of a ``srcset`` (URL, descriptors), in order, and those dropped as invalid.

    HTML Standard, "parse a srcset attribute": a URL is a run of non-whitespace (so it
    may contain commas); trailing commas end it; descriptors follow up to the next comma
    outside parentheses. A candidate with invalid descriptors is dropped.
    """
    candidates: list[tuple[str, list[str]]] = []
    dropped: list[str] = []
    n = len(value)
    pos = 0
    while True:
        while pos < n and (value[pos] in _ASCII_WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            return candidates, dropped
        start = pos
        while pos < n and value[pos] not in _ASCII_WS:
            pos += 1
        url = value[start:pos]
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            descriptors, pos = _srcset_descriptors(value, pos)
        if _valid_descriptors(descriptors):
            candidates.append((url, descriptors))
        else:
            dropped.append(f"{url} {' '.join(descriptors)}".strip())


def _srcset_descriptors(value: str, pos: int) -> tuple[list[str], int]:
    """The srcset descriptor tokenizer: the descriptors and the position after them."""
    n = len(value)
    while pos < n and value[pos] in _ASCII_WS:
        pos += 1
    descriptors: list[str] = []
    current = ""
    in_parens = False
    while pos < n:
        char = value[pos]
        if in_parens:
            current += char
            in_parens = char != ")"
        elif char in _ASCII_WS:
            if current:
                descriptors.append(current)
                current = ""
        elif char == ",":
            pos += 1
            break
        else:
            current += char
            in_parens = char == "("
        pos += 1
    if current:
        descriptors.append(current)
    return descriptors, pos


def _valid_descriptors(descriptors: list[str]) -> bool:
    """The srcset descriptor parser: at most one of w/x, h only with w, all well-formed."""
    width = density = height = False
    for descriptor in descriptors:
        number, suffix = descriptor[:-1], descriptor[-1:]
        if suffix == "w" and _INTEGER.fullmatch(number):
            if width or density or int(number) == 0:
                return False
            width = True
        elif suffix == "x" and _FLOAT.fullmatch(number):
            if width or density or height or float(number) < 0:
                return False
            density = True
        elif suffix == "h" and _INTEGER.fullmatch(number):
            if height or density or int(number) == 0:
                return False
            height = True
        else:
            return False
    return not height or width


def _dimension(value: str | None) -> int:
    """An img's width or height attribute in CSS pixels (0 when absent or not a number).

    HTML Standard, "rules for parsing dimension values", reduced to its integer part.
    """
    digits = _INTEGER.match((value or "").strip(_ASCII_WS))
    return int(digits.group()) if digits else 0


def _large(img: _Element) -> bool:
    """Whether ``img`` is large enough to be a page's Largest Contentful Paint.

    Its width and height attributes cover LCP_AREA, or its srcset offers a candidate
    at least LCP_WIDTH wide: an image laid out that large is usually a hero. Without
    either, the build cannot tell, and lists it.
    """
    if _dimension(img.get("width")) * _dimension(img.get("height")) >= LCP_AREA:
        return True
    candidates, _ = _srcset_candidates(img.get("srcset") or "")
    return any(
        d.endswith("w") and _INTEGER.fullmatch(d[:-1]) and int(d[:-1]) >= LCP_WIDTH
        for _, descriptors in candidates
        for d in descriptors
    )


# "Large" for the LCP guess: 300 x 167 CSS px, or a srcset candidate 600 px wide.
LCP_AREA = 50_000
LCP_WIDTH = 600


class _Scanner:
    def __init__(
        self, root: _Element, url: str, filename: str, diagnostics: list[Diagnostic]
    ) -> None:
        self.root = root
        self.base = url
        self.filename = filename
        self.diagnostics = diagnostics
        self.references: list[Reference] = []
        self.lcp: _Element | None = None

    def run(self) -> None:
        root = self.root
        self._find_base()
        self.lcp = self._likely_lcp()
        # style="" attributes: only those with a "(" can hold url() or image-set().
        styled = {
            attribute.getparent(): str(attribute)
            for attribute in root.xpath("//@style")
            if "(" in attribute
        }
        tags = _TAGS
        if styled:
            tags = (*_TAGS, *({element.tag for element in styled} - set(_TAGS)))
        inert: set[_Element] = set()
        handlers = _HANDLERS
        for element in root.iter(*tags):
            if element in inert:
                continue
            tag = element.tag
            if tag in _SKIPPED:
                # <template> contents are inert; <noscript> is raw text when scripts run.
                inert.update(element.iter())
                continue
            handler = handlers.get(tag)
            if handler is not None:
                handler(self, element)
            if styled and element in styled:
                self._style_attribute(element, styled[element])

    def _find_base(self) -> None:
        # HTML Standard, "document base URL": the first <base> with an href, in tree order.
        for element in self.root.iter("base"):
            href = element.get("href")
            if href is None or any(True for _ in element.iterancestors(*_SKIPPED)):
                continue
            resolved = resolve(href, self.base)
            if resolved is None:
                self._diagnose(element, f"ignored: <base href={href!r}> is not an http(s) URL")
            else:
                self.base = resolved.url
            return

    def _likely_lcp(self) -> _Element | None:
        """The <img> likely to be the page's Largest Contentful Paint, if one can be named.

        The first marked ``fetchpriority=high``, else the first large one (see
        :func:`_large`); never ``loading=lazy`` (it is not fetched until laid out
        near the viewport) nor ``fetchpriority=low``.
        """
        first_large = None
        for img in self.root.iter("img"):
            if any(True for _ in img.iterancestors(*_SKIPPED)):
                continue
            if (img.get("loading") or "").strip(_ASCII_WS).lower() == "lazy":
                continue
            priority = (img.get("fetchpriority") or "").strip(_ASCII_WS).lower()
            if priority == "high":
                return img
            if first_large is None and priority != "low" and _large(img):
                first_large = img
        return first_large

    def _absolute_srcset(self, srcset: str) -> str | None:
        """``srcset`` with each candidate made an absolute path (another origin: a URL).

        A Link header's ``imagesrcset`` is resolved against the page's URL, not its
        ``<base>``, so relative candidates are written out. None when a candidate is
        not an http(s) URL a browser would fetch.
        """
        candidates, _ = _srcset_candidates(srcset)
        parts = []
        for url, descriptors in candidates:
            resolved = _resolve(url, self.base)
            if resolved is None or unservable(url, resolved) is not None:
                return None
            written = wire_path(resolved.path) if resolved.local else resolved.url
            if "," in written:
                return None  # a comma would split the candidate list
            parts.append(" ".join([written, *descriptors]))
        return ", ".join(parts) or None

    def _lcp_reference(self, element: _Element, src: str | None) -> bool:
        """Add the likely LCP image ``element`` as one hint the browser can use; False if it cannot be said.

        A <picture> is expressible only when its first <source> has neither
        ``media`` nor ``type``: then that source is the one used, whatever the
        viewport and formats (HTML Standard, "select an image source"). A
        viewport or format choice needs more than one preload.
        """
        srcset, sizes = element.get("srcset"), element.get("sizes")
        picture = element.getparent()
        while picture is not None and picture.tag == "source":
            picture = picture.getparent()
        if picture is not None and picture.tag == "picture":
            sources = [source for source in picture.iter("source") if source.get("srcset")]
            if sources:
                first = sources[0]
                if first.get("media") is not None or first.get("type") is not None:
                    return False
                srcset, sizes = first.get("srcset"), first.get("sizes")
        imagesrcset = self._absolute_srcset(srcset) if srcset else None
        if src is None or (srcset and imagesrcset is None):
            return False  # a Link header needs a target
        self._add(
            src,
            element,
            "image",
            "image",
            imagesrcset=imagesrcset,
            imagesizes=_text_attr(sizes) if imagesrcset else None,
            fetchpriority="high",
        )
        return True

    def _diagnose(self, element: _Element, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.filename, _line(element), 0, message))

    def _add(
        self,
        raw: str | None,
        element: _Element,
        destination: str,
        kind: ReferenceKind,
        *,
        type: str | None = None,
        crossorigin: str | None = None,
        media: str | None = None,
        module: bool = False,
        placement: ScriptPlacement = "",
        timing: ScriptTiming = "",
        imagesrcset: str | None = None,
        imagesizes: str | None = None,
        fetchpriority: str | None = None,
    ) -> None:
        if raw is None:
            return
        resolved = _resolve(raw, self.base)
        if resolved is None:
            return
        problem = unservable(raw, resolved)
        if problem is not None:
            self._diagnose(element, problem)
            return
        self.references.append(
            Reference.from_resolved(
                resolved,
                destination=destination,
                line=_line(element),
                type=type,
                crossorigin=crossorigin,
                media=media,
                module=module,
                kind=kind,
                placement=placement,
                timing=timing,
                imagesrcset=imagesrcset,
                imagesizes=imagesizes,
                fetchpriority=fetchpriority,
            )
        )

    def _add_srcset(
        self,
        srcset: str,
        element: _Element,
        *,
        seen: set[str],
        type: str | None = None,
        media: str | None = None,
    ) -> None:
        urls, dropped = _parse_srcset(srcset)
        for candidate in dropped:
            self._diagnose(element, f"srcset candidate {candidate!r} has invalid descriptors")
        for url in urls:
            if url not in seen:
                seen.add(url)
                # Kind "srcset": the browser fetches one candidate of the set, chosen
                # by viewport and pixel density, so the build lists them unhinted.
                self._add(url, element, "image", "srcset", type=type, media=media)

    # --- elements --------------------------------------------------------------------

    def _link(self, element: _Element) -> None:
        rels = _split_tokens(element.get("rel"))
        if not rels:
            return
        href = element.get("href")
        media = _text_attr(element.get("media"))
        crossorigin = _cors(element.get("crossorigin"))
        type_ = _text_attr(element.get("type"))
        if (
            "stylesheet" in rels
            and "alternate" not in rels
            and element.get("disabled") is None
            # A type other than text/css means "not a stylesheet I can use": not fetched.
            and (type_ is None or type_.lower() == "text/css")
        ):
            self._add(href, element, "style", "stylesheet", crossorigin=crossorigin, media=media)
        if "preload" in rels:
            self._preload(element, href, media, crossorigin, type_)
        if "modulepreload" in rels:
            # HTML Standard: module preloads are fetched in CORS mode, like module scripts.
            self._add(
                href,
                element,
                "script",
                "modulepreload",
                crossorigin=crossorigin or "anonymous",
                module=True,
            )
        if rels & _ICON_RELS:
            self._add(href, element, "image", "icon", type=type_, media=media)

    def _preload(
        self,
        element: _Element,
        href: str | None,
        media: str | None,
        crossorigin: str | None,
        type_: str | None,
    ) -> None:
        written = element.get("as")
        as_ = (written or "").strip(_ASCII_WS).lower()
        if as_ not in PRELOAD_DESTINATIONS:
            what = "without an as attribute" if written is None else f"with as={written!r}"
            self._diagnose(
                element,
                f"ignored: <link rel=preload> {what};"
                f" browsers only preload as one of {', '.join(sorted(PRELOAD_DESTINATIONS))}",
            )
            return
        if as_ == "font" and crossorigin is None:
            self._diagnose(
                element,
                "<link rel=preload as=font> without crossorigin is downloaded twice:"
                " fonts are always fetched in CORS mode",
            )
        self._add(
            href,
            element,
            as_,
            "preload",
            type=type_,
            crossorigin=crossorigin,
            media=media,
        )
        srcset = element.get("imagesrcset")
        if as_ == "image" and srcset:
            self._add_srcset(srcset, element, seen={href or ""}, type=type_, media=media)

    def _script(self, element: _Element) -> None:
        # HTML Standard, "prepare the script element", steps on the type string.
        type_attr = element.get("type")
        language = element.get("language")
        if type_attr == "" or (type_attr is None and not language):
            script_type = "text/javascript"
        elif type_attr is not None:
            script_type = type_attr.strip(_ASCII_WS).lower()
        else:
            script_type = f"text/{language}".lower()
        src = element.get("src")
        placement: ScriptPlacement = (
            "head" if any(True for _ in element.iterancestors("head")) else "body"
        )
        timing: ScriptTiming = "async" if element.get("async") is not None else ""
        if script_type in _JS_TYPES:
            # A browser that runs modules skips nomodule classic scripts.
            if element.get("nomodule") is None:
                # HTML Standard: async wins over defer; both only apply with src.
                if not timing and element.get("defer") is not None:
                    timing = "defer"
                self._add(
                    src,
                    element,
                    "script",
                    "script",
                    crossorigin=_cors(element.get("crossorigin")),
                    placement=placement,
                    timing=timing,
                )
                if src is None and element.text:
                    self._inline_script(element, element.text, module=False)
        elif script_type == "module":
            # Module scripts are fetched in CORS mode; no attribute means "anonymous".
            crossorigin = _cors(element.get("crossorigin")) or "anonymous"
            if src is not None:
                # A module script is deferred unless async (the defer attribute is moot).
                self._add(
                    src,
                    element,
                    "script",
                    "script",
                    crossorigin=crossorigin,
                    module=True,
                    placement=placement,
                    timing=timing or "defer",
                )
            elif element.text:
                self._inline_script(element, element.text, module=True, crossorigin=crossorigin)
        # importmap, speculationrules, JSON, templates...: nothing to fetch.

    def _inline_script(
        self, element: _Element, text: str, *, module: bool, crossorigin: str = "anonymous"
    ) -> None:
        """A module's static imports, and what any script fetches through a literal URL
        (fetch(), import(), a worker, Sphinx's search index); a classic script has no
        import declarations."""
        self._merge(
            scan_js(
                text,
                self.base,
                filename=self.filename,
                line_offset=max(_line(element) - 1, 0),
                inline=True,
                crossorigin=crossorigin,
                fetches=True,
                declarations=module,
            )
        )

    def _img(self, element: _Element) -> None:
        src = element.get("src")
        seen = {src} if src else set()
        srcset = element.get("srcset")
        if element is not self.lcp or not self._lcp_reference(element, src):
            # With a srcset, src is one more candidate (the 1x fallback): the browser
            # may well fetch another, so it is listed like the rest (kind "srcset").
            self._add(src, element, "image", "srcset" if srcset else "image")
        if srcset:
            self._add_srcset(srcset, element, seen=seen)

    def _source(self, element: _Element) -> None:
        # Only <picture> sources are images (audio/video sources are media). libxml2 does
        # not know <source> is void and nests the next one inside it: look past those.
        parent = element.getparent()
        while parent is not None and parent.tag == "source":
            parent = parent.getparent()
        if parent is None or parent.tag != "picture":
            return
        srcset = element.get("srcset")
        if srcset:
            self._add_srcset(
                srcset,
                element,
                seen=set(),
                type=_text_attr(element.get("type")),
                media=_text_attr(element.get("media")),
            )

    def _video(self, element: _Element) -> None:
        self._add(element.get("poster"), element, "image", "image")

    def _input(self, element: _Element) -> None:
        if (element.get("type") or "").strip(_ASCII_WS).lower() == "image":
            self._add(element.get("src"), element, "image", "image")

    def _style(self, element: _Element) -> None:
        type_ = (element.get("type") or "").strip(_ASCII_WS).lower()
        if type_ not in ("", "text/css") or not element.text:
            return
        result = scan_css(
            element.text,
            self.base,
            filename=self.filename,
            line_offset=max(_line(element) - 1, 0),
            inline=True,
        )
        media = _text_attr(element.get("media"))
        if media is not None:
            # The element's media applies to everything its sheet loads.
            result = replace(
                result,
                references=tuple(
                    ref if ref.media else replace(ref, media=media) for ref in result.references
                ),
            )
        self._merge(result)

    def _style_attribute(self, element: _Element, value: str) -> None:
        self._merge(
            scan_css_declarations(
                value,
                self.base,
                filename=self.filename,
                line_offset=max(_line(element) - 1, 0),
            )
        )

    def _merge(self, result: ScanResult) -> None:
        self.references.extend(result.references)
        self.diagnostics.extend(result.diagnostics)


_HANDLERS = {
    "link": _Scanner._link,
    "script": _Scanner._script,
    "img": _Scanner._img,
    "source": _Scanner._source,
    "video": _Scanner._video,
    "input": _Scanner._input,
    "style": _Scanner._style,
}
