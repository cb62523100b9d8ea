"""Reading back the ``routes`` block the writer wrote, line by line, without YAML.

The writer (writer.py) puts each route on a line of its own (``  /docs/:``, or
``  /empty: []``) and each entry on the next lines as one flow mapping
(``    - {path: /site.css, as: style}``), and signs the block with a checksum on
the ``routes:`` line. When that checksum holds, the block is known to be the
writer's, so it can be read by its lines: one distinct entry line of each shape
(what follows its path) is parsed as YAML, through the loader, so it is validated
the same way, and the others of that shape take their own path, checked by the
loader's rule for paths; a route key is the text the writer writes for its route
(quoted keys go through YAML too). Anything that is not exactly the writer's
layout, or that the loader would refuse, gives None: the caller parses the whole
file, and the loader says where. This is how :mod:`.compiled` turns 100,000
routes into its tables without holding the YAML's node tree, and how ``pushgen
merge`` reads the parts of a sharded build (issue 27).
"""

from __future__ import annotations

import re
from collections.abc import MutableSequence
from dataclasses import dataclass, replace

import yaml

from ..errors import ManifestError
from ..model import Asset
from .entry_path import path_problem
from .loader import parse_manifest
from .writer import _CHECKSUM, WRITER_VERSION, _split, yaml_scalar
from .yamlsafe import control_character

__all__ = ["RoutesBlock", "TextSpan", "blank_routes", "read_routes_block", "text_span"]

_ENTRY_PREFIX = "    - {"
# The column of an entry's flow mapping ('{' after "    - "), 1-based as the loader counts.
_ENTRY_COLUMN = len(_ENTRY_PREFIX)


@dataclass(frozen=True, slots=True)
class RoutesBlock:
    """A manifest's routes as tables: each distinct entry once, each route's as indexes.

    Route ``i`` is ``keys[i]`` on line ``lines[i]``; its entries are
    ``assets[j]`` for ``j`` in ``refs[starts[i]:starts[i + 1]]``, the ``k``-th of
    them on line ``entry_lines[starts[i] + k]`` at ``entry_columns[...]`` (0: not
    known), as the loader would report them.
    """

    # Lists, or arrays of unsigned ints where a block is built for the compiled
    # form (a list holds an int object of 28 bytes per entry line: 1.5 million
    # lines at 100,000 pages, issue 27).
    keys: list[str]
    lines: MutableSequence[int]
    assets: list[Asset]
    refs: MutableSequence[int]
    starts: MutableSequence[int]
    entry_lines: MutableSequence[int]
    entry_columns: MutableSequence[int]


@dataclass(frozen=True, slots=True)
class TextSpan:
    """The ``routes`` block of a manifest's text found by offsets, with no copy of the
    text: the ``routes:`` line is line ``start`` (0-based) at character
    ``start_at``, the block's lines follow from ``body_at`` up to ``end_at`` (line
    ``end``, not included), as writer._routes_span finds them."""

    start: int
    end: int
    start_at: int
    body_at: int
    end_at: int


# Line breaks str.splitlines knows besides "\n": a text with none of them (and a
# last "\n") has the lines _split makes, so offsets can stand for them.
_OTHER_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_ROUTES_AT = re.compile(r"^routes:", re.MULTILINE)
_TOP_LEVEL_AT = re.compile(r"^[^ \t\n#]", re.MULTILINE)


def text_span(text: str) -> TextSpan | None:
    """The ``routes`` block of ``text`` (see :class:`TextSpan`), or None when it has
    none or its lines are not all ended by "\n" alone (then writer._split reads it).

    The build's own text is read this way: at 100,000 routes, a list of its
    1.6 million lines and a copy of its block held about 300 MB at the build's
    peak (issue 27).
    """
    if not text.endswith("\n") or _OTHER_BREAKS.search(text) is not None:
        return None
    found = _ROUTES_AT.search(text)
    if found is None:
        return None
    start_at = found.start()
    body_at = text.index("\n", start_at) + 1
    top = _TOP_LEVEL_AT.search(text, body_at)
    end_at = top.start() if top is not None else len(text)
    # As _routes_span: blank and comment lines at the block's end are not its own.
    while end_at > body_at:
        line = text[text.rindex("\n", 0, end_at - 1) + 1 : end_at]
        if line.strip() and not line.lstrip().startswith("#"):
            break
        end_at -= len(line)
    start = text.count("\n", 0, start_at)
    end = start + 1 + text.count("\n", body_at, end_at)
    return TextSpan(start, end, start_at, body_at, end_at)


def blank_routes(text: str) -> str:
    """``text`` with the ``routes`` block's lines blanked (an empty ``routes:`` kept).

    The rest keeps its line numbers, so the rules parsed from it are where they
    are in the file (as :func:`pushgen.manifest.parse_hand_part` does).
    """
    span = text_span(text)
    if span is not None:  # no list of the text's lines (see text_span)
        blanks = "\n" * (span.end - span.start - 1)
        return f"{text[: span.start_at]}routes:\n{blanks}{text[span.end_at :]}"
    split = _split(text)
    if split.span is None:
        return text
    start, end = split.span.start, split.span.end
    lines = split.lines
    return "".join(lines[:start] + ["routes:\n"] + ["\n"] * (end - start - 1) + lines[end:])


