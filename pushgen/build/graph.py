"""Following a page's references through stylesheets and modules into manifest entries.

A page's own references come from the HTML scanner; this module fetches (from the
build output, never the network) every same-origin stylesheet and module script it
reaches, scans each once, and orders what it found the way the page needs it:

1. stylesheets, each followed by what it ``@import``\\s (depth first, document order);
2. what the stylesheets pull in that the page needs to render text: fonts;
3. scripts, each module followed by its static import graph;
4. images (the page's own, then those of its stylesheets), icons, anything else.

The first occurrence of a URL wins. Cycles terminate (each file is expanded once
per page). Every asset keeps the chain of (file, line) that led to it, for
``pushgen explain`` and for warnings about files the output lacks.

The Resolver is made of a few modules, one concern each: this one assembles
a page's assets (and keeps what it read, and what a stylesheet adds);
:mod:`pushgen.build.follow` walks ``@import`` trees and module graphs;
:mod:`pushgen.build.entries` decides what one reference adds (an asset's
destination and attributes, push and hint: :func:`~pushgen.build.entries.make_asset`);
:mod:`pushgen.build.page_fonts` traces which fonts a page's text uses;
:mod:`pushgen.build.budget` applies the push budget; the values are in
:mod:`pushgen.build.found`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic
from ..model import Asset, FontDeclarations, FontPolicy, FontSheet, Reference, ScanResult
from ..scan.css import scan_css_file
from ..scan.js import scan_js
from ..urls import url_path_to_relpath
from .budget import apply_budget
from .entries import Entry, blocks_render, make_entry, preconnect, should_push
from .follow import Following
from .found import MAX_IMPORT_DEPTH, Doc, DocKind, Found, Link, PageAssets
from .page_fonts import FontTracing, TracedBefore, TracedFonts

if TYPE_CHECKING:  # imported by page_fonts when a page is traced (issue 27: start-up)
    from .fonts import SheetFonts

__all__ = [
    "MAX_IMPORT_DEPTH",
    "Doc",
    "DocKind",
    "Found",
    "Link",
    "PageAssets",
    "Resolver",
    "apply_budget",
    "scan_doc",
    "should_push",
]


@dataclass(frozen=True, slots=True)
class _Expansion:
    """What following one stylesheet or module adds to any page that has none of its ``names``."""

    # What it adds, in order, each with a stand-in for the page's link at the head
    # of its chain, and whether it is an image listed after the page's own.
    items: list[tuple[Found, bool]]
    names: frozenset[str]
    touched: frozenset[str]
    warnings: list[tuple[Link, str]]


@dataclass
class Resolver(Following, FontTracing):
    """Resolves pages' references into ordered assets; caches each scanned file.

    ``read(relpath)`` returns a file of the output (``None`` when it is missing);
    ``exists(relpath)`` answers without reading. One resolver serves a whole build.
    The walk through stylesheets and modules (:class:`Following`) and per-page font
    tracing (:class:`FontTracing`) are its parts, in modules of their own over the
    state declared here; what a reference adds is :func:`make_entry`'s.
    """

    base_path: str
    read: Callable[[str], bytes | None]
    exists: Callable[[str], bool]
    push_destinations: frozenset[str]
    # The push policy's `script_fetches: hint` (SiteConfig.script_fetches).
    hint_script_fetches: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Scanned stylesheets and modules by output path; a build may prefill it with
    # the scans of unchanged files from its previous run.
    docs: dict[str, Doc | None] = field(default_factory=dict)
    # The output paths the page_assets() call under way has looked at.
    _touched: set[str] = field(default_factory=set)
    _warned: set[tuple[str, int, str]] = field(default_factory=set)
    # What a reference adds, by the fields that decide it: pages name the same
    # stylesheets and images, and every page reaching a stylesheet meets its
    # references, so each entry (and its Asset object) is made once per build.
    _entries: dict[tuple[object, ...], Entry] = field(default_factory=dict)
    # A stylesheet reference for an importer's media, by the reference's id and the
    # media; the entry holds the reference, so no other object can take that id.
    _joined: dict[tuple[int, str | None], tuple[Reference, Reference]] = field(default_factory=dict)
    _links: dict[tuple[str, int], Link] = field(default_factory=dict)
    # What following a page's stylesheet or module adds (see _expand).
    _expansions: dict[tuple[bool, str, str | None], _Expansion] = field(default_factory=dict)
    _recording: list[tuple[Link, str]] | None = None
    # Per-page font tracing (pushgen/build/page_fonts.py): "used" traces, "all" lists
    # every face's source as before; what it reads is cached per build (see there).
    fonts: FontPolicy = "used"
    _font_sheets: dict[str, FontSheet | None] = field(default_factory=dict)
    _sheet_lists: dict[tuple[str, str | None], tuple[SheetFonts, ...]] = field(default_factory=dict)
    _inline_sheets: dict[tuple[str, str], FontSheet | None] = field(default_factory=dict)
    _style_attributes: dict[str, FontDeclarations | None] = field(default_factory=dict)
    _font_assets: dict[tuple[int, str, str], tuple[Asset, Found]] = field(default_factory=dict)
    traced: int = 0  # pages whose fonts were traced (a rebuild reports how many)
    _font_digests: dict[int, tuple[FontSheet, str]] = field(default_factory=dict)
    traced_before: TracedBefore | None = None  # see page_fonts.py
    trace_key: str = ""

    def page_assets(
        self,
        page_display: str,
        scan: ScanResult,
        *,
        html: Callable[[], bytes | str | None] | None = None,
        url: str = "",
        tree: Any = None,
        traced: TracedFonts | None = None,
    ) -> PageAssets:
        """The ordered assets of one page whose HTML scan is ``scan``, and what they took.

        ``html`` returns the page (read only when a stylesheet it links has
        ``@font-face`` rules) and ``url`` is its address: with them and the
        ``fonts="used"`` policy, fonts are traced per page (pushgen/build/fonts/);
        without, every face's source is listed as the stylesheet names it. ``tree``
        is the page as the scan's lxml parse left it, when the caller still holds it:
        tracing then reads it instead of parsing ``html()`` again. ``traced`` are the
        verdicts the page's renderer traced on its own parse (page_fonts.py
        PageFontTracer): taken when they were traced over the same sheets.
        """
        self._touched = set()
        first_diagnostic = len(self.diagnostics)
        found: dict[str, Found] = {}
        css_images: list[Found] = []
        preconnects: dict[str, Found] = {}
        for ref in scan.references:
            if not ref.local:
                if ref.origin and blocks_render(ref) and ref.origin not in preconnects:
                    chain = (Link(page_display, ref.line),)
                    preconnects[ref.origin] = preconnect(ref, chain)
                continue
            chain = (Link(page_display, ref.line),)
            if ref.destination == "style" and ref.kind in ("stylesheet", "import", "preload"):
                self._add(found, ref, chain, css_images)
                self._expand(found, ref, chain, css_images, css=True)
            elif ref.destination == "script" and (ref.module or ref.kind == "script"):
                # A classic script is read too, for what it fetches (kind "fetch").
                self._add(found, ref, chain, css_images)
                self._expand(found, ref, chain, css_images, css=False)
            else:
                self._add(found, ref, chain, css_images)
        for item in css_images:
            found.setdefault(item.asset.path, item)
        if html is not None and self.fonts == "used":
            self._trace_fonts(found, scan, html, url, tree, traced)
        ordered = [
            *preconnects.values(),
            *sorted(found.values(), key=lambda f: (f.category, f.icon)),
        ]
        return PageAssets(
            tuple(ordered), frozenset(self._touched), tuple(self.diagnostics[first_diagnostic:])
        )

    # -- internals -----------------------------------------------------------

    def _add(
        self,
        found: dict[str, Found],
        ref: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
    ) -> bool:
        if ref.path in found:
            return False
        key = (
            ref.path,
            ref.destination,
            ref.kind,
            ref.type,
            ref.crossorigin,
            ref.media,
            ref.module,
            ref.placement,
            ref.timing,
            ref.imagesrcset,
            ref.imagesizes,
            ref.fetchpriority,
            ref.integrity,
        )
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = make_entry(
                ref,
                base_path=self.base_path,
                exists=self.exists,
                push_destinations=self.push_destinations,
                hint_script_fetches=self.hint_script_fetches,
            )
        if entry.relpath is not None:
            self._touched.add(entry.relpath)
        if entry.asset is None:
            self._warn(chain[-1], entry.warning or "")
            return False
        item = Found(entry.asset, chain, entry.category, icon=entry.icon, notes=entry.notes)
        if entry.image and len(chain) > 1:
            # An image named by a stylesheet: listed after the page's own images.
            css_images.append(item)
            return True
        found[ref.path] = item
        return True

    def _warn(self, where: Link, message: str) -> None:
        if self._recording is not None:
            self._recording.append((where, message))
        key = (where.file, where.line, message)
        if key not in self._warned:
            self._warned.add(key)
            self.diagnostics.append(Diagnostic(where.file, where.line, 0, message))

    def _doc(self, ref: Reference, kind: DocKind) -> Doc | None:
        relpath = url_path_to_relpath(ref.path, self.base_path)
        if relpath is None:
            return None
        self._touched.add(relpath)
        if relpath in self.docs:
            return self.docs[relpath]
        data = self.read(relpath)
        doc = None
        if data is not None:
            display = relpath
            scan = scan_doc(kind, data, ref.url, display)
            self.diagnostics.extend(scan.diagnostics)
            doc = Doc(scan, display, kind, fresh=True)
        self.docs[relpath] = doc
        return doc

    def _expand(
        self,
        found: dict[str, Found],
        top: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        *,
        css: bool,
    ) -> None:
        """Follow a page's own stylesheet or module, as worked out once per build.

        Pages link the same few stylesheets and modules, and what one adds (its
        @import tree or module graph, fonts, images, each with the provenance after
        the page's link, the files looked at, the warnings) does not depend on the
        page, unless the page has already found one of the paths the tree names:
        that page takes the long way.
        """
        key = (css, top.path, top.media if css else None)
        expansion = self._expansions.get(key)
        if expansion is None:
            expansion = self._expansions[key] = self._record_expansion(top, css)
        if not expansion.names.isdisjoint(found):
            self._follow(found, top, chain, css_images, css)
            return
        for item, image in expansion.items:
            added = Found(
                item.asset,
                (*chain, *item.chain[1:]),
                item.category,
                icon=item.icon,
                notes=item.notes,
            )
            if image:
                css_images.append(added)
            else:
                found[item.asset.path] = added
        self._touched |= expansion.touched
        for where, message in expansion.warnings:
            self._warn(where, message)

    def _record_expansion(self, top: Reference, css: bool) -> _Expansion:
        found: dict[str, Found] = {}
        css_images: list[Found] = []
        touched, self._touched = self._touched, set()
        self._recording = []
        names: set[str] = set()
        try:
            # A stand-in for the page's link: _add tells a stylesheet's images from a
            # page's own by the length of the chain.
            self._follow(found, top, (Link("", 0),), css_images, css, names)
            in_order = [(f, False) for f in found.values()] + [(f, True) for f in css_images]
            return _Expansion(in_order, frozenset(names), frozenset(self._touched), self._recording)
        finally:
            self._touched = touched | self._touched
            self._recording = None


def scan_doc(kind: DocKind, data: bytes, url: str, display: str) -> ScanResult:
    """Scan a stylesheet or script the way the resolver does (imports, and what a script fetches)."""
    if kind == "css":
        return scan_css_file(data, url, display)
    return scan_js(data, url, filename=display, fetches=True)
