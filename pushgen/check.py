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
from .headers import link_value
from .manifest import Manifest, load_manifest
from .rules import glob_matches
from .urls import url_path_to_relpath

__all__ = ["check_manifest"]


def _entry_line(manifest: Manifest, key: str, path: str, fallback: int) -> int:
    return manifest.entry_lines.get((key, path), fallback)


def check_manifest(
    path: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None, base_path: str = "/"
) -> list[Diagnostic]:
    """Every problem of the manifest at ``path``, errors and warnings, sorted by line.

    With ``output`` (the built site), every entry's file must exist there.
    """
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        return list(exc.diagnostics)
    file = manifest.filename
    found: list[Diagnostic] = []
    root = Path(output) if output is not None else None
    if root is not None and not root.is_dir():
        return [Diagnostic(str(root), 0, 0, "the output folder does not exist; run `pushgen build` first", "error")]

    def check_file(asset_path: str, line: int, what: str) -> None:
        if root is None:
            return
        relpath = url_path_to_relpath(asset_path, base_path)
        if relpath is None:
            found.append(Diagnostic(file, line, 0, f"{what} {asset_path} is outside the base path {base_path}", "error"))
            return
        target = root / (relpath if relpath and not relpath.endswith("/") else relpath + "index.html")
        if not target.is_file():
            found.append(Diagnostic(file, line, 0, f"{what} {asset_path} is not in {root}", "error"))
        elif not os.path.realpath(target).startswith(os.path.realpath(root) + os.sep):
            found.append(Diagnostic(file, line, 0, f"{what} {asset_path} leads outside {root} (a symlink)", "error"))

    def check_header(asset_path: str, line: int) -> None:
        asset = next(
            (a for assets in list(manifest.routes.values()) + [r.add for r in manifest.rules] for a in assets if a.path == asset_path),
            None,
        )
        if asset is None or not asset.hint:
            return
        try:
            link_value(asset)
        except ValueError as exc:
            found.append(Diagnostic(file, line, 0, f"{asset_path}: {exc}", "error"))

    for route, assets in manifest.routes.items():
        for asset in assets:
            line = _entry_line(manifest, route, asset.path, manifest.lines.get(route, 0))
            check_file(asset.path, line, "entry")
            check_header(asset.path, line)
    all_paths = {a.path for assets in manifest.routes.values() for a in assets}
    all_paths.update(a.path for rule in manifest.rules for a in rule.add)
    for rule in manifest.rules:
        key = f"rule:{rule.line}"
        for asset in rule.add:
            line = _entry_line(manifest, key, asset.path, rule.line)
            check_file(asset.path, line, "rule adds")
            check_header(asset.path, line)
        matched = [r for r in manifest.routes if rule.match.matches(r)]
        candidates = {a.path for r in matched for a in manifest.routes[r]} | {
            a.path for other in manifest.rules for a in other.add
        }
        for pattern in [c.path for c in rule.set] + list(rule.remove):
            if matched and not any(glob_matches(pattern, p) for p in candidates):
                line = _entry_line(manifest, key, pattern, rule.line)
                found.append(Diagnostic(file, line, 0, f"{pattern} matches no entry of the routes this rule applies to"))
    return sorted(found, key=lambda d: (d.line, d.column))
