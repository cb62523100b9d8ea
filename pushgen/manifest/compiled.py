"""The compiled form of a push manifest: what the runtime loads instead of the YAML.

A manifest of 100,000 routes is 24 MB of YAML that takes seconds to read (issue
27). Every build and scan writes, beside ``push-manifest.yaml``, a derived file
``.push-manifest.yaml.pgc`` holding the same manifest in a form that loads in
milliseconds:

* a first line naming the format and its version, and the sha256 of the YAML's
  bytes it was made from: the YAML stays the file people edit, and the compiled
  form counts only while those bytes are unchanged;
* then one JSON document (no pickle or marshal: the file is data, read safely
  whoever wrote it): the distinct entries once each (routes share most of
  theirs), each route's entries as indexes into them, the lines of routes and
  entries (for located messages), and the hand-written part of the YAML with the
  routes blanked out (its rules are parsed from it, at their own lines).

:func:`load_compiled` checks all of that and says why it cannot use a file (a
hand edit, a damaged or foreign file) rather than raising; the caller then reads
the YAML. A route's entries are decoded on first use and kept
(:class:`CompiledRoutes`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import os
import sys
from array import array
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import pairwise
from pathlib import Path

from ..errors import Diagnostic, ManifestError
from ..fsutil import FileRefused, atomic_write, read_regular_file
from ..model import Asset
from .document import Manifest
from .loader import load_manifest, manifest_text, parse_manifest
from .routes_block import (
    _ENTRY_COLUMN,
    RoutesBlock,
    blank_routes,
    read_routes_block,
    text_span,
)
from .writer import _entry_text, yaml_scalar

__all__ = [
    "COMPILED_FORMAT",
    "CompiledLoad",
    "CompiledRoutes",
    "CompiledWrite",
    "EntryUse",
    "compile_manifest",
    "compiled_path",
    "load_compiled",
    "read_manifest",
    "write_compiled",
]

COMPILED_FORMAT = 1
_MAGIC = b"pushgen-compiled-manifest"
# Far above any manifest the runtime reads (32 MiB of YAML).
_MAX_COMPILED_BYTES = 256 * 1024 * 1024
# The Asset fields, in the order an entry's values are stored.
_FIELDS = tuple(f.name for f in fields(Asset))
_ARRAYS = ("refs", "starts", "lines", "entry_lines", "entry_columns")


def compiled_path(manifest: str | os.PathLike[str]) -> Path:
    """Where the compiled form of ``manifest`` lives: beside it, hidden, named after it."""
    path = Path(manifest)
    return path.with_name(f".{path.name}.pgc")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Characters of the manifest's text encoded (and hashed) at a time: a 100,000-route
# manifest is 24 MB, and a whole UTF-8 copy of it, held beside the text and the
# compiled form at the build's peak, cost about that much of its peak RSS (issue 27).
_CHUNK = 1 << 20


def _text_sum(text: str) -> str:
    """The sha256 of ``text``'s UTF-8 bytes, encoded a chunk at a time (no whole copy).

    The same digest as ``_sha256(text.encode("utf-8"))``: a chunk boundary never
    splits a code point, since a str is sliced by code points."""
    digest = hashlib.sha256()
    for start in range(0, len(text), _CHUNK):
        digest.update(text[start : start + _CHUNK].encode("utf-8"))
    return digest.hexdigest()


def _header(yaml_sum: str) -> bytes:
    return b"%s %d %s\n" % (_MAGIC, COMPILED_FORMAT, yaml_sum.encode("ascii"))


def _pack(values: Sequence[int]) -> str:
    packed = array("I", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack(text: object) -> array[int]:
    if not isinstance(text, str):
        raise ValueError("an array is not a string")
    packed = array("I")
    packed.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed


def compile_manifest(
    text: str,
    filename: str = "<manifest>",
    *,
    routes: Mapping[str, tuple[Asset, ...]] | None = None,
) -> bytes:
    """The compiled form of the manifest ``text``; ManifestError when it is not a valid one.

    ``routes``: the routes the build just wrote into ``text`` (update_manifest_text),
    when the caller has them: a routes block that is, line for line, what the
    writer makes of them is compiled from them (see _written_block), with no YAML.
    Else a ``routes`` block the build wrote (its checksum holds) is read line by
    line, each distinct entry parsed once (routes_block.py); any other manifest is
    parsed as YAML.
    """
    tables = _compiled_tables(text, filename, routes)
    return b"".join(_compiled_chunks(_header(_text_sum(text)), tables))


@dataclass(frozen=True, slots=True)
class _CompiledTables:
    """What the compiled form holds, before it is serialised: the hand-written
    part of the YAML (routes blanked out) and the routes' tables."""

    hand: str
    block: RoutesBlock


