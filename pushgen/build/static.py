"""The site's static files: listing them, and copying them into a staging folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..config import SiteConfig
from ..errors import Diagnostic
from ..fsutil import (
    walk_sources,
)
from ..urls import url_path_to_relpath
from .incremental import (
    StaticFile,
)
from .staging import remove_emptied_folders, unlink


class _StaticSources(NamedTuple):
    """``SITE/static`` by output path (``static/...``)."""

    files: dict[str, str]  # source paths
    stats: dict[str, StaticFile]
    folders: list[str]
    skipped: list[Diagnostic]  # links out of the site, special files


def static_sources(config: SiteConfig) -> _StaticSources:
    """``SITE/static``: its files (source paths) and their stats by output path, and its folders.

    What belongs to the site is fsutil.walk_sources's rule (no dotfiles, no links
    out of the site, regular files only). Plain strings: a site has thousands of
    static files, and every build, incremental or not, looks at each.
    """
    found = walk_sources(config.static, config.root)
    files: dict[str, str] = {}
    stats: dict[str, StaticFile] = {}
    for rel, path, st in found.files:
        files[f"static/{rel}"] = path
        stats[f"static/{rel}"] = StaticFile(st.st_size, st.st_mtime_ns)
    folders = [f"static/{rel}" if rel else "static" for rel in found.folders]
    skipped = [Diagnostic(f"static/{rel}", 0, 0, why) for rel, why in found.skipped]
    return _StaticSources(files, stats, folders, skipped)


def _copy_file(source: str, target: Path, stat: StaticFile) -> None:
    """Copy ``source`` to the new file ``target`` with the mtime ``stat`` recorded.

    sendfile(2) between two descriptors and the mtime set through the descriptor:
    the fewest system calls and Python steps per file (a site has thousands, and
    their copying runs beside the rendering). Only the mtime matters to the next
    build (it decides hard-link or copy), so the rest of the metadata is not
    copied. O_EXCL: the staging folder shares files with the live output, and a
    file that exists must never be written into.
    """
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            offset = 0
            while sent := os.sendfile(dst, src, offset, 1 << 30):
                offset += sent
            os.utime(dst, ns=(stat.mtime_ns, stat.mtime_ns))
        finally:
            os.close(dst)
    finally:
        os.close(src)


# Files (source paths) and stats by output path, what was copied or removed, folders,
# and what was skipped.
StaticCopy = tuple[dict[str, str], dict[str, StaticFile], set[str], list[str], list[Diagnostic]]


def copy_static(config: SiteConfig, staging: Path) -> StaticCopy:
    """Copy ``SITE/static`` into a new staging folder; return its files, their stats, and what was copied.

    An unchanged file (same size and modification time as in the current output)
    is hard-linked from the output instead of copied.
    """
    files, stats, folders, skipped = static_sources(config)
    for folder in folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    copied: set[str] = set()
    output = f"{config.output}{os.sep}"
    into = f"{staging}{os.sep}"
    for rel, stat in stats.items():  # plain strings: 20,000 files at 10,000 pages
        try:
            old = os.stat(output + rel)
            if old.st_size == stat.size and old.st_mtime_ns == stat.mtime_ns:
                os.link(output + rel, into + rel)
                continue
        except OSError:
            pass
        _copy_file(files[rel], staging / rel, stat)
        copied.add(rel)
    return files, stats, copied, folders, skipped


def update_static(
    config: SiteConfig, staging: Path, previous: dict[str, StaticFile], missing: set[str]
) -> StaticCopy:
    """Bring the static files of a staging folder made from the spare up to date.

    The folder holds the output of the last build, which copied the files as
    ``previous`` records them: only files that changed since, appeared, or are
    ``missing`` are copied, and files whose source is gone are removed.
    """
    files, stats, folders, skipped = static_sources(config)
    for folder in folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    changed: set[str] = set()
    for rel, stat in stats.items():
        if previous.get(rel) != stat or rel in missing:
            target = staging / rel
            unlink(target)  # it may be a hard link to the live output's file
            _copy_file(files[rel], target, stat)
            changed.add(rel)
    kept = set(folders)
    for rel in previous.keys() - stats.keys():
        unlink(staging / rel)
        changed.add(rel)
        # A folder the site no longer has goes too (a full build would not make it).
        remove_emptied_folders(staging, rel, kept)
    return files, stats, changed, folders, skipped


class StaticFiles:
    """The site's static files by output path (``static/...``), read from their sources."""

    def __init__(self, files: dict[str, str], base_path: str) -> None:
        self.files = files  # output path -> source path
        self.base_path = base_path
        self._sizes: dict[str, int | None] = {}

    def read(self, relpath: str) -> bytes | None:
        """A file's bytes by output path, None when there is none."""
        source = self.files.get(relpath)
        if source is None:
            return None
        try:
            with open(source, "rb") as fh:
                return fh.read()
        except OSError:
            return None

    def size_of(self, path: str) -> int | None:
        """A file's size by URL path (for byte budgets), None when unknown."""
        if path not in self._sizes:
            relpath = url_path_to_relpath(path, self.base_path)
            source = self.files.get(relpath) if relpath is not None else None
            try:
                self._sizes[path] = os.stat(source).st_size if source is not None else None
            except OSError:
                self._sizes[path] = None
        return self._sizes[path]


def static_files(config: SiteConfig) -> StaticFiles:
    """The site's static files as the build would copy them, without copying."""
    files = static_sources(config).files
    return StaticFiles(files, config.base_path)
