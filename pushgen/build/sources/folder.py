"""A folder another generator built (Sphinx, MkDocs, Hugo, Jekyll, ...) as the source.

The folder is the output, served as it is: every ``.html`` file is a page at the
URL the folder serves it at (``index.html`` at its folder's URL, everything under
the base path), every other file an asset at its own URL. Nothing is rendered and
nothing is copied; pushgen writes only the manifest (and the schema beside it,
unless that would put a file into the folder).

The files are fsutil.walk_sources's, as for a site's sources: dot-files and
dot-folders are skipped (``pushgen serve`` never serves them); a symbolic link is
followed to a file inside the folder only (one leading out would make the manifest
name files the folder does not hold: a warning says which), never to a folder;
FIFOs, devices and sockets are skipped with a warning.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ...config import DEFAULT_MAX_BYTES, DEFAULT_PUSH_DESTINATIONS, SiteConfig
from ...errors import Diagnostic, PushgenError
from ...fsutil import walk_sources
from ...links import normalise_base_path
from ...manifest import SCHEMA_NAME
from ...model import Asset, HtmlLimits
from ...progress import NO_PROGRESS, Progress, phase
from ...scan.html import scan_html_document
from ...urls import document_url, unroutable, url_path_to_relpath
from .resolve import (
    PageResolver,
    PageScan,
    ResolvedPage,
    SourceResult,
    display_path,
    no_cyclic_gc,
    write_manifest,
)
from .scanpool import map_pages

__all__ = ["FolderSource", "folder_config", "page_route", "scan_folder"]

_PAGE_SUFFIXES = (".html", ".htm")
# A URL path that percent-encoding leaves as it is (most file names).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~/-]*")


def page_route(relpath: str, base_path: str = "/") -> str:
    """The URL path a static server answers with the page at ``relpath`` (``a/index.html`` -> ``/a/``)."""
    folder, _, name = relpath.rpartition("/")
    url = (
        f"{folder}/" if folder and name == "index.html" else "" if name == "index.html" else relpath
    )
    if not _UNRESERVED.fullmatch(url):
        # os.fsencode: a name that is not UTF-8 is requested with its own bytes.
        url = quote(os.fsencode(url), safe="/")
    return base_path + url


@dataclass(slots=True)
class FolderSource:
    """The files of a built folder by output path (``_static/css/theme.css``)."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)  # output path -> file system path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # output path -> size in bytes

    @classmethod
    def walk(cls, root: Path, *, skip: frozenset[str] = frozenset()) -> FolderSource:
        """Every file under ``root`` a static server would serve, but those in ``skip``.

        fsutil.walk_sources's rules: no dotfiles, links followed to files inside
        ``root`` only, regular files only; what it skips becomes a warning.
        """
        source = cls(root)
        shown = display_path(root)
        found = walk_sources(root, root, root_name=shown)
        for rel, path, st in found.files:
            if rel not in skip:
                source.files[rel] = path
                source.sizes[rel] = st.st_size
        source.diagnostics.extend(
            Diagnostic(f"{shown}/{rel}", 0, 0, why) for rel, why in found.skipped
        )
        return source

    @property
    def pages(self) -> list[str]:
        """Output paths of the pages, sorted."""
        return sorted(rel for rel in self.files if rel.lower().endswith(_PAGE_SUFFIXES))

    def read(self, relpath: str) -> bytes | None:
        """A file's bytes by output path, None when the folder has none (or it cannot be read)."""
        path = self.files.get(relpath)
        if path is None:
            return None
        # os.read with the size the walk saw: one system call for the whole file and
        # no file object (a scan reads every page; open() and its buffered reader were
        # 0.38 s of a profiled 10,000-page scan). O_NONBLOCK: a file swapped for a
        # FIFO since the walk must not hang.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            size = self.sizes.get(relpath, 0)
            data = os.read(fd, size + 1)
            if len(data) <= size:  # a short read of a regular file is its end
                return data
            parts = [data]  # the file grew since the walk
            while part := os.read(fd, 1 << 20):
                parts.append(part)
            return b"".join(parts)
        except OSError:
            return None
        finally:
            os.close(fd)

    def size_of_relpath(self, relpath: str) -> int | None:
        """A file's size by output path (as the walk found it), None when the folder has none."""
        return self.sizes.get(relpath)


def folder_config(
    folder: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    base_path: str = "/",
    push_destinations: frozenset[str] = DEFAULT_PUSH_DESTINATIONS,
    max_pushes: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    html_limits: HtmlLimits | None = None,
) -> SiteConfig:
    """The settings of a built folder: it is its own output; ``base_path`` is normalised."""
    root = Path(folder).resolve()
    return SiteConfig(
        root=root,
        output=root,
        manifest=Path(manifest).resolve(),
        base_path=normalise_base_path(base_path),
        push_destinations=push_destinations,
        max_pushes=max_pushes,
        max_bytes=max_bytes,
        html_limits=html_limits or HtmlLimits(),
    )


