"""The output folder of a build, and everything the build keeps beside it.

:class:`OutputFolder` is the one owner of where a build writes and of the rules
that keep a user's files safe there (docs/reliability.md):

* Nothing is written in place. Pages and static files go to a staging folder
  next to the output (:meth:`OutputFolder.open_staging`), which replaces the
  output in one atomic step once everything succeeded (:meth:`OutputFolder.publish`).
* The replaced output is kept as the spare copy (hard links) that the next build
  starts its staging folder from, so a rebuild writes only what changed.
* A lock file next to the output makes a second concurrent build refuse with a
  clear message (:meth:`OutputFolder.lock`, :class:`BuildLockHeld`).
* Every folder the build makes holds :data:`~pushgen.fsutil.OUTPUT_MARKER`,
  written first; a folder without it is never replaced, written into or removed,
  and a file pushgen did not write is never deleted or overwritten
  (:meth:`OutputFolder.check`, :meth:`OutputFolder.adopt`).

A build uses it in this order::

    out = OutputFolder(config)
    out.check(sources)                     # before anything is read or written
    with out.lock():
        out.adopt(previous, written)       # refuse strays, mark an adopted output
        staging = out.open_staging(previous, expected, written)
        ...                                # render and copy into staging.path
        published = out.publish(staging.path, text, spare=..., changed=..., ...)
        # (a build that fails before it: out.discard(staging.path))

The file-system primitives it stands on (the atomic folder exchange, the marker's
name, the output-location check the server shares) are in pushgen/fsutil.py.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..codings import CODINGS
from ..config import CONFIG_NAME, SiteConfig
from ..errors import Diagnostic, PushgenError
from ..fsutil import (
    OUTPUT_MARKER,
    OutputFolderError,
    check_output_location,
    stage_file,
    swap_directory,
    written_by_export,
)
from .staging import folder_times, link_files, remove_emptied_folders, unlink, untouched
from .state import BuildState, state_path

__all__ = [
    "SIBLING_SUFFIXES",
    "BuildLockHeld",
    "OutputFolder",
    "Published",
    "Staging",
    "held_locks",
]


@dataclass(frozen=True, slots=True)
class Staging:
    """A staging folder, made by :meth:`OutputFolder.open_staging`."""

    path: Path
    # The output paths the spare it was made from could not restore (the build
    # makes them again); None when it starts empty (no spare to claim).
    missing: set[str] | None
    # Leftovers of killed builds that were left alone, and why.
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class Published:
    """What :meth:`OutputFolder.publish` left, for the next build's state."""

    # The new output's folders and their mtimes ({} when they could not be read).
    output_folders: dict[str, int]
    # The spare's token, "" when there is none (it could not be kept).
    spare: str
    # The spare's folders and mtimes once equal to the output, {} when it may
    # hold other files (the output held some before this build).
    spare_folders: dict[str, int]


