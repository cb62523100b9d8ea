"""The build: render every page, copy static files, follow references, write the manifest.

Nothing is written in place. Pages and static files go to a staging folder next
to the output, which replaces the output in one atomic step once everything
succeeded; the manifest is replaced atomically too. The replaced output is kept
as a spare copy (hard links) that the next build starts its staging folder from,
so a rebuild writes only what changed. A failed or killed build
leaves the previous output and manifest as they were. A lock file next to the
output makes a second concurrent build refuse with a clear message.

Large sites render on every core: pages are split into chunks, each worker
renders, writes and scans its pages, and sends back only the scan results; the
main process follows stylesheets and modules (a handful of files, each scanned
once) and assembles the manifest.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import gc
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from .config import CONFIG_NAME, SiteConfig
from .errors import BuildError, Diagnostic, ManifestError, PushgenError
from .fsutil import (
    OUTPUT_MARKER,
    OutputFolderError,
    OutputWriteError,
    atomic_write,
    check_output_location,
    check_output_owned,
    stage_file,
    swap_directory,
    walk_sources,
)
from .graph import Resolver, apply_budget
from .incremental import (
    AssetTable,
    BuildState,
    PageState,
    StaticFile,
    config_key,
    load_state,
    pages_to_render,
    save_state,
    scan_templates,
    state_path,
    written_files,
)
from .manifest import (
    SCHEMA_NAME,
    Manifest,
    parse_hand_part,
    routes_checksum,
    update_manifest_text,
)
from .manifest.check import rule_problems
from .manifest.rules import Rule
from .manifest.schema import schema_text
from .model import Asset, Reference, ScanResult
from .render import Page, Renderer, RenderError, discover_pages
from .scan.css import scan_css
from .scan.html import scan_html
from .scan.js import scan_js
from .urls import document_url, url_path_to_relpath

__all__ = ["BuildResult", "PageResult", "StaticFiles", "build_site", "static_files"]

# Below this many pages a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page after the build: where it is served and the assets it needs, in order."""

    page: Page
    assets: tuple[Asset, ...]


@dataclass(slots=True)
class BuildResult:
    """What a build produced and found."""

    config: SiteConfig
    manifest: Manifest
    pages: list[PageResult]
    diagnostics: list[Diagnostic]
    seconds: float
    static_files: int = 0
    written: bool = False
    manifest_text: str = ""
    # Pages rendered by this build (fewer than all when it was incremental).
    rendered: int = 0

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def error_diagnostics(self) -> list[Diagnostic]:
        """Errors in the input the build went past (a page lxml gave up on, say)."""
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def asset_count(self) -> int:
        return len({a.path for assets in self.manifest.routes.values() for a in assets})

    def summary(self) -> str:
        """The one-line summary every build ends with."""
        counts = (
            (len(self.pages), "page"),
            (self.asset_count, "asset"),
            (len(self.manifest.routes), "route"),
            (len(self.warnings), "warning"),
            (len(self.error_diagnostics), "error"),
        )
        listed = ", ".join(f"{n} {noun}" if n == 1 else f"{n} {noun}s" for n, noun in counts)
        return f"{listed} in {self.seconds:.2f}s"


# --- locking and staging ------------------------------------------------------