def _compiled_tables(
    text: str, filename: str, routes: Mapping[str, tuple[Asset, ...]] | None
) -> _CompiledTables:
    """The tables of compile_manifest; ManifestError when ``text`` is not a valid manifest."""
    hand = blank_routes(text)
    rules = parse_manifest(hand, filename)
    block = _written_block(text, routes) if routes is not None else None
    if block is None:
        block = read_routes_block(text, filename)
    if block is None:
        full = parse_manifest(text, filename)
        if full.rules != rules.rules:
            # The routes block cannot be told apart by its lines (a flow mapping
            # spanning the rules?): the YAML alone serves this manifest.
            message = "the routes block cannot be read apart from the rules; not compiled"
            raise ManifestError([Diagnostic(filename, 0, 0, message, "error")])
        block = _tables(full)
    return _CompiledTables(hand, block)


def _compiled_chunks(header: bytes, tables: _CompiledTables) -> Iterator[bytes]:
    """The compiled file's bytes, a part at a time: the header, then the JSON
    document one member at a time (the bytes of
    ``json.dumps({"hand": ..., "routes": ..., ...}, ensure_ascii=False,
    separators=(",", ":"))``), so no whole copy of the document is ever held as a
    str and again as bytes (issue 27: 100,000 routes at <= 1 GB peak RSS)."""
    yield header
    for number, name in enumerate(("hand", "routes", "entries", *_ARRAYS)):
        opening = "{" if number == 0 else ","
        yield f"{opening}{json.dumps(name)}:".encode("ascii")
        member = json.dumps(
            _member(tables, name), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        yield member
        del member  # freed before the next member is made
    yield b"}"


def _member(tables: _CompiledTables, name: str) -> object:
    """The value of the compiled document's member ``name``, made when it is written."""
    if name == "hand":
        return tables.hand
    block = tables.block
    if name == "routes":
        return block.keys
    if name == "entries":
        return [[getattr(asset, field) for field in _FIELDS] for asset in block.assets]
    return _pack(getattr(block, name))


def _written_block(text: str, routes: Mapping[str, tuple[Asset, ...]]) -> RoutesBlock | None:
    """The tables of ``text``'s routes block when it is exactly what the writer makes
    of ``routes`` (writer._routes_body: sorted routes, a key line, an entry line
    each), else None.

    The same tables read_routes_block reads back (entries interned by their line,
    in the order first met; the same lines and columns), but each line is compared
    with the writer's text of the entry the build already holds instead of being
    parsed as YAML: at 100,000 routes the parse cost seconds on every build whose
    routes changed (issue 27). Only a block equal line for line is used, so the
    tables are the block's whatever the build held.
    """
    # Compared in place, by offsets: no list of the text's lines (see text_span).
    span = text_span(text)
    if span is None or span.end - span.start - 1 != len(routes) + sum(map(len, routes.values())):
        return None
    at, number = span.body_at, span.start + 1
    block = RoutesBlock([], array("I"), [], array("I"), array("I", [0]), array("I"), array("I"))
    interned: dict[str, int] = {}  # entry line -> its index, as read_routes_block
    texts: dict[int, str] = {}  # by the asset's id: routes share Asset objects (see _routes_body)
    for route in sorted(routes):
        assets = routes[route]
        key = yaml_scalar(route)
        key_line = f"  {key}:\n" if assets else f"  {key}: []\n"
        if not text.startswith(key_line, at):
            return None
        at += len(key_line)
        if len({asset.path for asset in assets}) != len(assets):
            return None  # an entry twice: the loader refuses it, and says where
        block.keys.append(route)
        block.lines.append(number + 1)
        for asset in assets:
            number += 1
            line = texts.get(id(asset))
            if line is None:
                line = texts[id(asset)] = _entry_text(asset)
            if not text.startswith(line, at):
                return None
            at += len(line)
            index = interned.setdefault(line, len(interned))
            if index == len(block.assets):
                block.assets.append(asset)
            block.refs.append(index)
            block.entry_lines.append(number + 1)
        block.starts.append(len(block.refs))
        number += 1
    if at != span.end_at:
        return None
    block.entry_columns.extend(array("I", [_ENTRY_COLUMN]) * len(block.refs))
    return block


def _tables(manifest: Manifest) -> RoutesBlock:
    """The routes of a parsed ``manifest`` as tables, each distinct entry once."""
    interned: dict[Asset, int] = {}
    block = RoutesBlock(list(manifest.routes), [], [], [], [0], [], [])
    for route, assets in manifest.routes.items():
        block.lines.append(manifest.lines.get(route, 0))
        for asset in assets:
            block.refs.append(interned.setdefault(asset, len(interned)))
            block.entry_lines.append(manifest.entry_lines.get((route, asset.path), 0))
            block.entry_columns.append(manifest.entry_columns.get((route, asset.path), 0))
        block.starts.append(len(block.refs))
    block.assets.extend(interned)
    return block


@dataclass(frozen=True, slots=True)
class CompiledWrite:
    """What :func:`write_compiled` did: whether the compiled form is now current, and
    why not when something kept it from being written (a located warning: the
    runtime then reads the YAML, slower, and the user should know why)."""

    current: bool
    problem: Diagnostic | None = None


def _not_written(target: Path, why: str) -> CompiledWrite:
    message = f"the compiled manifest was not written ({why}); the runtime reads the YAML"
    return CompiledWrite(False, Diagnostic(os.fspath(target), 0, 0, message, "warning"))


def write_compiled(
    manifest: str | os.PathLike[str],
    text: str,
    *,
    protected: Path | None = None,
    routes: Mapping[str, tuple[Asset, ...]] | None = None,
) -> CompiledWrite:
    """Write the compiled form of ``text`` (the manifest at ``manifest``) beside it.

    Nothing is written when an up-to-date one is there already, when the manifest
    is not valid (the runtime then reads the YAML and says why), over a file
    pushgen did not write, or inside ``protected`` (a folder pushgen did not make
    and must not add to, as for the schema). Says whether the compiled form is
    now current, and (a warning) why not when a file or the file system kept it
    from being written. Every build and scan calls this, and the runtime loads the file.
    ``routes``: the routes the caller wrote into ``text``, as for compile_manifest.
    """
    target = compiled_path(manifest)
    if protected is not None and target.is_relative_to(protected):
        return CompiledWrite(False)
    header = _header(_text_sum(text))
    try:
        with open(target, "rb") as file:
            first = file.read(len(header))
    except FileNotFoundError:
        first = b""
    except OSError as exc:
        return _not_written(target, f"cannot read it: {exc.strerror or exc}")
    if first == header:
        return CompiledWrite(True)
    if first and not first.startswith(_MAGIC):
        return _not_written(target, "a file pushgen did not write is there, left alone")
    try:
        tables = _compiled_tables(text, os.fspath(manifest), routes)
    except ManifestError:
        return CompiledWrite(False)
    try:
        # Written a part at a time (see _compiled_chunks), not joined first.
        atomic_write(target, _compiled_chunks(header, tables))
    except OSError as exc:
        # A derived file: the runtime reads the YAML without it, but slower.
        return _not_written(target, exc.strerror or str(exc))
    return CompiledWrite(True)


@dataclass(frozen=True, slots=True)
class CompiledLoad:
    """What :func:`load_compiled` made of a compiled file.

    ``manifest`` is the manifest when the file was used, else None and
    ``problem`` says why: ``stale`` (made from other YAML bytes: a hand edit),
    ``missing``, or ``damaged`` with ``detail``.
    """

    manifest: Manifest | None
    problem: str = ""
    detail: str = ""


def load_compiled(yaml_bytes: bytes, filename: str) -> CompiledLoad:
    """The manifest at ``filename`` from its compiled form, when it matches ``yaml_bytes``.

    Never raises for a bad compiled file: a missing, stale, truncated or foreign
    one is a :class:`CompiledLoad` without a manifest, saying why.
    """
    path = compiled_path(filename)
    try:
        data = read_regular_file(str(path), limit=_MAX_COMPILED_BYTES)
    except FileRefused as exc:
        return CompiledLoad(None, "missing" if exc.missing else "damaged", str(exc))
    first, _, body = data.partition(b"\n")
    words = first.split(b" ")
    if len(words) != 3 or words[0] != _MAGIC:
        return CompiledLoad(None, "damaged", "not a compiled manifest")
    if words[1] != str(COMPILED_FORMAT).encode("ascii"):
        return CompiledLoad(None, "stale", "made by another pushgen version")
    if words[2] != _sha256(yaml_bytes).encode("ascii"):
        return CompiledLoad(None, "stale", "the YAML changed since it was made")
    try:
        return CompiledLoad(_decode(body, filename))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, ManifestError) as exc:
        # Whatever the bytes: this file is derived, the YAML is the truth.
        return CompiledLoad(None, "damaged", f"{type(exc).__name__}: {exc}"[:200])


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest at ``path``, from its compiled form when that is current, else its YAML.

    What ``pushgen check`` and ``pushgen explain`` load: the same manifest as
    :func:`pushgen.manifest.load_manifest`, in milliseconds when a build wrote
    the compiled form of these very bytes.
    """
    filename = os.fspath(path)
    try:
        data = Path(filename).read_bytes()
    except OSError:
        return load_manifest(filename)  # which says why, located
    loaded = load_compiled(data, filename)
    if loaded.manifest is not None:
        return loaded.manifest
    return parse_manifest(manifest_text(data, filename), filename)


def _decode(body: bytes, filename: str) -> Manifest:
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    hand, keys, raw = document["hand"], document["routes"], document["entries"]
    if not isinstance(hand, str) or not isinstance(keys, list) or not isinstance(raw, list):
        raise ValueError("wrong types")
    arrays = {name: _unpack(document[name]) for name in _ARRAYS}
    starts, refs = arrays["starts"], arrays["refs"]
    if (
        len(starts) != len(keys) + 1
        or starts[0] != 0
        or starts[-1] != len(refs)
        or len(arrays["lines"]) != len(keys)
        or any(len(arrays[n]) != len(refs) for n in ("entry_lines", "entry_columns"))
        or (refs and max(refs) >= len(raw))
        or any(a > b for a, b in pairwise(starts))
    ):
        raise ValueError("inconsistent tables")
    assets = [_asset(values) for values in raw]
    routes = CompiledRoutes(keys, assets, arrays)
    if len(routes.positions) != len(keys) or not all(isinstance(k, str) for k in keys):
        raise ValueError("bad route keys")
    rules = parse_manifest(hand, filename)
    return Manifest(
        routes=routes,
        lines=_RouteLines(routes),
        rules=rules.rules,
        filename=filename,
        entry_lines=_EntryPlaces(routes, arrays["entry_lines"], rules.entry_lines),
        entry_columns=_EntryPlaces(routes, arrays["entry_columns"], rules.entry_columns),
    )


def _asset(values: object) -> Asset:
    if not isinstance(values, list) or len(values) != len(_FIELDS):
        raise ValueError("an entry of the wrong shape")
    for name, value in zip(_FIELDS, values, strict=True):
        if value is not None and not isinstance(value, str | bool):
            raise ValueError(f"entry field {name} of the wrong type")
    return Asset(**dict(zip(_FIELDS, values, strict=True)))  # which checks the values


@dataclass(frozen=True, slots=True)
class EntryUse:
    """One entry of one route: ``asset`` listed under ``route``."""

    route: str
    asset: Asset


class CompiledRoutes(Mapping[str, tuple[Asset, ...]]):
    """A compiled manifest's routes: each route's entries decoded on first use, then kept."""

    def __init__(self, keys: list[str], assets: list[Asset], arrays: Mapping[str, array[int]]):
        self.keys_in_order = keys
        self.positions = {key: i for i, key in enumerate(keys)}
        self._assets = assets
        self._refs, self._starts = arrays["refs"], arrays["starts"]
        self._lines = arrays["lines"]
        self._decoded: dict[int, tuple[Asset, ...]] = {}

    def __getitem__(self, route: str) -> tuple[Asset, ...]:
        i = self.positions[route]
        found = self._decoded.get(i)
        if found is None:
            assets = self._assets
            refs = self._refs[self._starts[i] : self._starts[i + 1]]
            found = self._decoded[i] = tuple(assets[j] for j in refs)
        return found

    def __contains__(self, route: object) -> bool:
        return route in self.positions

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_in_order)

    def __len__(self) -> int:
        return len(self.keys_in_order)

    def heavier(self, weigh: Callable[[Asset], int], limit: int) -> list[str]:
        """The routes whose entries weigh more than ``limit`` together, each entry weighed once.

        Found from the tables without decoding a route: ``weigh`` is asked once per
        distinct entry (what lets the runtime find, at load, the few routes whose
        hints need a word in the log).
        """
        weights = [weigh(asset) for asset in self._assets]
        refs, starts, keys = self._refs, self._starts, self.keys_in_order
        widest = max(map(operator.sub, starts[1:], starts[:-1]), default=0)
        if max(weights, default=0) * widest <= limit:
            return []  # no route can weigh more: none summed (100,000 routes, issue 27)
        return [
            keys[i]
            for i in range(len(keys))
            if sum(map(weights.__getitem__, refs[starts[i] : starts[i + 1]])) > limit
        ]

    @property
    def distinct(self) -> Sequence[Asset]:
        """Every distinct entry of the routes, once: what each route's entries index."""
        return self._assets

    def uses(self, wanted: Collection[int]) -> list[EntryUse]:
        """Each route's entries that are ``distinct[j]`` for a ``j`` in ``wanted``, in file order.

        Found from the tables without decoding a route, so that ``pushgen check``
        looks at the routes of the few entries it found a problem with.
        """
        refs, starts, keys, assets = self._refs, self._starts, self.keys_in_order, self._assets
        return [
            EntryUse(keys[bisect_right(starts, k) - 1], assets[j])
            for k, j in enumerate(refs)
            if j in wanted
        ]

    def line(self, route: str) -> int | None:
        """The line of ``route`` in the YAML, or None when it is no route."""
        i = self.positions.get(route)
        return None if i is None else self._lines[i]

    def entry_index(self, route: str, path: str) -> int | None:
        """The index (into the entry tables) of the entry ``path`` of ``route``, if any."""
        i = self.positions.get(route)
        if i is None:
            return None
        start = self._starts[i]
        for k, asset in enumerate(self[route]):
            if asset.path == path:
                return start + k
        return None


