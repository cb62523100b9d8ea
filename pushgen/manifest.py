"""The push manifest: its data model, a validating loader and a stable writer.

The file is YAML meant to be read and edited by people::

    version: 1
    routes:
      /:
        - {path: /static/css/site.css, as: style}
        - {path: /static/fonts/body.woff2, as: font, type: font/woff2, crossorigin: anonymous}
        - {path: /static/img/hero.jpg, as: image, push: false}

One flow mapping per entry keeps every asset on one line, so diffs and hand edits
stay line-sized. The loader walks the YAML node tree (not plain Python values) so
that every problem is reported as ``file:line:col``; it rejects unknown keys and
names the nearest valid one. The writer is deterministic: the same manifest is
always the same bytes.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from .errors import Diagnostic, ManifestError
from .model import CROSSORIGIN_VALUES, DESTINATIONS, Asset

__all__ = [
    "ENTRY_KEYS",
    "MANIFEST_VERSION",
    "Manifest",
    "dump_manifest",
    "load_manifest",
    "parse_manifest",
    "write_manifest",
]

MANIFEST_VERSION = 1

# Manifest key -> Asset field. Order here is the order keys are written in.
ENTRY_KEYS: Mapping[str, str] = {
    "path": "path",
    "as": "destination",
    "type": "type",
    "crossorigin": "crossorigin",
    "media": "media",
    "module": "module",
    "push": "push",
    "hint": "hint",
}
_TOP_KEYS = ("version", "routes")
_BOOL_KEYS = frozenset({"module", "push", "hint"})

HEADER = (
    "# Push manifest: each route -> the assets it needs, in the order it needs them.\n"
    "# Written by `pushgen build`. Entries: path, as, and optionally type, crossorigin,\n"
    "# media, module (rel=modulepreload), push: false (hint only), hint: false.\n"
)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Routes (URL paths such as ``/`` or ``/docs/``) mapped to their ordered assets."""

    routes: Mapping[str, tuple[Asset, ...]] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    # Line of each route key in the file it was loaded from (for error messages).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)


# --- loading ----------------------------------------------------------------


