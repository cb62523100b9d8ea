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
import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import Diagnostic, ManifestError
from ..model import CROSSORIGIN_VALUES, DESTINATIONS, Asset
from .rules import (
    Decision,
    EntryChange,
    Policy,
    RoutePattern,
    Rule,
    RuleIndex,
    resolve_route,
    rule_key,
)
from .yamlsafe import YamlError, compose, paused_gc

__all__ = [
    "ENTRY_KEYS",
    "MANIFEST_VERSION",
    "SCHEMA_NAME",
    "Manifest",
    "dump_manifest",
    "load_manifest",
    "parse_hand_part",
    "parse_manifest",
    "routes_checksum",
    "update_manifest_text",
]

MANIFEST_VERSION = 1

_NO_POLICY = Policy()

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
_TOP_KEYS = ("version", "rules", "routes")
_RULE_KEYS = ("match", "add", "set", "remove", "policy")
_POLICY_KEYS = ("push", "max_pushes", "max_bytes")
_SET_KEYS = tuple(k for k in ENTRY_KEYS if k != "path")
_BOOL_KEYS = frozenset({"module", "push", "hint"})


@dataclass(frozen=True, slots=True)
class Manifest:
    """Routes (URL paths such as ``/`` or ``/docs/``) mapped to their ordered assets."""

    routes: Mapping[str, tuple[Asset, ...]] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    # Line of each route key in the file it was loaded from (for error messages).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    rules: tuple[Rule, ...] = ()
    filename: str = field(default="manifest", compare=False)
    # Lines of each entry path per route, for `check` messages.
    entry_lines: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False)
    entry_columns: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False)
    # The rules by what they match (see RuleIndex), made once here.
    rule_index: RuleIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_index", RuleIndex.of(self.rules))

    def decisions(
        self,
        route: str,
        *,
        policy: Policy = _NO_POLICY,
        size_of: Callable[[str], int | None] = lambda _path: None,
    ) -> list[Decision]:
        """Every entry of ``route`` after rules and policy, with the reasons (see rules.py)."""
        return resolve_route(
            route,
            self.generated(route),
            self.rule_index.matching(route),
            policy=policy,
            size_of=size_of,
            source=self.filename,
        )

    def assets(
        self,
        route: str,
        *,
        policy: Policy = _NO_POLICY,
        size_of: Callable[[str], int | None] = lambda _path: None,
    ) -> tuple[Asset, ...]:
        """The entries the runtime sends for ``route`` (removed ones left out)."""
        return tuple(
            d.asset for d in self.decisions(route, policy=policy, size_of=size_of) if not d.removed
        )

    def generated(self, route: str) -> tuple[Asset, ...]:
        """The generated entries of ``route``: its own, else those of a rule route matching it.

        ``pushgen build --app`` writes a Quart rule with arguments (``/blog/<slug>``)
        as a route holding what every page of that rule needs, so that URLs the
        build never rendered get them too; an exact route always wins.
        """
        own = self.routes.get(route)
        if own is not None:
            return own
        return next((self.routes[p.text] for p in self.route_patterns if p.matches(route)), ())

    @property
    def route_patterns(self) -> tuple[RoutePattern, ...]:
        """The generated routes that are Quart rules with arguments, in file order."""
        return _route_patterns(tuple(r for r in self.routes if "<" in r))

    @property
    def patterns(self) -> tuple[Rule, ...]:
        """Rules whose ``match`` is a glob or a Quart-style rule (not one exact route)."""
        return tuple(rule for rule in self.rules if rule.match.kind != "exact")


@lru_cache(maxsize=64)
def _route_patterns(routes: tuple[str, ...]) -> tuple[RoutePattern, ...]:
    out = []
    for route in routes:
        try:
            pattern = RoutePattern.parse(route)
        except ValueError:
            continue  # not a rule pushgen can match (the loader reported it)
        if pattern.kind == "rule":
            out.append(pattern)
    return tuple(out)


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


