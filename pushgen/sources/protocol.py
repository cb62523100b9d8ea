"""What every source of pages offers the build: its pages, its files, its manifest's hand part.

A source is where pages come from: a folder another generator built
(:class:`~pushgen.sources.folder.FolderSource`), a Quart app through its test
client (:class:`~pushgen.sources.quart_app.AppSource`), or an in-memory set of pages in
a test. The build (:func:`pushgen.build.from_source.build_source`) resolves any
of them the same way and finishes one manifest
(:func:`pushgen.build.finish.finish_manifest`); a source reads, the build decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import Diagnostic
from ..manifest.writer import SourceKind
from ..model import Asset, HtmlLimits, ScanResult
from ..progress import Progress
from ..scan.html import scan_html
from ..scan.page_kind import NotAPage
from ..urls import document_url

__all__ = ["ManifestTarget", "PageScan", "Source", "scan_rendered"]


@dataclass(frozen=True, slots=True)
class PageScan:
    """One page of a source: the route it is served at, where it came from, its HTML scan."""

    route: str
    display: str
    scan: ScanResult
    # The page again, read only when its fonts are traced (pushgen/build/fonts/).
    html: Callable[[], bytes | str | None] | None = None
    # The page as the scan parsed it (lxml), when the source still holds it: tracing
    # then needs no second parse.
    tree: Any = None


@dataclass(frozen=True, slots=True)
class ManifestTarget:
    """Where a source's manifest goes and whose routes it may replace.

    The manifest's hand part (rules, comments) is whatever the file at ``path``
    holds; ``command`` is named in it as the writer of the routes, which replaces
    routes another kind of source wrote only if ``accepts`` that kind (see
    :func:`pushgen.manifest.update_manifest_text`). The schema is written beside
    the manifest unless that is inside ``protected`` (a folder pushgen did not make).
    """

    path: Path
    command: str
    accepts: tuple[SourceKind, ...] | None = None
    protected: Path | None = None


class Source(Protocol):
    """A source of pages, read through the same few questions by the build.

    Output paths (``_static/theme.css``) are relative to the site's root URL, as
    :func:`pushgen.urls.url_path_to_relpath` makes them; ``size_of`` takes a URL path.
    """

    # The name of the phase its pages are resolved in ("scan", "resolve").
    resolve_phase: str
    # What that phase counts: "page", or ".html file" where some may turn out no page.
    resolve_unit: str
    # Whether its pages may be resolved in forked processes (not an app's event loop).
    forks: bool

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """What the source found wrong so far (a skipped file, a view that raised)."""

    def open(self, progress: Progress) -> Sequence[str]:
        """Find the pages (walk, render): their keys, in the manifest's page order."""

    def close(self) -> None:
        """Let go of what :meth:`open` took (an app's event loop)."""

    def scan_page(self, key: str) -> PageScan | Diagnostic | NotAPage:
        """The page ``key`` read and scanned, or why it is left out (a Diagnostic), or
        that it is no page after all (a template shipped as ``.html``: not counted)."""

    def read(self, relpath: str) -> bytes | None:
        """A file's bytes by output path, None when the source has none."""

    def exists(self, relpath: str) -> bool:
        """Whether the source has a file at the output path."""

    def size_of(self, path: str) -> int | None:
        """A file's size by URL path, None when the source has none."""

    def known(self) -> set[str]:
        """The output paths of the files the source has (for rules naming missing files)."""

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        """The routes as the manifest holds them (an app folds a rule's URLs into the rule)."""

    def target(self) -> ManifestTarget:
        """Where the manifest goes and what it may replace."""


def scan_rendered(route: str, html: bytes, limits: HtmlLimits) -> PageScan:
    """The page an app rendered for ``route`` (a GET of it), scanned: what both app sources give."""
    display = f"GET {route}"
    scan = scan_html(html, document_url(route), filename=display, limits=limits)
    return PageScan(route, display, scan, lambda: html)
