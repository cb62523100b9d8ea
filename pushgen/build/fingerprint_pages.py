"""``fingerprint: true`` in pages: the references a page writes by hand renamed to hashed names.

``url_for('static', ...)`` writes a hashed name already (render.py); a page may also
name a static file itself (``<link href="../static/css/docs.css">``,
``<img srcset="a.png 1x, a@2x.png 2x">``, ``style="background: url(/static/b.png)"``).
Each such reference is rewritten to the file's hashed name, in place: only the file
name part of the URL changes (a relative link stays relative, its query and
fragment stay), and every other byte of the page is kept (no re-serialisation).

Which references: exactly those the page scanner (scan/html.py) finds, so that what
is rewritten is what the manifest lists. The scanner reads lxml's tree, which has no
byte positions, so the positions come from Python's own tokenizer (html.parser):
the raw text of each start tag (``get_starttag_text`` at ``getpos``), the raw text of
``<style>`` and ``<script>`` elements. A URL written in an attribute the scanner
reads (``href``, ``src``, ``srcset`` candidates, ``poster``, ``data``,
``imagesrcset``) is rewritten only when the scanner found a reference to the same
file on the page; ``style=""`` attributes, ``<style>`` blocks and the imports of
inline ``<script type=module>`` elements are scanned by the CSS and JavaScript
scanners themselves, at the positions they report (as in stylesheets:
build/fingerprint.py). A reference to a file that does not exist is left as it
is (the build reports it), as is a URL of another origin.
"""

from __future__ import annotations

import bisect
import html
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from urllib.parse import quote

from ..config import SiteConfig
from ..errors import Diagnostic
from ..model import Reference
from ..scan.css import scan_css
from ..scan.html import scan_html
from ..scan.html_values import ASCII_WS, srcset_candidates
from ..scan.js import scan_js
from ..urls import resolve, unservable, url_path_to_relpath
from .fingerprint import Edit, Where, file_name_at, renamed, text_edits
from .found import DocKind
from .static import static_sources

__all__ = ["PageRewriter", "RewrittenPage", "page_rewriter"]

# The attributes whose value the scanner reads as one URL or as a srcset, by element
# (scan/html_elements.py, and <object data>); a value is rewritten only for a file
# the scanner found on the page. style="" is read on every element.
_URL_ATTRIBUTES = {
    "link": frozenset({"href", "imagesrcset"}),
    "script": frozenset({"src"}),
    "img": frozenset({"src", "srcset"}),
    "source": frozenset({"srcset"}),
    "video": frozenset({"poster"}),
    "input": frozenset({"src"}),
    "object": frozenset({"data"}),
}
_SRCSET_ATTRIBUTES = frozenset({"srcset", "imagesrcset"})
# HTML Standard, "before attribute name state" onwards, as html.parser reads a start tag.
_ATTRIBUTE = re.compile(
    r"""(?P<name>[^\s/>"'=][^\s/>=]*)(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s>]*))?"""
)
_TAG_NAME = re.compile(r"<[^\s/>]+")
# The characters a file name in a URL ends before (a page none of whose words before
# a renamed file's extension is a renamed file's base name is not parsed at all).
_DELIMITERS = rb"\s\"'()<>,=/\\?#"
_WORD_BEFORE = re.compile(rb"[^" + _DELIMITERS + rb"]*\Z")


@dataclass(frozen=True, slots=True)
class RewrittenPage:
    """A page's bytes with its references renamed, and why some were left as written."""

    data: bytes
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class _Value:
    """An attribute's value in the page: where its raw text starts, as written and as read."""

    name: str
    start: int  # offset in the page of the raw value (inside its quotes)
    raw: str
    text: str  # character references decoded: what the browser reads


@dataclass(frozen=True, slots=True)
class _Block:
    """The text of a ``<style>`` or inline module ``<script>`` element, and where it starts."""

    kind: DocKind
    start: int
    line: int  # of its first character, for diagnostics
    text: str


