"""Interop with ``push_manifest.json``, the format earlier push tools share.

http2-push-manifest wrote it, polymer-build writes it and prpl-server and
simplehttp2server read it (https://github.com/GoogleChromeLabs/http2-push-manifest).
The multi-file form maps a route or a file to the resources to push with it::

    {
      "index.html": {
        "/css/app.css": {"type": "style", "weight": 1},
        "/js/app.js": {"type": "script", "weight": 1}
      }
    }

and the single-file form is just the inner mapping, for one page. Keys may be
absolute paths (``/``, ``/page.html``) or relative to the folder the file is
served from (``index.html``; prpl-server resolves both against its ``basePath``).
``type`` is a Fetch destination (https://fetch.spec.whatwg.org/#concept-request-destination),
``weight`` a priority no browser ever used.

* :func:`export_push_manifest` writes a pushgen manifest as the multi-file form,
  keyed by route (``/``, ``/docs/``), listing each route's *pushed* entries.
* :func:`import_push_manifest` reads either form into a pushgen manifest whose
  routes are hand rules (``match`` one route, ``add`` its entries): ``routes`` is
  what ``pushgen build`` owns and rewrites, while ``rules`` are kept as written, so
  a first build after the import neither loses nor duplicates them.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..errors import Diagnostic, ManifestError, Position
from ..links import normalise_base_path
from ..manifest import Manifest, parse_manifest, update_manifest_text
from ..media_types import destination_for
from ..model import DESTINATIONS, Asset
from ..urls import wire_path
from .blocks import rule_line
from .context import Context, ExportOptions, Format
from .result import Cut, ExportResult

__all__ = [
    "PUSH_MANIFEST",
    "ImportResult",
    "export_push_manifest",
    "import_push_manifest",
]

# The destinations prpl-server accepts as `type` (its PushManifest constructor
# throws on others: https://github.com/Polymer/prpl-server/blob/master/src/push.ts).
_PRPL_TYPES = frozenset(
    {
        "", "audio", "document", "embed", "font", "image", "manifest", "object", "report",
        "script", "serviceworker", "sharedworker", "style", "track", "video", "worker", "xslt",
    }
)  # fmt: skip

# Fonts, and anything fetched with `as=fetch`, are requested in CORS mode: a
# preload without `crossorigin` would not be reused (Fetch; HTML, link type preload).
_CORS_DESTINATIONS = frozenset({"font", "fetch"})


# --- export ---------------------------------------------------------------------------------


def export_push_manifest(
    manifest: Manifest,
    *,
    skip_patterns: bool = False,
    size_of: Callable[[str], int | None] = lambda _path: None,
) -> ExportResult:
    """``manifest`` as a multi-file ``push_manifest.json``: route -> pushed path -> type.

    Only pushed entries are listed (the format has no hint-only entries), with
    ``weight: 1``; what the format cannot say (hint-only entries, ``crossorigin``,
    MIME ``type``, ``media``, ``modulepreload``) is reported in ``cuts``. Keys are
    exact routes, so pattern rules that add entries are refused (or, with
    ``skip_patterns``, left out as cuts).
    """
    ctx = Context(manifest, PUSH_MANIFEST, ExportOptions(skip_patterns=skip_patterns), size_of)
    return ctx.result(_push_manifest(ctx))


def _push_manifest(ctx: Context) -> str:
    manifest = ctx.manifest
    for rule in manifest.patterns:
        if rule.add:
            ctx.refuse(
                rule.match.text,
                rule.line,
                "push_manifest.json keys are exact paths",
                detail=", with no pattern syntax",
            )
    data: dict[str, dict[str, dict[str, object]]] = {}
    for route in sorted(manifest.all_routes):
        line = rule_line(manifest, route)
        entries: dict[str, dict[str, object]] = {}
        for asset in manifest.assets(route, policy=ctx.options.policy, size_of=ctx.size_of):
            if not asset.push:
                if asset.hint:
                    ctx.cuts.append(
                        Cut(
                            route,
                            asset.path,
                            "left out: hint only, and push_manifest.json lists pushes",
                            line,
                        )
                    )
                continue
            if asset.integrity is not None:
                # prpl-server announces each entry as `Link: rel=preload` (its push.ts),
                # and the format has no integrity: a browser would not use that preload
                # for the element's SRI fetch and would download the file twice
                # (tests/scenarios/test_integrity_browser.py shows the mismatch).
                ctx.cuts.append(
                    Cut(
                        route,
                        asset.path,
                        "left out: it has integrity, which push_manifest.json cannot carry",
                        line,
                    )
                )
                continue
            lost = _lost_attributes(asset)
            destination = asset.destination
            if destination not in _PRPL_TYPES:
                lost.append(
                    f'as={destination} (prpl-server reads only older destinations; written as "")'
                )
                destination = ""
            if lost:
                ctx.cuts.append(Cut(route, asset.path, "written without " + ", ".join(lost), line))
            entries[wire_path(asset.path)] = {"type": destination, "weight": 1}
        if entries:
            data[route] = entries
    return json.dumps(data, indent=2, ensure_ascii=True) + "\n"


def _lost_attributes(asset: Asset) -> list[str]:
    lost = []
    if asset.module:
        lost.append("rel=modulepreload")
    if asset.type is not None:
        lost.append(f"type={asset.type}")
    if asset.crossorigin is not None:
        lost.append(f"crossorigin={asset.crossorigin}")
    if asset.media is not None:
        lost.append(f"media={asset.media}")
    for name, value in (
        ("imagesrcset", asset.imagesrcset),
        ("imagesizes", asset.imagesizes),
        ("fetchpriority", asset.fetchpriority),
    ):
        if value is not None:
            lost.append(f"{name}={value}")
    return lost


PUSH_MANIFEST = Format(
    "push-manifest",
    "push_manifest.json (http2-push-manifest, polymer-build, prpl-server)",
    _push_manifest,
    text=False,
)


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """A pushgen manifest made from a ``push_manifest.json``, and the problems found.

    ``text`` is the manifest file (empty when there are errors); ``routes`` maps each
    imported route to its entries, in the file's order; ``sources`` maps each route
    to the key it came from.
    """

    text: str
    routes: Mapping[str, tuple[Asset, ...]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings are things skipped)."""
        return not any(d.severity == "error" for d in self.diagnostics)


