"""The manifest writer: deterministic bytes, the checksum over ``routes``, and updates
that keep every hand-written line outside ``routes``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from ..errors import Diagnostic, ManifestError
from ..model import Asset
from .document import Manifest
from .loader import parse_manifest
from .routes_owner import (
    ROUTES_KEY_LINE,
    SourceKind,
    refuse_other_source,
    refuse_unwritable,
    routes_source,
    same_but_source,
    source_kind,
)

__all__ = [
    "HEADER",
    "RULES_TEMPLATE",
    "SCHEMA_NAME",
    "WRITER_VERSION",
    "SourceKind",
    "dump_manifest",
    "manifest_header",
    "parse_hand_part",
    "routes_checksum",
    "routes_source",
    "same_but_source",
    "source_kind",
    "update_manifest_text",
    "yaml_scalar",
]

SCHEMA_NAME = "push-manifest.schema.json"

# The command that writes a site's routes; ``pushgen scan`` and ``pushgen build
# --app`` name themselves instead (the header and the ``routes:`` line say who
# rewrites the routes, so a reader knows what to run).
BUILD_COMMAND = "pushgen build"


def manifest_header(command: str = BUILD_COMMAND) -> str:
    """The comment at the top of a new manifest, naming the ``command`` that writes it."""
    return (
        f"# yaml-language-server: $schema={SCHEMA_NAME}\n"
        "# Push manifest: each route -> the assets it needs, in the order it needs them.\n"
        f"# `routes` is rewritten by every `{command}`; write hand edits as `rules`\n"
        "# (add, set, remove, policy; match a route, a glob or /blog/<slug>), which the\n"
        "# build keeps as they are. `pushgen explain ROUTE` shows the outcome. docs/manifest.md\n"
    )


HEADER = manifest_header()
RULES_TEMPLATE = (
    "rules: []\n"
    "# rules:\n"
    "#   - match: /blog/<slug>\n"
    "#     add: [{path: /static/css/blog.css, as: style}]\n"
    "#     set: [{path: /static/img/*, hint: false}]\n"
    "#     remove: [/static/js/analytics.js]\n"
    "#     policy: {max_pushes: 4}\n"
)
_ROUTES_LINE = re.compile(r"^routes:(?P<rest>.*)$")
_CHECKSUM = re.compile(r"\((?:writer (?P<writer>[0-9]+), )?sha256:(?P<sum>[0-9a-f]{12})\)")
# The version of the writer's quoting rule, on the ``routes:`` line beside the
# checksum. Builds copy the lines of unchanged routes from a block whose checksum
# holds without parsing it, so a block from an older writer (1: no version on
# the line, which wrote ``?`` and ``0x10`` plain) must never be copied from: it is
# still known to be pushgen's (its checksum holds, so no hand edit is reported)
# but every line of it is written anew.
WRITER_VERSION = 2

# The one quoting rule of the writer (see :func:`yaml_scalar`). A plain scalar is
# written only when every YAML reader provably reads it back as this same string:
# YAML 1.1 (PyYAML's pure and libyaml loaders, node ``yaml`` in 1.1 mode) and 1.2
# (ruamel.yaml, node ``yaml``, js-yaml). It starts with a letter or '/': never an
# indicator (YAML 1.2 §5.3: ``- ? : , [ ] { } # & * ! | > ' " % @ ` ``), a number,
# a timestamp, ``.inf``, ``=`` (1.1's value key) or ``<<`` (the merge key). It holds
# no space, ``#`` or ``:`` (comments and keys), no ``, [ ] { }`` (flow
# indicators: entries are flow mappings) and no ``?``, which PyYAML's pure-Python
# scanner ends a plain scalar at inside a flow collection.
_PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9_/.~%+\-=;@!$'()*&]*")
# Letter-only words a reader resolves to a boolean or null: YAML 1.1's booleans
# (https://yaml.org/type/bool.html) and null (https://yaml.org/type/null.html),
# which include 1.2's core schema ones, in any case (readers differ on which
# capitalisations count, so every one is quoted).
_RESOLVED_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
# A float to node's `yaml` in YAML 1.1 mode, whose float pattern makes the digits
# before the exponent optional (found by a fuzz run: `e6` read back as NaN).
_EXPONENT = re.compile(r"[eE][-+]?[0-9]+")
# Escapes a double-quoted scalar reads the same in YAML 1.1 and 1.2.
_ESCAPES = {'"': '\\"', "\\": "\\\\"}


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar every reader reads back as this same string.

    Plain when that is provably safe (see ``_PLAIN``), else double-quoted with
    every character outside printable ASCII escaped: ``\\uXXXX``, or
    ``\\UXXXXXXXX`` outside the Basic Multilingual Plane (a JSON-style surrogate
    pair would read back as two lone surrogates). The result is ASCII, so no
    reader's rules on raw characters (libyaml refuses some) can apply.
    """
    if (
        _PLAIN.fullmatch(value)
        and value.lower() not in _RESOLVED_WORDS
        and not _EXPONENT.fullmatch(value)
    ):
        return value
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the common case below (a query string), at C speed
    out = ['"']
    for char in value:
        code = ord(char)
        if 0x20 <= code < 0x7F:
            out.append(_ESCAPES.get(char, char))
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    out.append('"')
    return "".join(out)


