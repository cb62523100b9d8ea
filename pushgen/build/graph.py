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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

from ..errors import Diagnostic, LinkFieldError
from ..links import check_link_fields
from ..media_types import font_type
from ..model import Asset, FontDeclarations, FontSheet, Reference, ScanResult
from ..push_policy import Decision, Policy, apply_policy, media_matches_screen, push_refusal
from ..scan.css import scan_css
from ..scan.font_rules import style_font_declarations
from ..scan.js import scan_js
from ..site_files import output_relpath
from ..urls import url_path_to_relpath
from .fonts import FontPolicy, FontUse, SheetFonts, parse_page, trace_fonts

__all__ = [
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

# Stylesheets importing stylesheets this deep are a mistake or an attack; the
# chain is followed this far (and the recursion stays far from Python's limit).
MAX_IMPORT_DEPTH = 64

# ASCII whitespace (HTML Standard; CSS Syntax 3 reads the same as whitespace).
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")

# Category order of a page's assets (see the module docstring).
_ORDER = {"style": 0, "font": 1, "script": 2, "image": 3}


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a provenance chain: ``file`` line ``line`` references the next."""

    file: str
    line: int


@dataclass(slots=True)
class Found:
    """An asset of a page and how the page reached it."""

    asset: Asset
    chain: tuple[Link, ...]
    category: int
    icon: bool = False
    # Why the entry is not pushed or not hinted, when it is not (for `explain`).
    notes: tuple[str, ...] = ()


class _Entry(NamedTuple):
    """What one reference adds to the pages that reach it (see Resolver._add)."""

    relpath: str | None  # None: outside the site
    warning: str | None  # why it adds nothing: outside the site, or not in the output
    asset: Asset | None  # None when there is a warning
    notes: tuple[str, ...]
    category: int
    icon: bool
    image: bool  # an image named by url() or a srcset


class _Expansion(NamedTuple):
    """What following one stylesheet or module adds to any page that has none of its ``names``."""

    # What it adds, in order, each with a stand-in for the page's link at the head
    # of its chain, and whether it is an image listed after the page's own.
    items: list[tuple[Found, bool]]
    names: frozenset[str]
    touched: frozenset[str]
    warnings: list[tuple[Link, str]]


DocKind = Literal["css", "js"]


@dataclass(slots=True)
class Doc:
    """A stylesheet or module the resolver read and scanned."""

    scan: ScanResult
    display: str
    kind: DocKind
    # Scanned in this build: ``scan.fonts`` is there (a build state keeps no fonts).
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class PageAssets:
    """What :meth:`Resolver.page_assets` found for one page."""

    # The page's assets, in the order it needs them.
    found: tuple[Found, ...]
    # Every output path looked at (read or probed, present or not): an incremental
    # build resolves the page again only when one of them changed.
    touched: frozenset[str]
    # The warnings this page's references raised (also kept in Resolver.diagnostics).
    diagnostics: tuple[Diagnostic, ...]


def should_push(asset: Asset, push_destinations: frozenset[str]) -> bool:
    """The default push policy: listed destinations, and stylesheets only for screens."""
    return push_refusal(asset.destination, asset.media, push_destinations) is None


@dataclass
class Resolver:
    """Resolves pages' references into ordered assets; caches each scanned file.

    ``read(relpath)`` returns a file of the output (``None`` when it is missing);
    ``exists(relpath)`` answers without reading. One resolver serves a whole build.
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
    _entries: dict[tuple[object, ...], _Entry] = field(default_factory=dict)
    # A stylesheet reference for an importer's media, by the reference's id and the
    # media; the entry holds the reference, so no other object can take that id.
    _joined: dict[tuple[int, str | None], tuple[Reference, Reference]] = field(default_factory=dict)
    _links: dict[tuple[str, int], Link] = field(default_factory=dict)
    # What following a page's stylesheet or module adds (see _expand).
    _expansions: dict[tuple[bool, str, str | None], _Expansion] = field(default_factory=dict)
    _recording: list[tuple[Link, str]] | None = None
    # Per-page font tracing (pushgen/build/fonts.py): "used" traces, "all" lists every
    # face's source as before. What it reads is cached per build: each sheet's fonts
    # (with what it imports, by link and media), inline sheets, style attributes, and
    # the entries tracing makes of an asset.
    fonts: FontPolicy = "used"
    _font_sheets: dict[str, FontSheet | None] = field(default_factory=dict)
    _sheet_lists: dict[tuple[str, str | None], tuple[SheetFonts, ...]] = field(default_factory=dict)
    _inline_sheets: dict[tuple[str, str], FontSheet | None] = field(default_factory=dict)
    _style_attributes: dict[str, FontDeclarations | None] = field(default_factory=dict)
    _font_assets: dict[tuple[int, str, str], tuple[Asset, Found]] = field(default_factory=dict)

    def page_assets(
        self,
        page_display: str,
        scan: ScanResult,
        *,
        html: Callable[[], bytes | str | None] | None = None,
        url: str = "",
        tree: Any = None,
    ) -> PageAssets:
        """The ordered assets of one page whose HTML scan is ``scan``, and what they took.

        ``html`` returns the page (read only when a stylesheet it links has
        ``@font-face`` rules) and ``url`` is its address: with them and the
        ``fonts="used"`` policy, fonts are traced per page (pushgen/build/fonts.py);
        without, every face's source is listed as the stylesheet names it. ``tree``
        is the page as the scan's lxml parse left it, when the caller still holds it:
        tracing then reads it instead of parsing ``html()`` again.
        """
        self._touched = set()
        first_diagnostic = len(self.diagnostics)
        found: dict[str, Found] = {}
        css_images: list[Found] = []
        preconnects: dict[str, Found] = {}
        for ref in scan.references:
            if not ref.local:
                if ref.origin and _blocks_render(ref):
                    self._preconnect(preconnects, ref, (Link(page_display, ref.line),))
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
            self._trace_fonts(found, scan, html, url, tree)
        ordered = [
            *preconnects.values(),
            *sorted(found.values(), key=lambda f: (f.category, f.icon)),
        ]
        return PageAssets(
            tuple(ordered), frozenset(self._touched), tuple(self.diagnostics[first_diagnostic:])
        )

    # -- internals -----------------------------------------------------------

    def _trace_fonts(
        self,
        found: dict[str, Found],
        scan: ScanResult,
        html: Callable[[], bytes | str | None],
        url: str,
        tree: Any = None,
    ) -> None:
        """Keep pushes and hints of the fonts the page's text uses (see pushgen/build/fonts.py)."""
        sheets: list[tuple[int, SheetFonts]] = []
        inline = False
        for ref in scan.references:
            if ref.kind == "font":
                inline = True  # an @font-face of a <style> element
            elif ref.local and ref.destination == "style" and ref.kind in ("stylesheet", "import"):
                key = (ref.path, ref.media)
                linked = self._sheet_lists.get(key)
                if linked is None:
                    linked = self._sheet_lists[key] = self._sheet_list(ref)
                sheets.extend((ref.line, sheet) for sheet in linked)
        faces = {face.path for _, sheet in sheets for face in sheet.fonts.faces}
        if not inline and not any(
            item.asset.destination == "font" and path in faces for path, item in found.items()
        ):
            return
        if tree is not None:  # the scan's own parse (a source that scans and resolves at once)
            root = tree
        else:
            data = html()
            root = parse_page(data) if data is not None else None
        if root is None:
            why = "the page could not be read again to trace its fonts"
            uses = {path: FontUse("possible", why) for path in faces}
        else:
            for element in root.iter("style"):
                type_ = (element.get("type") or "").strip().lower()
                if type_ in ("", "text/css") and element.text:
                    fonts = self._inline_sheet(element.text, url)
                    if fonts is not None:
                        sheet = SheetFonts(fonts, element.get("media"), "<style>")
                        sheets.append((element.sourceline or 0, sheet))
            sheets.sort(key=lambda pair: pair[0])  # stable: a sheet's imports stay before it
            uses = trace_fonts(
                root, _last_of_each(sheet for _, sheet in sheets), self._style_attribute
            )
        preloaded = {ref.path for ref in scan.references if ref.kind == "preload"}
        for path, use in uses.items():
            item = found.get(path)
            if item is None or item.asset.destination != "font" or path in preloaded:
                continue  # a page's own <link rel=preload as=font> stands as written
            found[path] = self._traced(item, use)

    def _traced(self, item: Found, use: FontUse) -> Found:
        """``item`` as tracing decided; the changed asset is made once per build."""
        if use.verdict == "used":
            return item
        key = (id(item.asset), use.verdict, use.reason)
        cached = self._font_assets.get(key)
        if cached is None or cached[0] is not item.asset:
            if use.verdict == "possible":
                asset = replace(item.asset, push=False)
                note = (
                    f"hint only: the page may use it (not decidable from the files: {use.reason})"
                )
            else:
                asset = replace(item.asset, push=False, hint=False)
                note = use.reason
            cached = self._font_assets[key] = (
                item.asset,
                Found(asset, (), item.category, notes=(*item.notes, note)),
            )
        made = cached[1]
        return Found(made.asset, item.chain, item.category, icon=item.icon, notes=made.notes)

    def _sheet_list(self, top: Reference) -> tuple[SheetFonts, ...]:
        """The fonts of ``top`` and what it imports, in cascade order (imports first).

        A sheet imported twice (an @import DAG) applies at both places, but the later
        one decides every cascade the earlier one could (same rules, same specificity,
        same media, later order; cascade layers are not modelled, see fonts.py), so
        each sheet is listed once per media, at its last place. That place comes first
        in the reversed order (a sheet, then its imports last to first), which a walk
        visiting each (sheet, media) once yields: linear, where following every path of
        a DAG is exponential (issue 22; sheet i importing i+1 and i+2).
        """
        out: list[SheetFonts] = []
        self._sheet_fonts(top, set(), set(), out)
        out.reverse()
        return tuple(out)

    def _sheet_fonts(
        self,
        sheet: Reference,
        visiting: set[str],
        seen: set[tuple[str, str | None]],
        out: list[SheetFonts],
    ) -> None:
        """Add ``sheet`` and what it imports to ``out`` in reversed cascade order (see
        :meth:`_sheet_list`); ``visiting`` holds the sheets being walked (cycles)."""
        key = (sheet.path, sheet.media)
        if key in seen or sheet.path in visiting or len(visiting) >= MAX_IMPORT_DEPTH:
            return
        seen.add(key)
        relpath = url_path_to_relpath(sheet.path, self.base_path)
        doc = self.docs.get(relpath) if relpath is not None else None
        if relpath is None or doc is None:
            return
        fonts = self._sheet_font_rules(relpath, doc, sheet)
        if fonts is not None:
            out.append(SheetFonts(fonts, sheet.media, doc.display))
        visiting.add(sheet.path)
        for ref in reversed(doc.scan.references):
            if ref.local and ref.destination == "style" and ref.kind == "import":
                joined = self._with_media(ref, _join_media(sheet.media, ref.media))
                self._sheet_fonts(joined, visiting, seen, out)
        visiting.discard(sheet.path)

    def _sheet_font_rules(self, relpath: str, doc: Doc, sheet: Reference) -> FontSheet | None:
        """The font rules and faces of the stylesheet ``doc`` (read once per build)."""
        if doc.fresh:
            return doc.scan.fonts
        if relpath not in self._font_sheets:
            # A scan the build state kept, without fonts: read the sheet once more.
            data = self.read(relpath)
            fonts = scan_css(data, sheet.url, filename=doc.display).fonts if data else None
            self._font_sheets[relpath] = fonts
        return self._font_sheets[relpath]

    def _inline_sheet(self, text: str, url: str) -> FontSheet | None:
        key = (text, url)
        if key not in self._inline_sheets:
            self._inline_sheets[key] = scan_css(text, url, inline=True).fonts
        return self._inline_sheets[key]

    def _style_attribute(self, text: str) -> FontDeclarations | None:
        if text not in self._style_attributes:
            self._style_attributes[text] = style_font_declarations(text)
        return self._style_attributes[text]

    def _preconnect(
        self,
        preconnects: dict[str, Found],
        ref: Reference,
        chain: tuple[Link, ...],
    ) -> None:
        """A ``rel=preconnect`` to the origin of ``ref``, another origin the first render needs.

        A connection made for CORS fetches (fonts, module scripts, crossorigin
        elements) is not used for no-CORS ones and the other way round (Fetch,
        "connection pool" keyed by credentials). A route lists an origin once
        (entries are keyed by path), in the mode of its first fetch there, the
        one the render meets first.
        """
        if ref.origin in preconnects:
            return
        cors = ref.crossorigin or ("anonymous" if ref.destination == "font" else None)
        what = "font" if ref.destination == "font" else ref.kind or ref.destination
        asset = Asset(ref.origin, "", crossorigin=cors, push=False, preconnect=True)
        note = f"preconnect: the first render needs a {what} from {ref.origin} ({ref.url})"
        preconnects[ref.origin] = Found(asset, chain, -1, notes=(note,))

    def _entry(self, ref: Reference) -> _Entry:
        """What ``ref`` adds to a page: its output path, manifest entry, or the warning instead."""
        category = _ORDER.get(ref.destination, 4)
        image = ref.kind in ("url", "srcset") and ref.destination == "image"
        relpath = output_relpath(ref.path, self.base_path)
        if relpath is None:
            warning = f"{ref.path} is outside the site (base path {self.base_path})"
            return _Entry(None, warning, None, (), category, False, image)
        if not self.exists(relpath):
            what = {
                "style": "stylesheet",
                "script": "script",
                "font": "font",
                "image": "image",
            }.get(ref.destination, "file")
            warning = f"{what} {ref.path} is not in the output (missing file {relpath})"
            return _Entry(relpath, warning, None, (), category, False, image)
        asset, notes = self._make_asset(ref)
        try:
            check_link_fields(asset)
        except LinkFieldError as exc:
            # No header can announce it, and the manifest would hold what check and
            # the runtime refuse; a browser ignores a media query or type it cannot
            # read (Media Queries 4: an unknown query is "not all").
            warning = f"{ref.path}: {exc}: left out of the manifest; write the attribute in ASCII"
            return _Entry(relpath, warning, None, (), category, False, image)
        return _Entry(relpath, None, asset, notes, category, ref.kind == "icon", image)

    def _make_asset(self, ref: Reference) -> tuple[Asset, tuple[str, ...]]:
        destination = ref.destination
        type_ = ref.type
        crossorigin = ref.crossorigin
        if destination == "font":
            type_ = type_ or font_type(ref.path)
            # Fonts are always fetched in CORS mode (CSS Fonts 4, §4.9).
            crossorigin = crossorigin or "anonymous"
        media = _one_line(ref.media) if destination == "style" else None
        type_ = _one_line(type_)
        push, hint = True, True
        notes: tuple[str, ...] = ()
        if ref.kind == "srcset":
            # One candidate of a srcset is fetched, by viewport and density: a hint
            # for each would make the browser download them all.
            push, hint = False, False
            notes = ("not hinted: one candidate of a srcset",)
        elif ref.kind == "fetch":
            # A script asks for it when it runs, if ever. Measured in Chromium
            # (bench/script_fetch_bench.py, issue 15): a hint makes every page
            # download an import() reached on a click, and helps only a page whose
            # script fetches at load (a search index); so listed by default, and
            # hinted at low priority on request where a preload can serve the
            # request (fetch(), import()). A worker's own fetches (new Worker,
            # importScripts) cannot use a page's preload.
            servable = destination == "fetch" or ref.module
            push, hint = False, servable and self.hint_script_fetches
            if hint:
                notes = (
                    "hint only: fetched by a script through a literal URL (push policy "
                    "script_fetches: hint), at low priority",
                )
            elif servable:
                notes = (
                    "not hinted: fetched by a script through a literal URL, maybe never "
                    "(hint it: push policy script_fetches: hint, or a rule's set)",
                )
            else:
                notes = (
                    f"not hinted: fetched by a script as a {destination}, which a preload "
                    "cannot serve",
                )
        elif ref.kind == "icon":
            # Chromium fetches the favicon with its own request, which a preload
            # does not serve: a hint downloads it twice (issue 15).
            push, hint = False, False
            notes = ("not hinted: an icon, fetched by the browser's own favicon request",)
        elif ref.kind == "image" and ref.fetchpriority != "high":
            # Only the likely LCP image gains from a hint; the others would compete
            # with it and with what blocks the first render (issue 15).
            push, hint = False, False
            notes = ("not hinted: an image other than the page's likely LCP image",)
        elif ref.kind == "url" and destination == "image":
            # A stylesheet's image is fetched only where a rule using it matches an
            # element; hinting it on every page that links the sheet wastes bandwidth
            # (a rule `set: [{path: ..., hint: true}]` hints a critical one).
            push, hint = False, False
            notes = ("not hinted: a stylesheet image, fetched only where a rule matches",)
        elif _waits_for_nothing(ref):
            # Pushing it contends with what the first render needs (issue 15).
            push = False
            notes = (f"hint only: {_waits_for_nothing(ref)}",)
        elif (refusal := push_refusal(destination, media, self.push_destinations)) is not None:
            push = False
            notes = (refusal,)
        asset = Asset(
            path=ref.path,
            destination=destination,
            type=type_,
            crossorigin=crossorigin,
            media=media,
            module=ref.module and destination == "script",
            push=push,
            hint=hint,
            imagesrcset=_one_line(ref.imagesrcset),
            imagesizes=_one_line(ref.imagesizes),
            fetchpriority="low" if ref.kind == "fetch" and hint else ref.fetchpriority,
            integrity=ref.integrity,
        )
        return asset, notes

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
            entry = self._entries[key] = self._entry(ref)
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

    def _link(self, file: str, line: int) -> Link:
        key = (file, line)
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = Link(file, line)
        return link

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

    def _follow(
        self,
        found: dict[str, Found],
        top: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        css: bool,
        names: set[str] | None = None,
    ) -> None:
        if css:
            self._follow_css(found, top, chain, css_images, visiting=set(), names=names)
        else:
            self._follow_js(found, top, chain, names)

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

    def _follow_css(
        self,
        found: dict[str, Found],
        sheet: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        visiting: set[str],
        names: set[str] | None = None,
    ) -> None:
        """Add what ``sheet`` imports and names, depth first; ``names`` collects every
        path it offers to ``found`` (added or not)."""
        doc = self._doc(sheet, "css")
        if doc is None or sheet.path in visiting:
            return
        if len(visiting) >= MAX_IMPORT_DEPTH:
            self._warn(
                chain[-1],
                f"@import nesting deeper than {MAX_IMPORT_DEPTH}; {sheet.path} not followed",
            )
            return
        visiting.add(sheet.path)
        for ref in doc.scan.references:
            if not ref.local:
                continue
            link_chain = (*chain, self._link(doc.display, ref.line))
            if ref.destination == "style":
                if ref.path in visiting:
                    self._warn(
                        link_chain[-1], f"@import cycle: {ref.path} is already being imported"
                    )
                    continue
                # An imported sheet applies only where its own and the importer's media match.
                ref = self._with_media(ref, _join_media(sheet.media, ref.media))
                if names is not None:
                    names.add(ref.path)
                if self._add(found, ref, link_chain, css_images):
                    self._follow_css(found, ref, link_chain, css_images, visiting, names)
            else:
                if names is not None:
                    names.add(ref.path)
                self._add(found, ref, link_chain, css_images)
        visiting.discard(sheet.path)

    def _with_media(self, ref: Reference, media: str | None) -> Reference:
        """``ref`` for ``media``: one copy per reference and media for all pages."""
        if media == ref.media:
            return ref
        key = (id(ref), media)
        entry = self._joined.get(key)
        if entry is None or entry[0] is not ref:
            entry = self._joined[key] = (ref, replace(ref, media=media))
        return entry[1]

    def _follow_js(
        self,
        found: dict[str, Found],
        module: Reference,
        chain: tuple[Link, ...],
        names: set[str] | None = None,
    ) -> None:
        # Iterative depth-first walk: module graphs can be deep.
        stack: list[tuple[Reference, tuple[Link, ...]]] = [(module, chain)]
        expanded: set[str] = set()
        while stack:
            current, current_chain = stack.pop()
            if current.path in expanded:
                continue
            expanded.add(current.path)
            doc = self._doc(current, "js")
            if doc is None:
                continue
            children: list[tuple[Reference, tuple[Link, ...]]] = []
            for ref in doc.scan.references:
                if not ref.local:
                    continue
                link_chain = (*current_chain, self._link(doc.display, ref.line))
                if names is not None:
                    names.add(ref.path)
                # Static imports load with the module; what it fetches later does not.
                if self._add(found, ref, link_chain, []) and ref.kind == "module":
                    children.append((ref, link_chain))
            stack.extend(reversed(children))


def _waits_for_nothing(ref: Reference) -> str:
    """Why the first render does not wait for the classic script ``ref`` ("" when it does).

    HTML Standard, "prepare the script element": a ``defer`` script runs after
    parsing, an ``async`` one whenever it arrives, and a parser-blocking script in
    ``<body>`` lets the browser render everything above it first. Only a classic
    script in ``<head>`` without either holds the first render. Module scripts are
    pushed with their static imports: the page's behaviour usually hangs on them.
    """
    if ref.kind != "script" or ref.module or ref.destination != "script":
        return ""
    if ref.timing:
        return f"{ref.timing} script: the first render does not wait for it"
    if ref.placement == "body":
        return "script in <body>: the page renders what comes before it without waiting"
    return ""


def scan_doc(kind: DocKind, data: bytes, url: str, display: str) -> ScanResult:
    """Scan a stylesheet or script the way the resolver does (imports, and what a script fetches)."""
    if kind == "css":
        return scan_css(data, url, filename=display)
    return scan_js(data, url, filename=display, fetches=True)


def _blocks_render(ref: Reference) -> bool:
    """Whether the first render waits for ``ref``: a screen stylesheet, a font, a
    parser-blocking or module script (see :func:`_waits_for_nothing`)."""
    if ref.destination == "style":
        return ref.kind in ("stylesheet", "preload", "import") and media_matches_screen(ref.media)
    if ref.destination == "script":
        return ref.module or (ref.kind in ("script", "preload") and not _waits_for_nothing(ref))
    return ref.destination == "font"


def _one_line(value: str | None) -> str | None:
    """``value`` with each run of ASCII whitespace as one space: the same media query,
    type, srcset or sizes (each reads whitespace as a separator), on one line, as a
    header field and the manifest need it (an attribute written over two lines
    made a manifest the loader refused)."""
    return None if value is None else _WHITESPACE.sub(" ", value)


def _last_of_each(sheets: Iterable[SheetFonts]) -> list[SheetFonts]:
    """``sheets`` with each (sheet, media) at its last place only: two of a page's
    stylesheets importing the same sheet list it twice, and the later place decides
    every cascade (see :meth:`Resolver._sheet_list`)."""
    last: dict[tuple[int, str | None, str], SheetFonts] = {}
    for sheet in reversed(list(sheets)):
        last.setdefault((id(sheet.fonts), sheet.media, sheet.display), sheet)
    return list(reversed(last.values()))


def _join_media(outer: str | None, inner: str | None) -> str | None:
    if outer and inner and outer != inner:
        return f"{outer} and {inner}" if "," not in outer + inner else inner
    return inner or outer


def apply_budget(
    found: Sequence[Found], policy: Policy, size_of: Callable[[str], int | None]
) -> list[Found]:
    """Apply the site's per-route push budget (``push.max_pushes`` / ``max_bytes``)."""
    if policy.max_pushes is None and policy.max_bytes is None:
        return list(found)
    # Within both budgets nothing changes (apply_policy only turns pushes past them
    # into hints): the common case, without a Decision for every entry of every page.
    pushed = [f.asset.path for f in found if f.asset.push]
    if (policy.max_pushes is None or len(pushed) <= policy.max_pushes) and (
        policy.max_bytes is None or sum(size_of(p) or 0 for p in pushed) <= policy.max_bytes
    ):
        return list(found)
    budget = Policy(max_pushes=policy.max_pushes, max_bytes=policy.max_bytes)
    decisions = apply_policy([Decision(f.asset) for f in found], budget, size_of)
    return [
        replace(f, asset=d.asset, notes=f.notes + d.reasons) if d.asset != f.asset else f
        for f, d in zip(found, decisions, strict=True)
    ]
