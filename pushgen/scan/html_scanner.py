"""The walk over one parsed page: the document's base URL, then every element that can
fetch, in document order, each handed to its rule in :mod:`pushgen.scan.html_elements`.
The table of what is found is in :mod:`pushgen.scan.html`."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import Diagnostic
from ..model import (
    Reference,
    ReferenceKind,
    ScanResult,
    ScriptPlacement,
    ScriptTiming,
    integrity_metadata,
)
from ..urls import Resolved, resolve, unservable, wire_path
from .html_elements import HANDLERS, style_attribute
from .html_values import SKIPPED, Element, line, srcset_candidates, text_attr
from .lcp import likely_lcp_among

__all__ = ["PageScanner", "may_have_style_attribute"]

# The same few URLs recur on every page of a site (stylesheets, scripts, icons), and
# resolving one is most of the per-reference cost. Resolved values are immutable.
_resolve_cached = lru_cache(maxsize=16384)(resolve)


def _folder_of(base: str) -> str:
    """``base`` up to the last ``/`` of its path: ``https://h/a/b.html?q`` -> ``https://h/a/``.

    ``base`` is an absolute http(s) URL (a page's, or a ``<base href>`` resolved).
    """
    end = len(base)
    for mark in "?#":
        found = base.find(mark)
        if found != -1:
            end = min(end, found)
    return base[: base.rindex("/", 0, end) + 1]


def _resolve(ref: str, base: str, folder: str) -> Resolved | None:
    """:func:`pushgen.urls.resolve`, cached by the base's folder where only that counts.

    URL Standard, "relative state": a reference that is not empty and starts with
    neither ``?`` nor ``#`` drops the base's query and fragment and its path's last
    segment ("shorten a URL's path"), so every page of a folder resolves it alike and
    one cache entry serves them all (keyed by the page's URL, none was ever reused).
    A first character at or below U+0020 is stripped by the parser (and could hide a
    ``?``): such a reference is resolved against the whole base.
    """
    return _resolve_cached(ref, folder if _by_folder(ref) else base)


def _by_folder(ref: str) -> bool:
    """Whether ``ref`` resolves alike against every URL of its base's folder (see _resolve)."""
    head = ref[:1]
    return head > " " and head not in "?#"


# An attribute named style (any case) followed by its "=": white space may stand
# between the two (HTML Standard, "after attribute name state"). Matched on the
# lower-cased page: a case-insensitive pattern has no literal prefix to search for
# and costs ten times as much.
_STYLE_ATTRIBUTE = re.compile(rb"style[\t\n\f\r ]*=")


def may_have_style_attribute(raw: bytes) -> bool:
    """False when the page ``raw`` (its bytes as lxml parses them) has no ``style``
    attribute with a value: no ``style`` followed by ``=``, in any case.

    True may be a false alarm (the words in text); then the tree says.
    """
    return _STYLE_ATTRIBUTE.search(raw.lower()) is not None


# The references whose element's integrity attribute applies to the fetch: HTML
# Standard, <link> "integrity" (stylesheet, preload, modulepreload) and <script src>.
_INTEGRITY_KINDS = frozenset({"stylesheet", "preload", "modulepreload", "script"})

# Elements that can make a fetch, and those whose contents never do.
_TAGS = ("link", "script", "img", "source", "video", "input", "style", *SKIPPED)


@lru_cache(maxsize=16384)
def _reference(
    resolved: Resolved,
    destination: str,
    line: int,
    type: str | None,
    crossorigin: str | None,
    media: str | None,
    module: bool,
    kind: ReferenceKind,
    placement: ScriptPlacement,
    timing: ScriptTiming,
    imagesrcset: str | None,
    imagesizes: str | None,
    fetchpriority: str | None,
    integrity: str | None,
) -> Reference:
    """The Reference of these fields, one object for every page that makes it.

    The pages of a site repeat their layout's references at the same lines, and a
    frozen dataclass of 19 fields costs ten times its cache lookup to make.
    References are immutable values: sharing one is safe.
    """
    return Reference.from_resolved(
        resolved,
        destination=destination,
        line=line,
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
        integrity=integrity,
    )


# <link> and <script src> results by tag, attributes, line and base (see PageScanner._kept).
_KEPT: dict[tuple[object, ...], tuple[Reference, ...]] = {}
_KEPT_MAX = 4096


class PageScanner:
    """One page's walk: the base URL, the likely LCP image, and what was found so far.

    :meth:`run` visits the elements that can fetch in document order and hands each to
    its handler (:data:`pushgen.scan.html_elements.HANDLERS`), which calls :meth:`add`.
    """

    def __init__(
        self,
        root: Element,
        url: str,
        filename: str,
        diagnostics: list[Diagnostic],
        *,
        raw: bytes | None = None,
    ) -> None:
        self.root = root
        # The page's bytes as parsed, when the caller has them: a page whose bytes
        # name no style attribute needs no search of the tree for one.
        self._raw = raw
        self.base = url
        self._folder = _folder_of(url)
        self.filename = filename
        self.diagnostics = diagnostics
        self.references: list[Reference] = []
        self.lcp: Element | None = None

    def run(self) -> None:
        root = self.root
        self._find_base()
        styled = self._styled()
        tags = _TAGS
        if styled:
            tags = (*_TAGS, *({element.tag for element in styled} - set(_TAGS)))
        # One walk in C over the tree: its <img> elements name the likely LCP image,
        # which must be known before the first of them is handled.
        elements = list(root.iter(*tags))
        self.lcp = likely_lcp_among(element for element in elements if element.tag == "img")
        inert: set[Element] = set()
        handlers = HANDLERS
        for element in elements:
            if element in inert:
                continue
            tag = element.tag
            if tag in SKIPPED:
                # <template> contents are inert; <noscript> is raw text when scripts run.
                inert.update(element.iter())
                continue
            if tag == "link":
                self._link(element)
            elif tag == "script":
                self._script(element)
            else:
                handler = handlers.get(tag)
                if handler is not None:
                    handler(self, element)
            if styled and element in styled:
                style_attribute(self, element, styled[element])

    def _styled(self) -> dict[Element, str]:
        """The elements whose style="" attribute can fetch (only a value with a "(" can
        hold url() or image-set()), by element, with that value."""
        if self._raw is not None and not may_have_style_attribute(self._raw):
            return {}
        return {
            attribute.getparent(): str(attribute)
            for attribute in self.root.xpath("//@style")
            if "(" in attribute
        }

    def _link(self, element: Element) -> None:
        """A ``<link>``'s references, once per site for the layout's links.

        What a ``<link>`` adds depends on its attributes, its line and the base URL
        only (html_elements._link reads nothing else of the page).
        """
        self._kept(element, "link", element.get("href"), False)

    def _script(self, element: Element) -> None:
        """A ``<script src>``'s references, once per site for the layout's scripts.

        What it adds depends on its attributes, its line, whether it stands in
        ``<head>`` and the base URL (html_elements._script); an inline script's
        text is scanned on every page.
        """
        src = element.get("src")
        if src is None:
            HANDLERS["script"](self, element)
        else:
            in_head = any(True for _ in element.iterancestors("head"))
            self._kept(element, "script", src, in_head)

    def _kept(self, element: Element, tag: str, url: str | None, in_head: bool) -> None:
        """The references of ``element`` that its handler adds, kept by what they depend
        on (its tag, attributes, line, ``in_head`` and the base URL), so that the
        pages of one layout share them.

        The base counts only through its folder when ``url`` does (see _resolve). An
        element that makes a diagnostic is not kept (the message names the page's file).
        """
        if (url is None or _by_folder(url)) and element.get("imagesrcset") is None:
            base = self._folder  # every page of the folder resolves it alike
        else:
            base = self.base
        key = (tag, in_head, tuple(element.items()), line(element), base)
        known = _KEPT.get(key)
        if known is not None:
            self.references.extend(known)
            return
        references, diagnosed = len(self.references), len(self.diagnostics)
        HANDLERS[tag](self, element)
        if len(self.diagnostics) == diagnosed:
            if len(_KEPT) >= _KEPT_MAX:
                _KEPT.clear()  # a bound, not an LRU: a site's layouts refill it at once
            _KEPT[key] = tuple(self.references[references:])

    def _find_base(self) -> None:
        # HTML Standard, "document base URL": the first <base> with an href, in tree order.
        for element in self.root.iter("base"):
            href = element.get("href")
            if href is None or any(True for _ in element.iterancestors(*SKIPPED)):
                continue
            resolved = resolve(href, self.base)
            if resolved is None:
                self.diagnose(element, f"ignored: <base href={href!r}> is not an http(s) URL")
            else:
                self.base = resolved.url
                self._folder = _folder_of(resolved.url)
            return

    def _absolute_srcset(self, srcset: str) -> str | None:
        """``srcset`` with each candidate made an absolute path (another origin: a URL).

        A Link header's ``imagesrcset`` is resolved against the page's URL, not its
        ``<base>``, so relative candidates are written out. None when a candidate is
        not an http(s) URL a browser would fetch.
        """
        parts = []
        for candidate in srcset_candidates(srcset).candidates:
            url = candidate.url
            resolved = _resolve(url, self.base, self._folder)
            if resolved is None or unservable(url, resolved) is not None:
                return None
            written = wire_path(resolved.path) if resolved.local else resolved.url
            if "," in written:
                return None  # a comma would split the candidate list
            parts.append(" ".join([written, *candidate.descriptors]))
        return ", ".join(parts) or None

    def lcp_reference(self, element: Element, src: str | None) -> bool:
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
        self.add(
            src,
            element,
            "image",
            "image",
            imagesrcset=imagesrcset,
            imagesizes=text_attr(sizes) if imagesrcset else None,
            fetchpriority="high",
        )
        return True

    def diagnose(self, element: Element, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.filename, line(element), 0, message))

    def add(
        self,
        raw: str | None,
        element: Element,
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
        resolved = _resolve(raw, self.base, self._folder)
        if resolved is None:
            return
        problem = unservable(raw, resolved)
        if problem is not None:
            self.diagnose(element, problem)
            return
        integrity = (
            integrity_metadata(element.get("integrity")) if kind in _INTEGRITY_KINDS else None
        )
        self.references.append(
            _reference(
                resolved,
                destination,
                line(element),
                type,
                crossorigin,
                media,
                module,
                kind,
                placement,
                timing,
                imagesrcset,
                imagesizes,
                fetchpriority,
                integrity,
            )
        )

    def add_srcset(
        self,
        srcset: str,
        element: Element,
        *,
        seen: set[str],
        type: str | None = None,
        media: str | None = None,
    ) -> None:
        parsed = srcset_candidates(srcset)
        for dropped in parsed.dropped:
            self.diagnose(element, f"srcset candidate {dropped!r} has invalid descriptors")
        for candidate in parsed.candidates:
            url = candidate.url
            if url not in seen:
                seen.add(url)
                # Kind "srcset": the browser fetches one candidate of the set, chosen
                # by viewport and pixel density, so the build lists them unhinted.
                self.add(url, element, "image", "srcset", type=type, media=media)

    def merge(self, result: ScanResult) -> None:
        """Add what a scan of inline CSS or JavaScript found."""
        self.references.extend(result.references)
        self.diagnostics.extend(result.diagnostics)
