"""What a stylesheet makes the browser fetch: ``@import``, ``url()``, ``image-set()`` and fonts.

Parsing is tinycss2's (CSS Syntax 3); this module only walks the rules and values.
Each reference is one of three kinds:

* ``"import"``: ``@import url(x) | "x" [layer | layer(name)] [supports(...)] [media]``,
  destination ``"style"``. ``media`` keeps the media query list as written. The
  ``layer`` and ``supports()`` conditions are read past and not kept: a layer does not
  change what is fetched, and a supports condition cannot be evaluated here, so the
  import is kept (a browser that does not support the condition would skip it).
* ``"font"``: the source a browser picks from the last ``src`` of an ``@font-face``,
  destination ``"font"``, ``crossorigin="anonymous"`` (fonts are always fetched in CORS
  mode) and ``type`` from ``format()`` or the file extension.
* ``"url"``: every other ``url()``/``src()``/``image-set()`` image in a declaration, at
  any depth of ``@media``, ``@supports``, ``@layer``, ``@container`` and CSS nesting,
  destination ``"image"``.

The same walk keeps what per-page font tracing (pushgen/build/fonts/) needs, in
``ScanResult.fonts``: each ``@font-face``'s descriptors (family, weight, style,
unicode-range, the source chosen) and each style rule that sets ``font-family``,
``font-weight``, ``font-style``, the ``font`` shorthand or a custom property (or
``content`` on a ``::before``/``::after``), with its selector and the conditional
rules around it, and the custom properties ``@property`` registers.

``data:`` URLs and fragment-only references (``filter: url(#f)``) are not fetches and are
left out; other origins are kept with ``local=False``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import tinycss2

from ..errors import Diagnostic, Position
from ..media_types import font_type, unsupported_font
from ..model import Reference, ReferenceKind, ScanResult
from ..urls import resolve, unservable
from .decode import as_text, decode_css
from .font_rules import CONDITIONAL_AT_RULES, FontCollector, split_commas

__all__ = ["file_scans", "scan_css", "scan_css_declarations", "scan_css_file"]

# tinycss2 nodes carry no type hints; they are duck-typed by their `type` attribute.
_Node = Any

# At-rules whose block holds rules (or, nested in a style rule, declarations and rules):
# CSS Conditional 3/5, Cascade 5, Containment 3, Scoping, Transitions 2, Animations 1.
_GROUPING_AT_RULES = frozenset(
    {
        "media", "supports", "layer", "container", "scope", "starting-style", "document",
        "-moz-document", "keyframes", "-webkit-keyframes", "-moz-keyframes",
    }
)  # fmt: skip
# At-rules whose block holds declarations that may hold images.
_DECLARATION_AT_RULES = frozenset({"page", "counter-style", "property", "position-try"})
# At-rules a browser knows: once one of these (other than @charset, @layer statements and
# @import) has been seen, a later @import is ignored (CSS Cascade 5, section 2.1).
_KNOWN_AT_RULES = (
    _GROUPING_AT_RULES
    | _DECLARATION_AT_RULES
    | {"font-face", "namespace", "font-feature-values", "font-palette-values", "view-transition"}
)
_IMAGE_SET = frozenset({"image-set", "-webkit-image-set"})
_BLOCKS = frozenset({"() block", "[] block", "{} block"})

# CSS Fonts 4, section 4.3.1: format() strings a current browser loads, and the MIME type
# it implies. "embedded-opentype" (EOT) and "svg" fonts are not supported any more.
_FONT_FORMATS = {
    "woff2": "font/woff2",
    "woff": "font/woff",
    "truetype": "font/ttf",
    "opentype": "font/otf",
    "collection": "font/collection",
    "woff2-variations": "font/woff2",
    "woff-variations": "font/woff",
    "truetype-variations": "font/ttf",
    "opentype-variations": "font/otf",
}
# tech() keywords Chromium, Firefox and Safari all support (CSS Fonts 4, section 4.3.2).
_FONT_TECHS = frozenset({"features-opentype", "variations", "palettes", "color-colrv0"})

# What a browser would have fetched in a piece of CSS it drops: such a drop changes what
# is fetched and is worth a warning; any other (`*zoom: 1`, an old IE hack) is harmless.
_FETCHING = re.compile(r"url\(|src\(|image-set\(|@import", re.IGNORECASE)
# Line breaks as CSS Syntax 3 counts them (section 3.3, preprocessing).
_NEWLINE = re.compile(r"\r\n|[\n\r\f]")

# Style rules nested deeper than this are not followed: no stylesheet needs it, and it keeps
# adversarial input from exhausting the Python stack.
_MAX_DEPTH = 100


def scan_css(
    data: bytes | str,
    url: str,
    *,
    filename: str = "",
    line_offset: int = 0,
    inline: bool = False,
) -> ScanResult:
    """Find what a stylesheet makes the browser fetch.

    ``data`` is the stylesheet (bytes are decoded per CSS Syntax 3, section 3.2) and
    ``url`` the URL references are resolved against: the stylesheet's own URL, or the
    document's base URL for a ``<style>`` element. ``line_offset`` is added to every line
    number, for a stylesheet embedded in another file; with ``inline=True`` columns on
    the first line, which are relative to the embedding element, are reported as 0.
    Problems (unparseable rules, an ``@import`` browsers ignore) become diagnostics.
    """
    source = as_text(data, decode_css, filename)
    text = source.text
    scanner = _Scanner(text, url, filename, line_offset, inline)
    scanner.diagnostics.extend(source.diagnostics)
    scanner.stylesheet(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    return scanner.result(source.encoding)


class _FileScans:
    """Scans of stylesheet files by content, kept while a build runs (:func:`file_scans`)."""

    def __init__(self) -> None:
        self.depth = 0
        self.scans: dict[tuple[bytes, str, str], ScanResult] = {}

    def scan(self, data: bytes, url: str, filename: str) -> ScanResult:
        if not self.depth:
            return scan_css(data, url, filename=filename)
        key = (data, url, filename)
        found = self.scans.get(key)
        if found is None:
            found = self.scans[key] = scan_css(data, url, filename=filename)
        return found


_file_scans = _FileScans()


@contextlib.contextmanager
def file_scans() -> Iterator[None]:
    """While inside, :func:`scan_css_file` scans each stylesheet once for the same bytes.

    A build reads each stylesheet in two places, the Resolver following a page's
    ``@import`` tree and the font tracer where the page is rendered (issue 27: on one
    core, both in one process), and a sheet's scan is a function of its bytes, URL and
    name alone (a :class:`ScanResult` is never changed), so both take the same one.
    What was kept is dropped on leaving: a long ``pushgen watch`` does not grow, and
    each build pays for its own scans.
    """
    _file_scans.depth += 1
    try:
        yield
    finally:
        _file_scans.depth -= 1
        if not _file_scans.depth:
            _file_scans.scans.clear()


def scan_css_file(data: bytes, url: str, filename: str) -> ScanResult:
    """:func:`scan_css` of a stylesheet file; inside :func:`file_scans`, once per content."""
    return _file_scans.scan(data, url, filename)


def scan_css_declarations(
    text: str,
    url: str,
    *,
    filename: str = "",
    line_offset: int = 0,
) -> ScanResult:
    """Find what a declaration list, the value of a ``style=""`` attribute, makes the browser fetch.

    ``url`` is the document's base URL. Line numbers are ``line_offset`` plus the line
    within ``text``; columns on its first line are reported as 0 (unknown).
    """
    scanner = _Scanner(text, url, filename, line_offset, inline=True)
    # CSS Style Attributes: the value is a list of declarations; rules have no meaning there.
    for item in tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            scanner.values(item.value)
        elif item.type == "error":
            scanner.parse_error(item)
    return scanner.result(None)


class _Scanner:
    def __init__(self, text: str, base: str, filename: str, line_offset: int, inline: bool) -> None:
        self.text = text
        self.base = base
        self.filename = filename
        self.line_offset = line_offset
        self.inline = inline
        self.references: list[Reference] = []
        self.diagnostics: list[Diagnostic] = []
        # Parse errors that drop something a browser would have fetched, in order.
        self._dropped = _Dropped(text)
        # Font tracing: faces and font rules found, and the rules around the current one.
        self.fonts = FontCollector()

    def result(self, encoding: str | None) -> ScanResult:
        dropped = self._dropped.nodes
        if dropped:
            lines = ", ".join(str(self._where(node).line) for node in dropped[:10])
            more = ", ..." if len(dropped) > 10 else ""
            self._diagnose(
                dropped[0],
                f"browsers ignore {len(dropped)} unparsable rule(s) or declaration(s)"
                f" naming a URL (lines {lines}{more}), so nothing in them is fetched;"
                f" first: {dropped[0].message}",
            )
        return ScanResult(
            tuple(self.references), tuple(self.diagnostics), encoding, fonts=self.fonts.sheet()
        )

    # --- locations and results ---------------------------------------------------------

    def _where(self, node: _Node) -> Position:
        line: int = node.source_line
        column: int = node.source_column
        if self.inline and line == 1:
            column = 0
        return Position(line + self.line_offset, column)

    def _diagnose(self, node: _Node, message: str) -> None:
        where = self._where(node)
        self.diagnostics.append(Diagnostic(self.filename, where.line, where.column, message))

    def parse_error(self, node: _Node) -> None:
        """Note a piece of CSS a browser drops (see :class:`_Dropped`)."""
        self._dropped.add(node)

    def _add(
        self,
        raw: str,
        node: _Node,
        destination: str,
        kind: ReferenceKind,
        *,
        type: str | None = None,
        crossorigin: str | None = None,
        media: str | None = None,
    ) -> None:
        resolved = resolve(raw, self.base)
        if resolved is None:
            return
        problem = unservable(raw, resolved)
        if problem is not None:
            self._diagnose(node, problem)
            return
        where = self._where(node)
        self.references.append(
            Reference.from_resolved(
                resolved,
                destination=destination,
                line=where.line,
                column=where.column,
                type=type,
                crossorigin=crossorigin,
                media=media,
                kind=kind,
            )
        )

    # --- rules -------------------------------------------------------------------------

    def stylesheet(self, rules: list[_Node]) -> None:
        imports_allowed = True
        for rule in rules:
            if rule.type == "at-rule":
                name = rule.lower_at_keyword
                if name == "import":
                    if imports_allowed:
                        self._import(rule)
                    else:
                        self._diagnose(
                            rule,
                            "ignored: @import after other rules"
                            " (browsers only honour @import before every other rule)",
                        )
                    continue
                if name == "charset" or (name == "layer" and rule.content is None):
                    continue
                if name in _KNOWN_AT_RULES:
                    imports_allowed = False
                self._at_rule(rule, nested=False, depth=0)
            elif rule.type == "qualified-rule":
                imports_allowed = False
                self._style_rule(rule, depth=0)
            elif rule.type == "error":
                self.parse_error(rule)

    def _rule_list(self, rules: Iterable[_Node], depth: int) -> None:
        for rule in rules:
            if rule.type == "at-rule":
                if rule.lower_at_keyword == "import":
                    self._diagnose(rule, "ignored: @import inside another rule")
                else:
                    self._at_rule(rule, nested=False, depth=depth)
            elif rule.type == "qualified-rule":
                self._style_rule(rule, depth)
            elif rule.type == "error":
                self.parse_error(rule)

    def _style_rule(self, rule: _Node, depth: int) -> None:
        if depth >= _MAX_DEPTH:
            self._diagnose(rule, f"rules nested more than {_MAX_DEPTH} deep are not scanned")
            return
        items = tinycss2.parse_blocks_contents(
            rule.content, skip_comments=True, skip_whitespace=True
        )
        selector = " ".join(_serialize(rule.prelude).split())
        selector = self.fonts.nested(selector)
        self.fonts.rule(selector, items, self._where(rule).line)
        self.fonts.selectors.append(selector)
        try:
            self.declarations(items, depth + 1)
        finally:
            self.fonts.selectors.pop()

    def declarations(self, items: Iterable[_Node], depth: int) -> None:
        """A style rule's block: declarations, and nested rules (CSS Nesting 1)."""
        for item in items:
            if item.type == "declaration":
                self.values(item.value)
            elif item.type == "qualified-rule":
                self._style_rule(item, depth)
            elif item.type == "at-rule":
                self._at_rule(item, nested=True, depth=depth)
            elif item.type == "error":
                self.parse_error(item)

    def _at_rule(self, rule: _Node, *, nested: bool, depth: int) -> None:
        name = rule.lower_at_keyword
        if rule.content is None:
            return
        if depth >= _MAX_DEPTH:
            self._diagnose(rule, f"rules nested more than {_MAX_DEPTH} deep are not scanned")
            return
        if name == "font-face":
            self._font_face(rule)
        elif name in _GROUPING_AT_RULES:
            condition = name in CONDITIONAL_AT_RULES
            inert = name not in CONDITIONAL_AT_RULES and name != "layer"
            if condition:
                prelude = " ".join(_serialize(rule.prelude).split())
                self.fonts.conditions.append(f"@{name} {prelude}".strip())
            self.fonts.inert += inert
            try:
                if nested:
                    # Nested in a style rule, a conditional rule's block holds declarations.
                    items = tinycss2.parse_blocks_contents(
                        rule.content, skip_comments=True, skip_whitespace=True
                    )
                    if self.fonts.selectors:
                        self.fonts.rule(self.fonts.selectors[-1], items, self._where(rule).line)
                    self.declarations(items, depth + 1)
                else:
                    items = tinycss2.parse_rule_list(
                        rule.content, skip_comments=True, skip_whitespace=True
                    )
                    self._rule_list(items, depth + 1)
            finally:
                self.fonts.inert -= inert
                if condition:
                    self.fonts.conditions.pop()
        elif name in _DECLARATION_AT_RULES:
            if name == "property":
                self.fonts.register(_serialize(rule.prelude).strip())
            items = tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            self.declarations(items, depth + 1)
        # Unknown at-rules are dropped by browsers, and nothing in them is fetched.

    def _import(self, rule: _Node) -> None:
        # CSS Cascade 5, section 2.1: the URL, then optional layer, supports() and media.
        if rule.content is not None:
            self._diagnose(rule, "ignored: @import with a {} block")
            return
        prelude: list[_Node] = rule.prelude
        first = 0
        while first < len(prelude) and prelude[first].type in ("whitespace", "comment"):
            first += 1
        target = _url_of(prelude[first]) if first < len(prelude) else None
        if target is None:
            self._diagnose(rule, "ignored: @import without a URL or string")
            return
        # After the URL: the layer and supports() parts, then the media query list.
        rest = prelude[first + 1 :]
        rest = _skip_leading(rest, lambda t: t.type == "ident" and t.lower_value == "layer")
        rest = _skip_leading(rest, lambda t: t.type == "function" and t.lower_name == "layer")
        rest = _skip_leading(rest, lambda t: t.type == "function" and t.lower_name == "supports")
        media = _serialize(rest).strip() or None
        self._add(target, rule, "style", "import", media=media)

    def _font_face(self, rule: _Node) -> None:
        items = tinycss2.parse_blocks_contents(
            rule.content, skip_comments=True, skip_whitespace=True
        )
        chosen: _FontSource | None = None
        descriptors: dict[str, list[_Node]] = {}
        for item in items:
            if item.type == "error":
                self.parse_error(item)
            elif item.type == "declaration" and item.lower_name == "src":
                # The last valid src declaration wins (cascade order within the rule).
                picked = _pick_font_source(item.value)
                if picked is not None:
                    chosen = picked
            elif item.type == "declaration":
                descriptors[item.lower_name] = [
                    t for t in item.value if t.type not in ("whitespace", "comment")
                ]
        if chosen is not None:
            before = len(self.references)
            self._add(
                chosen.url, chosen.node, "font", "font", type=chosen.mime, crossorigin="anonymous"
            )
            added = self.references[before:]
            path = added[0].path if added and added[0].local else ""
            ranges = descriptors.get("unicode-range")
            ranges_text = None if ranges is None else _serialize(ranges)
            self.fonts.face(descriptors, ranges_text, path, self._where(rule).line)

    # --- values --------------------------------------------------------------------------

    def values(self, values: list[_Node]) -> None:
        # An explicit stack, not recursion: blocks may nest arbitrarily deep.
        stack: list[Iterator[_Node]] = [iter(values)]
        while stack:
            token = next(stack[-1], None)
            if token is None:
                stack.pop()
                continue
            kind = token.type
            if kind == "url":
                self._add(token.value, token, "image", "url")
            elif kind == "function":
                name = token.lower_name
                if name in ("url", "src"):
                    target = _url_of(token)
                    if target is not None:
                        self._add(target, token, "image", "url")
                elif name in _IMAGE_SET:
                    stack.append(iter(self._image_set(token)))
                else:
                    stack.append(iter(token.arguments))
            elif kind in _BLOCKS:
                stack.append(iter(token.content))
            elif kind == "error":
                self.parse_error(token)

    def _image_set(self, function: _Node) -> list[_Node]:
        """Add an image-set()'s string candidates; return what else needs walking.

        CSS Images 4, section 2.2: each candidate is ``<image> | <string>`` followed by
        an optional resolution and ``type(<string>)``, in any order.
        """
        others: list[_Node] = []
        for candidate in split_commas(function.arguments):
            mime = None
            for token in candidate:
                if token.type == "function" and token.lower_name == "type":
                    strings = [a for a in token.arguments if a.type == "string"]
                    mime = strings[0].value if strings else None
            for token in candidate:
                if token.type == "string":
                    self._add(token.value, token, "image", "url", type=mime)
                elif token.type == "url" or (
                    token.type == "function" and token.lower_name in ("url", "src")
                ):
                    target = token.value if token.type == "url" else _url_of(token)
                    if target is not None:
                        self._add(target, token, "image", "url", type=mime)
                elif not (token.type == "function" and token.lower_name == "type"):
                    others.append(token)
        return others


