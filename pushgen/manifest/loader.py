"""The push manifest's validating loader.

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

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import Diagnostic, ManifestError, RoutePatternError, did_you_mean
from ..gc_pause import paused_gc
from ..model import (
    CROSSORIGIN_VALUES,
    DESTINATIONS,
    FETCHPRIORITY_VALUES,
    ORIGIN,
    Asset,
    FontPolicy,
    integrity_problem,
)
from ..push_policy import Policy
from .document import ENTRY_KEYS, MANIFEST_VERSION, Manifest
from .entry_path import glob_path_problem, path_problem
from .partial_key import PARTIAL_REFUSAL, SHARD_KEY
from .rules import EntryChange, RoutePattern, Rule, rule_key
from .yamlsafe import YamlError, compose, scalar_text

__all__ = [
    "load_manifest",
    "manifest_text",
    "parse_manifest",
]

_TOP_KEYS = ("version", "rules", "routes")
_RULE_KEYS = ("match", "add", "set", "remove", "policy")
_POLICY_KEYS = ("push", "max_pushes", "max_bytes", "fonts")
_SET_KEYS = tuple(k for k in ENTRY_KEYS if k not in ("path", "preconnect"))
_BOOL_KEYS = frozenset({"module", "push", "hint"})
_PRECONNECT_KEYS = frozenset({"preconnect", "crossorigin", "hint"})
# Keys with a closed set of values, and how an error message names them.
_ENUM_KEYS: Mapping[str, tuple[frozenset[str], str]] = {
    "crossorigin": (CROSSORIGIN_VALUES, "'anonymous' or 'use-credentials'"),
    "fetchpriority": (FETCHPRIORITY_VALUES, "'high', 'low' or 'auto'"),
}


class _Checker:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.diagnostics: list[Diagnostic] = []

    def error(self, node: yaml.Node | None, message: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (0, 0)
        self.diagnostics.append(Diagnostic(self.filename, line, column, message, "error"))

    def unknown_key(self, node: yaml.Node, key: str, valid: Iterable[str], where: str) -> None:
        # tuple(): the keys listed in the order they are declared.
        hint = did_you_mean(key, tuple(valid), listed=True)
        self.error(node, f"unknown key {key!r} in {where}{hint}")


def _bool(node: yaml.Node) -> bool | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
        # YAML 1.1 booleans, as PyYAML's resolver tags them.
        return node.value.lower() in ("true", "yes", "on")
    return None


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
    values = _entry_values(check, node, route)
    if values is None:
        return None
    if "preconnect" in values:
        return _preconnect_entry(check, node, values)
    missing = next((key for key in ("path", "as") if key not in values), None)
    if missing is not None:
        check.error(node, f"entry of route {route!r} is missing {missing!r}")
        return None
    path = str(values["path"])
    problem = path_problem(path)
    if problem:
        check.error(_value_node(node, "path"), problem)
        return None
    destination = str(values["as"])
    if destination not in DESTINATIONS:
        hint = did_you_mean(destination, DESTINATIONS)
        check.error(_value_node(node, "as"), f"{destination!r} is not a Fetch destination{hint}")
        return None
    for key, (allowed, words) in _ENUM_KEYS.items():
        value = values.get(key)
        if value is not None and value not in allowed:
            check.error(_value_node(node, key), f"{key} must be {words}, not {value!r}")
            return None
    integrity = values.get("integrity")
    if integrity is not None and (problem := integrity_problem(str(integrity))):
        check.error(_value_node(node, "integrity"), problem)
        return None
    kwargs = {ENTRY_KEYS[k]: v for k, v in values.items()}
    return Asset(**kwargs)  # type: ignore[arg-type]


def _entry_values(check: _Checker, node: yaml.MappingNode, route: str) -> dict[str, object] | None:
    """An entry's keys and their values, each of its type; None after an error (reported)."""
    values: dict[str, object] = {}
    ok = True
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
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
        text = scalar_text(value_node)
        if text is None or value_node.tag != "tag:yaml.org,2002:str":
            check.error(value_node, f"{key!r} must be a string")
            ok = False
            continue
        values[key] = text
    return values if ok else None