class OutputFolder:
    """The output folder of the site ``config`` describes: its checks, lock, staging
    folder, spare and swap. See the module's docstring for the order of the calls."""

    def __init__(self, config: SiteConfig) -> None:
        self.config = config
        self.path = config.output

    def check(self, sources: Iterable[Path]) -> None:
        """Refuse, up front, an output that is or holds the site's ``sources``, a
        manifest inside it, or an existing folder pushgen did not make."""
        config = self.config
        check_output_location(self.path, config.root, sources, CONFIG_NAME)
        check_manifest_outside(config)
        check_output_owned(self.path, state_path(config))

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the build lock beside the output (raises :class:`BuildLockHeld`)."""
        return build_lock(self.path)

    def adopt(self, previous: BuildState | None, written: Callable[[], set[str]]) -> None:
        """Refuse an existing output holding files pushgen did not write, then mark it.

        ``written`` gives the files a build of this site writes (output paths),
        asked only when needed (it walks the static files).
        When no folder of the output changed since the last build (which wrote
        only its own files), no file came or went and nothing needs a look. An
        adopted output (empty, or from a version before the marker) is marked now:
        when replaced, it becomes a spare the build can claim.
        """
        if not self.path.is_dir():
            return
        if previous is None or not untouched(self.path, previous.output_folders):
            check_no_strays(self.path, written())
        mark(self.path, self.config)

    def open_staging(
        self, previous: BuildState | None, expected: set[str], written: set[str]
    ) -> Staging:
        """Clear what killed builds left, then make the staging folder: from the
        spare ``previous`` names when it can be claimed, else empty.

        ``expected`` are the current output's files (output paths); ``written`` every file a build of this site may have written
        (what may be removed from a stale folder of pushgen's).
        """
        output = self.path
        keep = spare_path(output, previous.spare) if previous and previous.spare else None
        diagnostics = clear_stale(output, keep, written)
        staging = output.with_name(f".{output.name}.staging-{os.getpid()}")
        missing = None
        if previous is not None:
            missing = claim_spare(output, previous, staging, expected | {OUTPUT_MARKER})
        if missing is None:
            staging.mkdir(parents=True)
        mark(staging, self.config)
        return Staging(staging, missing, tuple(diagnostics))

    def publish(
        self,
        staging: Path,
        manifest_text: str | None,
        *,
        spare: str,
        previous: BuildState | None,
        changed: set[str],
        folders: set[str],
    ) -> Published:
        """Swap ``staging`` in as the output, put the manifest in place, keep the spare.

        ``manifest_text`` is the new manifest (None: it did not change); ``spare``
        the token the replaced output is kept under ("" keeps none); ``changed``
        the output paths this build wrote or removed, in which the spare differs
        from the new output; ``folders`` the new output's folders.

        The output and the manifest are two files, so no one step can replace
        both. The new manifest is written durably first; the output folder is
        exchanged and the manifest renamed into place right after (one syscall
        apart), before anything old is removed. A kill before the exchange leaves
        the old build, after the rename the new one; in between, the next build
        repairs it.
        """
        output, manifest = self.path, self.config.manifest
        pending = (
            None if manifest_text is None else stage_file(manifest, manifest_text.encode("utf-8"))
        )
        kept = spare_path(output, spare) if spare else None
        output_untouched = previous is not None and untouched(output, previous.output_folders)
        try:
            swap_directory(
                staging, output, then=functools.partial(_commit, pending, manifest), keep=kept
            )
        finally:
            if pending is not None and pending.exists():
                pending.unlink()
        output_folders: dict[str, int] = {}
        with contextlib.suppress(OSError):
            # Left empty, the next build only checks the spare file by file.
            output_folders = folder_times(output, folders)
        if kept is None:
            return Published(output_folders, "", {})
        try:
            sync_spare(output, kept, changed, folders)
            # Equal to the output now, and holding nothing else when the output
            # it was held nothing else: what the next build checks.
            spare_folders = folder_times(kept, folders) if output_untouched else {}
        except OSError:
            # A spare only saves the next build work; one that could not be
            # kept or brought up to date is not used.
            shutil.rmtree(kept, ignore_errors=True)
            return Published(output_folders, "", {})
        return Published(output_folders, spare, spare_folders)

    @staticmethod
    def discard(staging: Path) -> None:
        """Remove a staging folder that was not swapped in (the build failed)."""
        shutil.rmtree(staging, ignore_errors=True)


def _commit(pending: Path | None, manifest: Path) -> None:
    if pending is not None:
        os.replace(pending, manifest)


# --- the up-front checks -------------------------------------------------------


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


def check_output_owned(output: Path, state: Path) -> None:
    """Refuse to replace an existing folder pushgen did not make.

    A folder is pushgen's when it holds :data:`OUTPUT_MARKER`, or when the state
    file ``state`` of a build lies beside it (outputs of pushgen versions before
    the marker: those versions made every output they kept a state for). An
    empty folder is adopted.
    """
    if not output.is_dir() or (output / OUTPUT_MARKER).is_file() or state.is_file():
        return
    with os.scandir(output) as entries:
        if next(entries, None) is None:
            return
    raise OutputFolderError(
        output,
        f"{output} exists and was not written by pushgen (it holds no {OUTPUT_MARKER}); "
        "the build replaces its output folder as a whole, so choose another output folder "
        f"(-o, or output: in pushgen.yaml), or empty or remove {output} yourself",
    )


# --- the lock ------------------------------------------------------------------


class BuildLockHeld(PushgenError):
    """Another build holds the lock on the output: retry once it is done (not a setup problem,
    unlike :class:`~pushgen.fsutil.OutputFolderError`)."""

    def __init__(self, output: Path, holder: str) -> None:
        self.output = output
        self.holder = holder  # the holder's pid as it wrote it, or "another process"
        super().__init__(
            f"another build is writing {output} (pid {holder}); wait for it or stop it"
        )


# How long a build waits at most for the file system's clock to tick (below).
_TICK_WAIT = 0.1


def _next_tick(fd: int) -> None:
    """Write the lock file again until its mtime is a tick later than the first write's.

    The lock's mtime is the build's start on the file system's clock: a source
    changed at or after it is not vouched for in the state (state.BuildState.vouch,
    racy git's rule) and is read again by the next build. A source saved in the
    same tick just before the build (a script, a test, an editor's save and a
    watcher's build) would be that too, and each next build would render its pages
    again. Once the clock has moved on, every source the build stats under the lock
    that was changed before it has an older mtime, and any later change gives a
    newer one. A tick is a few milliseconds (the kernel's coarse clock); a clock
    that does not move within ``_TICK_WAIT`` leaves the first write's time, which
    only costs a rebuild.
    """
    pid = str(os.getpid()).encode()
    first = os.fstat(fd).st_mtime_ns
    deadline = time.monotonic() + _TICK_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.0005)
        os.pwrite(fd, pid, 0)
        if os.fstat(fd).st_mtime_ns > first:
            return


# The build locks this process holds (file descriptors): a forked worker closes
# its copies, so only the build holds the lock.
held_locks: set[int] = set()


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
        _next_tick(fd)
        held_locks.add(fd)
        yield
    finally:
        held_locks.discard(fd)
        os.close(fd)


# --- the marker and what killed builds left --------------------------------------


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
            rel = prefix + name
            if rel != OUTPUT_MARKER and (
                _built(rel, written) or written_by_export(Path(dirpath, name))
            ):
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
    have damaged. So is a file ``pushgen export`` wrote there (a ``_headers`` put in
    the publish folder, as docs/deploy.md says): written from the manifest this
    build replaces, it is left out of the new output (and dropped with the spare),
    to be exported again.
    """
    stray = [
        rel
        for rel in _stray_files(output, written | {OUTPUT_MARKER})
        if not _own_sibling(output, rel, written) and not written_by_export(output / rel)
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


def _exported(folder: str, name: str) -> bool:
    return written_by_export(Path(folder, name))


def spare_path(output: Path, token: str) -> Path:
    return output.with_name(f".{output.name}.spare-{token}")


def sync_spare(output: Path, spare: Path, changed: set[str], folders: set[str]) -> None:
    """Make ``spare`` (the output before this build) equal the new ``output`` again.

    Only the paths in ``changed`` differ: each is replaced by a link to the
    output's file, or removed when the output has none. ``folders`` are the new
    output's folders: the spare gets the same.
    """
    for rel in changed:
        unlink(spare / rel)
    for rel in link_files(output, spare, changed):
        if os.path.lexists(output / rel):
            raise OSError(f"cannot link {output / rel} into the spare")
        remove_emptied_folders(spare, rel, folders)  # gone from the output
    for folder in folders:
        (spare / folder).mkdir(parents=True, exist_ok=True)


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
        exported = [n for n in filenames if prefix + n not in expected and _exported(dirpath, n)]
        if links or any(
            prefix + name not in expected for name in filenames if name not in exported
        ):
            os.rename(staging, spare)
            return None
        for name in exported:  # what `pushgen export` wrote from the manifest replaced
            unlink(Path(dirpath, name))
        present.update(prefix + name for name in filenames if name not in exported)
        if dirpath != str(staging) and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return link_files(output, staging, expected - present)
