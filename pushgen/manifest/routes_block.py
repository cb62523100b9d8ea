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
from dataclasses import dataclass, replace

import yaml

from ..errors import ManifestError
from ..model import Asset
from .entry_path import path_problem
from .loader import parse_manifest
from .writer import _CHECKSUM, WRITER_VERSION, _split, yaml_scalar
from .yamlsafe import control_character

__all__ = ["RoutesBlock", "blank_routes", "read_routes_block"]

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

    keys: list[str]
    lines: list[int]
    assets: list[Asset]
    refs: list[int]
    starts: list[int]
    entry_lines: list[int]
    entry_columns: list[int]


def blank_routes(text: str) -> str:
    """``text`` with the ``routes`` block's lines blanked (an empty ``routes:`` kept).

    The rest keeps its line numbers, so the rules parsed from it are where they
    are in the file (as :func:`pushgen.manifest.parse_hand_part` does).
    """
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