@lru_cache(maxsize=16384)
def _entry_line(asset: Asset) -> str:
    # Everything after the path is one of few values across a whole site.
    if asset.preconnect:
        cors = f", crossorigin: {asset.crossorigin}" if asset.crossorigin else ""
        hint = "" if asset.hint else ", hint: false"
        return f"{{preconnect: {yaml_scalar(asset.path)}{cors}{hint}}}"
    rest = _entry_rest(
        asset.destination,
        asset.type,
        asset.crossorigin,
        asset.media,
        asset.module,
        asset.push,
        asset.hint,
    )
    for key, value in (
        ("imagesrcset", asset.imagesrcset),
        ("imagesizes", asset.imagesizes),
        ("fetchpriority", asset.fetchpriority),
        ("integrity", asset.integrity),
    ):
        if value is not None:
            rest += f", {key}: {yaml_scalar(value)}"
    return f"{{path: {yaml_scalar(asset.path)}{rest}}}"


@lru_cache(maxsize=1024)
def _entry_rest(
    destination: str,
    type: str | None,
    crossorigin: str | None,
    media: str | None,
    module: bool,
    push: bool,
    hint: bool,
) -> str:
    parts = [f", as: {yaml_scalar(destination)}"]
    for key, value in (("type", type), ("crossorigin", crossorigin), ("media", media)):
        if value is not None:
            parts.append(f", {key}: {yaml_scalar(value)}")
    if module:
        parts.append(", module: true")
    if not push:
        parts.append(", push: false")
    if not hint:
        parts.append(", hint: false")
    return "".join(parts)


@lru_cache(maxsize=16384)
def _entry_text(asset: Asset) -> str:
    return f"    - {_entry_line(asset)}\n"


def _routes_body(
    routes: Mapping[str, tuple[Asset, ...]],
    unchanged: Collection[str] = (),
    written: Mapping[str, str] | None = None,
) -> str:
    """The ``routes`` block's lines; those of ``unchanged`` routes are copied from ``written``.

    ``written`` maps a route's first line to its whole text in the block as it is.
    """
    out: list[str] = []
    # Entry lines by the asset's id: routes share Asset objects, and an id is
    # cheaper to look up than the dataclass's hash (``routes`` keeps them alive).
    texts: dict[int, str] = {}
    for route in sorted(routes):
        assets = routes[route]
        key = f"  {yaml_scalar(route)}:\n" if assets else f"  {yaml_scalar(route)}: []\n"
        if written is not None and route in unchanged:
            text = written.get(key)
            if text is not None:
                out.append(text)
                continue
        out.append(key)
        for asset in assets:
            text = texts.get(id(asset))
            if text is None:
                text = texts[id(asset)] = _entry_text(asset)
            out.append(text)
    return "".join(out)