class _Tokens(HTMLParser):
    """The start tags' URL attributes and the ``<style>``/``<script type=module>`` texts of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._text = text
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self.values: list[_Value] = []
        self.blocks: list[_Block] = []
        self.base: str | None = None  # the first <base href>
        self._open: DocKind | None = None  # inside a <style> or module <script> to read
        self._block: list[str] = []
        self._block_start = self._block_line = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        at = self._offset()
        if not self._text.startswith(raw, at):
            return  # never met: the tokenizer's position is the tag's
        if tag == "base" and self.base is None:
            self.base = next((v or "" for k, v in attrs if k == "href"), None)
        values = self._values(raw, at, _URL_ATTRIBUTES.get(tag, frozenset()))
        self.values += values.values()
        read = {"type": ""} | {k: (v or "") for k, v in attrs}
        type_ = read["type"].strip(ASCII_WS).lower()
        if tag in ("style", "script"):
            self._open = None
        if tag == "style" and type_ in ("", "text/css"):
            self._open = "css"
        elif tag == "script" and type_ == "module" and "src" not in read:
            self._open = "js"
        start = at + len(raw)
        self._block, self._block_start = [], start
        self._block_line = bisect.bisect_right(self._starts, start)

    def _values(self, raw: str, at: int, wanted: frozenset[str]) -> dict[str, _Value]:
        """The ``wanted`` attributes and ``style`` of the start tag ``raw`` (the first of each name)."""
        values: dict[str, _Value] = {}
        name_end = _TAG_NAME.match(raw)
        for found in _ATTRIBUTE.finditer(raw, name_end.end() if name_end else 0):
            name = found.group("name").lower()
            value = found.group("value")
            if (name not in wanted and name != "style") or value is None or name in values:
                continue
            quoted = value[:1] in ("'", '"')
            inner = value[1:-1] if quoted else value
            start = at + found.start("value") + (1 if quoted else 0)
            values[name] = _Value(name, start, inner, html.unescape(inner))
        return values

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._block.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag in ("style", "script"):
            text = "".join(self._block)
            self.blocks.append(_Block(self._open, self._block_start, self._block_line, text))
        self._open = None


class PageRewriter:
    """Rewrites a site's pages: one per renderer (the site's hashed names are fixed for a build)."""

    def __init__(self, names: Mapping[str, str], files: Collection[str], base_path: str) -> None:
        self.names = names  # output path -> hashed output path
        self._files = files
        self._base_path = base_path
        plain = {posixpath.basename(rel) for rel in names}
        self._words = {w.encode() for w in plain} | {quote(w).encode() for w in plain}
        extensions = sorted({re.escape(posixpath.splitext(w)[1][1:].encode()) for w in plain})
        # An extension, not followed by more of a name: where a renamed file's name may end.
        self._ends = re.compile(rb"\.(?:" + b"|".join(extensions) + rb")(?![\w.-])")

    def _mentions(self, data: bytes) -> bool:
        """Whether ``data`` holds the base name of a renamed file (a quick look before parsing)."""
        for end in self._ends.finditer(data):
            before = _WORD_BEFORE.search(data, max(0, end.start() - 255), end.start())
            start = before.start() if before is not None else end.start()
            if data[start : end.end()] in self._words:
                return True
        return False

    def rewrite(self, data: bytes, url: str, filename: str) -> RewrittenPage:
        """``data`` (a rendered page served at ``url``) with its references renamed (module docs)."""
        if not self._words or not self._mentions(data):
            return RewrittenPage(data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            message = "not UTF-8: the static files it names by hand keep their plain names"
            return RewrittenPage(data, (Diagnostic(filename, 0, 0, message),))
        discovered = self._discovered(scan_html(data, url, filename=filename).references)
        if not discovered:
            return RewrittenPage(data)
        tokens = _Tokens(text)
        try:
            tokens.feed(text)
            tokens.close()
        except (AssertionError, ValueError) as exc:  # html.parser's few refusals: never met
            message = f"its hand-written static names are kept: the tokenizer stopped ({exc})"
            return RewrittenPage(data, (Diagnostic(filename, 0, 0, message),))
        base = resolve(tokens.base, url) if tokens.base is not None else None
        where = Where(filename, self._files, self._base_path, report_missing=False)
        found = _Found(base.url if base is not None else url, where, discovered, [], [])
        for value in tokens.values:
            self._value(value, found)
        for block in tokens.blocks:
            self._block(block, found)
        return RewrittenPage(self._apply(text, found.edits), tuple(found.diagnostics))

    def _discovered(self, references: Iterable[Reference]) -> set[str]:
        """The renamed static files the scanner found references to (output paths)."""
        targets = (url_path_to_relpath(r.path, self._base_path) for r in references if r.local)
        return {t for t in targets if t is not None and t in self.names}

    def _value(self, value: _Value, found: _Found) -> None:
        """The edits of one attribute's value: its URL, its srcset candidates, its CSS."""
        if value.name == "style":
            if "(" in value.text:  # as the scanner: only a "(" holds url() or image-set()
                # A declaration list scanned as a rule, so that the scanner reports columns.
                wrapped = f"x{{{value.text}}}"
                result = scan_css(wrapped, found.base, filename=found.where.filename)
                edits = text_edits(wrapped, "css", result.references, found.where, [])
                for edit in edits:
                    if edit.target in found.discovered:
                        found.add_in_value(value, edit.start - 2, edit)
            return
        for url in _urls(value):
            start, written = url.start, url.written
            resolved = resolve(written, found.base)
            if resolved is None or not resolved.local or unservable(written, resolved):
                continue
            target = url_path_to_relpath(resolved.path, self._base_path)
            if target is None or target not in found.discovered:
                continue
            span = file_name_at(written, target)
            if span is not None:
                found.add_in_value(value, start + span.start, span)

    def _block(self, block: _Block, found: _Found) -> None:
        """The edits of a ``<style>`` block or an inline module's imports, as the scanners find them."""
        where, name = found.where, found.where.filename
        if block.kind == "css":
            result = scan_css(block.text, found.base, filename=name)
        else:
            result = scan_js(block.text, found.base, filename=name, fetches=True)
        # Not scanned as inline: its columns are then counted from the block's own start.
        problems: list[Diagnostic] = []
        for edit in text_edits(block.text, block.kind, result.references, where, problems):
            if edit.target in found.discovered:
                found.edits.append(
                    replace(edit, start=block.start + edit.start, end=block.start + edit.end)
                )
        # The scanners count lines from the block's start; the page's are wanted.
        found.diagnostics.extend(replace(d, line=d.line + block.line - 1) for d in problems)

    def _apply(self, text: str, edits: list[Edit]) -> bytes:
        """``text`` with each edit's span replaced by its target's hashed file name."""
        pieces: list[str] = []
        at = 0
        for edit in sorted({e.start: e for e in edits}.values(), key=lambda e: e.start):
            if edit.start < at:
                continue  # overlapping spans: never met, but the first one wins
            old = text[edit.start : edit.end]
            pieces += (text[at : edit.start], renamed(old, self.names[edit.target]))
            at = edit.end
        pieces.append(text[at:])
        return "".join(pieces).encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Found:
    """One page's rewriting so far: what its URLs resolve against, and the edits found."""

    base: str  # the document's base URL
    where: Where
    discovered: set[str]  # the renamed files the scanner found on the page
    edits: list[Edit]
    diagnostics: list[Diagnostic]

    def add_in_value(self, value: _Value, start: int, span: Edit) -> None:
        """Add the edit of the file name at ``start`` in ``value``'s decoded text, placed in
        its raw text: where character references make that ambiguous it is left as written."""
        written = value.text[start : start + (span.end - span.start)]
        raw = _raw_offset(value, start, written)
        if raw is not None:
            self.edits.append(
                Edit(value.start + raw, value.start + raw + len(written), span.target)
            )


