"""`pushgen check`: everything that can be wrong with a manifest, as located diagnostics.

The loader (manifest.py) already rejects bad YAML, unknown keys, bad ``as``
values, paths that are not absolute or leave the site, duplicates and bad
budgets; the runtime loads through it too. This adds what needs the built
output or the header rules: files that are missing, entries that no header can
carry, and rule paths that match nothing.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from ..errors import Diagnostic, LinkFieldError, ManifestError, Position
from ..links import link_value
from ..model import Asset
from ..site_files import output_relpath
from ..urls import unroutable, unroutable_routes
from .compiled import CompiledRoutes, EntryUse, read_manifest
from .document import Manifest
from .link_budget import link_budget_problems
from .rules import Rule, glob_matches

__all__ = ["SHOWN_PER_KIND", "check_manifest", "rule_problems"]

# Warnings of one kind past this many are counted, not listed: a generated
# manifest can have a hundred thousand rules that all point at nothing.
SHOWN_PER_KIND = 10


def _not_in_output(rule: Rule, output_files: Collection[str], base_path: str) -> list[str]:
    """The paths ``rule`` adds that are no file of the output (relative paths, under ``base_path``)."""
    missing = []
    for asset in rule.add:
        relpath = output_relpath(asset.path, base_path)
        if relpath is None or relpath not in output_files:
            missing.append(asset.path)
    return missing


def rule_problems(
    manifest: Manifest,
    routes: Mapping[str, Sequence[Asset]] | None = None,
    *,
    output_files: Collection[str] | None = None,
    base_path: str = "/",
) -> list[Diagnostic]:
    """Warnings for the rules of ``manifest`` that point at nothing, sorted by place.

    ``routes`` are the generated routes the rules meet (those of ``manifest``
    unless given: a build passes the ones it just made). A ``set`` or ``remove``
    path that matches no entry of the routes its rule applies to (their
    generated entries and what the rules for them add) is a warning, and so is a
    rule with nothing to set or remove. A pattern that matches no generated route
    is not: it is for routes only the Quart app serves. An exact route that is
    no page may still get entries from other rules, so its paths are compared
    with those. With ``output_files`` (paths relative to the output, under
    ``base_path``), an added entry that is not one of them is a warning too.
    The same function serves ``pushgen check`` and ``pushgen build``. Time is
    linear in the rules and the routes: exact rules are looked up, and each route
    tries only the pattern rules its literal prefix names (:class:`PrefixIndex`).
    """
    routes = manifest.routes if routes is None else routes
    index = manifest.rule_index
    filename = manifest.filename
    found: dict[str, list[Diagnostic]] = {}

    def warn(kind: str, key: str, path: str, fallback: int, message: str) -> None:
        line = manifest.entry_lines.get((key, path), fallback)
        column = manifest.entry_columns.get((key, path), 0)
        found.setdefault(kind, []).append(Diagnostic(filename, line, column, message))

    added: dict[str, set[str]] = {}  # route -> paths the rules for it add

    def added_to(route: str) -> set[str]:
        paths = added.get(route)
        if paths is None:
            paths = added[route] = {a.path for r in index.matching(route) for a in r.add}
        return paths

    probes = _pattern_routes(manifest, routes)
    for position, rule in enumerate(manifest.rules):
        key = rule.key
        if output_files is not None:
            for path in _not_in_output(rule, output_files, base_path):
                warn("add", key, path, rule.line, f"rule adds {path}, which is not in the output")
        patterns = [change.path for change in rule.set] + list(rule.remove)
        if not patterns:
            continue
        if rule.match.kind == "exact":
            probe = [rule.match.text]
        else:
            probe = probes.get(position, [])
            if not probe:
                continue  # a pattern for routes only a Quart app serves
        candidates = {a.path for route in probe for a in routes.get(route, ())}
        for route in probe:
            candidates |= added_to(route)
        if not candidates:
            text = rule.match.text
            message = (
                f"rule matches {text}, which is not a page of the site"
                if rule.match.kind == "exact" and text not in routes
                else f"rule matches {text}, which has no entries to set or remove"
            )
            found.setdefault("rule", []).append(Diagnostic(filename, rule.line, 0, message))
            continue
        for pattern in patterns:
            if not any(glob_matches(pattern, path) for path in candidates):
                message = f"{pattern} matches no entry of the routes this rule applies to"
                warn("pattern", key, pattern, rule.line, message)
    out: list[Diagnostic] = []
    for diagnostics in found.values():
        out.extend(_capped(diagnostics))
    return sorted(out, key=lambda d: (d.line, d.column))


def _pattern_routes(manifest: Manifest, routes: Iterable[str]) -> dict[int, list[str]]:
    """Position of each pattern rule that sets or removes entries -> the routes it matches.

    One pass over the routes, each asking the rule index for its pattern rules
    (:meth:`RuleIndex.matching_patterns`), so a route tries only the rules whose
    literal prefix it starts with: trying every pattern rule against every route
    was 160,000,000 tries for 16,000 rules and 10,000 routes (issue 22).
    """
    rules = manifest.rules
    if not any(r.match.kind != "exact" and (r.set or r.remove) for r in rules):
        return {}
    found: dict[int, list[str]] = {}
    for route in routes:
        for position in manifest.rule_index.matching_patterns(route):
            if rules[position].set or rules[position].remove:
                found.setdefault(position, []).append(route)
    return found


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The first :data:`SHOWN_PER_KIND` of ``diagnostics``, and a count of the rest."""
    if len(diagnostics) <= SHOWN_PER_KIND + 1:
        return diagnostics
    shown = sorted(diagnostics, key=lambda d: (d.line, d.column))[:SHOWN_PER_KIND]
    last = shown[-1]
    more = len(diagnostics) - SHOWN_PER_KIND
    return [
        *shown,
        Diagnostic(
            last.file,
            last.line,
            last.column,
            f"... and {more:,} more like the one above",
            last.severity,
        ),
    ]


