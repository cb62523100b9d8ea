"""From scanned pages to manifest routes, and the manifest written like ``pushgen build`` does.

Shared by every source in this package. The engine is the build's: each page's
HTML scan goes through :class:`pushgen.build.graph.Resolver` (stylesheets, ``@import``,
fonts, module graphs) and the site's push budget; the manifest text is made by
:func:`pushgen.manifest.update_manifest_text`, which keeps everything outside the
generated ``routes`` (rules, comments) byte for byte and refuses to overwrite
hand edits inside them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ...config import SiteConfig
from ...errors import BuildError, Diagnostic, ManifestError, counted
from ...fsutil import atomic_write, display_path
from ...gc_pause import paused_gc as no_cyclic_gc
from ...manifest import SCHEMA_NAME, Manifest, update_manifest_text
from ...manifest.link_budget import link_budget_problems
from ...manifest.schema import schema_text
from ...manifest.writer import SourceKind
from ...model import Asset, ScanResult
from ...outcome import summary_line
from ...urls import document_url
from ..existing import check_rules, read_existing_manifest
from ..graph import Resolver, apply_budget

__all__ = [
    "PageResolver",
    "PageScan",
    "ResolvedPage",
    "SourceResult",
    "display_path",
    "no_cyclic_gc",
    "resolve_pages",
    "write_manifest",
]


@dataclass(frozen=True, slots=True)
class PageScan:
    """One page of a source: the route it is served at, where it came from, its HTML scan."""

    route: str
    display: str
    scan: ScanResult
    # The page again, read only when its fonts are traced (pushgen/build/fonts.py).
    html: Callable[[], bytes | str | None] | None = None
    # The page as the scan parsed it (lxml), when the source still holds it: tracing
    # then needs no second parse.
    tree: Any = None


@dataclass(slots=True)
class SourceResult:
    """What scanning a source produced: the manifest (text and model) and what was found wrong."""

    manifest: Manifest
    manifest_text: str
    diagnostics: list[Diagnostic]
    pages: int
    seconds: float = 0.0
    written: bool = False
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def summary(self) -> str:
        assets = len({a.path for assets in self.manifest.routes.values() for a in assets})
        # A scan's .html files that are no document (pushgen/scan/page_kind.py).
        not_pages = self.extra.get("not_pages", 0)
        skipped = (
            f"; skipped {counted(not_pages, '.html file')} that"
            f" {'is a template, not a page' if not_pages == 1 else 'are templates, not pages'}"
            " (no doctype, <html>, <head> or <body>; template markup)"
            if not_pages
            else ""
        )
        return (
            summary_line(
                pages=self.pages,
                assets=assets,
                routes=len(self.manifest.routes),
                warnings=len(self.warnings),
                errors=len(self.errors),
                seconds=self.seconds,
            )
            + skipped
        )


class ResolvedPage(NamedTuple):
    """One page's manifest entries and the problems found on the way.

    A named tuple: a scan's worker processes send one back per page, and a
    tuple pickles in a fraction of a dataclass's time.
    """

    route: str
    assets: tuple[Asset, ...]
    diagnostics: tuple[Diagnostic, ...]


class PageResolver:
    """Resolves pages one at a time, with one :class:`Resolver` (and its caches) for all.

    ``read``/``exists`` take output paths (relative to the site's root URL, as
    :func:`pushgen.urls.url_path_to_relpath` makes them); ``size_of`` a URL path.
    """

    def __init__(
        self,
        config: SiteConfig,
        *,
        read: Callable[[str], bytes | None],
        exists: Callable[[str], bool],
        size_of: Callable[[str], int | None],
    ) -> None:
        self._resolver = Resolver(
            base_path=config.base_path,
            read=read,
            exists=exists,
            push_destinations=config.push_destinations,
            hint_script_fetches=config.script_fetches == "hint",
            fonts=config.fonts,
        )
        self._policy = config.policy
        self._size_of = size_of

    def __call__(self, page: PageScan) -> ResolvedPage:
        page_assets = self._resolver.page_assets(
            page.display,
            page.scan,
            html=page.html,
            url=document_url(page.route),
            tree=page.tree,
        )
        found = apply_budget(page_assets.found, self._policy, self._size_of)
        return ResolvedPage(
            page.route,
            tuple(item.asset for item in found),
            (*page.scan.diagnostics, *page_assets.diagnostics),
        )


def resolve_pages(
    pages: Iterable[PageScan],
    config: SiteConfig,
    *,
    read: Callable[[str], bytes | None],
    exists: Callable[[str], bool],
    size_of: Callable[[str], int | None],
    diagnostics: list[Diagnostic],
) -> dict[str, tuple[Asset, ...]]:
    """Each page's ordered manifest entries by route; problems go to ``diagnostics``.

    ``read``, ``exists`` and ``size_of`` as for :class:`PageResolver`.
    """
    resolve = PageResolver(config, read=read, exists=exists, size_of=size_of)
    routes: dict[str, tuple[Asset, ...]] = {}
    for page in pages:
        resolved = resolve(page)
        diagnostics.extend(resolved.diagnostics)
        routes[resolved.route] = resolved.assets
    return routes


def write_manifest(
    routes: dict[str, tuple[Asset, ...]],
    config: SiteConfig,
    *,
    known: set[str],
    diagnostics: list[Diagnostic],
    pages: int,
    started: float,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    protected: Path | None = None,
    command: str,
    accepts: Collection[SourceKind] | None = None,
) -> SourceResult:
    """Put ``routes`` into ``config.manifest`` (unless ``write`` is false) and say what happened.

    ``known`` are the output paths of the source (for warnings about rules naming
    missing files). Nothing is written when ``strict`` and anything was found
    wrong, or when the manifest on disk cannot be updated without losing hand
    edits: both raise :class:`BuildError`. ``command`` (``pushgen scan``) is named in
    the manifest as the writer of its routes; routes another kind of source wrote are
    replaced only if ``accepts`` it (see :func:`pushgen.manifest.update_manifest_text`). The JSON Schema the manifest's modeline
    names is written beside it, unless that is inside ``protected`` (a folder
    pushgen did not make and must not add to).
    """
    existing_text, existing = read_existing_manifest(config)
    rules = existing.rules if existing is not None else ()
    diagnostics = list(dict.fromkeys(diagnostics))
    diagnostics.extend(check_rules(rules, routes, known, config, existing))
    filename = existing.filename if existing is not None else str(config.manifest)
    try:
        text = update_manifest_text(
            existing_text,
            routes,
            filename=filename,
            force=force,
            command=command,
            accepts=accepts,
        )
    except ManifestError as exc:
        raise BuildError(exc.diagnostics) from None
    manifest = Manifest(routes=routes, rules=rules, filename=filename)
    diagnostics.extend(link_budget_problems(manifest, policy=config.policy, text=text))
    if strict and diagnostics:
        raise BuildError(
            [Diagnostic(d.file, d.line, d.column, d.message, "error") for d in diagnostics]
        )
    result = SourceResult(
        manifest=manifest,
        manifest_text=text,
        diagnostics=diagnostics,
        pages=pages,
    )
    if write:
        if text != existing_text:
            atomic_write(config.manifest, text.encode("utf-8"))
        schema = config.manifest.with_name(SCHEMA_NAME)
        inside = protected is not None and schema.is_relative_to(protected)
        if not inside and _read(schema) != schema_text():
            atomic_write(schema, schema_text().encode("utf-8"))
        result.written = True
    result.seconds = time.perf_counter() - started
    return result


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