class _Checker:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.diagnostics: list[Diagnostic] = []

    def error(self, node: yaml.Node | None, message: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (0, 0)
        self.diagnostics.append(Diagnostic(self.filename, line, column, message, "error"))

    def unknown_key(self, node: yaml.Node, key: str, valid: Iterable[str], where: str) -> None:
        close = difflib.get_close_matches(key, list(valid), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
        self.error(node, f"unknown key {key!r} in {where}{hint}")


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _bool(node: yaml.Node) -> bool | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
        return bool(yaml.SafeLoader.construct_yaml_bool(yaml.SafeLoader(""), node))
    return None


def _resolve_tags(node: yaml.Node) -> None:
    """compose() leaves implicit tags resolved already; nothing to do (kept for clarity)."""


def _entry(check: _Checker, node: yaml.Node, route: str) -> Asset | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        # Shorthand: a bare path; the destination is guessed from the extension.
        check.error(
            node, f"entry {node.value!r} of route {route!r} needs a mapping with 'path' and 'as'"
        )
        return None
    if not isinstance(node, yaml.MappingNode):
        check.error(
            node,
            f"each entry of route {route!r} must be a mapping like {{path: /x.css, as: style}}",
        )
        return None
    values: dict[str, object] = {}
    ok = True
    for key_node, value_node in node.value:
        key = _scalar(key_node)
        if key is None or key not in ENTRY_KEYS:
            check.unknown_key(key_node, str(key), ENTRY_KEYS, f"an entry of route {route!r}")
            ok = False
            continue
        if key in values:
            check.error(key_node, f"key {key!r} appears twice in one entry")
            ok = False
            continue
        if key in _BOOL_KEYS:
            flag = _bool(value_node)
            if flag is None:
                check.error(value_node, f"{key!r} must be true or false")
                ok = False
                continue
            values[key] = flag
            continue
        text = _scalar(value_node)
        if text is None or value_node.tag != "tag:yaml.org,2002:str":
            check.error(value_node, f"{key!r} must be a string")
            ok = False
            continue
        values[key] = text
    for required in ("path", "as"):
        if required not in values and ok:
            check.error(node, f"entry of route {route!r} is missing {required!r}")
            ok = False
    if not ok:
        return None
    path = str(values["path"])
    problem = _path_problem(path)
    if problem:
        check.error(_value_node(node, "path"), problem)
        return None
    destination = str(values["as"])
    if destination not in DESTINATIONS:
        close = difflib.get_close_matches(destination, sorted(DESTINATIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        check.error(_value_node(node, "as"), f"{destination!r} is not a Fetch destination{hint}")
        return None
    crossorigin = values.get("crossorigin")
    if crossorigin is not None and crossorigin not in CROSSORIGIN_VALUES:
        check.error(
            _value_node(node, "crossorigin"),
            f"crossorigin must be 'anonymous' or 'use-credentials', not {crossorigin!r}",
        )
        return None
    kwargs = {ENTRY_KEYS[k]: v for k, v in values.items()}
    return Asset(**kwargs)  # type: ignore[arg-type]


def _value_node(mapping: yaml.MappingNode, key: str) -> yaml.Node:
    for key_node, value_node in mapping.value:
        if _scalar(key_node) == key:
            return value_node  # type: ignore[no-any-return]
    return mapping


_BAD_PATH_CHARS = re.compile(r"[\x00-\x20\x7f\\#]")


def _path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a manifest entry's path, or None when it can."""
    if not path.startswith("/") or path.startswith("//"):
        return f"path {path!r} must be an absolute URL path on this site, starting with one '/'"
    if _BAD_PATH_CHARS.search(path):
        return f"path {path!r} contains a space, control character, '\\' or '#'; percent-encode it"
    if not path.isascii():
        return f"path {path!r} must be ASCII; percent-encode it (HTTP/2 paths are ASCII)"
    from urllib.parse import unquote

    decoded = unquote(path.split("?", 1)[0])
    if "\x00" in decoded or any(
        seg in ("..", ".") for seg in decoded.replace("\\", "/").split("/")
    ):
        return f"path {path!r} leaves the site root ('.' or '..' segment)"
    return None


def parse_manifest(text: str, filename: str = "<manifest>") -> Manifest:
    """Parse and validate manifest text. Raises :class:`ManifestError` listing every problem."""
    check = _Checker(filename)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(
            [Diagnostic(filename, line, col, f"invalid YAML: {problem}", "error")]
        ) from None
    if root is None:
        return Manifest()
    if not isinstance(root, yaml.MappingNode):
        check.error(root, "a manifest is a mapping with 'version' and 'routes'")
        raise ManifestError(check.diagnostics)
    version = MANIFEST_VERSION
    routes: dict[str, tuple[Asset, ...]] = {}
    lines: dict[str, int] = {}
    seen_top: set[str] = set()
    for key_node, value_node in root.value:
        key = _scalar(key_node)
        if key not in _TOP_KEYS:
            check.unknown_key(key_node, str(key), _TOP_KEYS, "the manifest")
            continue
        if key in seen_top:
            check.error(key_node, f"top-level key {key!r} appears twice")
            continue
        seen_top.add(key)
        if key == "version":
            if _scalar(value_node) != str(MANIFEST_VERSION):
                check.error(
                    value_node,
                    f"unsupported manifest version; this pushgen reads version {MANIFEST_VERSION}",
                )
        elif key == "routes":
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                continue
            if not isinstance(value_node, yaml.MappingNode):
                check.error(value_node, "'routes' must map each route to a list of entries")
                continue
            for route_node, entries_node in value_node.value:
                route = _scalar(route_node)
                if route is None or not route.startswith("/"):
                    check.error(route_node, f"route {route!r} must be a URL path starting with '/'")
                    continue
                if route in routes:
                    check.error(
                        route_node, f"route {route!r} appears twice (first on line {lines[route]})"
                    )
                    continue
                lines[route] = route_node.start_mark.line + 1
                if isinstance(entries_node, yaml.ScalarNode) and entries_node.tag.endswith(":null"):
                    routes[route] = ()
                    continue
                if not isinstance(entries_node, yaml.SequenceNode):
                    check.error(entries_node, f"route {route!r} must have a list of entries")
                    continue
                assets: list[Asset] = []
                seen_paths: dict[str, int] = {}
                for entry_node in entries_node.value:
                    asset = _entry(check, entry_node, route)
                    if asset is None:
                        continue
                    if asset.path in seen_paths:
                        check.error(
                            entry_node,
                            f"{asset.path} is listed twice for route {route!r} "
                            f"(first on line {seen_paths[asset.path]})",
                        )
                        continue
                    seen_paths[asset.path] = entry_node.start_mark.line + 1
                    assets.append(asset)
                routes[route] = tuple(assets)
    if "routes" not in seen_top and not check.diagnostics:
        check.error(root, "the manifest has no 'routes' key")
    if check.diagnostics:
        raise ManifestError(check.diagnostics)
    return Manifest(routes=routes, version=version, lines=lines)


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and validate the manifest at ``path``."""
    filename = os.fspath(path)
    try:
        data = Path(filename).read_bytes()
    except OSError as exc:
        raise ManifestError(
            [Diagnostic(filename, 0, 0, f"cannot read manifest: {exc.strerror}", "error")]
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            [Diagnostic(filename, line, 0, "manifest is not UTF-8 text", "error")]
        ) from None
    return parse_manifest(text, filename)


# --- writing ----------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z0-9_/.~%+\-=&;@!$'()*][A-Za-z0-9_/.~%+\-=&;@!$'()*:?]*$")
_RESERVED_PLAIN = frozenset({"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"})


def _quote(value: str) -> str:
    if (
        _PLAIN.match(value)
        and value.lower() not in _RESERVED_PLAIN
        and not value.endswith(":")
        and ": " not in value
        and not re.fullmatch(r"[-+]?[0-9][0-9_.eE+\-]*|\.(inf|nan)", value, re.IGNORECASE)
    ):
        return value
    return json.dumps(value, ensure_ascii=True)


def _entry_line(asset: Asset) -> str:
    parts = [f"path: {_quote(asset.path)}", f"as: {_quote(asset.destination)}"]
    for key in ("type", "crossorigin", "media"):
        value = getattr(asset, ENTRY_KEYS[key])
        if value is not None:
            parts.append(f"{key}: {_quote(value)}")
    if asset.module:
        parts.append("module: true")
    if not asset.push:
        parts.append("push: false")
    if not asset.hint:
        parts.append("hint: false")
    return "{" + ", ".join(parts) + "}"


def dump_manifest(manifest: Manifest, *, header: str = HEADER) -> str:
    """Serialise ``manifest`` as stable, hand-editable YAML (routes sorted by path)."""
    out = [
        header,
        f"version: {manifest.version}\n",
        "routes:\n" if manifest.routes else "routes: {}\n",
    ]
    for route in sorted(manifest.routes):
        assets = manifest.routes[route]
        if not assets:
            out.append(f"  {_quote(route)}: []\n")
            continue
        out.append(f"  {_quote(route)}:\n")
        out.extend(f"    - {_entry_line(asset)}\n" for asset in assets)
    return "".join(out)


def write_manifest(
    manifest: Manifest, path: str | os.PathLike[str], *, header: str = HEADER
) -> None:
    """Write ``manifest`` to ``path`` atomically (a reader sees the old or the new file)."""
    from .fsutil import atomic_write

    atomic_write(Path(path), dump_manifest(manifest, header=header).encode("utf-8"))


def with_routes(manifest: Manifest, routes: Mapping[str, tuple[Asset, ...]]) -> Manifest:
    """A copy of ``manifest`` with ``routes`` replaced."""
    return replace(manifest, routes=dict(routes), lines={})