# One route of a routes block as the build writes it: its key line, then its entries.
_ROUTE_TEXT = re.compile(r"^(  \S[^\n]*\n)(?:    [^\n]*\n)*", re.MULTILINE)


def routes_checksum(text: str) -> str | None:
    """The checksum on the ``routes:`` line of a manifest's text, if it has one."""
    # A search, not a split into lines: a 100,000-route manifest has a million.
    line = ROUTES_KEY_LINE.search(text)
    if line is None:
        return None
    marker = _CHECKSUM.search(line.group())
    return marker.group("sum") if marker else None


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]


def _routes_line(body_sum: str, filled: bool, command: str = BUILD_COMMAND) -> str:
    """The ``routes:`` line over a block with checksum ``body_sum`` (empty unless ``filled``)."""
    value = "" if filled else " {}"
    # The command is a comment on one line: a folder name with a line break cannot end it.
    shown = command if command.isprintable() else " ".join(command.split()[:2])
    return (
        f"routes:{value}  # written by {shown}; hand edits go in rules "
        f"(writer {WRITER_VERSION}, sha256:{body_sum})\n"
    )


def dump_manifest(
    manifest: Manifest, *, header: str | None = None, command: str = BUILD_COMMAND
) -> str:
    """Serialise ``manifest`` as a new file: header, version, rules template, routes.

    Rules are written only as the commented template: a manifest with hand rules is
    updated with :func:`update_manifest_text`, which keeps them as written. The
    header (default :func:`manifest_header`) and the ``routes:`` line name
    ``command`` as the writer of the routes.
    """
    body = _routes_body(manifest.routes)
    if header is None:
        header = manifest_header(command)
    line = _routes_line(_checksum(body), bool(body), command)
    return f"{header}version: {manifest.version}\n{RULES_TEMPLATE}{line}{body}"


@dataclass(frozen=True, slots=True)
class _Span:
    """A part of a text, from ``start`` up to ``end`` (not included): lines or characters."""

    start: int
    end: int


def _routes_span(lines: list[str]) -> _Span | None:
    """Lines of the top-level ``routes:`` key and its value, found as text.

    The block ends at the next top-level key or the end of the file. The build
    writes no comment or blank line inside it, so those at its end belong to
    whatever follows (a person wrote them) and are left out.
    """
    start = next((i for i, line in enumerate(lines) if line.startswith("routes:")), None)
    if start is None:
        return None
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i][:1] not in ("", " ", "\t", "\n", "\r", "#")
        ),
        len(lines),
    )
    while end > start + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return _Span(start, end)


@dataclass(frozen=True, slots=True)
class _Split:
    """A manifest's text as lines, with its ``routes`` block found."""

    lines: list[str]  # never changed: shared by every caller (see _split)
    span: _Span | None  # see _routes_span
    body: str  # the routes block's lines after the ``routes:`` line ("" when none)
    body_sum: str  # their checksum


