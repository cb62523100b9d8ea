"""File-system steps that must not leave half-written results behind."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "stage_file", "swap_directory"]


def stage_file(path: Path, data: bytes) -> Path:
    """Write ``data`` durably to a temporary file beside ``path``; return it.

    ``os.replace(returned, path)`` then puts it in place in one atomic step.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file."""
    tmp = stage_file(path, data)
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
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    func = getattr(libc, "renameat2", None)
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