def scan_folder(
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> SourceResult:
    """Scan the built folder ``config.output`` and write ``config.manifest``; see the module docs.

    With ``write=False`` nothing is written (``--check``). ``jobs`` processes scan
    the pages (default: as many as the idle cores and the measured cost of the
    first pages make worthwhile, as for a build; the manifest is the same for any
    number). Raises
    :class:`~pushgen.errors.BuildError` under ``strict`` when anything was found
    wrong, or when the manifest holds hand edits inside its generated routes
    (unless ``force``); :class:`~pushgen.errors.PushgenError` when the folder is
    missing. Its phases (walk, scan, manifest) and the pages scanned go to ``progress``.
    """
    with no_cyclic_gc():
        return _scan_folder(
            config, strict=strict, write=write, force=force, jobs=jobs, progress=progress
        )


def _scan_folder(
    config: SiteConfig,
    *,
    strict: bool,
    write: bool,
    force: bool,
    jobs: int | None,
    progress: Progress,
) -> SourceResult:
    started = time.perf_counter()
    root = config.output
    if not root.is_dir():
        raise PushgenError(f"no folder at {root}: give the folder your site generator built")
    # The manifest and its schema are pushgen's files, not the site's, when they
    # are inside the folder (-m DIR/push-manifest.yaml).
    skip = frozenset(
        os.path.relpath(path, root).replace(os.sep, "/")
        for path in (config.manifest, config.manifest.with_name(SCHEMA_NAME))
        if path.is_relative_to(root)
    )
    with phase(progress, "walk"):
        source = FolderSource.walk(root, skip=skip)
    diagnostics = list(source.diagnostics)
    pages = source.pages
    if not pages:
        diagnostics.append(
            Diagnostic(display_path(root), 0, 0, "no .html pages found in the folder")
        )
    with phase(progress, "scan", len(pages)):
        routes = _scan_pages(source, pages, config, jobs, diagnostics, progress)
    with phase(progress, "manifest"):
        return write_manifest(
            routes,
            config,
            known=set(source.files),
            diagnostics=diagnostics,
            pages=len(pages),
            started=started,
            strict=strict,
            write=write,
            force=force,
            protected=root,
            command=f"pushgen scan {shlex.quote(display_path(root))}",
        )


def _scan_pages(
    source: FolderSource,
    pages: list[str],
    config: SiteConfig,
    jobs: int | None,
    diagnostics: list[Diagnostic],
    progress: Progress,
) -> dict[str, tuple[Asset, ...]]:
    """Read, scan and resolve each page (on ``jobs`` processes, None: as it pays); its entries by route.

    Problems go to ``diagnostics``: the pages that cannot be read first, then
    each page's in page order, as one process finds them.
    """
    shown = display_path(source.root)

    def size_of(path: str) -> int | None:
        relpath = url_path_to_relpath(path, config.base_path)
        return source.size_of_relpath(relpath) if relpath is not None else None

    resolve = PageResolver(
        config, read=source.read, exists=source.files.__contains__, size_of=size_of
    )

    def scan_page(rel: str) -> ResolvedPage | Diagnostic:
        display = f"{shown}/{rel}"
        route = page_route(rel, config.base_path)
        why = unroutable(route)
        if why is not None:
            # Every text export would refuse the whole manifest for this one route.
            return Diagnostic(
                ascii(display)[1:-1],
                0,
                0,
                f"the page's URL {route} {why}, which no server configuration can hold"
                " (the exports refuse it): left out of the manifest; rename the file",
            )
        data = source.read(rel)
        if data is None:
            return Diagnostic(display, 0, 0, "cannot read the page: skipped")
        document = scan_html_document(
            data, document_url(route), filename=display, limits=config.html_limits
        )
        scan, tree = document.scan, document.tree
        if "left_out" in scan.extra:  # over a bound of pushgen/scan/limits.py: not parsed
            return scan.diagnostics[-1]
        return resolve(PageScan(route, display, scan, lambda: data, tree))

    routes: dict[str, tuple[Asset, ...]] = {}
    found: list[Diagnostic] = []
    for done, outcome in enumerate(map_pages(scan_page, pages, jobs), 1):
        if done % 50 == 0:
            progress.advance("scan", done)
        if isinstance(outcome, Diagnostic):
            diagnostics.append(outcome)
        else:
            routes[outcome.route] = outcome.assets
            found.extend(outcome.diagnostics)
    diagnostics.extend(found)
    return routes