def _preconnect_entry(
    check: _Checker, node: yaml.MappingNode, values: dict[str, object]
) -> Asset | None:
    extra = sorted(set(values) - _PRECONNECT_KEYS)
    if extra:
        check.error(
            _value_node(node, extra[0]),
            f"a preconnect entry takes only crossorigin and hint, not {extra[0]!r}",
        )
        return None
    origin = str(values["preconnect"])
    if not ORIGIN.fullmatch(origin):
        check.error(
            _value_node(node, "preconnect"),
            f"preconnect {origin!r} must be an origin like https://fonts.example (no path)",
        )
        return None
    crossorigin = values.get("crossorigin")
    if crossorigin is not None and crossorigin not in CROSSORIGIN_VALUES:
        check.error(
            _value_node(node, "crossorigin"),
            f"crossorigin must be {_ENUM_KEYS['crossorigin'][1]}, not {crossorigin!r}",
        )
        return None
    return Asset(
        origin,
        "",
        crossorigin=crossorigin,
        push=False,
        hint=bool(values.get("hint", True)),
        preconnect=True,
    )


def _value_node(mapping: yaml.MappingNode, key: str) -> yaml.Node:
    for key_node, value_node in mapping.value:
        if scalar_text(key_node) == key:
            return value_node  # type: ignore[no-any-return]
    return mapping


def _int(node: yaml.Node) -> int | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    return None