# A JSON string token (RFC 8259 §7), and whether a ':' follows it (then it is a key).
_STRING_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?')


class _Locator:
    """``line:col`` of JSON keys, found in document order.

    The text is read once, at the start: every key's decoded value, line and
    column, in order (``json.loads`` has already accepted it, so outside strings
    no '"' occurs and every string token is found whole). :meth:`find` then takes
    the first occurrence of a key after the one found before, by a binary search
    in that key's occurrences. Searching the text and counting its lines from
    the start for every key was quadratic in the number of keys (issue 22).
    """

    def __init__(self, text: str) -> None:
        self._where: dict[str, list[tuple[int, int, int]]] = {}
        line, line_start, counted = 1, 0, 0
        for ordinal, token in enumerate(
            m for m in _STRING_TOKEN.finditer(text) if m.group(2) is not None
        ):
            start = token.start()
            # Only the text since the previous key is counted (strings hold no raw newline).
            newlines = text.count("\n", counted, start)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", counted, start) + 1
            counted = start
            try:
                key = json.loads('"' + token.group(1) + '"')
            except json.JSONDecodeError:  # pragma: no cover - json.loads read the document
                continue
            self._where.setdefault(key, []).append((ordinal, line, start - line_start + 1))
        self._next = 0

    def find(self, key: str) -> Position:
        """Where ``key`` is next in the document, after the key found before (0, 0: nowhere)."""
        found = self._where.get(key, [])
        at = bisect.bisect_left(found, (self._next, 0, 0))
        if at == len(found):
            return Position(0, 0)
        ordinal, line, column = found[at]
        self._next = ordinal + 1
        return Position(line, column)


