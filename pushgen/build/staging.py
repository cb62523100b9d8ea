"""Where a build writes: the lock, the staging folder, the spare output and the marker.

Nothing is written in place. Pages and static files go to a staging folder next
to the output, which replaces the output in one atomic step once everything
succeeded. The replaced output is kept as a spare copy (hard links) that the
next build starts its staging folder from, so a rebuild writes only what
changed. A lock file next to the output makes a second concurrent build refuse
with a clear message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..codings import CODINGS
from ..config import SiteConfig
from ..errors import Diagnostic, PushgenError
from ..fsutil import (
    OUTPUT_MARKER,
    OutputFolderError,
)
from .incremental import (
    BuildState,
)
from .render import Page

# --- locking and staging ------------------------------------------------------


@contextlib.contextmanager
def build_lock(output: Path) -> Iterator[None]:
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
            raise BuildLockHeld(output, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        held_locks.add(fd)
        yield
    finally:
        held_locks.discard(fd)
        os.close(fd)


def clear_stale(output: Path, keep: Path | None, written: set[str]) -> list[Diagnostic]:
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
                unlink(Path(dirpath, name))
        if rel_dir != ".":
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails when something is left in it
    with contextlib.suppress(OSError):
        if os.listdir(root) in ([], [OUTPUT_MARKER]):
            unlink(root / OUTPUT_MARKER)
            os.rmdir(root)
    return _stray_files(root, {OUTPUT_MARKER}) if root.exists() else []


def _built(rel: str, written: set[str]) -> bool:
    """Whether a build of this site wrote ``rel`` into a folder of its own: one it
    knows of, or a page or static file of an earlier version of the site (a build
    killed rounds ago left its staging folder with those)."""
    return rel in written or rel.endswith(".html") or rel.startswith("static/")


def check_no_strays(output: Path, written: set[str]) -> None:
    """Refuse to replace an output holding files pushgen did not write.

    The replaced output becomes the spare, whose files the next build removes or
    overwrites; a file put into the output by hand would be lost with it. Besides
    ``written``, the ``.br``/``.gz`` siblings precompression wrote beside them are
    pushgen's (see _own_sibling): known so without the state, which a crash may
    have damaged.
    """
    stray = [
        rel
        for rel in _stray_files(output, written | {OUTPUT_MARKER})
        if not _own_sibling(output, rel, written)
    ]
    if stray:
        shown = ", ".join(str(output / rel) for rel in stray[:3])
        more = f" and {len(stray) - 3} more" if len(stray) > 3 else ""
        raise OutputFolderError(
            output,
            f"{shown}{more}: not written by pushgen, and the build replaces {output} as a "
            "whole; to publish a file with the site put it into static/, else move it out "
            "of the output (files of pages you removed from the site can simply be deleted)",
        )


def _own_sibling(output: Path, rel: str, written: set[str]) -> bool:
    """Whether ``rel`` is a ``.br``/``.gz`` sibling that precompression wrote beside a
    file of ``written`` in the output: a regular file with that file's modification
    time, which precompress gives every sibling (pushgen/precompress.py; the server
    tells a current sibling by it). A file put there by hand does not have it.
    """
    if not rel.endswith(SIBLING_SUFFIXES) or (source := rel[: rel.rindex(".")]) not in written:
        return False
    try:
        sibling = os.lstat(output / rel)
        return stat.S_ISREG(sibling.st_mode) and (
            sibling.st_mtime_ns == os.lstat(output / source).st_mtime_ns
        )
    except OSError:
        return False


# The suffixes of the siblings precompression writes beside a file (pushgen/precompress.py).
SIBLING_SUFFIXES = tuple(CODINGS.values())


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


def spare_path(output: Path, token: str) -> Path:
    return output.with_name(f".{output.name}.spare-{token}")


def unlink(path: Path) -> None:
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


def remove_emptied_folders(root: Path, rel: str, keep: set[str]) -> None:
    """Remove the folders of ``rel`` under ``root`` that are not in ``keep`` and now empty."""
    folder = rel.rpartition("/")[0]
    while folder and folder not in keep:
        try:
            os.rmdir(root / folder)
        except OSError:
            break  # not empty: other files of the folder are still to go
        folder = folder.rpartition("/")[0]


def sync_spare(output: Path, spare: Path, changed: set[str], folders: set[str]) -> None:
    """Make ``spare`` (the output before this build) equal the new ``output`` again.

    Only the paths in ``changed`` differ: each is replaced by a link to the
    output's file, or removed when the output has none. ``folders`` are the new
    output's folders: the spare gets the same.
    """
    for rel in changed:
        unlink(spare / rel)
    for rel in _link_files(output, spare, changed):
        if os.path.lexists(output / rel):
            raise OSError(f"cannot link {output / rel} into the spare")
        remove_emptied_folders(spare, rel, folders)  # gone from the output
    for folder in folders:
        (spare / folder).mkdir(parents=True, exist_ok=True)


def output_folders(pages: list[Page], static_folders: list[str]) -> set[str]:
    """Every folder of the output (output paths; "" is the output itself)."""
    folders = {""} | set(static_folders)
    for page in pages:
        folder = page.output.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def folder_times(root: Path, folders: set[str]) -> dict[str, int]:
    return {folder: os.stat(root / folder).st_mtime_ns for folder in folders}


def untouched(root: Path, folders: dict[str, int]) -> bool:
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


def claim_spare(
    output: Path, previous: BuildState, staging: Path, expected: set[str]
) -> set[str] | None:
    """Make the spare the staging folder, holding exactly the current output's files.

    ``expected`` are the current output's files (output paths). Returns those
    neither the spare nor the output has (the build makes them again), or None
    when there is no spare (the first incremental build, or one after a kill).
    """
    if not previous.spare:
        return None
    spare = spare_path(output, previous.spare)
    if not (spare / OUTPUT_MARKER).is_file():
        return None  # not a folder pushgen made: never written into
    try:
        os.rename(spare, staging)
    except FileNotFoundError:
        return None
    if untouched(staging, previous.spare_folders):
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


class BuildLockHeld(PushgenError):
    """Another build holds the lock on the output: retry once it is done (not a setup problem,
    unlike :class:`~pushgen.fsutil.OutputFolderError`)."""

    def __init__(self, output: Path, holder: str) -> None:
        self.output = output
        self.holder = holder  # the holder's pid as it wrote it, or "another process"
        super().__init__(
            f"another build is writing {output} (pid {holder}); wait for it or stop it"
        )


# The build locks this process holds (file descriptors): a forked worker closes
# its copies, so only the build holds the lock.
held_locks: set[int] = set()


def check_manifest_outside(config: SiteConfig) -> None:
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


def mark(folder: Path, config: SiteConfig) -> None:
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


def edited_pages(output: Path, pages: list[Page], recorded: dict[str, tuple[int, int]]) -> set[str]:
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


def output_page_files(
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


def link_previous_pages(config: SiteConfig, staging: Path, pages: list[Page]) -> set[str]:
    """Hard-link unchanged pages from the previous output; return those it could not."""
    failed = _link_files(config.output, staging, [page.output for page in pages])
    return {page.source for page in pages if page.output in failed}