def _policy(check: _Checker, node: yaml.Node) -> Policy:
    if not isinstance(node, yaml.MappingNode):
        check.error(node, "'policy' must be a mapping like {push: [style, font], max_pushes: 4}")
        return Policy()
    push: frozenset[str] | None = None
    numbers: dict[str, int] = {}
    fonts: FontPolicy | None = None
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
        if key not in _POLICY_KEYS:
            check.unknown_key(key_node, str(key), _POLICY_KEYS, "a policy")
        elif key == "fonts":
            value = scalar_text(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if value in ("used", "all"):
                fonts = "used" if value == "used" else "all"
            else:
                check.error(
                    value_node,
                    "'fonts' must be 'all' (hint every font the build found)"
                    " or 'used' (the fonts each page uses, as traced by the build)",
                )
        elif key == "push":
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else None
            if items is None or not all(isinstance(i, yaml.ScalarNode) for i in items):
                check.error(
                    value_node, "'push' must be a list of destinations like [style, script, font]"
                )
                continue
            for item in items:
                if item.value not in DESTINATIONS:
                    check.error(item, f"{item.value!r} is not a Fetch destination")
            push = frozenset(i.value for i in items)
        else:
            number = _int(value_node)
            if number is None or number < 0:
                check.error(value_node, f"{key!r} must be a whole number, 0 or more")
                continue
            numbers[key] = number
    return Policy(
        push=push,
        max_pushes=numbers.get("max_pushes"),
        max_bytes=numbers.get("max_bytes"),
        fonts=fonts,
    )


def _set_item(check: _Checker, node: yaml.Node, where: str) -> EntryChange | None:
    if not isinstance(node, yaml.MappingNode):
        check.error(
            node, f"each 'set' item of {where} is a mapping like {{path: /x.png, push: false}}"
        )
        return None
    path: str | None = None
    values: dict[str, object] = {}
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
        if key == "path":
            path = scalar_text(value_node)
            problem = glob_path_problem(path) if path is not None else "'path' must be a string"
            if problem:
                check.error(value_node, problem)
                return None
        elif key in _SET_KEYS:
            assert key is not None
            if key in _BOOL_KEYS:
                flag = _bool(value_node)
                if flag is None:
                    check.error(value_node, f"{key!r} must be true or false")
                    return None
                values[ENTRY_KEYS[key]] = flag
            else:
                text = scalar_text(value_node)
                if text is None:
                    check.error(value_node, f"{key!r} must be a string")
                    return None
                if key == "as" and text not in DESTINATIONS:
                    check.error(value_node, f"{text!r} is not a Fetch destination")
                    return None
                if key in _ENUM_KEYS and text not in _ENUM_KEYS[key][0]:
                    check.error(value_node, f"{key} must be {_ENUM_KEYS[key][1]}")
                    return None
                if key == "integrity" and (problem := integrity_problem(text)):
                    check.error(value_node, problem)
                    return None
                values[ENTRY_KEYS[key]] = text
        else:
            check.unknown_key(key_node, str(key), ENTRY_KEYS, f"a 'set' item of {where}")
            return None
    if path is None:
        check.error(
            node, f"a 'set' item of {where} needs 'path' (a path or a glob like /static/img/*)"
        )
        return None
    if not values:
        check.error(node, f"a 'set' item of {where} changes nothing; add e.g. 'push: false'")
        return None
    return EntryChange(path, values)


@dataclass(slots=True)
class _Places:
    """Where each entry stands in the file, keyed by (route or rule key, path), for messages."""

    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    columns: dict[tuple[str, str], int] = field(default_factory=dict)

    def note(self, scope: str, path: str, node: yaml.Node) -> None:
        self.lines[(scope, path)] = node.start_mark.line + 1
        self.columns[(scope, path)] = node.start_mark.column + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def _rules(check: _Checker, node: yaml.Node, places: _Places) -> tuple[Rule, ...]:
    if _is_null(node):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        check.error(node, "'rules' must be a list of rules, each starting with 'match:'")
        return ()
    rules = (_rule(check, rule_node, places) for rule_node in node.value)
    return tuple(rule for rule in rules if rule is not None)


def _rule(check: _Checker, node: yaml.Node, places: _Places) -> Rule | None:
    """One rule: its fields, its pattern, then what it adds, sets, removes and its policy."""
    if not isinstance(node, yaml.MappingNode):
        check.error(node, "a rule is a mapping like {match: /blog/<slug>, add: [...]}")
        return None
    fields = _rule_fields(check, node)
    if "match" not in fields:
        check.error(
            node, "a rule needs 'match': a route, a glob like /blog/*, or a rule like /blog/<slug>"
        )
        return None
    match_text = scalar_text(fields["match"])
    try:
        pattern = RoutePattern.parse(match_text if match_text is not None else "")
    except RoutePatternError as exc:
        check.error(fields["match"], str(exc))
        return None
    line = node.start_mark.line + 1
    where = f"the rule on line {line}"
    scope = rule_key(line)
    add = _rule_add(check, fields["add"], where, scope, places) if "add" in fields else ()
    changes = _rule_set(check, fields["set"], where, scope, places) if "set" in fields else ()
    remove = _rule_remove(check, fields["remove"], scope, places) if "remove" in fields else ()
    policy = _policy(check, fields["policy"]) if "policy" in fields else Policy()
    # Only said when nothing else is wrong: a rule whose parts were all refused is empty too.
    if not (add or changes or remove or not policy.empty) and not check.diagnostics:
        check.error(node, "this rule does nothing: give it 'add', 'set', 'remove' or 'policy'")
        return None
    return Rule(pattern, line, add, changes, remove, policy)


def _rule_fields(check: _Checker, node: yaml.MappingNode) -> dict[str, yaml.Node]:
    fields: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
        if key not in _RULE_KEYS:
            check.unknown_key(key_node, str(key), _RULE_KEYS, "a rule")
        elif key in fields:
            check.error(key_node, f"key {key!r} appears twice in one rule")
        else:
            fields[key] = value_node
    return fields


def _rule_add(
    check: _Checker, node: yaml.Node, where: str, scope: str, places: _Places
) -> tuple[Asset, ...]:
    if not isinstance(node, yaml.SequenceNode):
        check.error(node, "'add' must be a list of entries like {path: /x.css, as: style}")
        return ()
    return _entries(check, node, where, where, scope, places)


def _rule_set(
    check: _Checker, node: yaml.Node, where: str, scope: str, places: _Places
) -> tuple[EntryChange, ...]:
    if not isinstance(node, yaml.SequenceNode):
        check.error(node, "'set' must be a list like [{path: /x.png, push: true}]")
        return ()
    changes: list[EntryChange] = []
    for item in node.value:
        change = _set_item(check, item, where)
        if change is not None:
            changes.append(change)
            places.note(scope, change.path, item)
    return tuple(changes)


def _rule_remove(check: _Checker, node: yaml.Node, scope: str, places: _Places) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        check.error(node, "'remove' must be a list of paths (globs allowed)")
        return ()
    remove: list[str] = []
    for item in node.value:
        text = scalar_text(item)
        problem = glob_path_problem(text) if text is not None else "each 'remove' item is a path"
        if problem:
            check.error(item, problem)
            continue
        assert text is not None
        remove.append(text)
        places.note(scope, text, item)
    return tuple(remove)


def parse_manifest(text: str, filename: str = "<manifest>") -> Manifest:
    """Parse and validate manifest text. Raises :class:`ManifestError` listing every problem."""
    with paused_gc():  # thousands of routes and rules: many objects, no cycles
        return _parse_manifest(text, filename)


def _parse_manifest(text: str, filename: str) -> Manifest:
    check = _Checker(filename)
    try:
        # Every string of a manifest reaches a header or an exported config.
        root = compose(text, filename, refuse_control=True)
    except YamlError as exc:
        raise ManifestError([exc.diagnostic]) from None
    if root is None:
        return Manifest()
    if not isinstance(root, yaml.MappingNode):
        check.error(root, "a manifest is a mapping with 'version' and 'routes'")
        raise ManifestError(check.diagnostics)
    routes: dict[str, tuple[Asset, ...]] = {}
    lines: dict[str, int] = {}
    places = _Places()
    rules: tuple[Rule, ...] = ()
    seen: set[str] = set()
    # One pass in file order: whether a rule "does nothing" is said only while nothing
    # before it was wrong, so the order of the checks is part of what the loader says.
    for key_node, value_node in root.value:
        key = _top_key(check, key_node, seen)
        if key == "rules":
            rules = _rules(check, value_node, places)
        elif key == "version":
            _version(check, value_node)
        elif key == "routes":
            _routes(check, value_node, routes, lines, places)
    if "routes" not in seen and "rules" not in seen and not check.diagnostics:
        check.error(root, "the manifest has neither 'routes' nor 'rules'")
    if check.diagnostics:
        raise ManifestError(sorted(check.diagnostics, key=lambda d: (d.line, d.column)))
    return Manifest(
        routes=routes,
        version=MANIFEST_VERSION,
        lines=lines,
        rules=rules,
        filename=filename,
        entry_lines=places.lines,
        entry_columns=places.columns,
    )


def _top_key(check: _Checker, node: yaml.Node, seen: set[str]) -> str | None:
    """The top-level key ``node`` names, or None (reported) when it is unknown or repeated."""
    key = scalar_text(node)
    if key == SHARD_KEY:  # a part of a sharded build, not a manifest to use (partial.py)
        check.error(node, PARTIAL_REFUSAL)
        return None
    if key not in _TOP_KEYS:
        check.unknown_key(node, str(key), _TOP_KEYS, "the manifest")
        return None
    if key in seen:
        check.error(node, f"top-level key {key!r} appears twice")
        return None
    seen.add(key)
    return key


def _version(check: _Checker, node: yaml.Node) -> None:
    if scalar_text(node) != str(MANIFEST_VERSION):
        check.error(
            node, f"unsupported manifest version; this pushgen reads version {MANIFEST_VERSION}"
        )


def _routes(
    check: _Checker,
    node: yaml.Node,
    routes: dict[str, tuple[Asset, ...]],
    lines: dict[str, int],
    places: _Places,
) -> None:
    """Read the ``routes`` mapping into ``routes`` (and each route's line into ``lines``)."""
    if _is_null(node):
        return
    if not isinstance(node, yaml.MappingNode):
        check.error(node, "'routes' must map each route to a list of entries")
        return
    for route_node, entries_node in node.value:
        route = scalar_text(route_node)
        if route is None or not route.startswith("/"):
            check.error(route_node, f"route {route!r} must be a URL path starting with '/'")
            continue
        if route in routes:
            check.error(route_node, f"route {route!r} appears twice (first on line {lines[route]})")
            continue
        lines[route] = route_node.start_mark.line + 1
        if _is_null(entries_node):
            routes[route] = ()
        elif not isinstance(entries_node, yaml.SequenceNode):
            check.error(entries_node, f"route {route!r} must have a list of entries")
        else:
            routes[route] = _entries(check, entries_node, route, f"route {route!r}", route, places)


def _entries(
    check: _Checker,
    node: yaml.SequenceNode,
    label: str,
    owner: str,
    scope: str,
    places: _Places,
) -> tuple[Asset, ...]:
    """The entries of a route or of a rule's ``add``, each path once per ``scope``.

    ``label`` names the route (or rule) in an entry's own errors, ``owner`` in the
    "listed twice" error.
    """
    assets: list[Asset] = []
    for entry_node in node.value:
        asset = _entry(check, entry_node, label)
        if asset is None:
            continue
        first = places.lines.get((scope, asset.path))
        if first is not None:
            check.error(
                entry_node, f"{asset.path} is listed twice for {owner} (first on line {first})"
            )
            continue
        places.note(scope, asset.path, entry_node)
        assets.append(asset)
    return tuple(assets)


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and validate the manifest at ``path``."""
    filename = os.fspath(path)
    try:
        data = Path(filename).read_bytes()
    except OSError as exc:
        raise ManifestError(
            [Diagnostic(filename, 0, 0, f"cannot read manifest: {exc.strerror}", "error")]
        ) from None
    return parse_manifest(manifest_text(data, filename), filename)


def manifest_text(data: bytes, filename: str) -> str:
    """The text of a manifest file's bytes (UTF-8, a BOM allowed), or a located ManifestError."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            [Diagnostic(filename, line, 0, "manifest is not UTF-8 text", "error")]
        ) from None
