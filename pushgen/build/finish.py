"""Resolved pages -> the manifest on disk: the one way every source finishes a manifest.

A site's build (pipeline.py), a built folder and a Quart app (from_source.py) all
end here: the hand rules of the manifest on disk are checked against what was
found, the new routes are put into its text by
:func:`pushgen.manifest.update_manifest_text` (which keeps everything outside the
generated ``routes`` byte for byte and refuses to overwrite hand edits inside
them), the Link budget is checked, and ``--strict`` turns any problem into an
error. :class:`FinishedManifest` then writes the manifest and the JSON Schema its
modeline names. The :class:`Resolver` every source follows references with is
made from the config here too (:func:`make_resolver`), in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, ManifestError, PushgenError
from ..fsutil import atomic_write
from ..manifest import SCHEMA_NAME, Manifest, update_manifest_text
from ..manifest.link_budget import link_budget_problems
from ..manifest.schema import schema_text
from ..manifest.writer import BUILD_COMMAND, SourceKind
from ..model import Asset
from .existing import check_rules
from .graph import Resolver

__all__ = ["FinishedManifest", "ManifestWriteError", "finish_manifest", "make_resolver"]


def make_resolver(
    config: SiteConfig,
    *,
    read: Callable[[str], bytes | None],
    exists: Callable[[str], bool],
) -> Resolver:
    """The resolver of ``config``'s site over a source's files (``read``/``exists`` by output path)."""
    return Resolver(
        base_path=config.base_path,
        read=read,
        exists=exists,
        push_destinations=config.push_destinations,
        hint_script_fetches=config.script_fetches == "hint",
        fonts=config.fonts,
    )


class ManifestWriteError(PushgenError):
    """The manifest or its schema could not be written (a read-only folder, a folder in
    the file's place): ``path`` where, ``errno`` the system's error number, and
    whether the manifest itself was written before."""

    def __init__(self, path: Path, error: OSError, *, manifest_written: bool) -> None:
        self.path, self.errno, self.manifest_written = path, error.errno, manifest_written
        outcome = (
            "the manifest is written; its JSON Schema is not (the manifest works without it)"
            if manifest_written
            else "nothing was written: the manifest is as it was"
        )
        super().__init__(f"{path}: cannot write: {error.strerror or error}; {outcome}")


@dataclass(frozen=True, slots=True)
class FinishedManifest:
    """A manifest ready to be written: its model, its text, and the text on disk before."""

    manifest: Manifest
    text: str
    existing_text: str | None
    path: Path
    diagnostics: list[Diagnostic]

    @property
    def changed(self) -> bool:
        """Whether the text differs from the file on disk (an unchanged file is not rewritten)."""
        return self.text != self.existing_text

    def write(self, *, protected: Path | None = None) -> None:
        """Write the manifest (when it changed) and its schema, each atomically.

        Raises :class:`ManifestWriteError` (where, why, and whether the manifest
        was written) when either cannot be written.
        """
        try:
            if self.changed:
                atomic_write(self.path, self.text.encode("utf-8"))
        except OSError as exc:
            raise ManifestWriteError(self.path, exc, manifest_written=False) from exc
        try:
            self.write_schema(protected=protected)
        except OSError as exc:
            schema = self.path.with_name(SCHEMA_NAME)
            raise ManifestWriteError(schema, exc, manifest_written=True) from exc

    def write_schema(self, *, protected: Path | None = None) -> None:
        """Write the JSON Schema the manifest's modeline names beside it, when it differs.

        Not inside ``protected`` (a folder pushgen did not make and must not add to).
        An OSError goes to the caller, which knows what was replaced by then.
        """
        schema = self.path.with_name(SCHEMA_NAME)
        if protected is not None and schema.is_relative_to(protected):
            return
        if _read_text(schema) != schema_text():
            atomic_write(schema, schema_text().encode("utf-8"))


def finish_manifest(
    routes: dict[str, tuple[Asset, ...]],
    config: SiteConfig,
    *,
    existing_text: str | None,
    existing: Manifest | None,
    known: set[str],
    diagnostics: list[Diagnostic],
    filename: str,
    strict: bool = False,
    force: bool = False,
    command: str = BUILD_COMMAND,
    accepts: Collection[SourceKind] | None = None,
    base: Mapping[str, tuple[Asset, ...]] | None = None,
    unchanged: Collection[str] = (),
    written: str | None = None,
) -> FinishedManifest:
    """Check the hand rules and put ``routes`` into the manifest's text (nothing is written yet).

    ``existing_text``/``existing`` are the manifest on disk (build/existing.py);
    ``known`` the source's output paths (for rules naming missing files);
    ``diagnostics`` what was found so far, extended here. ``command``, ``accepts``,
    ``base``, ``unchanged`` and ``written`` as for
    :func:`pushgen.manifest.update_manifest_text`. Raises :class:`BuildError` when
    the manifest cannot be updated without losing hand edits, and under ``strict``
    when anything was found wrong (every problem then an error).
    """
    rules = existing.rules if existing is not None else ()
    diagnostics.extend(check_rules(rules, routes, known, config, existing))
    try:
        text = update_manifest_text(
            existing_text,
            routes,
            filename=filename,
            force=force,
            base=base,
            unchanged=unchanged,
            written=written,
            command=command,
            accepts=accepts,
        )
    except ManifestError as exc:
        raise BuildError(exc.diagnostics) from None
    manifest = Manifest(routes=routes, rules=rules, filename=filename)
    diagnostics.extend(link_budget_problems(manifest, policy=config.policy, text=text))
    if strict and diagnostics:
        raise BuildError([_as_error(d) for d in diagnostics])
    return FinishedManifest(manifest, text, existing_text, config.manifest, diagnostics)


def _as_error(diagnostic: Diagnostic) -> Diagnostic:
    return Diagnostic(
        diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.message, "error"
    )


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