@dataclass
class _Importer:
    filename: str
    base: str
    locator: _Locator
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(self, where: Position, message: str, severity: str = "error") -> None:
        self.diagnostics.append(
            Diagnostic(
                self.filename,
                where.line,
                where.column,
                message,
                "error" if severity == "error" else "warning",
            )
        )

    def path(self, key: str, where: Position, what: str) -> str | None:
        """``key`` as an absolute, percent-encoded URL path on this site, or None."""
        if "://" in key or key.startswith("//"):
            self.report(
                where,
                f"{what} {key!r} is on another origin; only this site's paths are kept",
                "warning",
            )
            return None
        path = key.split("#", 1)[0]
        path, _, query = path.partition("?")
        if not path.startswith("/"):
            path = self.base + path
        trailing = path.endswith("/")
        # '.' and '..' resolved as a browser would, never above the root; normpath
        # keeps a leading '//' (POSIX), which would name another host in a URL.
        path = "/" + posixpath.normpath(path).lstrip("/")
        if trailing and path != "/":
            path += "/"
        path = wire_path(path) + (f"?{wire_path(query)}" if query else "")
        return path

    def route(self, key: str, where: Position) -> str | None:
        route = self.path(key, where, "key")
        if route is None:
            return None
        # A folder's index page is that folder's route, as `pushgen build` writes it.
        if route.endswith("/index.html"):
            route = route[: -len("index.html")]
        if any(c in route for c in "*?<>"):
            self.report(where, f"key {key!r} would read as a route pattern in a pushgen manifest")
            return None
        return route

    def entry(self, target: str, value: Any, where: Position) -> Asset | None:
        path = self.path(target, where, "resource")
        if path is None:
            return None
        if not isinstance(value, dict):
            self.report(
                where, f'resource {target!r} must map to an object like {{"type": "style"}}'
            )
            return None
        unknown = sorted(set(value) - {"type", "weight"})
        if unknown:
            self.report(
                where, f"resource {target!r}: ignored {', '.join(map(repr, unknown))}", "warning"
            )
        destination = value.get("type") or ""
        if not isinstance(destination, str):
            self.report(where, f'resource {target!r}: type must be a string like "style"')
            return None
        if not destination:
            guessed = destination_for(path)
            if guessed is None:
                self.report(
                    where,
                    f"resource {target!r} has no type and none follows from its name; add one",
                )
                return None
            destination = guessed
        if destination not in DESTINATIONS:
            self.report(where, f"resource {target!r}: {destination!r} is not a Fetch destination")
            return None
        crossorigin = "anonymous" if destination in _CORS_DESTINATIONS else None
        try:
            return Asset(path, destination, crossorigin=crossorigin)
        except ValueError as exc:
            self.report(where, f"resource {target!r}: {exc}")
            return None


def _is_entry(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= {"type", "weight"}
        and not any(isinstance(v, dict) for v in value.values())
    )


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Keeps the file's order; a repeated key keeps its last value, as JSON.parse does.
    return dict(pairs)