# A '\\' in a query is sent as it is by browsers (URL Standard, query state); in the
# path it would be a '/' to them, so only the path part is checked for it.
_BAD_PATH_CHARS = re.compile(r"^[^?]*\\|[\x00-\x20\x7f#]")


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
    for key_node, value_node in node.value:
        key = _scalar(key_node)
        if key not in _POLICY_KEYS:
            check.unknown_key(key_node, str(key), _POLICY_KEYS, "a policy")
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
        push=push, max_pushes=numbers.get("max_pushes"), max_bytes=numbers.get("max_bytes")
    )


def _glob_path_problem(path: str) -> str | None:
    return _path_problem(path.replace("*", "x").replace("?", "x"))


def _set_item(check: _Checker, node: yaml.Node, where: str) -> EntryChange | None:
    if not isinstance(node, yaml.MappingNode):
        check.error(
            node, f"each 'set' item of {where} is a mapping like {{path: /x.png, push: false}}"
        )
        return None
    path: str | None = None
    values: dict[str, object] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node)
        if key == "path":
            path = _scalar(value_node)
            problem = _glob_path_problem(path) if path is not None else "'path' must be a string"
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
                text = _scalar(value_node)
                if text is None:
                    check.error(value_node, f"{key!r} must be a string")
                    return None
                if key == "as" and text not in DESTINATIONS:
                    check.error(value_node, f"{text!r} is not a Fetch destination")
                    return None
                if key == "crossorigin" and text not in CROSSORIGIN_VALUES:
                    check.error(value_node, "crossorigin must be 'anonymous' or 'use-credentials'")
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


def _rules(
    check: _Checker,
    node: yaml.Node,
    entry_lines: dict[tuple[str, str], int],
    entry_columns: dict[tuple[str, str], int],
) -> tuple[Rule, ...]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        check.error(node, "'rules' must be a list of rules, each starting with 'match:'")
        return ()
    rules: list[Rule] = []
    for rule_node in node.value:
        line = rule_node.start_mark.line + 1
        if not isinstance(rule_node, yaml.MappingNode):
            check.error(rule_node, "a rule is a mapping like {match: /blog/<slug>, add: [...]}")
            continue
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in rule_node.value:
            key = _scalar(key_node)
            if key not in _RULE_KEYS:
                check.unknown_key(key_node, str(key), _RULE_KEYS, "a rule")
            elif key in fields:
                check.error(key_node, f"key {key!r} appears twice in one rule")
            else:
                fields[key] = value_node
        if "match" not in fields:
            check.error(
                rule_node,
                "a rule needs 'match': a route, a glob like /blog/*, or a rule like /blog/<slug>",
            )
            continue
        match_text = _scalar(fields["match"])
        try:
            pattern = RoutePattern.parse(match_text if match_text is not None else "")
        except ValueError as exc:
            check.error(fields["match"], str(exc))
            continue
        where = f"the rule on line {line}"
        add: list[Asset] = []
        if "add" in fields:
            add_node = fields["add"]
            if not isinstance(add_node, yaml.SequenceNode):
                check.error(
                    add_node, "'add' must be a list of entries like {path: /x.css, as: style}"
                )
            else:
                for entry_node in add_node.value:
                    asset = _entry(check, entry_node, where)
                    if asset is None:
                        continue
                    first = entry_lines.get((rule_key(line), asset.path))
                    if first is not None:
                        check.error(
                            entry_node,
                            f"{asset.path} is listed twice for {where} (first on line {first})",
                        )
                        continue
                    if asset is not None:
                        add.append(asset)
                        entry_lines[(rule_key(line), asset.path)] = entry_node.start_mark.line + 1
                        entry_columns[(rule_key(line), asset.path)] = (
                            entry_node.start_mark.column + 1
                        )
        changes: list[EntryChange] = []
        if "set" in fields:
            set_node = fields["set"]
            if not isinstance(set_node, yaml.SequenceNode):
                check.error(set_node, "'set' must be a list like [{path: /x.png, push: true}]")
            else:
                for item in set_node.value:
                    change = _set_item(check, item, where)
                    if change is not None:
                        changes.append(change)
                        entry_lines[(rule_key(line), change.path)] = item.start_mark.line + 1
                        entry_columns[(rule_key(line), change.path)] = item.start_mark.column + 1
        remove: list[str] = []
        if "remove" in fields:
            remove_node = fields["remove"]
            items = remove_node.value if isinstance(remove_node, yaml.SequenceNode) else None
            if items is None:
                check.error(remove_node, "'remove' must be a list of paths (globs allowed)")
            else:
                for item in items:
                    text = _scalar(item)
                    problem = (
                        _glob_path_problem(text)
                        if text is not None
                        else "each 'remove' item is a path"
                    )
                    if problem:
                        check.error(item, problem)
                    else:
                        assert text is not None
                        remove.append(text)
                        entry_lines[(rule_key(line), text)] = item.start_mark.line + 1
                        entry_columns[(rule_key(line), text)] = item.start_mark.column + 1
        policy = _policy(check, fields["policy"]) if "policy" in fields else Policy()
        if not (add or changes or remove or not policy.empty) and not check.diagnostics:
            check.error(
                rule_node, "this rule does nothing: give it 'add', 'set', 'remove' or 'policy'"
            )
            continue
        rules.append(Rule(pattern, line, tuple(add), tuple(changes), tuple(remove), policy))
    return tuple(rules)


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
    version = MANIFEST_VERSION
    routes: dict[str, tuple[Asset, ...]] = {}
    lines: dict[str, int] = {}
    entry_lines: dict[tuple[str, str], int] = {}
    entry_columns: dict[tuple[str, str], int] = {}
    rules: tuple[Rule, ...] = ()
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
        if key == "rules":
            rules = _rules(check, value_node, entry_lines, entry_columns)
        elif key == "version":
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
                    entry_lines[(route, asset.path)] = seen_paths[asset.path]
                    entry_columns[(route, asset.path)] = entry_node.start_mark.column + 1
                    assets.append(asset)
                routes[route] = tuple(assets)
    if "routes" not in seen_top and "rules" not in seen_top and not check.diagnostics:
        check.error(root, "the manifest has neither 'routes' nor 'rules'")
    if check.diagnostics:
        raise ManifestError(sorted(check.diagnostics, key=lambda d: (d.line, d.column)))
    return Manifest(
        routes=routes,
        version=version,
        lines=lines,
        rules=rules,
        filename=filename,
        entry_lines=entry_lines,
        entry_columns=entry_columns,
    )


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