def check_manifest(
    path: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    base_path: str = "/",
) -> list[Diagnostic]:
    """Every problem of the manifest at ``path``, errors and warnings, sorted by place.

    With ``output`` (the built site), every entry's file must exist there.
    """
    try:
        manifest = read_manifest(path)  # the compiled form when current (compiled.py)
    except ManifestError as exc:
        return list(exc.diagnostics)
    root = Path(output) if output is not None else None
    if root is not None and not root.is_dir():
        return [
            Diagnostic(
                str(root),
                0,
                0,
                "the output folder does not exist; run `pushgen build` first",
                "error",
            )
        ]
    checker = _Checker(manifest, root, base_path)
    checker.found.extend(_unroutable(manifest, Path(path)))
    checker.routes()
    for rule in manifest.rules:
        checker.rule(rule)
    checker.found.extend(rule_problems(manifest))
    checker.found.extend(link_budget_problems(manifest))
    return sorted(checker.found, key=lambda d: (d.line, d.column))


def _unroutable(manifest: Manifest, path: Path) -> list[Diagnostic]:
    """An error for each route and exact rule that no server configuration can hold
    (:func:`pushgen.urls.unroutable`): every text export refuses such a manifest."""
    found: list[Diagnostic] = []
    text: list[str] | None = None
    pages = unroutable_routes(manifest.routes)  # a few, if any: their lines looked up
    keys = [(route, manifest.lines.get(route, 0), "the page") for route in pages]
    keys += [(r.match.text, r.line, "the rule") for r in manifest.rules if r.match.kind == "exact"]
    for route, line, fix in keys:
        why = unroutable(route)
        if why is None:
            continue
        if text is None:
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        # The route as written on its line (a hand edit writes it plainly or quoted).
        written = text[line - 1] if 0 < line <= len(text) else ""
        column = written.find(route) + 1 or len(written) - len(written.lstrip()) + 1
        message = (
            f"route {ascii(route)[1:-1]} {why}, which no server configuration can hold: the"
            f" nginx, Apache, h2o and _headers exports refuse the manifest; rename {fix}'s"
            " path (pushgen scan leaves such a page out)"
        )
        found.append(Diagnostic(manifest.filename, line, column, message, "error"))
    return found


class _Checker:
    """The entry checks of :func:`check_manifest`: the file in the output, the Link fields.

    What an entry's problems are depends on the entry alone, so each distinct entry
    is checked once (:meth:`routes`) and its problems said at every place it is
    listed: at 100,000 routes sharing 50 entries, 50 checks instead of 500,000.
    """

    def __init__(self, manifest: Manifest, root: Path | None, base_path: str) -> None:
        self.manifest = manifest
        self.root = root
        self.base_path = base_path
        self.found: list[Diagnostic] = []

    def _where(self, key: str, path: str, fallback: int) -> Position:
        line = self.manifest.entry_lines.get((key, path), fallback)
        return Position(line, self.manifest.entry_columns.get((key, path), 1))

    def _say(self, where: Position, messages: Iterable[str]) -> None:
        for message in messages:
            self.found.append(
                Diagnostic(self.manifest.filename, where.line, where.column, message, "error")
            )

    def routes(self) -> None:
        """Every route's entries, each distinct entry checked once, its errors said per route."""
        routes = self.manifest.routes
        uses: Iterable[EntryUse]
        known: dict[Asset, list[str]] = {}  # equal entries checked once
        if isinstance(routes, CompiledRoutes):  # the entries are interned already
            found = {j: self._route_entry(asset) for j, asset in enumerate(routes.distinct)}
            bad = {j for j, messages in found.items() if messages}
            known = {routes.distinct[j]: found[j] for j in bad}
            uses = routes.uses(bad) if bad else ()
        else:
            uses = (EntryUse(route, asset) for route, assets in routes.items() for asset in assets)
        for use in uses:
            messages = known.get(use.asset)
            if messages is None:
                messages = known[use.asset] = self._route_entry(use.asset)
            if messages:
                fallback = self.manifest.lines.get(use.route, 0)
                self._say(self._where(use.route, use.asset.path, fallback), messages)

    def _route_entry(self, asset: Asset) -> list[str]:
        return self._problems(asset, "entry", " is not in the output")

    def rule(self, rule: Rule) -> None:
        key = rule.key
        for asset in rule.add:
            messages = self._problems(asset, "rule adds", ", which is not in the output")
            fallback = rule.line or self.manifest.lines.get(key, 0)
            self._say(self._where(key, asset.path, fallback), messages)

    def _problems(self, asset: Asset, what: str, missing: str) -> list[str]:
        """The errors of ``asset`` wherever it is listed: its file, then its Link fields."""
        found = []
        if self.root is not None and not asset.preconnect:
            found.extend(self._file(asset.path, what, missing))
        if asset.hint:
            try:
                link_value(asset)
            except LinkFieldError as exc:
                found.append(f"{asset.path}: {exc}")
        return found

    def _file(self, path: str, what: str, missing: str) -> list[str]:
        assert self.root is not None
        relpath = output_relpath(path, self.base_path)
        if relpath is None:
            return [f"{what} {path} is outside the base path {self.base_path}"]
        target = self.root / relpath
        if not target.is_file():
            return [f"{what} {path}{missing} ({self.root / relpath} is missing)"]
        if not os.path.realpath(target).startswith(os.path.realpath(self.root) + os.sep):
            return [f"{what} {path} leads outside {self.root} (a symlink)"]
        return []