_PLAIN = re.compile(r"[A-Za-z0-9/._~%+=-][A-Za-z0-9/._~%+=@!$&'()*;-]*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _yaml(value: str) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED and not value[0].isdigit():
        return value
    return json.dumps(value, ensure_ascii=True)


def _entry_yaml(asset: Asset) -> str:
    parts = [f"path: {_yaml(asset.path)}", f"as: {_yaml(asset.destination)}"]
    if asset.crossorigin is not None:
        parts.append(f"crossorigin: {_yaml(asset.crossorigin)}")
    return "{" + ", ".join(parts) + "}"


def _manifest_text(
    source: str, routes: Mapping[str, tuple[Asset, ...]], keys: Mapping[str, str]
) -> str:
    name = PurePosixPath(source).name
    out = [
        "# yaml-language-server: $schema=push-manifest.schema.json",
        f"# Push manifest imported by `pushgen import` from {name}.",
        "# The imported routes are hand rules: `pushgen build` writes `routes:` and keeps",
        "# `rules:` as they are, so the first build keeps these entries (a generated entry",
        "# with the same path takes the rule's values). `pushgen explain ROUTE` shows the outcome.",
        "version: 1",
    ]
    if not routes:
        out.append("rules: []")
    else:
        out.append("rules:")
        for route, assets in routes.items():
            out.append(f"  # from {json.dumps(keys[route], ensure_ascii=True)}")
            out.append(f"  - match: {_yaml(route)}")
            out.append("    add:")
            out.extend(f"      - {_entry_yaml(asset)}" for asset in assets)
    return update_manifest_text("\n".join(out) + "\n", {})


@dataclass(frozen=True, slots=True)
class _Groups:
    """The routes read from a push manifest's keys, and the key each route came from."""

    routes: dict[str, tuple[Asset, ...]]
    sources: dict[str, str]


def _import_groups(
    importer: _Importer, groups: Sequence[tuple[str, object]], single_route: str | None
) -> _Groups:
    """Each key's resources as a route's entries (all under ``single_route`` for the single-file form)."""
    routes: dict[str, dict[str, Asset]] = {}
    sources: dict[str, str] = {}
    # One pass in document order, so the locator finds each key after the previous one.
    for key, targets in groups:
        where = Position(1, 1) if single_route is not None else importer.locator.find(key)
        imported = single_route if single_route is not None else importer.route(key, where)
        if not isinstance(targets, dict):
            importer.report(where, f"key {key!r} must map to an object of resources")
            continue
        if imported is not None and imported in sources:
            importer.report(
                where,
                f"key {key!r} is the same route as {sources[imported]!r} ({imported}); entries merged",
                "warning",
            )
        assets = routes.setdefault(imported, {}) if imported is not None else {}
        if imported is not None:
            sources.setdefault(imported, key)
        for target, value in targets.items():
            asset = importer.entry(target, value, importer.locator.find(target))
            if asset is not None:
                assets[asset.path] = asset
    return _Groups({r: tuple(a.values()) for r, a in routes.items() if a}, sources)


def import_push_manifest(
    data: str | bytes,
    *,
    filename: str = "push_manifest.json",
    route: str = "/",
    base_path: str = "/",
) -> ImportResult:
    """Read a ``push_manifest.json`` (either form) into pushgen manifest text.

    Relative keys and resources are taken from ``base_path`` (where the file is
    served from, like prpl-server's ``basePath``); ``X/index.html`` becomes the route
    ``X/``. The single-file form becomes ``route``. A missing or empty ``type`` is
    guessed from the file name (:func:`pushgen.media_types.destination_for`); fonts and
    ``fetch`` entries get ``crossorigin: anonymous``. Every entry is pushed and
    hinted, as the tools that read the format do. ``weight`` is dropped. Problems are
    diagnostics with the file's ``line:col``; resources on other origins are
    skipped with a warning.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return ImportResult(
                "", diagnostics=(Diagnostic(filename, 0, 0, "not UTF-8 text", "error"),)
            )
    else:
        text = data
    try:
        document = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        return ImportResult(
            "",
            diagnostics=(
                Diagnostic(filename, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}", "error"),
            ),
        )
    importer = _Importer(filename, normalise_base_path(base_path), _Locator(text))
    if not isinstance(document, dict):
        importer.report(
            Position(1, 1),
            "a push manifest is a JSON object mapping routes (or files) to resources",
        )
        return ImportResult("", diagnostics=tuple(importer.diagnostics))
    single = bool(document) and all(_is_entry(v) for v in document.values())
    if single and not route.startswith("/"):
        raise ValueError(f"route must be a URL path starting with '/', not {route!r}")
    groups = [("(single-file manifest)", document)] if single else list(document.items())
    found = _import_groups(importer, groups, route if single else None)
    imported_routes, sources = found.routes, found.sources
    diagnostics = tuple(importer.diagnostics)
    if any(d.severity == "error" for d in diagnostics):
        return ImportResult("", imported_routes, sources, diagnostics)
    manifest_text = _manifest_text(filename, imported_routes, sources)
    try:
        parse_manifest(manifest_text, "<imported manifest>")
    except ManifestError as exc:  # pragma: no cover - the writer only writes valid entries
        return ImportResult("", imported_routes, sources, diagnostics + tuple(exc.diagnostics))
    return ImportResult(manifest_text, imported_routes, sources, diagnostics)
