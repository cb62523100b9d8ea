"""Per-page font tracing, as the Resolver does it: which fonts a page's text uses.

A stylesheet's ``@font-face`` sources are pushed and hinted only for the pages whose
text is set in them (pushgen/build/fonts/ traces a page against its sheets). This
part of the Resolver (pushgen/build/graph.py) lists a page's sheets in cascade order
(linked, imported, inline), reads each sheet's font rules once per build, and turns
the verdicts into the page's entries. It is a mixin over the Resolver's state (the
scanned docs, the output reader, the media-joined references), kept apart because it
is one concern with caches of its own.

A rebuild that resolves a page again without rendering it (a stylesheet gained an
``@import``, say) traces it again only when what tracing reads changed: the page's
HTML did not, so that is its sheets' font rules and faces, in cascade order. Their
digest (``trace_key``) is kept in the build state; when it is as it was, the
verdicts are the previous build's, read off the page's saved entries
(:class:`TracedBefore`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from ..model import Asset, FontDeclarations, FontPolicy, FontSheet, Reference, ScanResult
from ..scan.css import scan_css, scan_css_file
from ..scan.font_rules import style_font_declarations
from ..urls import url_path_to_relpath
from .entries import join_media
from .found import MAX_IMPORT_DEPTH, Doc, Found

if TYPE_CHECKING:  # the fonts engine (lxml, cssselect) loads when a page first has fonts to trace
    from collections.abc import Sequence

    from lxml.etree import _Element

    from .fonts import FontUse, SheetFonts, Verdict

__all__ = [
    "FontTracing",
    "PageFontTracer",
    "TracedBefore",
    "TracedFonts",
    "font_digest",
    "page_tracer",
]


def font_digest(fonts: FontSheet | None) -> str:
    """A digest of what a stylesheet says about fonts ("" when it says nothing).

    Everything per-page font tracing reads of a sheet is its FontSheet (faces,
    rules, registered properties, their lines and conditions); two sheets with the
    same digest trace every page alike. The repr of frozen dataclasses of str,
    int, float and tuples is stable across runs and versions of one pushgen.
    """
    if fonts is None:
        return ""
    return hashlib.sha256(repr(fonts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class TracedBefore:
    """What the previous build traced for a page this build does not render again:
    the ``trace_key`` of its font inputs then, and its entries (before any push
    budget) by path, read when the key is as it was."""

    key: str
    entries: Callable[[], dict[str, Asset]]


class TracedFonts(NamedTuple):
    """A page's font verdicts as the process that rendered and parsed it traced them
    (:class:`PageFontTracer`): the ``trace_key`` of the sheets it traced against, and
    (path, verdict, reason) per face. A named tuple of strings: it comes back from a
    worker with the page's scan, pickled, thousands at a time."""

    key: str
    uses: tuple[tuple[str, Verdict, str], ...]


@dataclass(frozen=True, slots=True)
class _PageSheets:
    """A page's linked and imported sheets with font rules (cascade order, each at the
    line of the page's link), the paths of their faces, and whether the page has an
    ``@font-face`` of its own (in a ``<style>`` element)."""

    sheets: list[tuple[int, SheetFonts]]
    faces: set[str]
    inline: bool