@contextlib.contextmanager
def _build_lock(output: Path) -> Iterator[None]:
    output.parent.mkdir(parents=True, exist_ok=True)
    lock_path = output.with_name(f".{output.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            raise PushgenError(
                f"another build is writing {output} (pid {holder}); wait for it or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held_locks.add(fd)
        yield
    finally:
        _held_locks.discard(fd)
        os.close(fd)


def _clear_stale(output: Path, keep: Path | None, written: set[str]) -> list[Diagnostic]:
    """Remove staging folders left by a killed build and spares no state names.

    We hold the lock, so no other build is using them. Only folders holding the
    marker are pushgen's, and of those only the files in ``written`` (what a
    build of this site writes) are removed: a folder an earlier pushgen version
    hid as its spare may be a user's own folder, and anything else is a user's
    file. What is left is reported, never deleted.
    """
    diagnostics: list[Diagnostic] = []
    for pattern in (f".{output.name}.staging-*", f".{output.name}.spare-*"):
        for stale in sorted(output.parent.glob(pattern)):
            if stale == keep or not stale.is_dir() or stale.is_symlink():
                continue
            if not (stale / OUTPUT_MARKER).is_file() and any(stale.iterdir()):
                diagnostics.append(
                    Diagnostic(
                        str(stale),
                        0,
                        0,
                        "left alone: it is not marked as pushgen's (a build by a pushgen "
                        "before the marker may have moved your own folder there); look "
                        "inside, then move or remove it yourself",
                    )
                )
                continue
            left = _remove_written(stale, written | {OUTPUT_MARKER})
            if left:
                diagnostics.append(
                    Diagnostic(
                        str(stale),
                        0,
                        0,
                        f"kept: it holds files pushgen did not write ({left[0]}"
                        f"{f' and {len(left) - 1} more' if len(left) > 1 else ''}); "
                        "move them out, then remove the folder",
                    )
                )
    return diagnostics


def _stray_files(root: Path, written: set[str]) -> list[str]:
    """Files (and links, and anything else) under ``root`` not in ``written``, sorted."""
    stray: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                stray.append(prefix + name)  # os.walk lists a link to a folder here
        stray.extend(prefix + name for name in filenames if prefix + name not in written)
    return sorted(stray)


def _remove_written(root: Path, written: set[str]) -> list[str]:
    """Remove from ``root`` the files in ``written`` and the folders that leaves
    empty (``root`` too); return what is left (sorted).

    The marker goes last, once nothing else is left: a removal killed halfway
    leaves a folder that is still marked as pushgen's (and is removed next time).
    """
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        for name in filenames:
            if _built(prefix + name, written) and prefix + name != OUTPUT_MARKER:
                _unlink(Path(dirpath, name))
        if rel_dir != ".":
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails when something is left in it
    with contextlib.suppress(OSError):
        if os.listdir(root) in ([], [OUTPUT_MARKER]):
            _unlink(root / OUTPUT_MARKER)
            os.rmdir(root)
    return _stray_files(root, {OUTPUT_MARKER}) if root.exists() else []


def _built(rel: str, written: set[str]) -> bool:
    """Whether a build of this site wrote ``rel`` into a folder of its own: one it
    knows of, or a page or static file of an earlier version of the site (a build
    killed rounds ago left its staging folder with those)."""
    return rel in written or rel.endswith(".html") or rel.startswith("static/")


def _check_no_strays(output: Path, written: set[str]) -> None:
    """Refuse to replace an output holding files pushgen did not write.

    The replaced output becomes the spare, whose files the next build removes or
    overwrites; a file put into the output by hand would be lost with it.
    """
    stray = _stray_files(output, written | {OUTPUT_MARKER})
    if stray:
        shown = ", ".join(str(output / rel) for rel in stray[:3])
        more = f" and {len(stray) - 3} more" if len(stray) > 3 else ""
        raise OutputFolderError(
            output,
            f"{shown}{more}: not written by pushgen, and the build replaces {output} as a "
            "whole; to publish a file with the site put it into static/, else move it out "
            "of the output (files of pages you removed from the site can simply be deleted)",
        )


# --- the spare output ---------------------------------------------------------
#
# An incremental build must still end in one atomic swap of the whole output.
# Filling a new staging folder with hard links to 30,000 unchanged files and
# deleting the old output after the swap took most of a one-page rebuild of a
# 10,000-page site. So the output a swap replaces is kept as the spare
# (.OUT.spare-TOKEN) and brought up to the new output (what the build changed is
# linked from it), and the next build renames the spare into its staging folder
# and writes only what changed since. Spare and output share every file (hard
# links), so a file in the staging folder is never written in place: it is
# unlinked and written anew.


def _spare_path(output: Path, token: str) -> Path:
    return output.with_name(f".{output.name}.spare-{token}")


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _link_files(source: Path, target: Path, rels: Iterable[str]) -> set[str]:
    """Hard-link each of ``rels`` from ``source`` into ``target``, making folders as needed.

    Returns those that could not be linked (``source`` does not have them).
    """
    failed: set[str] = set()
    made: set[str] = set()
    for rel in rels:
        folder = rel.rpartition("/")[0]
        if folder and folder not in made:
            (target / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        try:
            os.link(source / rel, target / rel)
        except OSError:
            failed.add(rel)
    return failed


def _remove_emptied_folders(root: Path, rel: str, keep: set[str]) -> None:
    """Remove the folders of ``rel`` under ``root`` that are not in ``keep`` and now empty."""
    folder = rel.rpartition("/")[0]
    while folder and folder not in keep:
        try:
            os.rmdir(root / folder)
        except OSError:
            break  # not empty: other files of the folder are still to go
        folder = folder.rpartition("/")[0]


def _sync_spare(output: Path, spare: Path, changed: set[str], folders: set[str]) -> None:
    """Make ``spare`` (the output before this build) equal the new ``output`` again.

    Only the paths in ``changed`` differ: each is replaced by a link to the
    output's file, or removed when the output has none. ``folders`` are the new
    output's folders: the spare gets the same.
    """
    for rel in changed:
        _unlink(spare / rel)
    for rel in _link_files(output, spare, changed):
        if os.path.lexists(output / rel):
            raise OSError(f"cannot link {output / rel} into the spare")
        _remove_emptied_folders(spare, rel, folders)  # gone from the output
    for folder in folders:
        (spare / folder).mkdir(parents=True, exist_ok=True)


def _output_folders(pages: list[Page], static_folders: list[str]) -> set[str]:
    """Every folder of the output (output paths; "" is the output itself)."""
    folders = {""} | set(static_folders)
    for page in pages:
        folder = page.output.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def _folder_times(root: Path, folders: set[str]) -> dict[str, int]:
    return {folder: os.stat(root / folder).st_mtime_ns for folder in folders}


def _untouched(root: Path, folders: dict[str, int]) -> bool:
    """Whether ``folders`` were recorded and each under ``root`` still has its mtime.

    A file added to or removed from a folder changes the folder's mtime, so the
    files are those there were then (contents may differ: the same holds for the
    hard links a build makes).
    """
    try:
        return bool(folders) and all(
            os.stat(root / folder).st_mtime_ns == ns for folder, ns in folders.items()
        )
    except OSError:
        return False


def _claim_spare(
    output: Path, previous: BuildState, staging: Path, expected: set[str]
) -> set[str] | None:
    """Make the spare the staging folder, holding exactly the current output's files.

    ``expected`` are the current output's files (output paths). Returns those
    neither the spare nor the output has (the build makes them again), or None
    when there is no spare (the first incremental build, or one after a kill).
    """
    if not previous.spare:
        return None
    spare = _spare_path(output, previous.spare)
    if not (spare / OUTPUT_MARKER).is_file():
        return None  # not a folder pushgen made: never written into
    try:
        os.rename(spare, staging)
    except FileNotFoundError:
        return None
    if _untouched(staging, previous.spare_folders):
        # No folder of the spare changed since the last build left it equal to
        # the output: no file came or went, so it holds what it held.
        return set()
    # Anything not written by a build (put there by hand) means the spare is not
    # only pushgen's: it is left where it was, unused (and reported when the next
    # build finds it). Empty folders go (the static copy makes its folders again).
    present: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(staging, topdown=False):
        rel_dir = os.path.relpath(dirpath, staging).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        links = [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
        if links or any(prefix + name not in expected for name in filenames):
            os.rename(staging, spare)
            return None
        present.update(prefix + name for name in filenames)
        if dirpath != str(staging) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return _link_files(output, staging, expected - present)


class _StaticSources(NamedTuple):
    """``SITE/static`` by output path (``static/...``)."""

    files: dict[str, str]  # source paths
    stats: dict[str, StaticFile]
    folders: list[str]
    skipped: list[Diagnostic]  # links out of the site, special files


def _static_sources(config: SiteConfig) -> _StaticSources:
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
_StaticCopy = tuple[dict[str, str], dict[str, StaticFile], set[str], list[str], list[Diagnostic]]


def _copy_static(config: SiteConfig, staging: Path) -> _StaticCopy:
    """Copy ``SITE/static`` into a new staging folder; return its files, their stats, and what was copied.

    An unchanged file (same size and modification time as in the current output)
    is hard-linked from the output instead of copied.
    """
    files, stats, folders, skipped = _static_sources(config)
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


def _update_static(
    config: SiteConfig, staging: Path, previous: dict[str, StaticFile], missing: set[str]
) -> _StaticCopy:
    """Bring the static files of a staging folder made from the spare up to date.

    The folder holds the output of the last build, which copied the files as
    ``previous`` records them: only files that changed since, appeared, or are
    ``missing`` are copied, and files whose source is gone are removed.
    """
    files, stats, folders, skipped = _static_sources(config)
    for folder in folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    changed: set[str] = set()
    for rel, stat in stats.items():
        if previous.get(rel) != stat or rel in missing:
            target = staging / rel
            _unlink(target)  # it may be a hard link to the live output's file
            _copy_file(files[rel], target, stat)
            changed.add(rel)
    kept = set(folders)
    for rel in previous.keys() - stats.keys():
        _unlink(staging / rel)
        changed.add(rel)
        # A folder the site no longer has goes too (a full build would not make it).
        _remove_emptied_folders(staging, rel, kept)
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
    files = _static_sources(config).files
    return StaticFiles(files, config.base_path)


# --- rendering (in this process or in workers) --------------------------------

_held_locks: set[int] = set()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


_worker_renderer: Renderer | None = None
_worker_staging: Path | None = None


def _init_worker(config: SiteConfig, pages: list[Page], staging: Path | None) -> None:
    global _worker_renderer, _worker_staging
    # A forked worker shares the build lock's open file; closing its copy means
    # only the build holds the lock. And a worker must not outlive a killed build.
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _die_with_parent()
    _worker_renderer = Renderer(config, pages)
    _worker_staging = staging


_PageOutcome = tuple[int, ScanResult | None, Diagnostic | None]


def _render_chunk(chunk: list[tuple[int, Page]]) -> list[_PageOutcome]:
    assert _worker_renderer is not None
    return [_render_one(_worker_renderer, _worker_staging, index, page) for index, page in chunk]


def _write(target: Path, data: bytes) -> None:
    try:
        _write_new(target, data)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_new(target, data)


def _write_new(target: Path, data: bytes) -> None:
    # A new file (O_EXCL, see _copy_file), written without Python's file objects.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _render_one(
    renderer: Renderer,
    staging: Path | None,
    index: int,
    page: Page,
    writer: Callable[[Path, bytes], object] = _write,
) -> _PageOutcome:
    try:
        rendered = renderer.render(page)
    except RenderError as exc:
        return index, None, exc.diagnostic
    if staging is not None:
        writer(staging / page.output, rendered.data)
    scan = scan_html(rendered.data, document_url(page.route), filename=page.display)
    if rendered.diagnostics:  # found in the page's templates (undefined names, bytes replaced)
        scan = replace(scan, diagnostics=(*rendered.diagnostics, *scan.diagnostics))
    return index, scan, None


def _cores() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _render_serially(
    renderer: Renderer,
    staging: Path | None,
    indexed: list[tuple[int, Page]],
    write: Callable[[Path, bytes], object],
    progress: Progress | None,
) -> list[_PageOutcome]:
    total = len(indexed)
    outcomes = []
    for done, (index, page) in enumerate(indexed, 1):
        outcomes.append(_render_one(renderer, staging, index, page, write))
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    return outcomes


def _render_pages(
    config: SiteConfig,
    all_pages: list[Page],
    pages: list[Page],
    staging: Path | None,
    jobs: int,
    progress: Progress | None,
    side_work: Callable[[], None],
) -> list[_PageOutcome]:
    """Render ``pages`` (``url_for`` knows ``all_pages``); outcomes index into ``pages``.

    ``side_work`` (copying static files: I/O, and sendfile releases the GIL) runs
    while pages render: in a thread beside a serial render, or in this process
    once the workers are forked (forking while a thread runs could deadlock them).
    """
    total = len(pages)
    indexed = list(enumerate(pages))
    if jobs <= 1 or total < PARALLEL_THRESHOLD:
        if staging is not None:
            for directory in sorted({(staging / p.output).parent for p in pages}):
                directory.mkdir(parents=True, exist_ok=True)
        renderer = Renderer(config, all_pages)
        if _cores() < 2:
            # On one core a thread for the I/O only adds switches between the two
            # (0.35 s of a 2.4 s build of 1,000 pages under taskset): all in turn.
            side_work()
            return _render_serially(renderer, staging, indexed, _write_new, progress)
        # Writing is I/O too: pages go to the same thread as the static files, so
        # rendering never waits on the disk. Directories are made up front (no two
        # threads race for them).
        io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pushgen-io")
        pending: list[Future[object]] = [io.submit(side_work)]

        def write(target: Path, data: bytes) -> None:
            pending.append(io.submit(_write_new, target, data))

        try:
            outcomes = _render_serially(renderer, staging, indexed, write, progress)
        finally:
            io.shutdown(wait=True)
        for future in pending:
            future.result()  # re-raise a failed write or copy here
        return outcomes
    # Several chunks per worker evens out pages of different cost; fork shares the
    # already-imported modules with the workers at no cost.
    chunk_size = max(16, total // (jobs * 8))
    chunks = [indexed[i : i + chunk_size] for i in range(0, total, chunk_size)]
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    outcomes = []
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(config, all_pages, staging),
    ) as pool:
        results = pool.map(_render_chunk, chunks)  # submits every chunk: workers are forked
        side_work()
        for result in results:
            outcomes.extend(result)
            if progress:
                progress(len(outcomes), total)
    return outcomes


# --- the build ----------------------------------------------------------------


def build_site(
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    full: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the site described by ``config``.

    With ``write=False`` nothing is written (the ``--check`` mode): the result
    carries the manifest the build would write. Raises :class:`BuildError` when a
    page cannot be rendered, or with ``strict`` when anything was found wrong; the
    previous output and manifest are then left untouched.

    The manifest's hand-written parts (rules, comments) are kept as they are; only
    its generated ``routes`` are replaced. Hand edits inside ``routes`` stop the
    build with their line, unless ``force`` discards them.

    A build that finds the state of the previous one (see incremental.py) renders
    and resolves only what changed since, unless ``full``; the result is the same.
    """
    # A build allocates millions of small tuples and frees them together; the
    # cyclic collector's passes over them cost 8% of a 10,000-page build and find
    # nothing (a build makes no cycles worth collecting before it returns).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(
            config, strict=strict, write=write, force=force, full=full, jobs=jobs, progress=progress
        )
    except OSError as exc:
        # A full disk, a read-only folder: one line saying so. Everything up to
        # the swap happens beside the output, so nothing was replaced yet (what
        # can fail after it is caught where it happens).
        where = exc.filename if exc.filename is not None else config.output
        raise OutputWriteError(os.fsdecode(where), exc, replaced=False) from exc
    finally:
        if collecting:
            gc.enable()


def _build(
    config: SiteConfig,
    *,
    strict: bool,
    write: bool,
    force: bool,
    full: bool,
    jobs: int | None,
    progress: Progress | None,
) -> BuildResult:
    started = time.perf_counter()
    existing_text, existing = _read_existing_manifest(config)
    if write:
        check_output_location(config.output, config.root, _sources(config), CONFIG_NAME)
        _check_manifest_outside(config)
        check_output_owned(config.output, state_path(config))
    if jobs is None:
        jobs = _cores()
    pages = discover_pages(config)
    diagnostics: list[Diagnostic] = []
    if not pages:
        diagnostics.append(
            Diagnostic(
                str(config.pages), 0, 0, "no pages found: add .html files under pages/", "warning"
            )
        )
    lock = _build_lock(config.output) if write else contextlib.nullcontext()
    with lock:
        previous = load_state(config) if write and not full and config.output.is_dir() else None
        if write and config.output.is_dir():
            _check_output_files(config, previous, pages)
            # An adopted output (empty, or from a version before the marker) is
            # marked now: when replaced, it becomes a spare this build can claim.
            _mark(config.output, config)
        skipped_sources: list[Diagnostic] = []
        templates = scan_templates(config, previous.templates if previous else {}, skipped_sources)
        diagnostics.extend(skipped_sources)
        # A page that is a link out of the site or no regular file is not the site's.
        pages = [page for page in pages if page.source in templates]
        previous_routes = _previous_routes(previous, pages)
        if previous is not None and set(previous.pages) != {p.source for p in pages}:
            previous = None  # pages came or went: every url_for may resolve differently
        staging: Path | None = None
        # The output paths a staging folder made from the spare could not restore;
        # None when the staging folder starts empty.
        spare_missing: set[str] | None = None
        if write:
            keep = (
                _spare_path(config.output, previous.spare) if previous and previous.spare else None
            )
            written = {p.output for p in pages}
            written |= previous.outputs if previous else written_files(config)
            # The static files of the last build, or (without its state) this one's.
            written |= previous.static.keys() if previous else _static_sources(config).stats.keys()
            diagnostics.extend(_clear_stale(config.output, keep, written))
            staging = config.output.with_name(f".{config.output.name}.staging-{os.getpid()}")
            if previous is not None:
                expected = {p.output for p in pages} | previous.static.keys() | {OUTPUT_MARKER}
                spare_missing = _claim_spare(config.output, previous, staging, expected)
            if spare_missing is None:
                staging.mkdir(parents=True)
            _mark(staging, config)
        try:
            copied: list[_StaticCopy] = []

            def side_work() -> None:
                if staging is None:
                    files, stats, folders, skipped = _static_sources(config)
                    copied.append((files, stats, set(), folders, skipped))
                elif previous is not None and spare_missing is not None:
                    copied.append(_update_static(config, staging, previous.static, spare_missing))
                else:
                    copied.append(_copy_static(config, staging))

            if previous is None:
                render = list(pages)
            else:
                dirty = pages_to_render(pages, previous.templates, templates)
                dirty |= _edited_pages(config.output, pages, previous.page_files)
                assert staging is not None
                if spare_missing is None:
                    dirty |= _link_previous_pages(
                        config, staging, [p for p in pages if p.source not in dirty]
                    )
                else:
                    dirty.update(p.source for p in pages if p.output in spare_missing)
                render = [p for p in pages if p.source in dirty]
                if spare_missing is not None:
                    for page in render:
                        _unlink(staging / page.output)  # a hard link to the live output's file
            outcomes = _render_pages(
                config, pages, render, staging, jobs, progress, side_work=side_work
            )
            static, static_stats, static_changed, static_folders, skipped = copied[0]
            diagnostics.extend(skipped)
            errors = [d for _, _, d in outcomes if d is not None]
            if errors:
                raise BuildError(errors)
            page_files = _page_files(staging, pages, render, previous)
            scans = {render[index].source: scan for index, scan, _ in outcomes if scan is not None}
            known = set(static) | {p.output for p in pages}

            files = StaticFiles(static, config.base_path)
            resolver = Resolver(
                base_path=config.base_path,
                read=files.read,
                exists=known.__contains__,
                push_destinations=config.push_destinations,
            )
            # set(a ^ b), not a ^ b: the difference keeps the hash table of the
            # 20,000-entry copy it was made from, and `touched & changed_files`
            # below walks that whole table for every page (0.9 s at 10,000 pages).
            changed_files = set(static_stats.keys() ^ previous.static.keys()) if previous else set()
            reused: set[str] = set()
            if previous is not None:
                changed_files |= _reuse_docs(resolver, previous, static_stats, config, reused)
            size_of = files.size_of
            state = BuildState(
                key=config_key(config),
                templates=templates,
                static=static_stats,
                assets=previous.assets if previous else AssetTable(),
            )
            state.outputs = frozenset(p.output for p in pages) | static_stats.keys()
            state.page_files = page_files
            if write and config.output.is_dir():
                state.spare = secrets.token_hex(8)  # the output this build replaces
            results: list[PageResult] = []
            routes: dict[str, tuple[Asset, ...]] = {}
            unchanged: set[str] = set()  # routes with the entries the last build wrote
            saved_refs: dict[tuple[object, ...], Reference] = {}  # of the saved scans
            for page in pages:
                scan = scans.get(page.source)
                old = previous.pages.get(page.source) if previous else None
                if scan is None and old is not None and not (old.touched & changed_files):
                    page_state = old
                    unchanged.add(page.route)
                    diagnostics.extend(old.diagnostic_list())
                else:
                    # A page not rendered again is resolved again from its saved scan.
                    compact = old.scan if scan is None else None  # type: ignore[union-attr]
                    scan = scan if scan is not None else old.scan_result(saved_refs)  # type: ignore[union-attr]
                    page_assets = resolver.page_assets(page.display, scan)
                    found = apply_budget(page_assets.found, config.policy, size_of)
                    page_diagnostics = (*scan.diagnostics, *page_assets.diagnostics)
                    diagnostics.extend(page_diagnostics)
                    page_state = PageState.make(
                        compact if compact is not None else scan,
                        found,
                        set(page_assets.touched),
                        page_diagnostics,
                        state.assets,
                    )
                state.pages[page.source] = page_state
                assets = page_state.assets(state.assets)
                results.append(PageResult(page, assets))
                routes[page.route] = assets
            state.docs = dict(previous.docs) if previous else {}
            state.keep_docs({k: v for k, v in resolver.docs.items() if k not in reused})
            diagnostics = list(dict.fromkeys(diagnostics))
            rules = existing.rules if existing is not None else ()
            diagnostics.extend(_check_rules(rules, routes, known, config, existing))
            manifest_file = _display(config.manifest)
            try:
                text = update_manifest_text(
                    existing_text,
                    routes,
                    filename=manifest_file,
                    force=force,
                    base=previous_routes,
                    unchanged=unchanged,
                    written=previous.routes_sum if previous else None,
                )
            except ManifestError as exc:
                raise BuildError(exc.diagnostics) from None
            state.routes_sum = routes_checksum(text) or ""
            manifest = Manifest(routes=routes, rules=rules, filename=manifest_file)
            result = BuildResult(
                config=config,
                manifest=manifest,
                pages=results,
                diagnostics=diagnostics,
                seconds=0.0,
                static_files=len(static),
                manifest_text=text,
                rendered=len(render),
            )
            if strict and diagnostics:
                raise BuildError([_as_error(d) for d in diagnostics])
            if staging is not None:
                # The output and the manifest are two files, so no one step can
                # replace both. The new manifest is written durably first; the
                # output folder is exchanged and the manifest renamed into place
                # right after (one syscall apart), before anything old is removed.
                # A kill before the exchange leaves the old build, after the
                # rename the new one; in between, the next build repairs it.
                pending = (
                    stage_file(config.manifest, text.encode("utf-8"))
                    if existing_text != text
                    else None
                )

                def commit_manifest() -> None:
                    if pending is not None:
                        os.replace(pending, config.manifest)

                spare = _spare_path(config.output, state.spare) if state.spare else None
                folders = _output_folders(pages, static_folders)
                output_untouched = previous is not None and _untouched(
                    config.output, previous.output_folders
                )
                try:
                    swap_directory(staging, config.output, then=commit_manifest, keep=spare)
                finally:
                    if pending is not None and pending.exists():
                        pending.unlink()
                staging = None
                with contextlib.suppress(OSError):
                    # Left empty, the next build only checks the spare file by file.
                    state.output_folders = _folder_times(config.output, folders)
                if spare is not None:
                    # The spare differs from the new output in what was rendered or
                    # copied here, or removed; files of its own go when it is claimed.
                    changed = {p.output for p in render} | static_changed
                    changed |= previous.static.keys() - static_stats.keys() if previous else set()
                    try:
                        _sync_spare(config.output, spare, changed, folders)
                        # Equal to the output now, and holding nothing else when the
                        # output it was held nothing else: what the next build checks.
                        if output_untouched:
                            state.spare_folders = _folder_times(spare, folders)
                    except OSError:
                        # A spare only saves the next build work; one that could not
                        # be kept or brought up to date is not used.
                        shutil.rmtree(spare, ignore_errors=True)
                        state.spare = ""
                schema_path = config.manifest.with_name(SCHEMA_NAME)
                if _read_text(schema_path) != schema_text():
                    try:
                        atomic_write(schema_path, schema_text().encode("utf-8"))
                    except OSError as exc:
                        raise OutputWriteError(str(schema_path), exc, replaced=True) from exc
                # A state older than the output is safe: it only makes the next
                # build redo work (every change is judged against it).
                save_state(config, state, previous)
                result.written = True
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def _sources(config: SiteConfig) -> tuple[Path, ...]:
    return (config.pages, config.templates, config.static)


def _check_manifest_outside(config: SiteConfig) -> None:
    """Refuse a manifest inside the output folder, up front.

    The manifest is an input as much as an output (its hand-written rules are kept
    from build to build), and the output folder is replaced as a whole: inside it
    the manifest would go with the old output into the spare, and an edit made in
    place would reach the spare's hard-linked copy too. One rule stays simple: the
    output holds only what the build makes from the sources.
    """
    if config.manifest.is_relative_to(config.output):
        raise OutputFolderError(
            config.output,
            f"the manifest {config.manifest} is inside the output folder {config.output}, "
            "which every build replaces as a whole; keep it outside (manifest: in "
            "pushgen.yaml, push-manifest.yaml by default) and copy it into the published "
            "folder after the build if it must be served",
        )


def _mark(folder: Path, config: SiteConfig) -> None:
    """Mark ``folder`` as pushgen's (first, so even a killed build's folder is marked).

    A hard link to the output's marker when there is one: the spare the output
    becomes then shares it too (never unlinked there, so never missing).
    """
    marker = folder / OUTPUT_MARKER
    if marker.is_file():
        return
    with contextlib.suppress(OSError):
        os.link(config.output / OUTPUT_MARKER, marker)
        return
    marker.write_text(
        "written by pushgen: `pushgen build` replaces this folder as a whole\n",
        encoding="utf-8",
    )


def _check_output_files(config: SiteConfig, previous: BuildState | None, pages: list[Page]) -> None:
    """Refuse to replace an output that holds files pushgen did not write.

    When no folder of the output changed since the last build (which wrote only
    its own files), no file came or went and nothing needs a look.
    """
    if previous is not None and _untouched(config.output, previous.output_folders):
        return
    written = {p.output for p in pages} | written_files(config)
    written.update(_static_sources(config).stats)
    _check_no_strays(config.output, written)


def _previous_routes(previous: BuildState | None, pages: list[Page]) -> _SavedRoutes | None:
    """The routes the previous build wrote, when its state knows every page of them."""
    if previous is None:
        return None
    routes = {p.source: p.route for p in pages}
    if not set(previous.pages) <= set(routes):
        return None
    return _SavedRoutes(previous, routes)


class _SavedRoutes(Mapping[str, tuple[Asset, ...]]):
    """Routes -> entries as the previous build wrote them, decoded on first use: only
    a manifest edited by hand needs them (to point at the edited line)."""

    def __init__(self, previous: BuildState, routes: dict[str, str]) -> None:
        self._previous = previous
        self._routes = routes
        self._decoded: dict[str, tuple[Asset, ...]] | None = None

    def _all(self) -> dict[str, tuple[Asset, ...]]:
        if self._decoded is None:
            table = self._previous.assets
            self._decoded = {
                self._routes[source]: state.assets(table)
                for source, state in self._previous.pages.items()
            }
        return self._decoded

    def __getitem__(self, route: str) -> tuple[Asset, ...]:
        return self._all()[route]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._previous.pages)


def _edited_pages(
    output: Path, pages: list[Page], recorded: dict[str, tuple[int, int]]
) -> set[str]:
    """Sources of the pages whose output file is not as the last build left it.

    An output page edited in place (appended to, truncated by a post-processor)
    changes the file the spare shares with the output, so neither would bring
    it back: such pages are rendered again. Size and mtime, one stat a page.
    """
    edited: set[str] = set()
    prefix = f"{output}{os.sep}"  # plain strings: one stat a page, thousands of pages
    for page in pages:
        try:
            st = os.stat(prefix + page.output)
        except OSError:
            continue  # missing: the spare or a render makes it again
        if recorded.get(page.output) != (st.st_size, st.st_mtime_ns):
            edited.add(page.source)
    return edited


def _page_files(
    staging: Path | None, pages: list[Page], render: list[Page], previous: BuildState | None
) -> dict[str, tuple[int, int]]:
    """Size and mtime of every page's output file, as this build leaves them."""
    if staging is None:
        return {}
    recorded = previous.page_files if previous is not None else {}
    rendered = {page.output for page in render}
    files: dict[str, tuple[int, int]] = {}
    for page in pages:
        old = recorded.get(page.output)
        if old is None or page.output in rendered:
            st = os.stat(staging / page.output)
            old = (st.st_size, st.st_mtime_ns)
        files[page.output] = old
    return files


def _link_previous_pages(config: SiteConfig, staging: Path, pages: list[Page]) -> set[str]:
    """Hard-link unchanged pages from the previous output; return those it could not."""
    failed = _link_files(config.output, staging, [page.output for page in pages])
    return {page.source for page in pages if page.output in failed}


def _reuse_docs(
    resolver: Resolver,
    previous: BuildState,
    stats: dict[str, StaticFile],
    config: SiteConfig,
    reused: set[str],
) -> set[str]:
    """Give the resolver the scans of unchanged files; return the files that changed in a way that matters.

    A stylesheet or module whose new scan equals the old one changes no page's
    assets (only its own bytes), unless a byte budget makes sizes matter. Paths
    whose scans were reused go into ``reused``.
    """
    changed: set[str] = set()
    for relpath, stat in stats.items():
        old = previous.static.get(relpath)
        if old == stat:
            if relpath in previous.docs:
                resolver.docs[relpath] = previous.doc(relpath)
                reused.add(relpath)
            continue
        if old is None:
            continue  # new files are in the symmetric difference already
        doc = previous.doc(relpath)
        if config.max_bytes is not None or doc is None:
            changed.add(relpath)
            continue
        data = resolver.read(relpath)
        if data is None:
            changed.add(relpath)
            continue
        scanner = scan_css if doc.kind == "css" else scan_js
        url = document_url(f"{config.base_path}{relpath}")
        scan = scanner(data, url, filename=doc.display)
        if scan != doc.scan:
            changed.add(relpath)
        else:
            resolver.docs[relpath] = doc
            reused.add(relpath)
    return changed


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _read_existing_manifest(config: SiteConfig) -> tuple[str | None, Manifest | None]:
    """The manifest on disk (text and parsed), so the build can keep its hand edits.

    A manifest that does not parse stops the build: overwriting it would lose
    whatever its author was in the middle of writing.
    """
    try:
        data = config.manifest.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise PushgenError(f"cannot read {config.manifest}: {exc.strerror}") from None
    display = _display(config.manifest)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BuildError(
            [Diagnostic(display, 0, 0, "the manifest is not UTF-8 text", "error")]
        ) from None
    try:
        return text, parse_hand_part(text, display)
    except ManifestError as exc:
        raise BuildError(exc.diagnostics) from None


def _check_rules(
    rules: tuple[Rule, ...],
    routes: dict[str, tuple[Asset, ...]],
    known: set[str],
    config: SiteConfig,
    existing: Manifest | None,
) -> list[Diagnostic]:
    """Warnings for hand rules that point at nothing after this build."""
    if existing is None:
        return []
    return rule_problems(
        replace(existing, rules=rules), routes, output_files=known, base_path=config.base_path
    )


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _as_error(diagnostic: Diagnostic) -> Diagnostic:
    return Diagnostic(
        diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.message, "error"
    )
