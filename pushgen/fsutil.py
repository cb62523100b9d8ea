"""File-system steps that must not leave half-written results behind, nor delete what pushgen did not write.

Output folders: the build replaces its output folder as a whole, so it only ever
replaces (or deletes) a folder that it made itself. Every folder the build makes
(the staging folder, hence the output and the spare it becomes) holds a marker
file, :data:`OUTPUT_MARKER`, written before anything else; a folder without it is
never replaced or removed (see docs/reliability.md). The build's side of
those rules, with the lock, staging folder and spare, is pushgen/build/output.py;
here are the primitives it stands on, and the location check the server shares.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .errors import PushgenError

__all__ = [
    "EXPORT_MARK",
    "FOLDER",
    "OUTPUT_MARKER",
    "FileRefused",
    "OutputFolderError",
    "OutputWriteError",
    "SourceFile",
    "SourceFiles",
    "atomic_write",
    "check_output_location",
    "display_path",
    "new_file_mode",
    "open_folder",
    "read_regular_file",
    "stage_file",
    "swap_directory",
    "walk_sources",
    "written_by_export",
]

# The file that marks a folder as one pushgen made (the output, its staging
# folder, its spare). A dotfile: the server never serves dotfiles.
OUTPUT_MARKER = ".pushgen-output"
# How the first line of every text file `pushgen export` writes begins (export/blocks.py):
# what tells the build an exported `_headers` in its output from a file of the user's.
EXPORT_MARK = "# Written by `pushgen export"


def written_by_export(path: Path) -> bool:
    """Whether ``path`` is a regular file (no link) whose first line says ``pushgen export``
    wrote it (:data:`EXPORT_MARK`): written from a manifest, to be written again from it."""
    mark = EXPORT_MARK.encode()
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return False
        with path.open("rb") as file:
            return file.read(len(mark)) == mark
    except OSError:
        return False


class OutputFolderError(PushgenError):
    """The output folder cannot be used: it holds sources or files pushgen did not write."""

    def __init__(self, folder: Path, message: str) -> None:
        self.folder = folder
        super().__init__(message)


# What to do about the errors a full disk or a read-only folder give.
_ADVICE = {
    errno.ENOSPC: "free some space, then build again",
    errno.EDQUOT: "free some space (a disk quota is reached), then build again",
    errno.EFBIG: "a file is larger than this process may write (ulimit -f)",
    errno.EROFS: "the file system is read-only: build into a writable folder (-o)",
    errno.EACCES: "make the folder writable for this user, or build into another (-o)",
    errno.EPERM: "make the folder writable for this user, or build into another (-o)",
}


class OutputWriteError(PushgenError):
    """Writing the build's files failed (a full disk, a read-only folder).

    ``path`` is where, ``errno`` the system's error number; ``replaced`` whether
    the new output had already gone live when it happened.
    """

    def __init__(self, path: str, error: OSError, *, replaced: bool) -> None:
        self.path, self.errno, self.replaced = path, error.errno, replaced
        advice = _ADVICE.get(error.errno or 0, "")
        outcome = (
            "the new output is in place, the rest of the build was not finished"
            if replaced
            else "nothing was replaced: the previous output and manifest are as they were"
        )
        reason = error.strerror or str(error)
        super().__init__(f"{path}: {reason}; {outcome}" + (f" ({advice})" if advice else ""))


def check_output_location(
    output: Path, root: Path, sources: Iterable[Path], config_name: str
) -> None:
    """Refuse an output folder that is, contains or sits inside the site's sources.

    ``sources`` are the site's source folders (pages/, templates/, static/). Both
    the build (which replaces the folder) and the server (which would publish
    it) use this one check.
    """
    choose = "choose another output folder (-o, or output: in pushgen.yaml)"
    if output == root or root.is_relative_to(output):
        raise OutputFolderError(
            output, f"the output folder {output} contains the site's sources {root}; {choose}"
        )
    for folder in sources:
        if output.is_relative_to(folder):
            raise OutputFolderError(
                output,
                f"the output folder {output} is inside the site's source folder {folder}; {choose}",
            )
    if output.exists() and not output.is_dir():
        raise OutputFolderError(
            output, f"the output folder {output} is a file, not a folder; {choose}"
        )
    if (output / config_name).exists():
        raise OutputFolderError(
            output,
            f"{output} holds a {config_name}, so it looks like a site folder, not a built "
            f"output; {choose}",
        )


class SourceFile(NamedTuple):
    """A file of a site's folder, as :func:`walk_sources` found it.

    A named tuple, not a dataclass: a walk makes one per file (20,000 for the
    static files of a large site), and the build's copy reads them by unpacking.
    """

    rel: str  # relative to the folder walked, with '/' separators
    path: str
    stat: os.stat_result


@dataclass(frozen=True, slots=True)
class SourceFiles:
    """The files of one folder, as :func:`walk_sources` found them."""

    # Each folder's files by name, then its subfolders.
    files: list[SourceFile] = field(default_factory=list)
    # Relative folders, "" for the folder itself.
    folders: list[str] = field(default_factory=list)
    # (relative path, why it was skipped): links out of the root, special files,
    # what cannot be read. A folder's relative path ends in '/'.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def walk_sources(top: Path, root: Path, *, root_name: str = "the site") -> SourceFiles:
    """Every regular file under ``top`` that belongs to ``root``, sorted by name per folder.

    The one walker of pushgen: a site's source folders (``root`` is the site,
    ``top`` its static/, pages/ or templates/) and a built folder that ``pushgen
    scan`` reads (``top`` and ``root`` the same). Its rules:

    * Dotfiles and dot-folders (.git, .DS_Store, editor files) are not part of a
      site, and ``pushgen serve`` never serves them.
    * A symbolic link is followed only when it leads to a place inside ``root``:
      a link to /etc/passwd, /proc/self/environ or /dev/zero would publish or copy
      what is not the site's. One leading out is reported in ``skipped`` (the
      caller warns; ``--strict`` makes it an error), named as outside
      ``root_name``.
    * A link inside ``root`` is followed to a file, never to a folder: the folder
      it names is walked under its own name when it is in ``top``, and a walk
      that followed links to folders could loop (a link to an ancestor) or list
      one folder's files many times over. One rule for builds and scans alike.
    * Anything but a regular file (a FIFO, whose open blocks forever; a device;
      a socket) is skipped and reported, as is a broken link or what cannot be
      read (a folder without read permission).
    """
    found = SourceFiles()
    if not top.is_dir():
        return found
    real_root = os.path.realpath(root)
    pending = [(os.fspath(top), "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=_name)
        except OSError as exc:
            found.skipped.append((prefix, f"cannot read the folder ({exc.strerror}): skipped"))
            continue
        found.folders.append(prefix[:-1])
        subfolders = []
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            rel = prefix + name
            link = entry.is_symlink()
            if link and not _inside(target := os.path.realpath(entry.path), real_root):
                found.skipped.append(
                    (rel, f"a symbolic link to {target}, outside {root_name}: not followed")
                )
                continue
            try:
                st = entry.stat()
            except OSError as exc:
                why = (
                    "a broken symbolic link: skipped"
                    if link and exc.errno == errno.ENOENT
                    else f"cannot be read ({exc.strerror}): skipped"
                )
                found.skipped.append((rel, why))
                continue
            mode = st.st_mode
            if stat.S_ISREG(mode):
                found.files.append(SourceFile(rel, entry.path, st))
            elif stat.S_ISDIR(mode):
                if not link:
                    subfolders.append((entry.path, rel + "/"))
            else:
                found.skipped.append(
                    (rel, "not a regular file (a FIFO, device or socket): skipped")
                )
        # Depth first, in name order: the stack takes the last subfolder first.
        pending.extend(reversed(subfolders))
    return found


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


class FileRefused(PushgenError):
    """A file :func:`read_regular_file` did not read: ``why`` says what it is instead
    (``missing`` when there is none)."""

    def __init__(self, path: str, why: str, *, missing: bool = False) -> None:
        self.path, self.why, self.missing = path, why, missing
        super().__init__(f"{path}: {why}")


# FileRefused.why for a folder.
FOLDER = "a folder, not a file"
# The flags of a read that follows no link. O_NONBLOCK: so that a FIFO put
# in a file's place is refused after one fstat, where a plain open would wait for a
# writer forever (O_NONBLOCK does nothing to a regular file's reads).
_NO_LINK = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_folder(path: str | os.PathLike[str]) -> int:
    """A descriptor of the folder ``path`` itself, never of where a symbolic link
    leads (``OSError`` then: ``ELOOP``, or ``ENOTDIR`` for what is not a folder).

    Files opened through it (``dir_fd=``) are the folder's own, however its path
    changes meanwhile; the caller closes it.
    """
    return os.open(path, _NO_LINK | os.O_DIRECTORY)


def read_regular_file(path: str, *, limit: int, dir_fd: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (relative to ``dir_fd`` when given),
    when it is one, is no symbolic link and holds at most ``limit`` bytes.

    Raises :class:`FileRefused` saying why otherwise: a link to /dev/zero would be
    read until memory runs out, a FIFO would block the open, and a link leads out
    of the folder the caller meant to read.
    """
    try:
        fd = os.open(path, _NO_LINK, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileRefused(path, "missing", missing=True) from None
        why = "a symbolic link" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise FileRefused(path, why) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileRefused(path, FOLDER)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(path, "not a regular file")
        if st.st_size > limit:
            raise FileRefused(path, f"larger than {_size(limit)}")
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(limit + 1)  # it may have grown since the fstat
    except OSError as exc:
        raise FileRefused(path, f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileRefused(path, f"larger than {_size(limit)}")
    return data


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n:,} bytes"


def _umask() -> int:
    # Linux shows the umask in /proc (since 4.7) without changing it; elsewhere the
    # only way to read it is to set it and put it back at once.
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii", errors="replace") as fh,
    ):
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode(path: Path) -> int:
    """The mode a file written in place of ``path`` gets: the mode of the file it
    replaces, else 0o666 under the umask (what open(2) would give a new file)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def stage_file(path: Path, data: bytes | Iterable[bytes], *, mode: int | None = None) -> Path:
    """Write ``data`` durably to a temporary file beside ``path``; return it.

    ``data`` may come in parts (an iterable of bytes), written one at a time: a
    large derived file (the compiled manifest) is then never held whole.

    ``os.replace(returned, path)`` then puts it in place in one atomic step.
    The file gets ``mode``, else the mode of the file it replaces, else a new
    file's usual mode (mkstemp makes it 0600, which a server running as another
    user cannot read: a manifest rewritten so went unreadable to it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            for part in (data,) if isinstance(data, bytes) else data:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes | Iterable[bytes], *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file.

    ``mode`` as for :func:`stage_file`.
    """
    tmp = stage_file(path, data, mode=mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2). False when unsupported."""
    # The process's own symbols (libc's among them): ctypes.util.find_library
    # would run `ldconfig -p` in a subprocess on every build.
    func = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if func is None:
        return False
    result = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (38, 22, 95):  # ENOSYS, EINVAL (fs lacks support), EOPNOTSUPP
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_directory(
    staged: Path,
    target: Path,
    *,
    then: Callable[[], None] = lambda: None,
    keep: Path | None = None,
) -> None:
    """Put the finished directory ``staged`` in place of ``target``.

    On Linux the two are exchanged in one atomic step, so a server reading
    ``target`` never sees it missing and a killed build leaves the old output.
    Elsewhere the old directory is renamed aside first (a short window).
    ``then`` runs right after the new directory is in place and before the old
    one is removed (the build commits its manifest there). With ``keep`` the old
    directory is renamed to it instead of removed.
    """
    if target.exists() or target.is_symlink():
        if _renameat2_exchange(staged, target):
            then()
            _retire(staged, keep)
            return
        aside = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, aside)
        os.replace(staged, target)
        then()
        _retire(aside, keep)
    else:
        os.replace(staged, target)
        then()


def _retire(old: Path, keep: Path | None) -> None:
    if keep is not None:
        try:
            os.rename(old, keep)
            return
        except OSError:
            # The new directory is in place already; keeping the old one only
            # saves the next build work, so it is removed like any other.
            pass
    shutil.rmtree(old)


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as diagnostics show it: relative to the current folder when it can be."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
