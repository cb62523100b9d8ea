"""A folder another generator built (Sphinx, MkDocs, Hugo, Jekyll, ...) as the source.

The folder is the output, served as it is: every ``.html`` file is a page at the
URL the folder serves it at (``index.html`` at its folder's URL, everything under
the base path), every other file an asset at its own URL. Nothing is rendered and
nothing is copied; pushgen writes only the manifest (and the schema beside it,
unless that would put a file into the folder).

Dot-files and dot-folders are skipped, as ``pushgen serve`` never serves them. A
symbolic link is followed only while it stays inside the folder: one leading out
would make the manifest name files the folder does not hold (a warning says
which), and a link to a folder already walked is not walked twice.
"""

from __future__ import annotations

import functools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ...config import DEFAULT_PUSH_DESTINATIONS, SiteConfig
from ...errors import Diagnostic, PushgenError
from ...manifest import SCHEMA_NAME
from ...scan.html import scan_html
from ...urls import document_url, url_path_to_relpath
from .resolve import (
    PageScan,
    SourceResult,
    display_path,
    no_cyclic_gc,
    resolve_pages,
    write_manifest,
)

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
    _sizes: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def walk(cls, root: Path, *, skip: frozenset[str] = frozenset()) -> FolderSource:
        """Every file under ``root`` a static server would serve, but those in ``skip``."""
        source = cls(root)
        real_root = os.path.realpath(root)
        seen = {real_root}
        shown = display_path(root)

        def walk(directory: str, prefix: str) -> None:
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError as exc:
                source.diagnostics.append(
                    Diagnostic(f"{shown}/{prefix}", 0, 0, f"cannot read folder: {exc.strerror}")
                )
                return
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = prefix + entry.name
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if target != real_root and not target.startswith(real_root + os.sep):
                        source.diagnostics.append(
                            Diagnostic(
                                f"{shown}/{rel}",
                                0,
                                0,
                                f"symbolic link to {target}, outside {shown}: not followed "
                                "(a server confined to the folder will not serve it either)",
                            )
                        )
                        continue
                    if not os.path.exists(target):
                        source.diagnostics.append(
                            Diagnostic(f"{shown}/{rel}", 0, 0, "broken symbolic link: skipped")
                        )
                        continue
                    if os.path.isdir(target):
                        if target in seen:
                            continue  # a loop, or a folder walked under another name
                        seen.add(target)
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    seen.add(os.path.realpath(entry.path))
                    walk(entry.path, rel + "/")
                elif rel not in skip:
                    source.files[rel] = entry.path

        walk(os.fspath(root), "")
        return source

    @property
    def pages(self) -> list[str]:
        """Output paths of the pages, sorted."""
        return sorted(rel for rel in self.files if rel.lower().endswith(_PAGE_SUFFIXES))

    def read(self, relpath: str) -> bytes | None:
        """A file's bytes by output path, None when the folder has none."""
        path = self.files.get(relpath)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError:
            return None

    def size_of_relpath(self, relpath: str) -> int | None:
        if relpath not in self._sizes:
            path = self.files.get(relpath)
            try:
                self._sizes[relpath] = os.stat(path).st_size if path is not None else None
            except OSError:
                self._sizes[relpath] = None
        return self._sizes[relpath]


def folder_config(
    folder: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    base_path: str = "/",
    push_destinations: frozenset[str] = DEFAULT_PUSH_DESTINATIONS,
    max_pushes: int | None = None,
    max_bytes: int | None = None,
) -> SiteConfig:
    """The settings of a built folder: it is its own output; ``base_path`` is normalised."""
    root = Path(folder).resolve()
    if not base_path.startswith("/"):
        base_path = "/" + base_path
    if not base_path.endswith("/"):
        base_path += "/"
    return SiteConfig(
        root=root,
        output=root,
        manifest=Path(manifest).resolve(),
        base_path=base_path,
        push_destinations=push_destinations,
        max_pushes=max_pushes,
        max_bytes=max_bytes,
    )


def scan_folder(
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
) -> SourceResult:
    """Scan the built folder ``config.output`` and write ``config.manifest``; see the module docs.

    With ``write=False`` nothing is written (``--check``). Raises
    :class:`~pushgen.errors.BuildError` under ``strict`` when anything was found
    wrong, or when the manifest holds hand edits inside its generated routes
    (unless ``force``); :class:`~pushgen.errors.PushgenError` when the folder is
    missing.
    """
    with no_cyclic_gc():
        return _scan_folder(config, strict=strict, write=write, force=force)


def _scan_folder(config: SiteConfig, *, strict: bool, write: bool, force: bool) -> SourceResult:
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
    source = FolderSource.walk(root, skip=skip)
    diagnostics = list(source.diagnostics)
    shown = display_path(root)
    pages = source.pages
    if not pages:
        diagnostics.append(Diagnostic(shown, 0, 0, "no .html pages found in the folder"))

    def scans() -> list[PageScan]:
        out = []
        for rel in pages:
            data = source.read(rel)
            display = f"{shown}/{rel}"
            if data is None:
                diagnostics.append(Diagnostic(display, 0, 0, "cannot read the page: skipped"))
                continue
            route = page_route(rel, config.base_path)
            scan = scan_html(data, document_url(route), filename=display)
            out.append(PageScan(route, display, scan, functools.partial(source.read, rel)))
        return out

    def size_of(path: str) -> int | None:
        relpath = url_path_to_relpath(path, config.base_path)
        return source.size_of_relpath(relpath) if relpath is not None else None

    routes = resolve_pages(
        scans(),
        config,
        read=source.read,
        exists=source.files.__contains__,
        size_of=size_of,
        diagnostics=diagnostics,
    )
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
    )