class _RouteLines(Mapping[str, int]):
    """Each route's line, read from the compiled tables when asked."""

    def __init__(self, routes: CompiledRoutes) -> None:
        self._routes = routes

    def __getitem__(self, route: str) -> int:
        line = self._routes.line(route)
        if line is None:
            raise KeyError(route)
        return line

    def __iter__(self) -> Iterator[str]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)


class _EntryPlaces(Mapping[tuple[str, str], int]):
    """(route or rule key, path) -> line or column: the rules' from their parse, routes' compiled."""

    def __init__(
        self,
        routes: CompiledRoutes,
        values: array[int],
        rules: Mapping[tuple[str, str], int],
    ) -> None:
        self._routes, self._values, self._rules = routes, values, rules

    def get(self, key: tuple[str, str], default: int | None = None) -> int | None:  # type: ignore[override]
        # Asked once per entry by `pushgen check`: no KeyError raised and caught each time.
        found = self._rules.get(key)
        if found is not None:
            return found
        index = self._routes.entry_index(*key)
        return (self._values[index] or default) if index is not None else default

    def __getitem__(self, key: tuple[str, str]) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self._rules
        for route in self._routes:
            for asset in self._routes[route]:
                if (route, asset.path) in self:
                    yield (route, asset.path)

    def __len__(self) -> int:
        return sum(1 for _ in self)