class _Dropped:
    """The pieces of a sheet a browser drops that lose a fetch, in order.

    CSS Syntax 3 error recovery, as tinycss2's. Only a drop that loses a fetch is
    reported, once per file with a count: old IE hacks (``*zoom: 1``, ``filter:
    progid:...``) are dropped harmlessly and common in real themes.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes: list[_Node] = []
        self._line_starts: list[int] | None = None

    def add(self, node: _Node) -> None:
        """Keep ``node``, a parse error, when what it drops names a URL."""
        if node.kind == "bad-url" or _FETCHING.search(self._dropped_text(node)):
            self.nodes.append(node)

    def _dropped_text(self, node: _Node) -> str:
        # tinycss2 places an error where recovery stopped (a ';', the end of a block)
        # or where the rule began (at the end of the file): what was dropped is the
        # piece between the ';', '{' or '}' on either side.
        text = self.text
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        line = min(max(node.source_line, 1), len(self._line_starts))
        at = min(self._line_starts[line - 1] + max(node.source_column - 1, 0), len(text))
        start = max(text.rfind(c, 0, at) for c in ";{}") + 1
        ends = [i for i in (text.find(c, at) for c in ";{}") if i >= 0]
        return text[start : min(ends, default=len(text))]


def _url_of(token: _Node) -> str | None:
    """The URL of a ``url(x)`` token, ``url("x")``/``src("x")`` function or ``"x"`` string."""
    if token.type in ("url", "string"):
        value: str = token.value
        return value
    if token.type == "function" and token.lower_name in ("url", "src"):
        for argument in token.arguments:
            if argument.type == "string":
                text: str = argument.value
                return text
            if argument.type not in ("whitespace", "comment"):
                return None
    return None


def _skip_leading(tokens: list[_Node], matches: Callable[[_Node], bool]) -> list[_Node]:
    """Drop leading whitespace and, if the next token ``matches``, that token too."""
    index = 0
    while index < len(tokens) and tokens[index].type in ("whitespace", "comment"):
        index += 1
    if index < len(tokens) and matches(tokens[index]):
        return tokens[index + 1 :]
    return tokens


def _serialize(tokens: list[_Node]) -> str:
    try:
        text: str = tinycss2.serialize(tokens)
    except RecursionError:  # tinycss2's serializer recurses into nested blocks
        return ""
    return text


@dataclass(frozen=True, slots=True)
class _FontSource:
    """The ``src`` entry a browser downloads: its URL as written, the token it is in (for
    the line and column), and the MIME type its ``format()`` or extension gives."""

    url: str
    node: _Node
    mime: str | None


def _pick_font_source(value: list[_Node]) -> _FontSource | None:
    """The entry of a ``src`` descriptor a browser downloads first, with its MIME type.

    CSS Fonts 4, section 4.3: entries are tried in order; ``local()`` ones are not
    downloads, and an entry whose ``format()`` or ``tech()`` is unsupported is skipped
    without a download. Without ``format()`` a browser downloads the file and then
    finds out; here a ``.eot``/``.svg`` extension counts as an unsupported format, so
    that the WOFF2 after it is the one chosen.
    """
    for entry in split_commas(value):
        if not entry:
            continue
        head = entry[0]
        target = _url_of(head) if head.type != "string" else None
        if target is None:
            continue  # local(), or not a source at all
        mime: str | None = None
        supported = True
        has_format = False
        for token in entry[1:]:
            if token.type != "function":
                continue
            arguments = [a for a in token.arguments if a.type in ("string", "ident")]
            if token.lower_name == "format" and arguments:
                has_format = True
                font_format = arguments[0].value.lower()
                mime = _FONT_FORMATS.get(font_format)
                supported = supported and mime is not None
            elif token.lower_name == "tech":
                techs = {a.value.lower() for a in arguments}
                supported = supported and techs <= _FONT_TECHS
        if not has_format:
            if unsupported_font(target):
                supported = False
            mime = font_type(target)
        if supported:
            return _FontSource(target, head, mime)
    return None