SCHEMA_NAME = "push-manifest.schema.json"

HEADER = (
    f"# yaml-language-server: $schema={SCHEMA_NAME}\n"
    "# Push manifest: each route -> the assets it needs, in the order it needs them.\n"
    "# `routes` is rewritten by every `pushgen build`; write hand edits as `rules`\n"
    "# (add, set, remove, policy; match a route, a glob or /blog/<slug>), which the\n"
    "# build keeps as they are. `pushgen explain ROUTE` shows the outcome. docs/manifest.md\n"
)
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
    return f"{{path: {yaml_scalar(asset.path)}{_entry_rest(asset.destination, asset.type, asset.crossorigin, asset.media, asset.module, asset.push, asset.hint)}}}"


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
    for line in text.splitlines():
        if line.startswith("routes:"):
            marker = _CHECKSUM.search(line)
            return marker.group("sum") if marker else None
    return None


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]


def _routes_line(body: str) -> str:
    value = "" if body else " {}"
    return (
        f"routes:{value}  # written by pushgen build; hand edits go in rules "
        f"(writer {WRITER_VERSION}, sha256:{_checksum(body)})\n"
    )


def dump_manifest(manifest: Manifest, *, header: str = HEADER) -> str:
    """Serialise ``manifest`` as a new file: header, version, rules template, routes.

    Rules are written only as the commented template: a manifest with hand rules is
    updated with :func:`update_manifest_text`, which keeps them as written.
    """
    body = _routes_body(manifest.routes)
    return f"{header}version: {manifest.version}\n{RULES_TEMPLATE}{_routes_line(body)}{body}"