@dataclass(frozen=True, slots=True)
class _Url:
    """A URL as written in an attribute's decoded value, and where it starts there."""

    start: int
    written: str


def _urls(value: _Value) -> list[_Url]:
    """The URLs in an attribute's decoded value: the one it is, or its srcset's candidates."""
    text = value.text
    if value.name not in _SRCSET_ATTRIBUTES:
        written = text.strip(ASCII_WS)
        return [_Url(text.find(written), written)] if written else []
    found: list[_Url] = []
    at = 0
    for candidate in srcset_candidates(text).candidates:
        start = text.find(candidate.url, at)
        if start < 0:
            break
        found.append(_Url(start, candidate.url))
        at = start + len(candidate.url)
    return found


def _raw_offset(value: _Value, start: int, written: str) -> int | None:
    """Where in the raw value the occurrence of ``written`` at ``start`` of the decoded
    value is: the same occurrence by count, when both have as many (a character
    reference may spell a file name's letters: then None)."""
    if value.raw == value.text:
        return start
    decoded, raw = _occurrences(value.text, written), _occurrences(value.raw, written)
    if len(decoded) != len(raw) or start not in decoded:
        return None
    return raw[decoded.index(start)]


def _occurrences(text: str, part: str) -> list[int]:
    found: list[int] = []
    at = text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def page_rewriter(config: SiteConfig) -> PageRewriter | None:
    """The rewriter of ``config``'s pages; None without ``fingerprint: true``."""
    if not config.fingerprint:
        return None
    sources = static_sources(config)
    return PageRewriter(sources.names, sources.files.keys(), config.base_path)
