"""`pushgen check`: everything that can be wrong with a manifest, as located diagnostics.

The loader (manifest.py) already rejects bad YAML, unknown keys, bad ``as``
values, paths that are not absolute or leave the site, duplicates and bad
budgets; the runtime loads through it too. This adds what needs the built
output or the header rules: files that are missing, entries that no header can
carry, and rule paths that match nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import Diagnostic, ManifestError
from .manifest import Manifest, load_manifest
from .model import Asset
from .rules import Rule, glob_matches
from .runtime.headers import link_value
from .urls import url_path_to_relpath

__all__ = ["check_manifest"]


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
        manifest = load_manifest(path)
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
    for route, assets in manifest.routes.items():
        for asset in assets:
            checker.entry(route, asset, "entry", " is not in the output")
    for rule in manifest.rules:
        checker.rule(rule)
    return sorted(checker.found, key=lambda d: (d.line, d.column))


class _Checker:
    def __init__(self, manifest: Manifest, root: Path | None, base_path: str) -> None:
        self.manifest = manifest
        self.root = root
        self.base_path = base_path
        self.found: list[Diagnostic] = []

    def _where(self, key: str, path: str, fallback: int) -> tuple[int, int]:
        line = self.manifest.entry_lines.get((key, path), fallback)
        return line, self.manifest.entry_columns.get((key, path), 1)

    def _add(self, where: tuple[int, int], message: str, severity: str = "error") -> None:
        self.found.append(Diagnostic(self.manifest.filename, where[0], where[1], message, severity))  # type: ignore[arg-type]

    def entry(self, key: str, asset: Asset, what: str, missing: str, fallback: int = 0) -> None:
        where = self._where(key, asset.path, fallback or self.manifest.lines.get(key, 0))
        if self.root is not None:
            self._file(asset.path, where, what, missing)
        if asset.hint:
            try:
                link_value(asset)
            except ValueError as exc:
                self._add(where, f"{asset.path}: {exc}")

    def _file(self, path: str, where: tuple[int, int], what: str, missing: str) -> None:
        assert self.root is not None
        relpath = url_path_to_relpath(path, self.base_path)
        if relpath is None:
            self._add(where, f"{what} {path} is outside the base path {self.base_path}")
            return
        if relpath == "" or relpath.endswith("/"):
            relpath += "index.html"
        target = self.root / relpath
        if not target.is_file():
            self._add(where, f"{what} {path}{missing} ({self.root / relpath} is missing)")
        elif not os.path.realpath(target).startswith(os.path.realpath(self.root) + os.sep):
            self._add(where, f"{what} {path} leads outside {self.root} (a symlink)")

    def rule(self, rule: Rule) -> None:
        key = f"rule:{rule.line}"
        for asset in rule.add:
            self.entry(key, asset, "rule adds", ", which is not in the output", rule.line)
        routes = self.manifest.routes
        # The routes this rule can change: generated ones it matches, or the one
        # route an exact rule names (a manifest may have only rules).
        probe = [route for route in routes if rule.match.matches(route)]
        if rule.match.kind == "exact" and not probe:
            probe = [rule.match.text]
        if not probe:
            return  # a pattern for routes only a Quart app serves: nothing to compare with
        # What `set` and `remove` can meet: those routes' entries and what the
        # rules applying to them add.
        candidates = {a.path for route in probe for a in routes.get(route, ())}
        candidates.update(
            a.path
            for other in self.manifest.rules
            if any(other.match.matches(route) for route in probe)
            for a in other.add
        )
        patterns = [change.path for change in rule.set] + list(rule.remove)
        if patterns and not candidates:
            self._add(
                (rule.line, 1),
                f"rule matches {rule.match.text}, which has no entries to set or remove",
                "warning",
            )
            return
        for pattern in patterns:
            if not any(glob_matches(pattern, path) for path in candidates):
                self._add(
                    self._where(key, pattern, rule.line),
                    f"{pattern} matches no entry of the routes this rule applies to",
                    "warning",
                )