def _routes_span(lines: list[str]) -> tuple[int, int] | None:
    """Lines [start, end) of the top-level ``routes:`` key and its value, found as text.

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
    return start, end


def _split(text: str) -> tuple[list[str], tuple[int, int] | None]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines, _routes_span(lines)


def parse_hand_part(text: str, filename: str = "<manifest>") -> Manifest:
    """Parse what a build needs from an existing manifest: its rules, validated.

    When the ``routes`` block carries the checksum of what the build wrote, it is
    known to be valid and is not parsed (thousands of routes cost seconds in
    YAML); line numbers stay those of the file. Otherwise the whole file is parsed.
    """
    lines, span = _split(text)
    if span is not None:
        start, end = span
        marker = _CHECKSUM.search(lines[start])
        if marker is not None and marker.group("sum") == _checksum("".join(lines[start + 1 : end])):
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
    """
    if existing is None or not existing.strip():
        return dump_manifest(Manifest(routes=routes))
    # A manifest saved with CRLF line ends (a Windows checkout) keeps them.
    newline = "\r\n" if "\r\n" in existing else "\n"
    if newline != "\n":
        existing = existing.replace("\r\n", "\n")
    lines, span = _split(existing)
    # Editors validate against the schema through this modeline; a manifest from
    # before it (or written by hand) gets it once.
    modeline = (
        ""
        if any(line.startswith("# yaml-language-server:") for line in lines[:5])
        else f"# yaml-language-server: $schema={SCHEMA_NAME}\n"
    )
    if span is None:
        _refuse_unwritable(existing, filename)
        body = _routes_body(routes)
        return _newlines(modeline + "".join(lines) + _routes_line(body) + body, newline)
    start, end = span
    old_body = "".join(lines[start + 1 : end])
    marker = _CHECKSUM.search(lines[start])
    intact = marker is not None and marker.group("sum") == _checksum(old_body)
    reusable = (
        intact
        and written is not None
        and marker is not None
        and marker.group("sum") == written
        and marker.group("writer") == str(WRITER_VERSION)
    )
    body = _routes_body(
        routes,
        unchanged,
        {m.group(1): m.group(0) for m in _ROUTE_TEXT.finditer(old_body)} if reusable else None,
    )
    edited = old_body != body and not intact
    if edited and old_body.strip() and not force:
        old_lines = lines[start + 1 : end]
        new_lines = body.splitlines(keepends=True)
        if base is not None and marker is not None:
            base_body = _routes_body(base)
            if _checksum(base_body) == marker.group("sum"):
                new_lines = base_body.splitlines(keepends=True)
        first = next(
            (i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
            min(len(old_lines), len(new_lines)),
        )
        line = start + 2 + min(first, max(len(old_lines) - 1, 0))
        why = (
            "these routes were not written by pushgen build"
            if marker is None
            else "the generated routes were edited by hand"
        )
        raise ManifestError(
            [
                Diagnostic(
                    filename,
                    line,
                    1,
                    f"{why}; a build would overwrite them. Move the edit into `rules:` "
                    "(docs/manifest.md), or run `pushgen build --force` to discard it",
                    "error",
                )
            ]
        )
    return _newlines(
        modeline + "".join(lines[:start]) + _routes_line(body) + body + "".join(lines[end:]),
        newline,
    )


def _newlines(text: str, newline: str) -> str:
    return text if newline == "\n" else text.replace("\n", newline)


def _refuse_unwritable(text: str, filename: str) -> None:
    """Refuse a manifest whose ``routes`` the build cannot replace as a block of lines.

    The build finds ``routes:`` at the start of a line; a manifest in flow style
    (``{"version": 1, ...}``, as JSON) or with a quoted key would get a second
    ``routes`` appended and stop parsing.
    """
    try:
        root = compose(text, filename)
    except YamlError as exc:
        raise ManifestError([exc.diagnostic]) from None
    if not isinstance(root, yaml.MappingNode):
        return
    if root.flow_style:
        problem = "the manifest is one flow mapping ({...}, as JSON)"
    elif any(_scalar(key) == "routes" for key, _ in root.value):
        problem = "its 'routes' key is quoted or indented"
    else:
        return
    mark = root.start_mark
    raise ManifestError(
        [
            Diagnostic(
                filename,
                mark.line + 1,
                mark.column + 1,
                f"{problem}, so the build cannot replace its generated routes; write it in block "
                "style with `routes:` at the start of a line (docs/manifest.md)",
                "error",
            )
        ]
    )
