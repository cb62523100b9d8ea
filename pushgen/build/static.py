"""The site's static files: listing them, and copying (and precompressing) them into a staging folder."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..codings import CODINGS, COMPRESSIBLE
from ..config import SiteConfig
from ..errors import Diagnostic
from ..fsutil import walk_sources
from ..precompress import Precompressed, precompress
from ..urls import url_path_to_relpath
from .fingerprint_files import fingerprinted_sources
from .incremental import StaticFile
from .staging import remove_emptied_folders, unlink


class _StaticSources(NamedTuple):
    """``SITE/static`` by output path (``static/...``)."""

    files: dict[str, str]  # source paths
    stats: dict[str, StaticFile]
    folders: list[str]
    skipped: list[Diagnostic]  # links out of the site, special files
    # fingerprint: true: output path -> its hashed output path (also in files and stats).
    names: dict[str, str] = {}  # noqa: RUF012 (never changed: a new one is made each time)


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
        stats[f"static/{rel}"] = StaticFile.of(st)
    folders = [f"static/{rel}" if rel else "static" for rel in found.folders]
    skipped = [Diagnostic(f"static/{rel}", 0, 0, why) for rel, why in found.skipped]
    hashed = fingerprinted_sources(config, files, stats)
    files.update(hashed.files)
    stats.update(hashed.stats)
    return _StaticSources(files, stats, folders, [*skipped, *hashed.diagnostics], hashed.names)


class Copy(NamedTuple):
    """One static file to put into the staging folder: copied, or hard-linked."""

    source: str
    target: str
    mtime_ns: int  # the source's: the next build compares it
    # A hard link of the live output's own file (which pushgen wrote: the last build's
    # copy, unchanged since) rather than a copy. Never a link of the site's source: a
    # server or tool editing the output in place would edit the site.
    link: bool = False


def _copy_file(source: str, target: str, mtime_ns: int) -> None:
    """Copy ``source`` to the new file ``target`` with the modification time ``mtime_ns``.

    sendfile(2) between two descriptors and the mtime set through the descriptor:
    the fewest system calls and Python steps per file (a site has thousands).
    Only the mtime matters to the next build (it decides hard-link or copy), so
    the rest of the metadata is not copied. O_EXCL: the staging folder shares
    files with the live output, and a file that exists must never be written into.
    """
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            offset = 0
            while sent := os.sendfile(dst, src, offset, 1 << 30):
                offset += sent
            os.utime(dst, ns=(mtime_ns, mtime_ns))
        finally:
            os.close(dst)
    finally:
        os.close(src)


def put_files(copies: Iterable[Copy]) -> None:
    """Make the planned copies and links (see :func:`copy_static`)."""
    for copy in copies:
        if copy.link:
            os.link(copy.source, copy.target)
        else:
            _copy_file(copy.source, copy.target, copy.mtime_ns)


def stage_static(copies: list[Copy], staging: Path, compressible: list[str]) -> Precompressed:
    """Put the static files into the staging folder, then write their ``.br``/``.gz`` siblings.

    Both only read the site and write files of their own, so the build runs them
    beside the rendering, in another process where a core is free (workers.py):
    brotli at its best level holds the GIL while it compresses (measured with
    brotli 1.2: two threads compressing use one core between them), so a thread
    would not do.
    """
    put_files(copies)
    return precompress(staging, compressible)


@dataclass(frozen=True, slots=True)
class StaticCopy:
    """The site's static files as a build copies them into its staging folder."""

    files: dict[str, str]  # output path -> source path
    stats: dict[str, StaticFile]  # output path -> size and modification time
    changed: set[str]  # output paths copied or removed by this build
    folders: list[str]  # the folders they are in (output paths)
    skipped: list[Diagnostic]  # what is not copied, and why


@dataclass(frozen=True, slots=True)
class StaticPlan:
    """The static files of a build, and the copies and links that put them into its staging
    folder (made beside the rendering: :func:`stage_static`)."""

    static: StaticCopy
    copies: list[Copy]


def copy_static(
    config: SiteConfig, staging: Path, copied_before: dict[str, StaticFile]
) -> StaticPlan:
    """Plan ``SITE/static``'s copy into a new staging folder: its files, their stats, what is copied.

    Makes the folders; returns the copies to make (:func:`put_files`), so that
    they can be made beside the rendering. An unchanged file is hard-linked from
    the output instead of copied: its stat is the one ``copied_before`` (the last
    build's state) records, so the output's copy is of these bytes (a size and
    mtime alone miss an edit that sets the old mtime back), and the output's file
    has its size and mtime still.
    """
    found = static_sources(config)
    files, stats = found.files, found.stats
    for folder in found.folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    copied: set[str] = set()
    copies: list[Copy] = []
    output = f"{config.output}{os.sep}"
    into = f"{staging}{os.sep}"
    for rel, stat in stats.items():  # plain strings: 20,000 files at 10,000 pages
        if copied_before.get(rel) == stat and _same_copy(output + rel, stat):
            copies.append(Copy(output + rel, into + rel, stat.mtime_ns, link=True))
            continue
        copies.append(Copy(files[rel], into + rel, stat.mtime_ns))
        copied.add(rel)
    return StaticPlan(StaticCopy(files, stats, copied, found.folders, found.skipped), copies)


def _same_copy(path: str, stat: StaticFile) -> bool:
    """Whether the output's file ``path`` still has the size and mtime of its copy."""
    try:
        old = os.stat(path)
    except OSError:
        return False
    return old.st_size == stat.size and old.st_mtime_ns == stat.mtime_ns


def update_static(
    config: SiteConfig, staging: Path, previous: dict[str, StaticFile], missing: set[str]
) -> StaticPlan:
    """Plan bringing the static files of a staging folder made from the spare up to date.

    The folder holds the output of the last build, which copied the files as
    ``previous`` records them: only files that changed since, appeared, or are
    ``missing`` are copied (returned as copies to make), and files whose source
    is gone are removed here.
    """
    found = static_sources(config)
    files, stats = found.files, found.stats
    for folder in found.folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    changed: set[str] = set()
    copies: list[Copy] = []
    for rel, stat in stats.items():
        if previous.get(rel) != stat or rel in missing:
            target = staging / rel
            unlink(target)  # it may be a hard link to the live output's file
            copies.append(Copy(files[rel], str(target), stat.mtime_ns))
            changed.add(rel)
    kept = set(found.folders)
    for rel in previous.keys() - stats.keys():
        unlink(staging / rel)
        changed.add(rel)
        # A folder the site no longer has goes too (a full build would not make it).
        remove_emptied_folders(staging, rel, kept)
    return StaticPlan(StaticCopy(files, stats, changed, found.folders, found.skipped), copies)


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


def compressible_static(static: Iterable[str]) -> list[str]:
    """The static files precompress needs to see: those of a type that compresses, and
    siblings the site ships itself (which it must not replace). Handing it only these
    spares it a Path for each of a large site's images on every build (0.19 s of a
    1.2 s rebuild of 5,000 pages that changed nothing)."""
    siblings = tuple(CODINGS.values())
    return [
        rel
        for rel in static
        if rel.endswith(siblings) or os.path.splitext(rel)[1].lower() in COMPRESSIBLE
    ]