class FontTracing:
    """The Resolver's font tracing (see the module docstring); the Resolver holds the state."""

    # Declared by the Resolver (pushgen/build/graph.py).
    base_path: str
    read: Callable[[str], bytes | None]
    docs: dict[str, Doc | None]
    # What tracing reads, cached per build (declared by the Resolver too): each
    # sheet's fonts (with what it imports, by link and media), inline sheets, style
    # attributes, and the entries tracing makes of an asset.
    _font_sheets: dict[str, FontSheet | None]
    _sheet_lists: dict[tuple[str, str | None], tuple[SheetFonts, ...]]
    _inline_sheets: dict[tuple[str, str], FontSheet | None]
    _style_attributes: dict[str, FontDeclarations | None]
    _font_assets: dict[tuple[int, str, str], tuple[Asset, Found]]
    _font_digests: dict[int, tuple[FontSheet, str]]  # font_digest by the sheet's id
    traced: int  # pages traced so far
    # Set by the caller before page_assets: the previous build's tracing of the page,
    # when it may stand; after it, the key of what tracing read ("" when nothing).
    traced_before: TracedBefore | None
    trace_key: str

    if TYPE_CHECKING:

        def _with_media(self, ref: Reference, media: str | None) -> Reference: ...

    def _trace_fonts(
        self,
        found: dict[str, Found],
        scan: ScanResult,
        html: Callable[[], bytes | str | None],
        url: str,
        tree: Any = None,
        traced: TracedFonts | None = None,
    ) -> None:
        """Keep pushes and hints of the fonts the page's text uses (see pushgen/build/fonts/).

        ``traced``: the verdicts the page's renderer traced (:class:`PageFontTracer`),
        taken when they were traced over the sheets this build lists for the page.
        """
        # Imported here, not with the build: a site's first page renders before
        # any page is traced (issue 27: start-up).
        from .fonts import FontUse, parse_page

        page = self._page_sheets(scan)
        sheets, faces, inline = page.sheets, page.faces, page.inline
        if not inline and not any(
            item.asset.destination == "font" and path in faces for path, item in found.items()
        ):
            return
        if self._kept_trace(found, scan, sheets, faces, inline):
            return
        self.traced += 1
        if traced is not None and traced.key == self.trace_key:
            # Traced where the page was rendered and parsed (workers.py), over the
            # same sheets (the key says so): the page is not parsed again here.
            uses = {path: FontUse(verdict, reason) for path, verdict, reason in traced.uses}
        else:
            if tree is not None:  # the scan's own parse (a source that scans and resolves at once)
                root = tree
            else:
                data = html()
                root = parse_page(data) if data is not None else None
            if root is None:
                self.trace_key = ""  # a verdict on no HTML: never one to keep
                why = "the page could not be read again to trace its fonts"
                uses = {path: FontUse("possible", why) for path in faces}
            else:
                uses = self._uses(root, sheets, url)
        preloaded = {ref.path for ref in scan.references if ref.kind == "preload"}
        for path, use in uses.items():
            item = found.get(path)
            if item is None or item.asset.destination != "font" or path in preloaded:
                continue  # a page's own <link rel=preload as=font> stands as written
            found[path] = self._traced(item, use)

    def _page_sheets(self, scan: ScanResult) -> _PageSheets:
        """The page's linked and imported sheets with font rules, in cascade order (each
        at the line of the page's link), their faces, and whether it has inline faces."""

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
        return _PageSheets(sheets, faces, inline)

    def _uses(
        self, root: _Element, sheets: list[tuple[int, SheetFonts]], url: str
    ) -> dict[str, FontUse]:
        """Trace the parsed page ``root`` against ``sheets`` and its own ``<style>`` elements."""
        from .fonts import SheetFonts  # loaded with tracing, as in _trace_fonts

        sheets = list(sheets)  # the caller's list stays the linked sheets'
        for element in root.iter("style"):
            type_ = (element.get("type") or "").strip().lower()
            if type_ in ("", "text/css") and element.text:
                fonts = self._inline_sheet(element.text, url)
                if fonts is not None:
                    sheet = SheetFonts(fonts, element.get("media"), "<style>")
                    sheets.append((element.sourceline or 0, sheet))
        sheets.sort(key=lambda pair: pair[0])  # stable: a sheet's imports stay before it
        return trace_fonts(root, _last_of_each(sheet for _, sheet in sheets), self._style_attribute)

    def _kept_trace(
        self,
        found: dict[str, Found],
        scan: ScanResult,
        sheets: list[tuple[int, SheetFonts]],
        faces: set[str],
        inline: bool,
    ) -> bool:
        """Note the page's ``trace_key``; keep the previous build's verdicts (and say
        so) when the page was not rendered again and the key is as it was."""
        self.trace_key = self._trace_key(sheets, inline)
        before = self.traced_before
        # An inline @font-face is read from the HTML: such a page is always traced.
        return (
            not inline
            and before is not None
            and before.key == self.trace_key
            and self._reuse_trace(found, scan, faces, before.entries())
        )

    def _trace_key(self, sheets: list[tuple[int, SheetFonts]], inline: bool) -> str:
        """A digest of what tracing reads of a page besides its HTML: its linked and
        imported sheets' font rules and faces, where and under which media they apply."""
        parts: list[object] = [inline]
        for line, sheet in sheets:
            cached = self._font_digests.get(id(sheet.fonts))
            if cached is None or cached[0] is not sheet.fonts:
                cached = self._font_digests[id(sheet.fonts)] = (
                    sheet.fonts,
                    font_digest(sheet.fonts),
                )
            parts.append((line, sheet.media, sheet.display, cached[1]))
        return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]

    def _reuse_trace(
        self,
        found: dict[str, Found],
        scan: ScanResult,
        faces: set[str],
        before: dict[str, Asset],
    ) -> bool:
        """Give the page's traced entries (those of ``faces``, as _trace_fonts picks
        them) the previous build's verdicts; False (``found`` untouched) when an
        entry is not one tracing could have made of its new one."""
        preloaded = {ref.path for ref in scan.references if ref.kind == "preload"}
        made: dict[str, Found] = {}
        for path in faces:
            item = found.get(path)
            if item is None or item.asset.destination != "font" or path in preloaded:
                continue
            was, asset = before.get(path), item.asset
            if was is None:
                return False
            # The three verdicts' entries (see _traced): used, possible, not used.
            if was != asset and was not in (
                replace(asset, push=False),
                replace(asset, push=False, hint=False),
            ):
                return False
            if was != asset:
                made[path] = Found(was, item.chain, item.category, icon=item.icon, notes=item.notes)
        found.update(made)
        return True

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
        from .fonts import SheetFonts  # loaded with tracing, as in _trace_fonts

        key = (sheet.path, sheet.media)
        if key in seen or sheet.path in visiting or len(visiting) >= MAX_IMPORT_DEPTH:
            return
        seen.add(key)
        relpath = url_path_to_relpath(sheet.path, self.base_path)
        doc = self._sheet_doc(relpath, sheet) if relpath is not None else None
        if relpath is None or doc is None:
            return
        fonts = self._sheet_font_rules(relpath, doc, sheet)
        if fonts is not None:
            out.append(SheetFonts(fonts, sheet.media, doc.display))
        visiting.add(sheet.path)
        for ref in reversed(doc.scan.references):
            if ref.local and ref.destination == "style" and ref.kind == "import":
                joined = self._with_media(ref, join_media(sheet.media, ref.media))
                self._sheet_fonts(joined, visiting, seen, out)
        visiting.discard(sheet.path)

    def _sheet_doc(self, relpath: str, sheet: Reference) -> Doc | None:
        """The stylesheet at ``relpath`` as the Resolver followed it (it has, before tracing)."""
        return self.docs.get(relpath)

    def _sheet_font_rules(self, relpath: str, doc: Doc, sheet: Reference) -> FontSheet | None:
        """The font rules and faces of the stylesheet ``doc`` (read once per build)."""
        if doc.fresh:
            return doc.scan.fonts
        if relpath not in self._font_sheets:
            # A scan the build state kept, without fonts: read the sheet once more.
            data = self.read(relpath)
            fonts = scan_css_file(data, sheet.url, doc.display).fonts if data else None
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