@lru_cache(maxsize=1)
def _split(text: str) -> _Split:
    """``text`` split, once: a build reads the manifest (parse_hand_part) and then
    rewrites it (update_manifest_text), and at 10,000 routes each split costs
    0.05 s."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    span = _routes_span(lines)
    body = "".join(lines[span.start + 1 : span.end]) if span is not None else ""
    return _Split(lines, span, body, _checksum(body))


def parse_hand_part(text: str, filename: str = "<manifest>") -> Manifest:
    """Parse what a build needs from an existing manifest: its rules, validated.

    When the ``routes`` block carries the checksum of what the build wrote, it is
    known to be valid and is not parsed (thousands of routes cost seconds in
    YAML); line numbers stay those of the file. Otherwise the whole file is parsed.
    """
    split = _split(text)
    lines, span, body_sum = split.lines, split.span, split.body_sum
    if span is not None:
        start, end = span.start, span.end
        marker = _CHECKSUM.search(lines[start])
        if marker is not None and marker.group("sum") == body_sum:
            blanked = lines[:start] + ["routes:\n"] + ["\n"] * (end - start - 1) + lines[end:]
            return parse_manifest("".join(blanked), filename)
    return parse_manifest(text, filename)


def update_manifest_text(
    existing: str | None,
    routes: Mapping[str, tuple[Asset, ...]],
    *,
    filename: str = "manifest",
    force: bool = False,
    base: Mapping[str, tuple[Asset, ...]] | None = None,
    unchanged: Collection[str] = (),
    written: str | None = None,
    command: str = BUILD_COMMAND,
    accepts: Collection[SourceKind] | None = None,
) -> str:
    """The manifest text with its generated ``routes`` replaced and everything else kept.

    Everything outside the ``routes`` block (rules, comments, the header) is copied
    byte for byte. The ``routes:`` line carries a checksum of the block the build
    wrote; if the block was edited since, those edits would be lost, so this raises
    :class:`ManifestError` pointing at the first edited line, unless ``force``.
    ``base``, the routes the previous build wrote (when known), makes that line
    exact even when the site changed too.

    ``unchanged`` routes have the entries they had in the block whose checksum is
    ``written`` (the block the previous build wrote, see :func:`routes_checksum`);
    when the file still holds that block, their lines are copied from it rather
    than written anew (most of a rebuild's routes, after a small change).

    ``command`` is named as the writer of the routes (the ``routes:`` line, and the
    header of a new file): ``pushgen scan`` or ``pushgen build --app`` for those sources.
    Routes another kind of source wrote (the ``routes:`` line's command, see
    :func:`source_kind`) are not replaced unless ``force``: :class:`ManifestError`
    at that line says which command wrote them. ``accepts`` are the kinds this
    source may replace (default: the kind of ``command``).
    """
    if existing is None or not existing.strip():
        return dump_manifest(Manifest(routes=routes), command=command)
    # A manifest saved with CRLF line ends (a Windows checkout) keeps them.
    newline = "\r\n" if "\r\n" in existing else "\n"
    if newline != "\n":
        existing = existing.replace("\r\n", "\n")
    split = _split(existing)
    lines, span, old_body, old_sum = split.lines, split.span, split.body, split.body_sum
    # Editors validate against the schema through this modeline; a manifest from
    # before it (or written by hand) gets it once.
    modeline = (
        ""
        if any(line.startswith("# yaml-language-server:") for line in lines[:5])
        else f"# yaml-language-server: $schema={SCHEMA_NAME}\n"
    )
    if span is None:
        refuse_unwritable(existing, filename)
        body = _routes_body(routes)
        line = _routes_line(_checksum(body), bool(body), command)
        return _newlines(modeline + "".join(lines) + line + body, newline)
    start, end = span.start, span.end
    if not force and old_body.strip():
        kinds = accepts if accepts is not None else (source_kind(command),)
        refuse_other_source(lines[start], start, command, kinds, filename)
    marker = _CHECKSUM.search(lines[start])
    intact = marker is not None and marker.group("sum") == old_sum
    block = _new_block(routes, unchanged, old_body, old_sum, marker if intact else None, written)
    if old_body != block.body and not intact and old_body.strip() and not force:
        _refuse_edited(lines[start + 1 : end], block.body, start, marker, base, filename, command)
    return _newlines(
        modeline
        + "".join(lines[:start])
        + _routes_line(block.body_sum, bool(block.body), command)
        + block.body
        + "".join(lines[end:]),
        newline,
    )


@dataclass(frozen=True, slots=True)
class _Block:
    """A routes block to write and its checksum."""

    body: str
    body_sum: str


def _new_block(
    routes: Mapping[str, tuple[Asset, ...]],
    unchanged: Collection[str],
    old_body: str,
    old_sum: str,
    intact: re.Match[str] | None,
    written: str | None,
) -> _Block:
    """The block of ``routes``, reusing the text of ``old_body`` where the last build wrote it.

    ``intact`` is the ``routes:`` line's checksum marker when it matches ``old_body``
    (None otherwise); the old text is reused only when that block is ``written``,
    the block the previous build wrote, by this writer's version.
    """
    reusable = (
        intact is not None
        and written is not None
        and intact.group("sum") == written
        and intact.group("writer") == str(WRITER_VERSION)
    )
    spliced = _spliced(routes, unchanged, old_body) if reusable else None
    if spliced is old_body:
        return _Block(old_body, old_sum)  # every route as the last build wrote it
    if spliced is not None:
        return _Block(spliced, _checksum(spliced))
    known = {m.group(1): m.group(0) for m in _ROUTE_TEXT.finditer(old_body)} if reusable else None
    body = _routes_body(routes, unchanged, known)
    return _Block(body, _checksum(body))


# A rebuild that changed more routes than this formats the whole block (see _routes_body).
_SPLICE_AT_MOST = 64


def _spliced(
    routes: Mapping[str, tuple[Asset, ...]], unchanged: Collection[str], written: str
) -> str | None:
    """The block of ``routes`` made from ``written`` (a routes block the last build
    wrote, see update_manifest_text) by replacing the text of the few routes that
    are not ``unchanged``; ``written`` itself when none. None when ``written``
    does not hold exactly these routes, or too many changed.

    Cheaper than formatting or even copying route by route: at 50,000 routes the
    block is 50 MB, and a rebuild after one edit changes one route of it.
    """
    changed = [route for route in routes if route not in unchanged]
    if len(changed) > _SPLICE_AT_MOST:
        return None
    # Route keys are the block's lines indented by exactly two spaces: the block
    # holds as many routes as ``routes``, so each it lacks would be missing below.
    first = written.startswith("  ") and not written.startswith("   ")
    keys = written.count("\n  ") - written.count("\n   ") + first
    if keys != len(routes):
        return None
    spans = []
    for route in changed:
        span = _route_span(written, yaml_scalar(route))
        if span is None:
            return None
        spans.append((span.start, span.end, route))
    if not spans:
        return written
    pieces = []
    at = 0
    for start, end, route in sorted(spans):
        pieces.append(written[at:start])
        pieces.append(_routes_body({route: routes[route]}))
        at = end
    pieces.append(written[at:])
    return "".join(pieces)


def _route_span(block: str, key: str) -> _Span | None:
    """Where the route written as ``key`` (its key line and entries) is in ``block``."""
    for line in (f"  {key}:\n", f"  {key}: []\n"):
        if block.startswith(line):
            start = 0
        else:
            start = block.find(f"\n{line}") + 1
            if start == 0:
                continue
        end = start + len(line)
        while end < len(block) and block.startswith("    ", end):
            end = block.index("\n", end) + 1
        return _Span(start, end)
    return None


def _refuse_edited(
    old_lines: list[str],
    body: str,
    start: int,
    marker: re.Match[str] | None,
    base: Mapping[str, tuple[Asset, ...]] | None,
    filename: str,
    command: str,
) -> NoReturn:
    """Refuse to overwrite a hand edit: raise at the first line of the block a build did not write.

    ``old_lines`` is the ``routes`` block as the file holds it (its ``routes:`` line is
    line ``start + 1``), ``body`` the block this build would write.
    """
    new_lines = body.splitlines(keepends=True)
    if base is not None and marker is not None:
        # What the previous build wrote, when known, tells the edited line exactly.
        base_body = _routes_body(base)
        if _checksum(base_body) == marker.group("sum"):
            new_lines = base_body.splitlines(keepends=True)
    first = next(
        (i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
        min(len(old_lines), len(new_lines)),
    )
    line = start + 2 + min(first, max(len(old_lines) - 1, 0))
    why = (
        f"these routes were not written by {command}"
        if marker is None
        else "the generated routes were edited by hand"
    )
    raise ManifestError(
        [
            Diagnostic(
                filename,
                line,
                1,
                f"{why}; `{command}` would overwrite them. Move the edit into `rules:` "
                f"(docs/manifest.md), or run `{command}` with --force to discard it",
                "error",
            )
        ]
    )


def _newlines(text: str, newline: str) -> str:
    return text if newline == "\n" else text.replace("\n", newline)