def read_routes_block(text: str, filename: str) -> RoutesBlock | None:
    """The routes of ``text``'s ``routes`` block when the writer wrote it, else None."""
    split = _split(text)
    if split.span is None:
        return None
    marker = _CHECKSUM.search(split.lines[split.span.start])
    if (
        marker is None
        or marker.group("sum") != split.body_sum
        or marker.group("writer") != str(WRITER_VERSION)
    ):
        return None
    return _read_lines(split.lines, split.span.start, split.span.end, filename)


def _read_lines(lines: list[str], start: int, end: int, filename: str) -> RoutesBlock | None:
    keys: list[str] = []  # route key texts, as written
    key_lines: list[int] = []
    texts: dict[str, int] = {}  # each distinct entry line -> its index
    refs: list[int] = []
    starts: list[int] = []
    entry_lines: list[int] = []
    for number in range(start + 1, end):
        line = lines[number]
        if line.startswith(_ENTRY_PREFIX) and line.endswith("}\n") and keys:
            refs.append(texts.setdefault(line, len(texts)))
            entry_lines.append(number + 1)
        elif line.startswith("  ") and line[2:3] not in (" ", ""):
            key = line[2:-5] if line.endswith(": []\n") else line[2:-2]
            if not line.endswith((":\n", ": []\n")) or not key:
                return None
            keys.append(key)
            key_lines.append(number + 1)
            starts.append(len(refs))
        else:
            return None
    starts.append(len(refs))
    routes = _route_keys(keys)
    assets = _entry_values(list(texts), filename)
    if routes is None or assets is None or len(set(routes)) != len(routes):
        return None  # a route twice: the loader says where
    for i in range(len(keys)):
        paths = {assets[j].path for j in refs[starts[i] : starts[i + 1]]}
        if len(paths) != starts[i + 1] - starts[i]:
            return None  # an entry twice in a route: the loader says where
    columns = [_ENTRY_COLUMN] * len(refs)
    return RoutesBlock(routes, key_lines, assets, refs, starts, entry_lines, columns)


def _route_keys(keys: list[str]) -> list[str] | None:
    """The route each key text names, or None unless every key is one the loader accepts.

    A key must be exactly what the writer writes for its route (:func:`yaml_scalar`:
    plain ones as written, quoted ones read as YAML), and its route one the loader
    takes: a path starting with '/', without a control character. Anything else is
    for the loader to refuse, at its line.
    """
    out: list[str] = []
    for key in keys:
        if key.startswith('"'):
            try:
                value = yaml.safe_load(key)
            except yaml.YAMLError:
                return None
        else:
            value = key
        if (
            not isinstance(value, str)
            or not value.startswith("/")
            or yaml_scalar(value) != key
            or control_character(value) is not None
        ):
            return None
        out.append(value)
    return out


# An entry line the writer wrote with a plain path: the path, then the rest of the mapping.
_PATH_ENTRY = re.compile(r"    - \{path: (?P<path>[^ ,{}\[\]#:?\"]+)(?P<rest>(?:, [^\n]*)?\}\n)")


def _entry_values(texts: list[str], filename: str) -> list[Asset] | None:
    """The entry of each distinct entry line, parsed (and validated) as YAML once per shape.

    Most of a site's distinct entries differ by their path alone (a page's own
    images): the lines are grouped by what follows the path, one line of each
    group parsed as YAML, and the others made from it with their own path,
    which the loader's rule for paths checks (a path the writer would quote is
    parsed as YAML itself).
    """
    shapes: dict[str, int] = {}  # the rest of a line -> the index of its parsed line
    parsed_texts: list[str] = []
    plan: list[tuple[int, str | None]] = []  # per line: (parsed line, its own path or None)
    for text in texts:
        found = _PATH_ENTRY.fullmatch(text)
        path = found["path"] if found is not None else None
        if found is None or path is None or yaml_scalar(path) != path:
            plan.append((len(parsed_texts), None))
            parsed_texts.append(text)
            continue
        at = shapes.get(found["rest"])
        if at is None:
            at = shapes[found["rest"]] = len(parsed_texts)
            parsed_texts.append(text)
        plan.append((at, path))
    parsed = _parsed_entries(parsed_texts, filename)
    if parsed is None:
        return None
    out: list[Asset] = []
    for at, path in plan:
        asset = parsed[at]
        if path is not None and path != asset.path:
            if path_problem(path) is not None:
                return None  # the loader says where
            asset = replace(asset, path=path)  # which checks the path as Asset() does
        out.append(asset)
    return out


def _parsed_entries(texts: list[str], filename: str) -> list[Asset] | None:
    """The entry of each of the entry lines ``texts``, all parsed as one small YAML."""
    document = "routes:\n" + "".join(f"  /{i}:\n{text}" for i, text in enumerate(texts))
    try:
        parsed = parse_manifest(document, filename)
    except ManifestError:
        return None
    found = [parsed.routes[f"/{i}"] for i in range(len(texts))]
    if any(len(assets) != 1 for assets in found):
        return None
    return [assets[0] for assets in found]