class PageFontTracer(FontTracing):
    """Font tracing where a page is rendered and parsed (pushgen/build/workers.py), so
    that the build never parses a page twice (issue 27).

    It lists a page's sheets as the Resolver does, reading each stylesheet from the
    site's static files once per process (the Resolver reads the same files), and
    traces the scan's own tree. The Resolver takes its verdicts (:class:`TracedFonts`)
    when their key is the one it works out for the page (the same sheets, fonts and
    places), and parses the page itself otherwise: a page whose stylesheet the
    Resolver did not read, say. What it scans reports nothing: the Resolver reports
    a stylesheet's problems where it follows it.
    """

    def __init__(self, base_path: str, read: Callable[[str], bytes | None]) -> None:
        """``read`` returns a file of the output by output path, as the Resolver's does
        (build/static.py StaticFiles.read: the static files, from their sources)."""
        self.base_path, self.read = base_path, read
        self.docs = {}
        self._font_sheets, self._sheet_lists, self._inline_sheets = {}, {}, {}
        self._style_attributes, self._font_assets, self._font_digests = {}, {}, {}
        self.traced, self.traced_before, self.trace_key = 0, None, ""

    def trace(self, scan: ScanResult, root: _Element, url: str) -> TracedFonts | None:
        """The font verdicts of the page ``root`` (its ``scan`` and ``url``); None when no
        sheet of it (nor the page itself) has an ``@font-face``."""
        page = self._page_sheets(scan)
        if not page.inline and not page.faces:
            return None
        key = self._trace_key(page.sheets, page.inline)
        uses = self._uses(root, page.sheets, url)
        return TracedFonts(
            key, tuple((path, use.verdict, use.reason) for path, use in uses.items())
        )

    def _sheet_doc(self, relpath: str, sheet: Reference) -> Doc | None:
        """The stylesheet at ``relpath``, scanned as the Resolver scans it (graph.py _doc)."""
        if relpath not in self.docs:
            data = self.read(relpath)
            scan = scan_css_file(data, sheet.url, relpath) if data is not None else None
            self.docs[relpath] = Doc(scan, relpath, "css", fresh=True) if scan else None
        return self.docs[relpath]

    def _with_media(self, ref: Reference, media: str | None) -> Reference:
        """``ref`` under ``media`` (follow.py's; a sheet list is made once per link here)."""
        return ref if media == ref.media else replace(ref, media=media)


def page_tracer(
    fonts: FontPolicy, base_path: str, read: Callable[[str], bytes | None]
) -> PageFontTracer | None:
    """The tracer a site build's renderers use (None when fonts are not traced: ``fonts: all``)."""
    return PageFontTracer(base_path, read) if fonts == "used" else None


def _last_of_each(sheets: Iterable[SheetFonts]) -> list[SheetFonts]:
    """``sheets`` with each (sheet, media) at its last place only: two of a page's
    stylesheets importing the same sheet list it twice, and the later place decides
    every cascade (see :meth:`Resolver._sheet_list`)."""
    last: dict[tuple[int, str | None, str], SheetFonts] = {}
    for sheet in reversed(list(sheets)):
        last.setdefault((id(sheet.fonts), sheet.media, sheet.display), sheet)
    return list(reversed(last.values()))


def trace_fonts(
    root: _Element,
    sheets: Sequence[SheetFonts],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> dict[str, FontUse]:
    """:func:`pushgen.build.fonts.trace_fonts`, imported when a page is first traced."""
    from .fonts import trace_fonts as trace

    return trace(root, sheets, style_attribute)
