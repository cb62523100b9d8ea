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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..config import DEFAULT_MAX_BYTES, DEFAULT_PUSH_DESTINATIONS, SiteConfig
from ..errors import Diagnostic
from ..fsutil import display_path, walk_sources
from ..links import normalise_base_path
from ..model import Asset, HtmlLimits
from ..progress import Progress, phase
from ..scan.html import scan_html_document
from ..scan.page_kind import NotAPage, not_a_page
from ..urls import document_url, unroutable, url_path_to_relpath
from .folder_pages import SubPath, detect_sub_path, excluded, page_references
from .protocol import ManifestTarget, PageScan
from .runtime_chunks import RuntimeChunks

__all__ = ["FolderSource", "folder_config", "page_route"]

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
    """The files of a built folder by output path (``_static/css/theme.css``), as a source.

    ``skip`` are output paths that are not the site's (the manifest and its schema
    when they are inside the folder); ``exclude`` globs of files that are not pages
    (folder_pages.py); ``target`` where its manifest goes. An ``.html`` file that is
    no document (a template: scan/page_kind.py) is no page either: :meth:`scan_page`
    says so with a :class:`~pushgen.scan.page_kind.NotAPage`.
    """

    root: Path
    base_path: str = "/"
    limits: HtmlLimits = field(default_factory=HtmlLimits)
    skip: frozenset[str] = frozenset()
    manifest: ManifestTarget | None = None
    exclude: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # output path -> file system path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # output path -> size in bytes
    # display_path(root), worked out once: os.path.relpath per page was 7% of a scan.
    _shown: str | None = field(default=None, repr=False, compare=False)
    # size_of's answers by URL path, for the sizes the last walk saw.
    _path_sizes: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    resolve_phase = "scan"
    resolve_unit = ".html file"  # a template among them is no page (scan/page_kind.py)
    forks = True  # nothing but page numbers and each page's entries cross processes

    @classmethod
    def walk(cls, root: Path, *, skip: frozenset[str] = frozenset()) -> FolderSource:
        """Every file under ``root`` a static server would serve, but those in ``skip``."""
        source = cls(root, skip=skip)
        source._walk()
        return source

    @property
    def shown(self) -> str:
        """The folder as diagnostics name it (:func:`pushgen.fsutil.display_path`)."""
        if self._shown is None:
            self._shown = display_path(self.root)
        return self._shown

    def _walk(self) -> None:
        """fsutil.walk_sources's rules: no dotfiles, links followed to files inside
        ``root`` only, regular files only; what it skips becomes a warning."""
        shown = self.shown
        found = walk_sources(self.root, self.root, root_name=shown)
        self._path_sizes.clear()
        for rel, path, st in found.files:
            if rel not in self.skip:
                self.files[rel] = path
                self.sizes[rel] = st.st_size
        self.diagnostics.extend(
            Diagnostic(f"{shown}/{rel}", 0, 0, why) for rel, why in found.skipped
        )

    def open(self, progress: Progress) -> Sequence[str]:
        """Walk the folder (phase ``walk``); its pages' output paths, sorted."""
        with phase(progress, "walk"):
            self._walk()
        pages = self.pages
        if not pages:
            self.diagnostics.append(
                Diagnostic(self.shown, 0, 0, "no .html pages found in the folder")
            )
        return pages

    def close(self) -> None:
        pass

    @property
    def pages(self) -> list[str]:
        """Output paths of the pages, sorted."""
        return sorted(
            rel
            for rel in self.files
            if rel.lower().endswith(_PAGE_SUFFIXES) and not excluded(self.exclude, rel)
        )

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

    def exists(self, relpath: str) -> bool:
        return relpath in self.files

    def size_of(self, path: str) -> int | None:
        """A file's size by URL path; every page's budget asks for the same few."""
        try:
            return self._path_sizes[path]
        except KeyError:
            relpath = url_path_to_relpath(path, self.base_path)
            size = self.size_of_relpath(relpath) if relpath is not None else None
            self._path_sizes[path] = size
            return size

    def known(self) -> set[str]:
        return set(self.files)

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        """A folder's pages are its routes; each gets, after its entries, the hints of the
        chunks a bundler's runtime loads for it (runtime_chunks.py: Docusaurus' webpack)."""
        chunks = RuntimeChunks(self.read, self.base_path)
        return {route: chunks.extend(route, assets) for route, assets in routes.items()}

    def built_for_sub_path(self, diagnostics: Sequence[Diagnostic]) -> SubPath | None:
        """The sub-path the folder was built for, when its pages' missing files say so.

        Only the pages with a warning are parsed again: the others' references all
        name files, so they cannot tell (folder_pages.detect_sub_path).
        """
        shown = self.shown + "/"
        warned = {d.file.removeprefix(shown) for d in diagnostics if d.file.startswith(shown)}
        pages = [rel for rel in self.pages if rel in warned]
        paths = page_references(pages, self.read, page_route, self.limits)
        return detect_sub_path(paths, self.files, self.files.__contains__)

    def target(self) -> ManifestTarget:
        assert self.manifest is not None, "a folder scanned into a manifest names it"
        return self.manifest

    def scan_page(self, key: str) -> PageScan | Diagnostic | NotAPage:
        """The page at output path ``key`` read and scanned; why not, when it is left out."""
        display = f"{self.shown}/{key}"
        route = page_route(key, self.base_path)
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
        data = self.read(key)
        if data is None:
            return Diagnostic(display, 0, 0, "cannot read the page: skipped")
        if (template := not_a_page(data)) is not None:
            return template
        document = scan_html_document(
            data, document_url(route), filename=display, limits=self.limits
        )
        scan = document.scan
        if "left_out" in scan.extra:  # over a bound of pushgen/scan/limits.py: not parsed
            return scan.diagnostics[-1]
        return PageScan(route, display, scan, lambda: data, document.tree)


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
